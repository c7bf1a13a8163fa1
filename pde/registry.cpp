#include "pde/registry.hpp"

#include "pde/darcy/darcy_coefficients.hpp"
#include "pde/darcy/darcy_petsc.hpp"
#include "pins/core/check.hpp"

namespace pins {

const std::vector<ProblemFamilyEntry>& problem_families() {
  // One line per family: name, summary, PETSc-side factory, Kokkos stencil coefficients.
  static const std::vector<ProblemFamilyEntry> families = {
      {"darcy", "-div(kappa grad u) = f on (0,1)^2, u = 0 on the boundary",
       &darcy::create_problem_family, &darcy::stencil_coefficients},
  };
  return families;
}

std::string problem_family_names() {
  std::string names;
  for (const auto& f : problem_families())
    names += (names.empty() ? "" : ", ") + std::string(f.name);
  return names;
}

const ProblemFamilyEntry& find_problem_family(const std::string& name) {
  for (const auto& f : problem_families())
    if (name == f.name) return f;
  throw Error("-pde '" + name +
              "' is not a known problem family (known: " + problem_family_names() + ")");
}

}  // namespace pins
