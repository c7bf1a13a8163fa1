// report.md's rollout section and rollout.png's data (evaluate_rollout_report.hpp).
#include "evaluate_rollout_report.hpp"

#include <torch/torch.h>

#include <sstream>

#include "evaluate_output.hpp"
#include "evaluate_refine.hpp"

namespace pins::cli {

std::string rollout_markdown(const petsc::RolloutComparison& r) {
  auto f = [](double v, const char* format = "%.3g") { return format_number(v, format); };
  std::ostringstream md;
  md << "\n## Rollout: the one-step surrogate over whole trajectories\n\n"
     << "From each sample's stored initial state the surrogate is applied to its own output "
     << r.steps << " times (dt = " << f(r.dt) << "); the errors above are of single steps from "
     << "the stored states. Relative L2 error at the last step: mean " << f(r.final_error.mean)
     << ", median " << f(r.final_error.median) << ", 95th percentile " << f(r.final_error.p95)
     << ", max " << f(r.final_error.max) << ".\n\n"
     << "Time per rollout (this machine, this run): surrogate " << f(r.seconds_single * 1e3)
     << " ms one at a time, " << f(r.seconds_batched * 1e3) << " ms batched; PETSc TS "
     << f(r.seconds_petsc * 1e3) << " ms per trajectory (ratio PETSc / surrogate one at a time "
     << f(r.seconds_petsc / r.seconds_single, "%.2f") << "x).\n\n"
     << "| step | t | relative L2 mean | 95th pct |\n|---|---|---|---|\n";
  for (int s = 0; s < r.steps; ++s)
    md << "| " << s + 1 << " | " << f((s + 1) * r.dt) << " | " << f(r.error_mean[size_t(s)])
       << " | " << f(r.error_p95[size_t(s)]) << " |\n";
  return md.str();
}

void write_rollout_plot_data(const petsc::RolloutComparison& r, int dof, int dim,
                             const std::string& folder) {
  nlohmann::json j = {{"dt", r.dt},
                      {"relative_l2_mean", r.error_mean},
                      {"relative_l2_p95", r.error_p95}};
  write_text_file(folder + "/plot_data/rollout.json", j.dump(1) + "\n");
  // Sample 0's states [T, (dof,) grid...] as pictures: first component, middle z plane.
  auto picture = [&](torch::Tensor t) {
    t = t.select(0, 0);
    if (dof > 1) t = t.select(1, 0);
    if (dim == 3) t = t.select(1, t.size(1) / 2);
    return t.contiguous();
  };
  write_npy(folder + "/plot_data/rollout_true.npy", picture(r.truth));
  write_npy(folder + "/plot_data/rollout_pred.npy", picture(r.rollout));
}

}  // namespace pins::cli
