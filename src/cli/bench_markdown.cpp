// report.md of pins bench (bench_markdown.hpp): every table from report.json's fields.
#include "bench_markdown.hpp"

#include <algorithm>
#include <sstream>
#include <utility>
#include <vector>

#include "evaluate_refine.hpp"  // format_number

namespace pins::cli {

namespace {

using nlohmann::json;

std::string fmt(double v, const char* f = "%.3g") {
  return format_number(v, f);
}

std::string fmt_json(const json& v, const char* f = "%.3g") {
  return v.is_number() ? fmt(v.get<double>(), f) : std::string("–");
}

// The rest of a table header with one column per solver ("<prefix><solver>"), and its rule
// after `fixed` columns.
void solver_columns(std::ostringstream& md, const BenchSuite& suite, const char* prefix,
                    int fixed) {
  std::string rule = "|";
  for (int i = 0; i < fixed; ++i) rule += "---|";
  for (const auto& sv : suite.solvers) {
    md << " | " << prefix << sv.name;
    rule += "---|";
  }
  md << " |\n" << rule << "\n";
}

// Whether any model's entry in report["models"] satisfies `has` (a section is written only
// then).
template <class Has>
bool any_model(const json& models, Has has) {
  for (const auto& [name, mj] : models.items())
    if (has(mj)) return true;
  return false;
}

}  // namespace

std::string bench_markdown(const BenchSuite& suite, const json& report) {
  const json& models = report["models"];
  // json sorts its keys: the tables follow the suite's order.
  auto in_suite_order = [&](const json& by_name) {
    std::vector<std::pair<std::string, json>> out;
    for (const auto& m : suite.models)
      if (by_name.contains(m.name)) out.push_back({m.name, by_name[m.name]});
    return out;
  };
  std::ostringstream md;
  md << "# pins bench: " << suite.name << "\n\n";
  if (!suite.description.empty()) md << suite.description << "\n\n";
  const json& test = report["test"];
  md << "Suite `" << suite.file << "`; test set `" << suite.test << "` (" << test["samples"]
     << " samples, " << test["pde"].get<std::string>() << ", " << test["grid"].get<std::string>()
     << "); every solve timed on its first "
     << std::min<std::int64_t>(report["solve_samples"].get<std::int64_t>(),
                               test["samples"].get<std::int64_t>())
     << " samples, the best of " << suite.repeats << " each, assembly included; "
     << report["torch_threads"] << " LibTorch threads. Times are this machine's, this run's.\n";
  if (!suite.solvers.empty()) {
    md << "\n## Solvers\n\n| solver | options | iterations | ms per solve | converged |\n"
          "|---|---|---|---|---|\n";
    for (const auto& s : suite.solvers) {
      const json& t = report["solvers"][s.name];
      md << "| " << s.name << " | `" << s.options << "` | " << fmt_json(t["mean_iterations"], "%.2f")
         << " | " << fmt(t["mean_seconds"].get<double>() * 1e3) << " | " << t["converged"] << "/"
         << t["samples"] << " |\n";
    }
  }
  if (any_model(models, [](const json& mj) { return mj.contains("answers"); })) {
    md << "\n## Answers of the solution models\n\n"
          "| model | set | rel. L2 mean | p95 | certificate (rel. residual) mean | bound "
          "coverage | Spearman(bound, error) | flagged OOD | AUROC certificate / OOD score | "
          "ms per answer |\n"
          "|---|---|---|---|---|---|---|---|---|---|\n";
    auto row = [&](const std::string& model, const std::string& set, const json& a) {
      const json none;
      const json& b = a.contains("error_bound") ? a["error_bound"] : none;
      const json& o = a.contains("out_of_distribution") ? a["out_of_distribution"] : none;
      md << "| " << model << " | " << set << " | " << fmt_json(a["relative_l2"]["mean"]) << " | "
         << fmt_json(a["relative_l2"]["p95"]) << " | "
         << fmt_json(a["relative_residual"]["mean"]) << " | "
         << (b.is_object() ? fmt_json(b["coverage"]) + " (level " + fmt_json(b["level"]) +
                                 (b.value("score", "") == "error_estimate" ? ", on estimates)"
                                                                           : ", on certificates)")
                           : "not calibrated")
         << " | " << (b.is_object() ? fmt_json(b["spearman_bound_error"]) : "–") << " | "
         << (o.is_object() ? fmt_json(o["flagged_fraction"]) : "–") << " | "
         << (a.contains("auroc_certificate") ? fmt_json(a["auroc_certificate"]) : "–") << " / "
         << (a.contains("auroc_ood_score") ? fmt_json(a["auroc_ood_score"]) : "–") << " | "
         << fmt_json(a["seconds_per_query_single"].get<double>() * 1e3) << " |\n";
    };
    for (const auto& [name, mj] : in_suite_order(models)) {
      if (!mj.contains("answers")) continue;
      const json& a = mj["answers"];
      row(name, suite.test + " (test)", a);
      for (const auto& set : suite.ood) {
        const json& o = a["out_of_distribution_sets"][set];
        if (o.contains("skipped"))
          md << "| " << name << " | " << set << " | skipped: " << o["skipped"].get<std::string>()
             << " |||||||||\n";
        else
          row(name, set + " (OOD)", o);
      }
    }
    md << "\nThe certificate is each answer's relative residual by the family's own operator; "
          "the bound is `pins calibrate`'s (split conformal, q x score; the score is the "
          "answer's error estimate, ||B F(u)|| / ||u - B F(u)|| with B two multigrid V-cycles, where the "
          "family offers one, else its certificate); the OOD score "
          "is the calibrated flag's (the certificate and the inputs' feature statistics, "
          "each against its 99 % calibration quantile); AUROC is how well a score separates "
          "an out-of-distribution set's answers from the test set's (1: perfectly).\n";
  }
  // Nonlinear and time-dependent families: the answers inside Newton and TS, as pins
  // evaluate measures them.
  for (const auto& [name, mj] : in_suite_order(models)) {
    if (!mj.contains("answers")) continue;
    const json& a = mj["answers"];
    if (a.contains("newton") && a["newton"].is_object()) {
      const json& n = a["newton"];
      md << "\n## " << name << " as Newton's initial guess\n\n"
         << "| from | iterations | ms per solve |\n|---|---|---|\n"
         << "| zero (or TS's predictor) | " << fmt_json(n["iterations_zero"], "%.2f") << " | "
         << fmt_json(n["seconds_zero"].get<double>() * 1e3) << " |\n"
         << "| the answer | " << fmt_json(n["iterations_guess"], "%.2f") << " | "
         << fmt_json(n["seconds_guess"].get<double>() * 1e3) << " (inference "
         << fmt_json(n["seconds_inference"].get<double>() * 1e3) << ") |\n";
    }
    if (a.contains("rollout") && a["rollout"].is_object()) {
      const json& ro = a["rollout"];
      md << "\n## " << name << " rolled out\n\n"
         << ro.value("steps", 0) << " steps: relative L2 at the last step mean "
         << fmt_json(ro["final_relative_l2"]["mean"]) << " (p95 "
         << fmt_json(ro["final_relative_l2"]["p95"]) << "); "
         << fmt_json(ro["seconds_per_rollout"]["surrogate_single"].get<double>() * 1e3)
         << " ms per rollout against PETSc TS "
         << fmt_json(ro["seconds_per_rollout"]["petsc_ts"].get<double>() * 1e3)
         << " ms per trajectory.\n";
    }
  }
  if (any_model(models, [](const json& mj) {
        return mj.contains("replace") && mj["replace"].is_array();
      })) {
    md << "\n## Certified replacement\n\nAn answer is used when it is not flagged out of "
          "distribution and its calibrated bound is at most the tolerance; otherwise the "
          "solver solves. 'above' counts accepted answers whose true error exceeded the "
          "tolerance; a query costs the answer and its evidence (certificate, input "
          "statistics, and the error estimate when the bound uses it), plus the solve when "
          "rejected (time-dependent "
          "families: one step, the solver's time per trajectory divided by its steps).\n\n"
          "| model | tolerance | accepted | max error accepted | above | ms per query";
    solver_columns(md, suite, "break-even vs ", 6);
    for (const auto& [name, mj] : in_suite_order(models)) {
      if (!mj.contains("replace") || !mj["replace"].is_array()) continue;
      for (const auto& r : mj["replace"]) {
        md << "| " << name << " | " << fmt_json(r["tolerance"]) << " | " << r["accepted"]
           << "/" << r["answers"] << " | " << fmt_json(r["accepted_error_max"]) << " | "
           << r["accepted_above_tolerance"] << " | ";
        std::string times;
        for (const auto& sv : suite.solvers)
          times += (times.empty() ? "" : ", ") +
                   fmt(r["seconds_per_query"][sv.name].get<double>() * 1e3) + " (" + sv.name +
                   ")";
        md << times;
        for (const auto& sv : suite.solvers)
          md << " | " << fmt_json(r["break_even_queries"][sv.name], "%.0f");
        md << " |\n";
      }
    }
  }
  if (any_model(models,
                [](const json& mj) { return mj.contains("uses") && !mj["uses"].empty(); })) {
    md << "\n## Preconditioner models inside the solvers\n\n"
          "| model | used as | iterations | ms per solve | converged |\n|---|---|---|---|---|\n";
    for (const auto& [name, mj] : in_suite_order(models))
      if (mj.contains("uses"))
        for (const auto& [use, t] : mj["uses"].items())
          md << "| " << name << " | " << use << " | " << fmt_json(t["mean_iterations"], "%.2f")
             << " | " << fmt_json(t["mean_seconds"].get<double>() * 1e3) << " | "
             << t["converged"] << "/" << t["samples"] << " |\n";
  }
  if (any_model(models, [](const json& mj) { return mj.contains("operator_flag"); })) {
    // Fitted at training time on operators like the training ones: the PC's replace mode
    // and the guess skip the network for a flagged operator.
    md << "\n## Operator flag of the preconditioner models\n\nReplace mode and the guess skip "
          "the network for an operator scoring above 1; AUROC: how well the score tells a set's "
          "operators from the test set's.\n\n";
    for (const auto& [name, mj] : in_suite_order(models)) {
      if (!mj.contains("operator_flag")) continue;
      const json& f = mj["operator_flag"];
      if (!f.is_object()) {
        md << "- " << name << ": " << f.get<std::string>() << "\n";
        continue;
      }
      md << "- " << name << ":";
      for (const auto& [set, v] : f.items())
        md << " " << set << " " << fmt_json(v["flagged_fraction"]) << " flagged"
           << (v.contains("auroc") ? " (AUROC " + fmt_json(v["auroc"]) + ")" : "") << ";";
      md << "\n";
    }
  }
  if (!suite.solvers.empty() && !models.empty()) {
    md << "\n## Break-even\n\nQueries after which making the model (generating its training "
          "data and training it, as its model file records) is repaid by its faster queries: "
          "cost / (solver's time per solve − the surrogate way's). – : never (not faster per "
          "query) or unknown. A surrogate's answer has the accuracy above, not the solver's "
          "tolerance.\n\n| model | cost (s) | way against";
    solver_columns(md, suite, "", 3);
    for (const auto& [name, mj] : in_suite_order(models)) {
      if (!mj.contains("break_even_queries")) continue;
      const json& be = mj["break_even_queries"];
      const std::string cost = fmt_json(mj["cost"]["seconds"], "%.1f");
      auto cells = [&](const json& per_solver) {
        std::string s;
        for (const auto& sv : suite.solvers)
          s += " | " + (per_solver.contains(sv.name) ? fmt_json(per_solver[sv.name], "%.0f")
                                                     : std::string("–"));
        return s;
      };
      if (mj.contains("answers"))
        md << "| " << name << " | " << cost << " | "
           << (mj["answers"].contains("rollout") ? "rollout (per trajectory)" : "answer")
           << cells(be) << " |\n";
      else
        for (const auto& [way, per_solver] : be.items())
          md << "| " << name << " | " << cost << " | " << way << cells(per_solver) << " |\n";
    }
  }
  md << "\n## Steps\n\n| step | seconds | command |\n|---|---|---|\n";
  for (const auto& s : report["steps"])
    md << "| " << s["step"].get<std::string>() << " | "
       << (s["reused"].get<bool>() ? std::string("reused") : fmt(s["seconds"].get<double>(), "%.1f"))
       << " | `" << s["command"].get<std::string>() << "` |\n";

  return md.str();
}

}  // namespace pins::cli
