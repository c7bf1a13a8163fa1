#pragma once
/// \file
/// How a PETSc solve approached a known solution, iteration by iteration: what `pins evaluate
/// -refine` compares the refined surrogate against (PETSc's time to the same error).

#include <cstddef>
#include <vector>

namespace pins::petsc {

/// One entry per KSP monitor call of a solve (restarts appended in order):
/// - seconds: wall time since the solve began, assembly of the matrix and right-hand side
///   and the KSP's set-up (the preconditioner's, e.g. GAMG's) included, the recording itself
///   excluded (each time stamp is taken before that iterate's error is computed, and the
///   time spent recording is subtracted from the later stamps);
/// - error: relative L2 error ‖x_i − u‖/‖u‖ of the iterate (KSPBuildSolution) against the
///   stored solution u;
/// - residual: the KSP's residual norm over ‖b‖ (the unpreconditioned norm under pins'
///   solver defaults, so the last entry is at most the dataset's rtol).
struct ConvergenceHistory {
  std::vector<double> seconds, error, residual;

  /// The first recorded time whose error is at most `target`, or a negative value if the
  /// solve never got that close.
  double seconds_to_error(double target) const {
    for (std::size_t i = 0; i < error.size(); ++i)
      if (error[i] <= target) return seconds[i];
    return -1;
  }
};

}  // namespace pins::petsc
