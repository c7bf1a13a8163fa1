// pins bench: a benchmark suite (bench_suite.hpp) run end to end — its datasets and models
// made (or taken from files), every solution model measured on the test set and the
// out-of-distribution sets, every PETSc solver timed alone and with the preconditioner
// models as its guess or preconditioner, and the break-even of every model against every
// solver — written to <o>/report.json, report.md and figures.

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench_markdown.hpp"
#include "bench_steps.hpp"
#include "bench_suite.hpp"
#include "cli_options.hpp"
#include "commands.hpp"
#include "evaluate_output.hpp"
#include "pins/core/calibration.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/train_job.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/evaluate.hpp"
#include "pins/petsc/solver_timing.hpp"

namespace pins::cli {

namespace {

using nlohmann::json;

std::vector<std::string> tokens(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

std::vector<double> values(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

void progress(const char* format, const std::string& a, const std::string& b = "") {
  std::printf(format, a.c_str(), b.c_str());
  std::fflush(stdout);
}

// What making a model cost, from its manifest: training, and generating its training data.
json model_cost(const ModelManifest& m) {
  const json& x = m.metrics;
  json c = json::object();
  if (!x.is_object() || !x.contains("training_seconds")) {
    c["seconds"] = nullptr;
    c["why"] = "the model file records no training time (metrics.training_seconds)";
    return c;
  }
  double total = x["training_seconds"].get<double>();
  c["training_seconds"] = total;
  if (x.contains("training_processes")) c["training_processes"] = x["training_processes"];
  if (m.task == "solution") {
    if (!x.contains("training_data_generation_seconds")) {
      c["seconds"] = nullptr;
      c["why"] = "the training data records no generation time (attribute generation_seconds)";
      return c;
    }
    c["data_generation_seconds"] = x["training_data_generation_seconds"];
    if (x.contains("training_data_generation_processes"))
      c["data_generation_processes"] = x["training_data_generation_processes"];
    total += x["training_data_generation_seconds"].get<double>();
  }
  c["seconds"] = total;
  return c;
}

// Queries after which cost + n · with ≤ n · without: ⌈cost / (without − with)⌉, or null
// when the surrogate way is not faster per query.
json break_even(const json& cost, double without, double with) {
  if (!cost["seconds"].is_number() || !(without > with)) return nullptr;
  return std::ceil(cost["seconds"].get<double>() / (without - with));
}

struct Context {
  explicit Context(const BenchSuite& s) : suite(s) {}
  const BenchSuite& suite;
  std::string out, work, logs;
  std::map<std::string, std::string> dataset_path;     // name → file
  std::map<std::string, std::string> dataset_record;   // name → its step's command (or path)
  std::map<std::string, std::string> model_path;
  json steps = json::array();
};

// A step of `kind` ("generate", "train") making `name`'s file in work/, logged in logs/.
BenchStep new_step(const Context& c, const std::string& kind, const std::string& name,
                   const char* extension, int procs) {
  BenchStep s;
  s.label = kind + " " + name;
  s.output = c.work + "/" + name + extension;
  s.log = c.logs + "/" + kind + "_" + name + ".log";
  s.procs = procs;
  return s;
}

// Runs (or reuses) `s`, saying so on stdout and in the report's steps.
BenchStepResult run_step(Context& c, const BenchStep& s) {
  progress("pins bench: %s ...", s.label);
  const BenchStepResult r = run_bench_step(s);
  if (r.reused)
    std::printf(" reused %s\n", r.output.c_str());
  else
    std::printf(" %.1f s\n", r.seconds);
  std::fflush(stdout);
  c.steps.push_back({{"step", r.label}, {"command", r.command}, {"seconds", r.seconds},
                     {"reused", r.reused}, {"log", r.log}});
  return r;
}

void make_datasets(Context& c) {
  for (const auto& d : c.suite.datasets) {
    if (!d.path.empty()) {
      c.dataset_path[d.name] = d.path;
      c.dataset_record[d.name] = d.path;
      continue;
    }
    BenchStep s = new_step(c, "generate", d.name, ".h5", d.procs);
    std::vector<std::string> args = {"generate"};
    for (const auto& t : tokens(d.generate)) args.push_back(t);
    for (const char* a : {"-o", s.output.c_str(), "-force", "-progress", "0"}) args.push_back(a);
    s.commands = {args};
    c.dataset_record[d.name] = run_step(c, s).command;
    c.dataset_path[d.name] = s.output;
  }
}

void make_models(Context& c) {
  for (const auto& m : c.suite.models) {
    if (!m.path.empty()) {
      c.model_path[m.name] = m.path;
      continue;
    }
    BenchStep s = new_step(c, "train", m.name, ".pins", m.procs);
    std::vector<std::string> train = {"train"};
    if (!m.data.empty()) {
      train.insert(train.end(), {"-data", c.dataset_path.at(m.data)});
      s.depends += c.dataset_record.at(m.data);
    }
    for (const auto& t : tokens(m.train)) train.push_back(t);
    for (const char* a : {"-o", s.output.c_str(), "-force"}) train.push_back(a);
    s.commands = {train};
    if (!m.calibrate.empty()) {
      s.commands.push_back({"calibrate", "-model", s.output, "-data",
                            c.dataset_path.at(m.calibrate)});
      s.depends += " | " + c.dataset_record.at(m.calibrate);
    }
    run_step(c, s);
    c.model_path[m.name] = s.output;
  }
}

// A solution model on one dataset: its accuracy, certificates, bound and flags.
json measure_answers(Surrogate& model, const ModelManifest& manifest, const std::string& path,
                     const Dataset& d, const std::string& data_path, int solve_samples,
                     std::int64_t block_bytes, petsc::Evaluation* keep) {
  petsc::Evaluation e = petsc::evaluate_model(model, manifest, path, d, data_path,
                                              solve_samples, "bench_eval_", {}, 0, block_bytes);
  json j = {{"samples", d.samples},
            {"relative_l2", e.error.to_json()},
            {"relative_residual", e.residual.to_json()},
            {"seconds_per_query_single", e.seconds_single},
            {"seconds_per_query_batched", e.seconds_batched}};
  // Batched, per answer: the certificate with the input statistics, and the error estimate.
  j["seconds_per_query_certificate"] = e.seconds_certificate;
  j["seconds_per_query_estimate"] = e.seconds_estimate;
  for (const char* k :
       {"error_estimate", "error_bound", "out_of_distribution", "newton", "rollout", "streamed"})
    if (e.report.contains(k)) j[k] = e.report[k];
  if (keep) *keep = std::move(e);
  return j;
}

// A preconditioner model's operator flag on a dataset's operators, each sample's relative
// score (> 1: flagged) as the surrogate PC and KSPGuess compute it from the assembled matrix
// (SurrogateStep::set_operator: D⁻¹A's couplings), here from the family's stencil of the
// sample (dataset_operator_statistics). Empty when the model carries no flag.
std::vector<double> operator_scores(const ModelManifest& manifest, const Dataset& d,
                                    const std::string& path) {
  if (!manifest.metrics.is_object() || !manifest.metrics.contains(kOperatorFlagKey)) return {};
  const InputFlag flag = InputFlag::from_json(manifest.metrics.at(kOperatorFlagKey),
                                              std::string("metrics.") + kOperatorFlagKey);
  return values(flag.relative_scores(dataset_operator_statistics(d, path)));
}

// The operator flag of a preconditioner model on the test set and the OOD sets: the flagged
// fraction of each, and how well the score tells each OOD set from the test set (AUROC).
json operator_flag_report(const ModelManifest& manifest, const std::string& test_name,
                          const Dataset& test, const std::string& test_path,
                          const std::vector<std::pair<std::string, Dataset>>& ood,
                          const std::map<std::string, std::string>& paths) {
  auto flagged = [](const std::vector<double>& v) {
    double n = 0;
    for (double x : v) n += x > 1 ? 1 : 0;
    return v.empty() ? 0.0 : n / double(v.size());
  };
  try {
    const std::vector<double> in = operator_scores(manifest, test, test_path);
    if (in.empty()) return "the model carries no operator flag (trained before it existed)";
    json j = {{test_name, {{"flagged_fraction", flagged(in)}, {"samples", in.size()}}}};
    for (const auto& [name, d] : ood) {
      const std::vector<double> o = operator_scores(manifest, d, paths.at(name));
      j[name] = {{"flagged_fraction", flagged(o)}, {"samples", o.size()},
                 {"auroc", auroc(in, o)}};
    }
    return j;
  } catch (const Error& err) {
    return std::string("not measured: ") + err.what();
  }
}

// A calibrated solution model as a certified replacement of each solver, for every
// tolerance τ of the suite: an answer is used when it is not flagged and its bound is ≤ τ,
// otherwise the solver solves; measured on the test set's answers (their true errors tell
// how often an accepted answer was in fact worse than τ).
json certified_replacement(const petsc::Evaluation& e, const BenchSuite& suite,
                           const std::map<std::string, petsc::SolverTiming>& alone,
                           const json& cost) {
  if (!e.bound.defined()) return "the model is not calibrated (pins calibrate)";
  json out = json::array();
  const int64_t n = e.relative_l2.size(0);
  // A time-dependent family's answers are single steps; its solvers time trajectories.
  const double steps = e.rollout ? double(e.rollout->steps) : 1.0;
  // The evidence a query needs: its certificate and input statistics (the OOD flag), and
  // its error estimate when the bound is calibrated on estimates (measured batched).
  const double evidence =
      e.seconds_certificate + (e.bound_uses_estimate ? e.seconds_estimate : 0.0);
  for (double tol : suite.tolerances) {
    torch::Tensor accepted = e.bound <= tol;
    if (e.ood_score.defined()) accepted = accepted & (e.ood_score <= 1);
    const int64_t kept = accepted.sum().item<int64_t>();
    const double fraction = double(kept) / double(n);
    const torch::Tensor kept_errors = e.relative_l2.masked_select(accepted);
    const int64_t above = (accepted & (e.relative_l2 > tol)).sum().item<int64_t>();
    json r = {{"tolerance", tol},
              {"accepted", kept},
              {"answers", n},
              {"accepted_fraction", fraction},
              {"accepted_above_tolerance", above},
              {"accepted_error_max", kept > 0 ? json(kept_errors.max().item<double>()) : json()},
              {"accepted_error_mean", kept > 0 ? json(kept_errors.mean().item<double>()) : json()}};
    json per_query = json::object(), be = json::object();
    for (const auto& s : suite.solvers) {
      const double solver = alone.at(s.name).mean_seconds / steps;
      // Every query pays the answer and its evidence; the rejected ones the solve too.
      const double t = e.seconds_single + evidence + (1 - fraction) * solver;
      per_query[s.name] = t;
      be[s.name] = break_even(cost, solver, t);
    }
    r["seconds_per_query"] = per_query;
    r["break_even_queries"] = be;
    if (e.rollout) r["query"] = "one time step (the solver's time per trajectory / steps)";
    out.push_back(r);
  }
  return out;
}

}  // namespace

int run_bench(MPI_Comm comm, const std::string& command_line) {
  char suite_path[PETSC_MAX_PATH_LEN] = "", output[PETSC_MAX_PATH_LEN] = "bench_report";
  PetscInt threads = 0, solve_samples = 0;
  PetscReal memory = 0;
  PetscBool force = PETSC_FALSE, plot = PETSC_TRUE, help = PETSC_FALSE;
  read_options([&]() -> PetscErrorCode {
    PetscFunctionBeginUser;
    PetscOptionsBegin(comm, nullptr, "pins bench: run a benchmark suite (one process)", "pins");
    PetscCall(PetscOptionsString("-suite", "Benchmark suite (JSON), required", "pins bench",
                                 suite_path, suite_path, sizeof suite_path, nullptr));
    PetscCall(PetscOptionsString("-o", "Report folder (report.json, report.md, figures; the "
                                 "suite's datasets and models in work/, step logs in logs/)",
                                 "pins bench", output, output, sizeof output, nullptr));
    PetscCall(PetscOptionsBool("-force", "Overwrite an existing report (work/ is reused where "
                               "its commands are unchanged)", "pins bench", force, &force,
                               nullptr));
    PetscCall(PetscOptionsInt("-bench_solve_samples",
                              "Test samples every solver solves (0: the suite's solve_samples)",
                              "pins bench", solve_samples, &solve_samples, nullptr));
    PetscCall(PetscOptionsInt("-bench_threads", "LibTorch threads (0: the cores available)",
                              "pins bench", threads, &threads, nullptr));
    PetscCall(PetscOptionsReal("-bench_memory",
                               "MB of dataset values to hold (0: auto, a quarter of the "
                               "available memory); a larger test or OOD set is scored a block "
                               "of samples at a time from its file",
                               "pins bench", memory, &memory, nullptr));
    PetscCall(PetscOptionsBool("-bench_plot", "Make PNG figures (python3 + matplotlib)",
                               "pins bench", plot, &plot, nullptr));
    PetscOptionsEnd();
    PetscCall(PetscOptionsHasHelp(nullptr, &help));
    PetscFunctionReturn(0);
  });
  if (help) return 0;
  int size = 1;
  MPI_Comm_size(comm, &size);
  on_rank0(comm, [&] {
    PINS_CHECK(size == 1, "pins bench runs on one process (it starts its generate and train "
               "steps itself, under mpiexec when a step asks for \"procs\"); got ", size);
    PINS_CHECK(solve_samples >= 0, "-bench_solve_samples must be >= 0 (0: the suite's), got ",
               solve_samples);
    PINS_CHECK(memory >= 0, "-bench_memory must be >= 0 (MB; 0: auto), got ", double(memory));
    const std::int64_t budget = training_memory_budget(double(memory), 1);
    const BenchSuite suite = read_bench_suite(suite_path);
    const int solves = solve_samples > 0 ? int(solve_samples) : suite.solve_samples;
    Context c(suite);
    c.out = output;
    c.work = c.out + "/work";
    c.logs = c.out + "/logs";
    const std::string report_path = c.out + "/report.json";
    PINS_CHECK(force || !std::filesystem::exists(report_path), "-o ", c.out,
               " already holds a report; pass -force to overwrite it");
    check_output_path(std::filesystem::is_directory(c.out) ? c.out + "/report.md" : c.out, "-o",
                      true);
    std::filesystem::create_directories(c.work);
    std::filesystem::create_directories(c.logs);
    std::filesystem::create_directories(c.out + "/plot_data");
    set_training_threads(int(threads));

    // 1. The datasets and models.
    make_datasets(c);
    make_models(c);

    // 2. The test and out-of-distribution sets: whole when they fit in -bench_memory, else
    //    their attributes only, scored block by block from the files (as pins evaluate
    //    does); the solvers need only the test set's first samples.
    const std::string test_path = c.dataset_path.at(suite.test);
    const Dataset test = read_training_datasets({test_path}, budget).front();
    require_labelled(test.info, test_path, "pins bench compares answers with solutions");
    const Dataset solved =
        read_dataset(test_path, 0, std::min<std::int64_t>(solves, test.samples));
    std::vector<std::pair<std::string, Dataset>> ood;
    for (const auto& name : suite.ood)
      ood.push_back({name, read_training_datasets({c.dataset_path.at(name)}, budget).front()});

    json report = {{"suite", suite.name},
                   {"suite_file", suite.file},
                   {"description", suite.description},
                   {"command", command_line},
                   {"test", {{"name", suite.test}, {"path", test_path}, {"samples", test.samples},
                             {"pde", test.info.pde}, {"grid", test.info.grid_string()}}},
                   {"solve_samples", solves},
                   {"repeats", suite.repeats},
                   {"torch_threads", torch::get_num_threads()}};
    json plot_samples = json::object();  // per model and dataset: errors and certificates

    // 3. The solvers alone on the test set.
    json solvers = json::object();
    std::map<std::string, petsc::SolverTiming> alone;
    for (const auto& s : suite.solvers) {
      progress("pins bench: solver %s (%s) ...", s.name, s.options);
      alone[s.name] = petsc::time_solver(solved, solves, s.options, suite.repeats);
      const auto& t = alone[s.name];
      std::printf(" %.2f iterations, %.3g ms per solve (%d of %d converged)\n", t.mean_iterations,
                  t.mean_seconds * 1e3, t.converged, t.samples);
      solvers[s.name] = t.to_json();
    }
    report["solvers"] = solvers;

    // 4. The models.
    json models = json::object();
    for (const auto& m : suite.models) {
      const std::string path = c.model_path.at(m.name);
      const ModelManifest manifest = read_model_manifest(path);
      json mj = {{"path", path},
                 {"task", manifest.task},
                 {"architecture", manifest.architecture},
                 {"cost", model_cost(manifest)}};
      const json& cost = mj["cost"];
      if (manifest.task == "solution") {
        progress("pins bench: model %s on %s ...", m.name, suite.test);
        LoadedModel loaded = load_model(path, petsc::evaluation_requirements(manifest.architecture,
                                                                            test.info));
        petsc::Evaluation e;
        json answers = measure_answers(*loaded.model, manifest, path, test, test_path, solves,
                                       budget, &e);
        std::printf(" relative L2 mean %.3g, %.3g ms per answer\n", e.error.mean,
                    e.seconds_single * 1e3);
        const std::vector<double> in_residual = values(e.relative_residual);
        const std::vector<double> in_score =
            e.ood_score.defined() ? values(e.ood_score) : std::vector<double>{};
        plot_samples[m.name][suite.test] = {{"relative_l2", values(e.relative_l2)},
                                            {"relative_residual", in_residual}};
        json ood_j = json::object();
        for (const auto& [name, d] : ood) {
          progress("pins bench: model %s on %s (out of distribution) ...", m.name, name);
          try {
            check_model_requirements(manifest, petsc::evaluation_requirements(
                                                   manifest.architecture, d.info), path);
            petsc::Evaluation eo;
            json o = measure_answers(*loaded.model, manifest, path, d, c.dataset_path.at(name), 0,
                                     budget, &eo);
            const std::vector<double> r = values(eo.relative_residual);
            // How well the certificate tells these answers from the test set's.
            o["auroc_certificate"] = auroc(in_residual, r);
            // And the calibrated score (certificate and input statistics), when fitted.
            if (eo.ood_score.defined() && !in_score.empty())
              o["auroc_ood_score"] = auroc(in_score, values(eo.ood_score));
            plot_samples[m.name][name] = {{"relative_l2", values(eo.relative_l2)},
                                          {"relative_residual", r}};
            std::printf(" relative L2 mean %.3g, AUROC %.3f (certificate)", eo.error.mean,
                        o["auroc_certificate"].get<double>());
            if (o.contains("auroc_ood_score"))
              std::printf(", %.3f (OOD score)", o["auroc_ood_score"].get<double>());
            std::printf("\n");
            ood_j[name] = o;
          } catch (const Error& err) {
            std::printf(" skipped: %s\n", err.what());
            ood_j[name] = {{"skipped", err.what()}};
          }
        }
        answers["out_of_distribution_sets"] = ood_j;
        // Break-even of the surrogate's answer against every solver's solve.
        // A time-dependent family's solvers time whole trajectories: the model's answer to
        // that query is its rollout over the same steps.
        const double answer_seconds = e.rollout ? e.rollout->seconds_single : e.seconds_single;
        mj["query"] = e.rollout ? "a trajectory of " + std::to_string(e.rollout->steps) +
                                      " steps (the model rolled out)"
                                : std::string("a solve (the model's answer)");
        json be = json::object();
        for (const auto& s : suite.solvers)
          be[s.name] = break_even(cost, alone[s.name].mean_seconds, answer_seconds);
        mj["break_even_queries"] = be;
        mj["answers"] = answers;
        if (!suite.tolerances.empty())
          mj["replace"] = certified_replacement(e, suite, alone, cost);
      } else if (manifest.task == "precondition") {
        json uses = json::object();
        json be = json::object();
        for (const auto& use : suite.uses) {
          for (const auto& s : suite.solvers) {
            // The guess goes with every solver; the preconditioner is its own Krylov solve
            // (FGMRES, since the network step is not linear; with refined Gram-Schmidt, which
            // FGMRES needs on operators with large jumps), measured once.
            if (use == "precondition" && &s != &suite.solvers.front()) continue;
            const std::string key = use == "guess" ? "guess+" + s.name : "precondition";
            const std::string options =
                use == "guess"
                    ? s.options + " -ksp_guess_type surrogate -ksp_guess_surrogate_model " + path
                    : "-ksp_type fgmres -ksp_gmres_cgs_refinement_type refine_ifneeded "
                      "-pc_type surrogate -pc_surrogate_model " + path;
            progress("pins bench: model %s as %s ...", m.name, key);
            const petsc::SolverTiming t =
                petsc::time_solver(solved, solves, options, suite.repeats);
            std::printf(" %.2f iterations, %.3g ms per solve (%d of %d converged)\n",
                        t.mean_iterations, t.mean_seconds * 1e3, t.converged, t.samples);
            uses[key] = t.to_json();
            json per_solver = json::object();
            for (const auto& s2 : suite.solvers)
              per_solver[s2.name] = t.converged == t.samples
                                        ? break_even(cost, alone[s2.name].mean_seconds, t.mean_seconds)
                                        : json();
            be[key] = per_solver;
          }
        }
        progress("pins bench: model %s's operator flag ...", m.name);
        mj["operator_flag"] = operator_flag_report(manifest, suite.test, test, test_path, ood,
                                                   c.dataset_path);
        if (mj["operator_flag"].is_object()) {
          for (const auto& [set, f] : mj["operator_flag"].items()) {
            std::printf(" %s: %.0f %% flagged", set.c_str(),
                        100 * f["flagged_fraction"].get<double>());
            if (f.contains("auroc")) std::printf(" (AUROC %.3f)", f["auroc"].get<double>());
          }
          std::printf("\n");
        } else {
          std::printf(" %s\n", mj["operator_flag"].get<std::string>().c_str());
        }
        if (suite.solvers.empty()) mj["note"] = "no solvers in the suite: nothing to use it in";
        mj["uses"] = uses;
        mj["break_even_queries"] = be;
      } else {
        mj["note"] = "task '" + manifest.task + "' is not benchmarked by pins bench";
      }
      models[m.name] = mj;
    }
    report["models"] = models;
    report["steps"] = c.steps;
    write_text_file(c.out + "/plot_data/samples.json", plot_samples.dump() + "\n");

    // 5. The report.
    std::ostringstream md;
    md << bench_markdown(suite, report);
    std::string plot_problem = "disabled (-bench_plot 0)";
    write_text_file(report_path, report.dump(2) + "\n");  // the plot script reads it
    if (plot) plot_problem = run_plot_script(c.out, "plot_bench.py");
    if (plot_problem.empty()) {
      report["figures"] = json::array();
      for (const char* f : {"time_per_query.png", "break_even.png", "answers.png"})
        if (std::filesystem::exists(c.out + "/" + f)) {
          report["figures"].push_back(f);
          md << "\n![" << f << "](" << f << ")\n";
        }
    } else if (plot) {
      std::fprintf(stderr, "pins bench: warning: no figures: %s\n", plot_problem.c_str());
    }
    write_text_file(report_path, report.dump(2) + "\n");
    write_text_file(c.out + "/report.md", md.str());
    std::printf("pins bench: wrote %s, %s/report.md\n", report_path.c_str(), c.out.c_str());
    std::fflush(stdout);
  });
  return 0;
}

}  // namespace pins::cli
