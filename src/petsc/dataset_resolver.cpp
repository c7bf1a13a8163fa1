// PETSc re-solves of a dataset's samples (dataset_resolver.hpp).
#include "dataset_resolver.hpp"

#include <algorithm>

#include "pde/registry.hpp"
#include "pins/core/check.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/error.hpp"

namespace pins::petsc::detail {

Resolver::Resolver(const Dataset& d, const std::string& prefix, double rtol) : d_(d) {
  auto set = [&](const std::string& name, const std::string& value) {
    PINS_PETSC_CALL(PetscOptionsSetValue(nullptr, ("-" + prefix + name).c_str(), value.c_str()));
  };
  set("ksp_type", d.info.ksp_type);
  set("pc_type", d.info.pc_type);
  family_ = find_problem_family(d.info.pde).create();
  // A nonlinear family's rtol is its SNES's (on ‖F(u)‖/‖F(0)‖), not its linear solves'.
  set(family_->nonlinear() ? "snes_rtol" : "ksp_rtol",
      to_string(AttributeValue(rtol > 0 ? rtol : d.info.rtol)));
  family_->set_up_for(d.info);
  DatasetInfo posed;
  family_->describe(&posed);
  // A time-dependent family's steps and step size shape the trajectory: always from the
  // dataset (the equation's text need not name them).
  if (posed.equation != d.info.equation || family_->time_dependent()) {
    // The family's default equation is not the dataset's (e.g. nonlinear_darcy with another
    // k(u)): its options of the sampler attributes' names (-nonlinearity, ...) are set from
    // the dataset; attributes that are not options of the family are ignored by it.
    for (const auto& [name, value] : sampler_parameters(d.info)) set(name, value);
    PINS_PETSC_CALL(family_->SetFromOptions(PETSC_COMM_SELF, prefix.c_str()));
    family_->set_up_for(d.info);
    posed = DatasetInfo();
    family_->describe(&posed);
  }
  PINS_CHECK(posed.equation == d.info.equation, "PETSc re-solves of ", d.info.pde,
             " set up from the dataset's sampler attributes pose '", posed.equation,
             "', but the dataset's equation is '", d.info.equation, "'");
  PINS_CHECK(!family_->time_dependent() || family_->steps() + 1 == d.info.times,
             "PETSc re-solves of ", d.info.pde, " step ", family_->steps(),
             " times, but the dataset's trajectories hold ", d.info.times, " states");
  solver_ = std::make_unique<SampleSolver>(*family_, d.info.dof, prefix);
  u_.resize(size_t(d.u.sample_size()));
}

SampleResult Resolver::solve(std::int64_t i, ConvergenceHistory* history) {
  const SampleResult r = attempt(i, history);
  PINS_CHECK(r.failure.empty(), "PETSc re-solve of sample ", i, " failed: ", r.failure);
  return r;
}

SampleResult Resolver::attempt(std::int64_t i, ConvergenceHistory* history) {
  std::vector<const double*> in;
  for (const auto& a : d_.inputs) in.push_back(a.sample(i));
  if (family_->time_dependent()) {
    // A trajectory starts from the stored initial state u[i, 0] (the solver reads u[0]).
    const int64_t state = d_.u.sample_size() / d_.info.times;
    std::copy(d_.u.sample(i), d_.u.sample(i) + state, u_.begin());
  }
  return solver_->solve(in, u_.data(), history ? d_.u.sample(i) : nullptr, history);
}

}  // namespace pins::petsc::detail
