// report.md's Newton section (evaluate_newton_report.hpp).
#include "evaluate_newton_report.hpp"

#include <sstream>

#include "evaluate_refine.hpp"

namespace pins::cli {

namespace {
// A solver attribute of the dataset ("solver.snes_type", ...), "?" if absent.
std::string extra(const DatasetInfo& info, const std::string& name) {
  for (const Attribute& a : info.extra)
    if (a.name == name) return to_string(a.value);
  return "?";
}
}  // namespace

std::string newton_markdown(const petsc::NewtonComparison& n, const DatasetInfo& info) {
  auto f = [](double v, const char* format = "%.3g") { return format_number(v, format); };
  std::ostringstream md;
  if (n.steps > 1) {
    // A time-dependent family: the surrogate as the predictor of every implicit step.
    md << "\n## Inside PETSc TS: the surrogate as the predictor of each implicit step\n\n"
       << "PETSc TS (backward Euler; Newton " << extra(info, "solver.snes_type") << ", "
       << info.ksp_type << " + " << info.pc_type << ", every step to the dataset's tolerance "
       << f(n.rtol) << ") re-solving " << n.iterations_zero.size() << " trajectories of "
       << n.steps << " steps from their stored initial states: each step's Newton from the "
       << "previous state (TS's own predictor) and from the one-step network's prediction. "
       << "Times: the whole trajectory, best of 3 runs, one process.\n\n"
       << "| predictor | Newton iterations per step | ms per trajectory | of which inference |\n"
       << "|---|---|---|---|\n"
       << "| previous state | " << f(n.mean_iterations_zero / n.steps, "%.2f") << " | "
       << f(n.mean_seconds_zero * 1e3) << " | |\n"
       << "| surrogate | " << f(n.mean_iterations_guess / n.steps, "%.2f") << " | "
       << f(n.mean_seconds_guess * 1e3) << " | " << f(n.mean_seconds_inference * 1e3) << " |\n"
       << "| ratio | " << f(n.mean_iterations_zero / n.mean_iterations_guess, "%.2f") << "x | "
       << f(n.mean_seconds_zero / n.mean_seconds_guess, "%.2f") << "x | |\n";
    return md.str();
  }
  md << "\n## Newton from the surrogate's guess\n\n"
     << "Newton (" << extra(info, "solver.snes_type") << " + "
     << extra(info, "solver.linesearch_type") << ", " << info.ksp_type << " + " << info.pc_type
     << ") to ‖F(u)‖ ≤ " << f(n.rtol) << " ‖F(0)‖ on " << n.iterations_zero.size()
     << " samples, from u = 0 and from the network's prediction (-snes_surrogate_guess's code "
        "path, inputs given as vectors). Times: the whole solve per sample (SNES set-up, Newton, "
        "and for the guess the inference), best of 3 runs, one process.\n\n"
     << "| start | Newton iterations | ms per sample | of which inference |\n|---|---|---|---|\n"
     << "| zero | " << f(n.mean_iterations_zero, "%.2f") << " | " << f(n.mean_seconds_zero * 1e3)
     << " | |\n"
     << "| surrogate | " << f(n.mean_iterations_guess, "%.2f") << " | "
     << f(n.mean_seconds_guess * 1e3) << " | " << f(n.mean_seconds_inference * 1e3) << " |\n"
     << "| ratio zero / surrogate | " << f(n.mean_iterations_zero / n.mean_iterations_guess, "%.2f")
     << "x | " << f(n.mean_seconds_zero / n.mean_seconds_guess, "%.2f") << "x | |\n\n"
     << "<details><summary>per sample</summary>\n\n"
     << "| sample | iterations zero | iterations guess | ms zero | ms guess | ms inference |\n"
     << "|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < n.iterations_zero.size(); ++i)
    md << "| " << i << " | " << n.iterations_zero[i] << " | " << n.iterations_guess[i] << " | "
       << f(n.seconds_zero[i] * 1e3) << " | " << f(n.seconds_guess[i] * 1e3) << " | "
       << f(n.seconds_inference[i] * 1e3) << " |\n";
  md << "\n</details>\n";
  return md.str();
}

}  // namespace pins::cli
