#include "pde/registry.hpp"

#include <mutex>

#include "pde/allen_cahn/allen_cahn_petsc.hpp"
#include "pde/gray_scott/gray_scott_petsc.hpp"
#include "pde/darcy/darcy_petsc.hpp"
#include "pde/darcy_fem/darcy_fem_petsc.hpp"
#include "pde/nonlinear_darcy/nonlinear_darcy_petsc.hpp"
#include "pins/core/check.hpp"

namespace pins {

namespace {

struct Entries {
  std::mutex mutex;
  // One line per built-in family: name, summary, PETSc-side factory.
  std::vector<ProblemFamilyEntry> list = {
      {"darcy", "-div(kappa grad u) = f on (0,1)^2, u = 0 on the boundary",
       &darcy::create_problem_family},
      {"darcy3d", "-div(kappa grad u) = f on (0,1)^3, u = 0 on the boundary",
       &darcy::create_problem_family_3d},
      {"nonlinear_darcy",
       "-div(kappa k(u) grad u) = f on (0,1)^2, u = 0 on the boundary, k(u) = 1 + u^2 or "
       "exp(beta u)",
       &nonlinear_darcy::create_problem_family},
      {"darcy_fem",
       "-div(kappa grad u) = f on a 2-D DMPlex mesh (P1 triangles or Q1 quadrilaterals), kappa "
       "and f per cell, u = 0 on the boundary",
       &darcy_fem::create_problem_family},
      {"allen_cahn",
       "u_t = eps^2 div(kappa grad u) - (u^3 - u) on (0,1)^2, no flux through the boundary; "
       "trajectories of backward Euler steps",
       &allen_cahn::create_problem_family},
      {"gray_scott",
       "u_t = Du lap u - u v^2 + F(1 - u), v_t = Dv lap v + u v^2 - (F + k) v on (0,1)^2, no "
       "flux through the boundary; trajectories of backward Euler steps",
       &gray_scott::create_problem_family},
  };
};

Entries& entries() {
  static Entries e;
  return e;
}

}  // namespace

PetscErrorCode ProblemFamily::SetSNESFunctions(DM dm, const std::vector<const double*>&) const {
  PetscFunctionBeginUser;
  SETERRQ(PetscObjectComm((PetscObject)dm), PETSC_ERR_SUP,
          "%s is a linear problem family: it has no SNES residual", name());
}

PetscErrorCode ProblemFamily::SetTSFunctions(DM dm, const std::vector<const double*>&) const {
  PetscFunctionBeginUser;
  SETERRQ(PetscObjectComm((PetscObject)dm), PETSC_ERR_SUP,
          "%s is not a time-dependent problem family: it has no TS function", name());
}

void register_problem_family(const ProblemFamilyEntry& entry) {
  PINS_CHECK(!entry.name.empty() && entry.create, "register_problem_family: an entry needs a "
             "name and a create function");
  Entries& e = entries();
  std::lock_guard<std::mutex> lock(e.mutex);
  for (const auto& f : e.list)
    PINS_CHECK(f.name != entry.name, "register_problem_family: a family called '", entry.name,
               "' is already registered");
  e.list.push_back(entry);
}

std::vector<ProblemFamilyEntry> problem_families() {
  Entries& e = entries();
  std::lock_guard<std::mutex> lock(e.mutex);
  return e.list;
}

std::string problem_family_names() {
  std::string names;
  for (const auto& f : problem_families()) names += (names.empty() ? "" : ", ") + f.name;
  return names;
}

ProblemFamilyEntry find_problem_family(const std::string& name) {
  for (const auto& f : problem_families())
    if (name == f.name) return f;
  throw Error("-pde '" + name +
              "' is not a known problem family (known: " + problem_family_names() + ")");
}

}  // namespace pins
