#pragma once
/// \file
/// One PETSc solver configuration timed on a dataset's samples: what `pins bench` reports
/// for every solver of a suite, alone and with a surrogate as its initial guess, its
/// preconditioner or its certified replacement (all given as PETSc options).
///
/// \code
///   pins::petsc::SolverTiming t = pins::petsc::time_solver(d, 8, "-ksp_type cg -pc_type gamg");
///   // t.mean_iterations, t.mean_seconds, t.converged of t.samples
/// \endcode

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "pins/core/dataset.hpp"

namespace pins::petsc {

/// Splits a PETSc options string ("-ksp_type cg -ksp_monitor -ksp_rtol 1e-8") into (name,
/// value) pairs, the name without its leading '-' and the value empty for a flag. A token is
/// a value when it does not start with '-' or is a number ("-1"). Throws pins::Error for a
/// value with no option before it, naming the token.
std::vector<std::pair<std::string, std::string>> parse_petsc_options(const std::string& text);

struct SolverTiming {
  std::string options;  ///< as given
  int samples = 0;      ///< attempted
  int converged = 0;    ///< of them, solved to the tolerance
  std::string failure;  ///< the first failure's one-line reason (empty if none)
  /// Per converged sample: iterations (Newton iterations for a nonlinear family, summed over
  /// the steps for a time-dependent one), the true relative residual, and the wall time of
  /// the solve (assembly included), the best of the repeats.
  std::vector<int> iterations;
  std::vector<double> residual, seconds;
  double mean_iterations = 0, mean_seconds = 0;  ///< over the converged samples
  nlohmann::json to_json() const;
};

/// Solves the first min(count, N) samples of `d` with the dataset's own solver settings
/// (ksp_type, pc_type, rtol) overridden by `options` (PETSc options as on a command line,
/// set under a private prefix, so nothing else sees them), and times each: one warm-up solve
/// first (first-call costs, a surrogate's model load), then each sample `repeats` times, the
/// fastest counted. A linear family's KSP is kept from sample to sample, as an application
/// keeps its solver (SampleSolver::keep_solver). A sample that fails (divergence, or the
/// true residual above the tolerance) is counted, not thrown; bad options, an unknown type
/// or a model that cannot be loaded throw pins::Error (the warm-up solve fails first).
SolverTiming time_solver(const Dataset& d, int count, const std::string& options,
                         int repeats = 3);

}  // namespace pins::petsc
