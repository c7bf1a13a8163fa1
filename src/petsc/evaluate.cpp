// A solution model against PETSc on a dataset (pins/petsc/evaluate.hpp).
#include "pins/petsc/evaluate.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <cmath>
#include <chrono>
#include <memory>

#include "dataset_resolver.hpp"
#include "pde/registry.hpp"
#include "pins/core/calibration.hpp"
#include "pins/core/check.hpp"
#include "pins/core/error_estimate.hpp"
#include "pins/core/family.hpp"
#include "pins/core/multigrid_cycle.hpp"
#include "pins/core/rollout.hpp"
#include "pins/core/train_job.hpp"  // attributes_only, dataset_value_bytes
#include "pins/core/sparse_operator.hpp"
#include "pins/petsc/error.hpp"
#include "surrogates/mesh_graph.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::petsc {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The batch the surrogate runs in, for the plain predictions and the refined ones alike (so
// that refining with k = 0 reproduces the plain predictions bit for bit).
constexpr int64_t kBatch = 32;

// Refinement times are the best of this many runs, on both sides alike: on a shared machine
// the minimum is the most repeatable estimate of what the work itself costs.
constexpr int kTimingRepeats = 3;

using detail::Resolver;

// Mean wall time per sample of PETSc re-solving the first `count` samples, assembly included.
double petsc_seconds_per_sample(const Dataset& d, int count, const std::string& prefix) {
  Resolver resolver(d, prefix);
  resolver.solve(0);  // warm-up: first-call costs
  const auto t0 = Clock::now();
  for (int i = 0; i < count; ++i) resolver.solve(i);
  return seconds_since(t0) / count;
}

// PETSc's error against the stored solution, iteration by iteration, on the first `count`
// samples (after a warm-up solve, as above); of kTimingRepeats solves of each sample, the
// fastest one's history (the iterates are the same every time).
std::vector<ConvergenceHistory> petsc_histories(const Dataset& d, int count,
                                                const std::string& prefix) {
  Resolver resolver(d, prefix);
  resolver.solve(0);
  std::vector<ConvergenceHistory> out(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    ConvergenceHistory& best = out[size_t(i)];
    for (int rep = 0; rep < kTimingRepeats; ++rep) {
      ConvergenceHistory h;
      resolver.solve(i, &h);
      if (rep == 0 || h.seconds.back() < best.seconds.back()) best = std::move(h);
    }
  }
  return out;
}

FieldMap rows(const FieldMap& inputs, int64_t begin, int64_t end) {
  FieldMap part;
  for (const auto& [name, t] : inputs) part[name] = t.slice(0, begin, end);
  return part;
}

// The surrogate's answers refined by k V-cycles, and the wall time per sample of the whole
// way from the inputs to them, batch by batch: features and network, then (k > 0) the
// operator's coefficients and right-hand side, the multigrid hierarchy and the cycles. The
// time is the best of `repeats` runs over the whole dataset.
torch::Tensor refined_predictions(Surrogate& model, const Normalisation& norm, const Family& family,
                                  const FieldMap& inputs, int64_t n, int k, int repeats,
                                  double* seconds) {
  std::vector<torch::Tensor> parts;
  for (int rep = 0; rep < repeats; ++rep) {
    parts.clear();
    const auto t0 = Clock::now();
    for (int64_t b = 0; b < n; b += kBatch) {
      const FieldMap part = rows(inputs, b, std::min(n, b + kBatch));
      torch::Tensor u = predict(model, norm, part, kBatch, &family);
      if (k > 0) {
        const OperatorPtr A = family.make_operator(part);
        u = MultigridCycle(*A).refine(u, family.rhs(part), k);
      }
      parts.push_back(u);
    }
    const double t = seconds_since(t0) / double(n);
    if (rep == 0 || t < *seconds) *seconds = t;
  }
  return torch::cat(parts);
}

// A tensor's values as float64, in order.
std::vector<double> values(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// report.json's value for a mean that may not exist.
nlohmann::json number_or_null(double v, bool exists) {
  return exists ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json grid_json(std::int64_t nx, std::int64_t ny, std::int64_t nz) {
  nlohmann::json g = {{"nx", nx}, {"ny", ny}};
  if (nz > 0) g["nz"] = nz;
  return g;
}

nlohmann::json newton_json(const NewtonComparison& n) {
  nlohmann::json samples = nlohmann::json::array();
  for (size_t i = 0; i < n.iterations_zero.size(); ++i)
    samples.push_back({{"iterations_zero", n.iterations_zero[i]},
                       {"iterations_guess", n.iterations_guess[i]},
                       {"seconds_zero", n.seconds_zero[i]},
                       {"seconds_guess", n.seconds_guess[i]},
                       {"seconds_inference", n.seconds_inference[i]}});
  nlohmann::json j = {{"rtol", n.rtol},
                      {"samples", n.iterations_zero.size()},
                      {"iterations_zero", n.mean_iterations_zero},
                      {"iterations_guess", n.mean_iterations_guess},
                      {"iterations_ratio", n.mean_iterations_zero / n.mean_iterations_guess},
                      {"seconds_zero", n.mean_seconds_zero},
                      {"seconds_guess", n.mean_seconds_guess},
                      {"seconds_inference", n.mean_seconds_inference},
                      {"time_ratio", n.mean_seconds_zero / n.mean_seconds_guess},
                      {"per_sample", samples}};
  if (n.steps == 1) {
    j["method"] =
        "Newton (the dataset's SNES settings) to ||F(u)|| <= rtol ||F(0)||, from u = 0 and "
        "from the network's prediction (pins::petsc::snes_set_surrogate_guess, the inputs "
        "given as vectors)";
    j["timing"] =
        "wall time per sample of the whole solve (SNES set-up, Newton, and for the guess "
        "its inference: inputs, network, scatter), best of 3 runs on both sides, one sample "
        "at a time, one process; ratios are means over the samples, zero / guess";
    return j;
  }
  // A time-dependent family: PETSc TS over whole trajectories, the guess at every step.
  j["steps"] = n.steps;
  j["iterations_per_step_zero"] = n.mean_iterations_zero / n.steps;
  j["iterations_per_step_guess"] = n.mean_iterations_guess / n.steps;
  j["method"] =
      "PETSc TS (backward Euler, the dataset's SNES settings; every step to the dataset's step "
      "tolerance) re-solving whole trajectories from the stored initial state, each implicit "
      "step's Newton starting from the previous state (TS's own predictor, 'zero') and from "
      "the one-step network's prediction (the surrogate as the predictor, "
      "pins::petsc::snes_set_surrogate_guess on the TS's SNES, kappa given as a vector); "
      "iterations are Newton iterations per trajectory";
  j["timing"] =
      "wall time per trajectory of the whole TS solve (set-up, every step, and for the guess "
      "its inference at every step), best of 3 runs on both sides, one trajectory at a time, "
      "one process; ratios are means over the samples, zero / guess";
  return j;
}

// The surrogate rolled out over every stored trajectory, timed batched and one sample at a
// time (after a warm-up), against the trajectories.
RolloutComparison compare_rollout(Surrogate& model, const Normalisation& norm,
                                  const Family& family, const TrainingData& td, const Dataset& d,
                                  double seconds_petsc) {
  RolloutComparison r;
  const Trajectories t = trajectories(td, family);
  const int64_t n = t.samples();
  r.steps = int(t.times() - 1);
  const AttributeValue* dt = d.info.find_sampler("dt");
  r.dt = dt && std::holds_alternative<double>(*dt) ? std::get<double>(*dt) : 0.0;
  const torch::Tensor initial = t.u.select(1, 0);
  rollout(model, norm, family, rows(t.inputs, 0, 1), initial.narrow(0, 0, 1), 1, kBatch);
  auto t0 = Clock::now();
  r.rollout = rollout(model, norm, family, t.inputs, initial, r.steps, kBatch);
  r.seconds_batched = seconds_since(t0) / double(n);
  const int64_t single = std::min<int64_t>(n, 4);
  t0 = Clock::now();
  for (int64_t i = 0; i < single; ++i)
    rollout(model, norm, family, rows(t.inputs, i, i + 1), initial.narrow(0, i, 1), r.steps,
            kBatch);
  r.seconds_single = seconds_since(t0) / double(single);
  r.seconds_petsc = seconds_petsc;
  r.truth = t.u;
  const torch::Tensor err = rollout_errors(r.rollout, t.u);  // [N, steps]
  for (int s = 0; s < r.steps; ++s) {
    const Summary step = summarize(err.select(1, s).contiguous());
    r.error_mean.push_back(step.mean);
    r.error_p95.push_back(step.p95);
  }
  r.final_error = summarize(err.select(1, r.steps - 1).contiguous());
  return r;
}

nlohmann::json rollout_json(const RolloutComparison& r) {
  return {{"steps", r.steps},
          {"dt", r.dt},
          {"relative_l2_mean", r.error_mean},
          {"relative_l2_p95", r.error_p95},
          {"final_relative_l2", r.final_error.to_json()},
          {"seconds_per_rollout",
           {{"surrogate_batched", r.seconds_batched},
            {"surrogate_single", r.seconds_single},
            {"petsc_ts", number_or_null(r.seconds_petsc, r.seconds_petsc > 0)}}},
          {"speedup_single_vs_petsc",
           number_or_null(r.seconds_petsc / r.seconds_single, r.seconds_petsc > 0)},
          {"method",
           "the one-step surrogate applied to its own output from each sample's stored initial "
           "state, T - 1 steps; relative L2 against the stored state at each step"},
          {"timing",
           "surrogate: wall time per rollout (all samples in batches of 32, and one sample at a "
           "time, after a warm-up); PETSc: TS with the dataset's settings re-solving whole "
           "trajectories, assembly included"}};
}

}  // namespace

ModelRequirements evaluation_requirements(const std::string& architecture,
                                          const DatasetInfo& info) {
  ModelRequirements need;
  need.problem_family = info.pde;
  need.task = "solution";
  const Family& family = find_family(info.pde);
  need.in_channels = family.input_channels();
  need.out_channels = family.dof();
  if (!surrogate_traits(architecture).grid_independent) {  // meant for its training grid only
    need.grid_nx = int(info.nx());
    need.grid_ny = int(info.ny());
    need.grid_nz = info.dim() >= 3 ? int(info.nz()) : 0;
  }
  return need;
}

Evaluation evaluate_model(Surrogate& model, const ModelManifest& manifest,
                          const std::string& model_path, const Dataset& d,
                          const std::string& data_path, int solve_samples,
                          const std::string& solver_prefix, const std::vector<int>& refine,
                          double newton_rtol, std::int64_t block_bytes) {
  PINS_CHECK(solve_samples >= 0, "the number of PETSc re-solves must be 0 or more, got ",
             solve_samples);
  PINS_CHECK(solve_samples >= 1 || refine.empty(),
             "refinement is compared with PETSc re-solves: at least 1 is needed");
  require_labelled(d.info, data_path, "evaluation compares the model with stored solutions");
  for (int k : refine) PINS_CHECK(k >= 0, "refinement cycle counts must be 0 or more, got ", k);
  std::vector<int> counts = refine;
  std::sort(counts.begin(), counts.end());
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  Evaluation e;
  Normalisation norm;
  try {
    norm = Normalisation::from_json(manifest.normalisation);
  } catch (const Error& err) {
    throw Error("model file '" + model_path + "': " + err.what());
  }
  // A dataset given by its attributes only (pins::attributes_only: larger than the memory
  // budget) is streamed: read and scored a block of samples at a time.
  const bool streamed = attributes_only(d);
  PINS_CHECK(!streamed || counts.empty(), data_path,
             ": refining predictions needs the whole dataset in memory, but it is streamed "
             "from the file (its values exceed the memory budget, -evaluate_memory)");
  const std::shared_ptr<const Family> family_ptr =
      family_for(d.info.pde, sampler_parameters(d.info), d.info.mesh);
  const Family& family = *family_ptr;
  PINS_CHECK(!streamed || !family.time_dependent(), data_path,
             ": rolling out trajectories needs the whole dataset in memory, but it is streamed "
             "from the file (its values exceed the memory budget, -evaluate_memory)");
  // The samples of the PETSc re-solves (and the first block): the dataset itself, or read.
  const int64_t samples = d.samples;
  e.petsc_samples = int(std::min<int64_t>(samples, solve_samples));
  const int64_t block_samples =
      streamed ? std::max<int64_t>(kBatch, int64_t(block_bytes / std::max<std::int64_t>(
                                                    1, 4 * dataset_value_bytes(d) / samples)) /
                                               kBatch * kBatch)
               : samples;
  auto training_rows = [&](const Dataset& part) {
    try {
      return training_data(part);
    } catch (const Error& err) {
      throw Error(data_path + ": " + err.what());
    }
  };
  Dataset first_block;
  if (streamed) first_block = read_dataset(data_path, 0, std::min(samples, block_samples));
  const Dataset& solve_set = streamed ? first_block : d;
  e.data = training_rows(solve_set);
  const TrainingData& td = e.data;
  // Rows the surrogate predicts: the samples, or a trajectory dataset's steps.
  const int64_t steps = td.samples() / solve_set.samples;
  const int64_t n = samples * steps;

  // Accuracy and physics of the predictions (batched), then per-sample latency.
  if (family.on_mesh()) {
    // A mesh surrogate runs on this dataset's mesh, whichever mesh it was trained on.
    model.set_graph(mesh_graph_of(*family.mesh(), *family.make_operator(rows(td.inputs, 0, 1))));
  }
  PINS_CHECK(counts.empty() || !family.nonlinear(), "cannot refine ", d.info.pde,
             " predictions with multigrid cycles: the family's equation is nonlinear");
  if (!counts.empty()) {
    const std::string why =
        MultigridCycle::unsupported(*family.make_operator(rows(td.inputs, 0, 1)));
    PINS_CHECK(why.empty(), "cannot refine ", d.info.pde,
               " predictions with multigrid cycles: ", why);
  }
  const torch::Tensor first_answer =
      predict(model, norm, rows(td.inputs, 0, 1), kBatch, &family);  // warm-up
  // Each answer's a-posteriori error estimate, where the family offers one.
  const std::string no_estimate =
      error_estimate_unsupported(family, rows(td.inputs, 0, 1), first_answer);
  // Block by block (one block when the dataset is in memory): predictions, their errors and
  // residuals ‖F(u)‖/‖F(0)‖ (‖f − A u‖/‖f‖ for a linear family, as the dataset stores for
  // PETSc's u), and PETSc's stored residuals. Streamed, only the first block's predictions
  // are kept (Evaluation::prediction).
  std::vector<torch::Tensor> errors, residuals, statistics, estimates;
  std::vector<double> petsc_residuals;
  double predict_seconds = 0, certificate_seconds = 0, estimate_seconds = 0;
  auto score = [&](const Dataset& part, const TrainingData& part_rows) {
    const auto t0 = Clock::now();
    const torch::Tensor pred = predict(model, norm, part_rows.inputs, kBatch, &family);
    predict_seconds += seconds_since(t0);
    if (!e.prediction.defined()) e.prediction = pred;
    errors.push_back(relative_l2(pred, part_rows.u));
    const auto t_evidence = Clock::now();
    residuals.push_back(family.relative_residual(part_rows.inputs, pred));
    statistics.push_back(input_statistics(norm.features(part_rows.inputs, torch::kFloat64)));
    certificate_seconds += seconds_since(t_evidence);
    if (no_estimate.empty()) {
      const auto t1 = Clock::now();
      estimates.push_back(estimated_relative_error(family, part_rows.inputs, pred));
      estimate_seconds += seconds_since(t1);
    }
    petsc_residuals.insert(petsc_residuals.end(), part.residual.begin(), part.residual.end());
  };
  score(solve_set, td);
  for (int64_t first = block_samples; first < samples; first += block_samples) {
    const Dataset part = read_dataset(data_path, first, std::min(block_samples, samples - first));
    score(part, training_rows(part));
  }
  e.seconds_batched = predict_seconds / double(n);
  // One at a time, the best of kTimingRepeats passes (as PETSc's solves are timed by pins
  // bench): a query's cost without the machine's other load.
  const int64_t single_count = std::min<int64_t>(td.samples(), 16);
  e.seconds_single = std::numeric_limits<double>::infinity();
  for (int rep = 0; rep < kTimingRepeats; ++rep) {
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < single_count; ++i)
      predict(model, norm, rows(td.inputs, i, i + 1), kBatch, &family);
    e.seconds_single = std::min(e.seconds_single, seconds_since(t0) / double(single_count));
  }
  e.relative_l2 = torch::cat(errors);
  e.error = summarize(e.relative_l2);
  e.relative_residual = torch::cat(residuals);
  e.input_statistics = torch::cat(statistics);
  e.seconds_certificate = certificate_seconds / double(n);
  if (no_estimate.empty()) {
    e.error_estimate = torch::cat(estimates);
    e.seconds_estimate = estimate_seconds / double(n);
  }
  e.residual = summarize(e.relative_residual);
  e.petsc_residual = summarize(torch::tensor(petsc_residuals, torch::kFloat64));
  // No re-solve asked (calibration, OOD sets): the answers and their evidence only.
  const bool resolve = e.petsc_samples > 0;
  if (resolve)
    e.seconds_petsc = petsc_seconds_per_sample(solve_set, e.petsc_samples, solver_prefix);

  e.report = {{"model", model_path},
              {"data", data_path},
              {"samples", n},
              {"grid", grid_json(d.info.nx(), d.info.ny(), d.info.dim() >= 3 ? d.info.nz() : 0)},
              {"architecture", manifest.architecture},
              {"trained_grid", grid_json(manifest.grid_nx, manifest.grid_ny, manifest.grid_nz)},
              {"relative_l2", e.error.to_json()},
              {"relative_residual_prediction", e.residual.to_json()},
              {"relative_residual_petsc", e.petsc_residual.to_json()},
              {"seconds_per_sample",
               {{"surrogate_batched", e.seconds_batched},
                {"surrogate_single", e.seconds_single},
                {"certificate_and_input_statistics", e.seconds_certificate},
                {"petsc_solve", number_or_null(e.seconds_petsc, resolve)},
                {"petsc_samples_timed", e.petsc_samples},
                {"torch_threads", torch::get_num_threads()},
                {"petsc_solver", d.info.ksp_type + " + " + d.info.pc_type + ", rtol " +
                                     to_string(AttributeValue(d.info.rtol))}}},
              {"speedup_single_vs_petsc",
               number_or_null(e.seconds_petsc / e.seconds_single, resolve)}};
  auto finite_or_null = [](double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
  };
  if (no_estimate.empty()) {
    e.report["error_estimate"] = {
        {"estimate", summarize(e.error_estimate).to_json()},
        {"spearman_estimate_error",
         finite_or_null(spearman(values(e.error_estimate), values(e.relative_l2)))},
        {"spearman_certificate_error",
         finite_or_null(spearman(values(e.relative_residual), values(e.relative_l2)))},
        {"seconds_per_answer", e.seconds_estimate},
        {"method", "||B F(u)|| / ||u - B F(u)|| with B " + std::to_string(kErrorEstimateCycles) +
                       " multigrid V-cycles of the family's linearised operator "
                       "(pins/core/error_estimate.hpp)"}};
  } else {
    e.report["error_estimate"] = "not available: " + no_estimate;
  }
  if (manifest.metrics.is_object() && manifest.metrics.contains("calibration")) {
    // The model's calibrated error bound (pins calibrate) against the true errors here.
    ErrorCalibration c;
    try {
      c = ErrorCalibration::from_json(manifest.metrics.at("calibration"));
    } catch (const Error& err) {
      throw Error("model file '" + model_path + "': " + err.what());
    }
    PINS_CHECK(!c.uses_estimate() || e.error_estimate.defined(), "model file '", model_path,
               "' is calibrated on error estimates, which the ", d.info.pde,
               " family does not offer here: ", no_estimate);
    e.bound = (c.uses_estimate() ? e.error_estimate : e.relative_residual) * c.quantile;
    e.bound_uses_estimate = c.uses_estimate();
    const torch::Tensor covered = (e.relative_l2 <= e.bound).to(torch::kFloat64);
    const double rho = spearman(values(e.bound), values(e.relative_l2));
    e.report["error_bound"] = {
        {"level", c.level},
        {"quantile", c.quantile},
        {"score", c.score},
        {"calibration_samples", c.samples},
        {"calibration_data", c.data},
        {"coverage", covered.mean().item<double>()},
        {"spearman_bound_error", std::isfinite(rho) ? nlohmann::json(rho) : nlohmann::json()},
        {"bound", summarize(e.bound).to_json()},
        {"method", manifest.metrics.at("calibration").value("method", "")}};
    if (c.residual_threshold > 0) {
      e.ood_score = c.ood_scores(e.relative_residual, e.input_statistics);
      const torch::Tensor flagged = (e.ood_score > 1).to(torch::kFloat64);
      const torch::Tensor by_residual =
          (e.relative_residual > c.residual_threshold).to(torch::kFloat64);
      e.report["out_of_distribution"] = {
          {"score", c.inputs.fitted()
                        ? "max(relative residual / residual_threshold, input score / "
                          "input_threshold) (> 1: flagged)"
                        : "relative residual / residual_threshold (> 1: flagged)"},
          {"residual_threshold", c.residual_threshold},
          {"flagged_fraction", flagged.mean().item<double>()},
          {"flagged", flagged.sum().item<double>()},
          {"flagged_by_certificate", by_residual.sum().item<double>()}};
      if (c.inputs.fitted()) {
        const torch::Tensor by_input =
            (c.inputs.scores(e.input_statistics) > c.inputs.threshold).to(torch::kFloat64);
        e.report["out_of_distribution"]["input_threshold"] = c.inputs.threshold;
        e.report["out_of_distribution"]["flagged_by_inputs"] = by_input.sum().item<double>();
      }
    }
  }
  if (streamed)
    e.report["streamed"] = {{"block_samples", block_samples},
                            {"kept_predictions", e.prediction.size(0)}};
  if (family.time_dependent()) {
    e.rollout = compare_rollout(model, norm, family, td, d, e.seconds_petsc);
    e.report["rollout"] = rollout_json(*e.rollout);
    e.report["one_step"] =
        "relative_l2 and relative_residual_prediction are of single steps from the stored "
        "states; seconds_per_sample.petsc_solve is per trajectory (PETSc TS)";
  }
  if (!resolve) {
    if (family.nonlinear()) e.report["newton"] = "not measured: no PETSc re-solves asked";
  } else if (family.nonlinear() && family.dof() == 1) {
    e.newton =
        compare_newton_guess(solve_set, model_path, e.petsc_samples, newton_rtol, solver_prefix);
    e.report["newton"] = newton_json(*e.newton);
  } else if (family.nonlinear()) {
    // The SNES guess (snes_guess_surrogate.cpp) predicts one field; several are not wired.
    e.report["newton"] = "not measured: the SNES guess handles one field";
  }
  if (counts.empty()) return e;

  // Test-time refinement, against PETSc's convergence on the re-solved samples.
  e.petsc_history = petsc_histories(d, e.petsc_samples, solver_prefix);
  const torch::Tensor f = family.rhs(td.inputs);
  const OperatorPtr A = family.make_operator(td.inputs);  // linear: the equation itself
  double ignored;
  refined_predictions(model, norm, family, rows(td.inputs, 0, 1), 1, 1, 1, &ignored);  // warm-up
  nlohmann::json entries = nlohmann::json::array();
  for (int k : counts) {
    Refinement r;
    r.k = k;
    const torch::Tensor u = refined_predictions(model, norm, family, td.inputs, n, k,
                                                kTimingRepeats, &r.seconds_per_sample);
    r.relative_l2 = relative_l2(u, td.u);
    r.error = summarize(r.relative_l2);
    r.residual = summarize(relative_residual(*A, u, f));
    // Sample by sample: PETSc on sample i against the refined answer on sample i.
    double total = 0;
    for (int i = 0; i < e.petsc_samples; ++i) {
      const double t = e.petsc_history[size_t(i)].seconds_to_error(r.relative_l2[i].item<double>());
      if (t < 0) continue;
      total += t;
      ++r.petsc_reached;
    }
    const bool reached = r.petsc_reached > 0;
    r.petsc_seconds_to_same_error = reached ? total / r.petsc_reached : 0;
    entries.push_back(
        {{"k", k},
         {"relative_l2_mean", r.error.mean},
         {"relative_l2_p95", r.error.p95},
         {"relative_residual_mean", r.residual.mean},
         {"seconds_per_sample", r.seconds_per_sample},
         {"petsc_seconds_to_same_error", number_or_null(r.petsc_seconds_to_same_error, reached)},
         {"petsc_samples_reached", r.petsc_reached},
         {"ratio", number_or_null(r.petsc_seconds_to_same_error / r.seconds_per_sample, reached)}});
    e.refine.push_back(std::move(r));
  }
  double to_tolerance = 0, iterations = 0, final_error = 0;
  for (const auto& h : e.petsc_history) {
    to_tolerance += h.seconds.back();
    iterations += double(h.seconds.size() - 1);
    final_error += h.error.back();
  }
  const double m = double(e.petsc_history.size());
  e.report["refine"] = entries;
  e.report["refine_petsc"] = {
      {"samples", e.petsc_samples},
      {"rtol", d.info.rtol},
      {"seconds_to_tolerance", to_tolerance / m},
      {"iterations", iterations / m},
      {"final_relative_l2", final_error / m},
      {"method",
       "k steps u <- u + V(f - A u) of a multigrid V-cycle V (pins::MultigridCycle: black-box "
       "multigrid in 2-D, aggregation in 3-D) from the surrogate's answer"},
      {"timing",
       "best of 3 runs on both sides; surrogate: wall time per sample over the whole dataset "
       "in batches of 32, inputs to refined answer (features, network, and for k > 0 the "
       "operator's coefficients and "
       "right-hand side, the multigrid hierarchy and the cycles); PETSc: one sample at a time, "
       "wall time from the start of assembly to the first iterate at least as accurate as the "
       "refined answer on the same sample (assembly and KSP/PC set-up included, the error "
       "monitoring excluded), mean over the re-solved samples that reached it; ratio = PETSc "
       "/ surrogate"}};
  return e;
}

ErrorCalibration calibrate_model(Surrogate& model, const ModelManifest& manifest,
                                 const std::string& model_path, const Dataset& d,
                                 const std::string& data_path, double level,
                                 const std::string& score, std::int64_t block_bytes,
                                 Evaluation* answers) {
  PINS_CHECK(level > 0 && level < 1, "the calibration level must be in (0, 1), got ", level);
  PINS_CHECK(is_calibration_score(score),
             "the calibration score must be auto, residual or error_estimate, got '", score, "'");
  PINS_CHECK(manifest.task == "solution", "model file '", model_path, "' is a ", manifest.task,
             " model; calibration bounds the errors of solution models");
  require_labelled(d.info, data_path, "calibration compares the model's answers with solutions");
  // The answers and their evidence on every calibration sample (no PETSc re-solve).
  Evaluation e = evaluate_model(model, manifest, model_path, d, data_path, 0, "calibrate_", {},
                                0, block_bytes);
  const bool has_estimate = e.error_estimate.defined();
  PINS_CHECK(score != "error_estimate" || has_estimate,
             "cannot calibrate on error estimates (score error_estimate): ",
             e.report["error_estimate"].get<std::string>());
  const bool use_estimate = score == "error_estimate" || (score == "auto" && has_estimate);
  const std::vector<double> estimates = use_estimate ? values(e.error_estimate)
                                                     : std::vector<double>();
  ErrorCalibration c;
  try {
    c = calibrate_error_bound(values(e.relative_l2), values(e.relative_residual), level,
                              use_estimate ? &estimates : nullptr);
    c.inputs.fit(e.input_statistics);
  } catch (const Error& err) {
    throw Error(data_path + ": " + err.what());
  }
  c.data = data_path;
  if (answers) *answers = std::move(e);
  return c;
}

}  // namespace pins::petsc
