#pragma once
// The time-dependent part of `pins evaluate`'s report: the one-step surrogate rolled out
// over whole trajectories against PETSc TS (report.md's section and the data of rollout.png).

#include <string>

#include "pins/petsc/evaluate.hpp"

namespace pins::cli {

/// report.md's section: error against time (mean, 95th percentile) and time per rollout.
std::string rollout_markdown(const petsc::RolloutComparison& r);

/// Writes `folder`/plot_data/rollout.json (times and errors) and, for the first sample,
/// rollout_true.npy and rollout_pred.npy ([T, ny, nx]: the first of `dof` components, the
/// middle z plane when `dim` is 3) for plot_evaluation.py's rollout.png.
void write_rollout_plot_data(const petsc::RolloutComparison& r, int dof, int dim,
                             const std::string& folder);

}  // namespace pins::cli
