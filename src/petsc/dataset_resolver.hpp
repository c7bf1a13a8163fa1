#pragma once
// Re-solving a dataset's samples with PETSc as `pins generate` solved them (the dataset's
// ksp_type, pc_type and rtol, set under an options prefix), for `pins evaluate`. A family
// whose equation has parameters (nonlinear_darcy's k(u)) is set up from the dataset's
// sampler attributes. Private to pins::petsc.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pde/problem_family.hpp"
#include "pins/core/dataset.hpp"
#include "sample_solver.hpp"

namespace pins::petsc::detail {

class Resolver {
 public:
  /// Throws pins::Error if the family, set up with the dataset's sampler parameters, does
  /// not pose the dataset's equation. `rtol` > 0 replaces the dataset's tolerance.
  Resolver(const Dataset& d, const std::string& prefix, double rtol = 0);

  /// Solves sample i; with `history`, records the iterates' errors against the stored u.
  /// Throws pins::Error if the solve fails.
  SampleResult solve(std::int64_t i, ConvergenceHistory* history = nullptr);

  /// The same without the check: a solve that did not converge returns its reason in
  /// SampleResult::failure (PETSc errors, e.g. a bad option, still throw).
  SampleResult attempt(std::int64_t i, ConvergenceHistory* history = nullptr);

  /// Nonlinear families: see SampleSolver::set_snes_hooks.
  void set_snes_hooks(std::function<void(SNES)> before, std::function<void(SNES)> after) {
    solver_->set_snes_hooks(std::move(before), std::move(after));
  }

  /// See SampleSolver::keep_solver.
  void keep_solver(bool keep) { solver_->keep_solver(keep); }

  const ProblemFamily& family() const { return *family_; }

 private:
  const Dataset& d_;
  std::unique_ptr<ProblemFamily> family_;
  std::unique_ptr<SampleSolver> solver_;
  std::vector<double> u_;
};

}  // namespace pins::petsc::detail
