// The -refine part of `pins evaluate` (evaluate_refine.hpp).
#include "evaluate_refine.hpp"

#include <torch/torch.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "pins/core/check.hpp"

namespace pins::cli {

std::string format_number(double v, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

namespace {

std::string fmt(double v, const char* f = "%.3g") { return format_number(v, f); }

}  // namespace

std::vector<int> parse_refine_counts(const std::string& value) {
  const std::string usage =
      "-refine takes a comma list of multigrid cycle counts >= 0 (e.g. "
      "-refine 0,1,5,20)";
  PINS_CHECK(!value.empty(), usage, "; got no value");
  std::vector<int> counts;
  std::stringstream in(value);
  std::string item;
  // getline drops a trailing empty item; a value ending in ',' is refused here instead.
  PINS_CHECK(value.back() != ',', usage, "; got '", value, "'");
  while (std::getline(in, item, ',')) {
    errno = 0;
    char* end = nullptr;
    const long k = item.empty() ? 0 : std::strtol(item.c_str(), &end, 10);
    PINS_CHECK(!item.empty() && *end == '\0' && errno == 0 && k >= INT32_MIN && k <= INT32_MAX,
               usage, "; got '", item, "' in '", value, "'");
    PINS_CHECK(k >= 0, "-refine: a number of cycles must be 0 or more, got ", k);
    counts.push_back(int(k));
  }
  return counts;
}

std::string refine_markdown(const petsc::Evaluation& e) {
  const nlohmann::json& p = e.report.at("refine_petsc");
  std::ostringstream md;
  md << "\n## Test-time refinement\n\n"
     << "The predictions refined by k steps u ← u + V(f − Au) of a multigrid V-cycle V on "
        "the problem's own operator (`pins::MultigridCycle`: black-box multigrid in 2-D, "
        "aggregation in 3-D), against PETSc ("
     << e.report.at("seconds_per_sample").at("petsc_solver").get<std::string>()
     << ") solving the same samples from zero.\n\n"
     << "| k | rel. L2 mean | rel. L2 p95 | residual mean | surrogate + k cycles, ms/sample | "
        "PETSc to the same error, ms/sample | PETSc / surrogate |\n"
     << "|---|---|---|---|---|---|---|\n";
  for (const auto& r : e.refine) {
    const bool reached = r.petsc_reached > 0;
    std::string petsc = "not reached";
    std::string ratio = "—";
    if (reached) {
      petsc = fmt(r.petsc_seconds_to_same_error * 1e3);
      if (r.petsc_reached < e.petsc_samples)
        petsc += " (reached on " + std::to_string(r.petsc_reached) + " of " +
                 std::to_string(e.petsc_samples) + ")";
      ratio = fmt(r.petsc_seconds_to_same_error / r.seconds_per_sample);
    }
    md << "| " << r.k << " | " << fmt(r.error.mean, "%.4g") << " | " << fmt(r.error.p95, "%.4g")
       << " | " << fmt(r.residual.mean) << " | " << fmt(r.seconds_per_sample * 1e3) << " | "
       << petsc << " | " << ratio << " |\n";
  }
  md << "\nHow the times are measured (this machine, this run, "
     << e.report.at("seconds_per_sample").at("torch_threads").get<int>()
     << " LibTorch threads; each time the best of 3 runs): the surrogate column is the wall "
        "time per sample over all "
     << e.report.at("samples").get<std::int64_t>()
     << " samples in batches of 32, from the inputs to the refined answer (features and "
        "network; for k > 0 also the operator's coefficients and right-hand side, the "
        "multigrid hierarchy and the k cycles). PETSc solves one sample at a time; its column "
        "is the wall time from the start of assembly (matrix and right-hand side, KSP and "
        "preconditioner set-up included; the monitor that measures the error excluded) to its "
        "first iterate whose relative L2 error is at most the refined surrogate's on the same "
        "sample, averaged over the "
     << e.petsc_samples << " re-solved samples (-evaluate_solve_samples). "
     << "To its tolerance PETSc takes " << fmt(p.at("seconds_to_tolerance").get<double>() * 1e3)
     << " ms per sample in " << fmt(p.at("iterations").get<double>(), "%.1f")
     << " iterations. Errors are against the stored PETSc solutions (rtol "
     << fmt(e.report.at("refine_petsc").value("rtol", 0.0))
     << "), so PETSc's last iterate has error 0 by construction and errors near that "
        "tolerance's level only say that the refined answer agrees with PETSc's.\n";
  return md.str();
}

nlohmann::json refine_plot_data(const petsc::Evaluation& e) {
  nlohmann::json points = nlohmann::json::array(), curves = nlohmann::json::array();
  for (const auto& r : e.refine) {
    const double solved = r.relative_l2.slice(0, 0, e.petsc_samples).mean().item<double>();
    points.push_back({{"k", r.k},
                      {"seconds_per_sample", r.seconds_per_sample},
                      {"relative_l2_mean", r.error.mean},
                      {"relative_l2_mean_resolved", solved}});
  }
  for (const auto& h : e.petsc_history)
    curves.push_back({{"seconds", h.seconds}, {"relative_l2", h.error}, {"residual", h.residual}});
  return {{"surrogate", points},
          {"petsc", curves},
          {"petsc_solver", e.report.at("seconds_per_sample").at("petsc_solver")}};
}

}  // namespace pins::cli
