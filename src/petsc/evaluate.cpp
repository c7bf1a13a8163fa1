// A solution model against PETSc on a dataset (pins/petsc/evaluate.hpp).
#include "pins/petsc/evaluate.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "pde/registry.hpp"
#include "pins/core/check.hpp"
#include "pins/core/family.hpp"
#include "pins/petsc/error.hpp"
#include "sample_solver.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::petsc {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Mean wall time per sample of PETSc re-solving the first `count` samples with the
// dataset's ksp_type, pc_type and rtol (set under `prefix`), assembly included.
double petsc_seconds_per_sample(const Dataset& d, int count, const std::string& prefix) {
  auto set = [&](const std::string& name, const std::string& value) {
    PINS_PETSC_CALL(PetscOptionsSetValue(nullptr, ("-" + prefix + name).c_str(), value.c_str()));
  };
  set("ksp_type", d.info.ksp_type);
  set("pc_type", d.info.pc_type);
  set("ksp_rtol", to_string(AttributeValue(d.info.rtol)));
  auto family = find_problem_family(d.info.pde).create();
  detail::SampleSolver solver(*family, d.info.ny, d.info.nx, prefix);
  const size_t points = size_t(d.info.ny) * size_t(d.info.nx);
  std::vector<double> u(points);
  solver.solve(d.kappa.data(), d.f.data(), u.data());  // warm-up: first-call costs
  const auto t0 = Clock::now();
  for (int i = 0; i < count; ++i) {
    const auto r = solver.solve(d.kappa.data() + i * points, d.f.data() + i * points, u.data());
    PINS_CHECK(r.failure.empty(), "PETSc re-solve of sample ", i, " failed: ", r.failure);
  }
  return seconds_since(t0) / count;
}

}  // namespace

ModelRequirements evaluation_requirements(const std::string& architecture, const DatasetInfo& info) {
  ModelRequirements need;
  need.problem_family = info.pde;
  need.task = "solution";
  need.in_channels = kFeatureChannels;
  need.out_channels = 1;
  if (!surrogate_traits(architecture).grid_independent) {  // meant for its training grid only
    need.grid_nx = info.nx;
    need.grid_ny = info.ny;
  }
  return need;
}

Evaluation evaluate_model(Surrogate& model, const ModelManifest& manifest,
                          const std::string& model_path, const Dataset& d,
                          const std::string& data_path, int solve_samples,
                          const std::string& solver_prefix) {
  PINS_CHECK(solve_samples >= 1, "the number of PETSc re-solves must be at least 1, got ",
             solve_samples);
  Evaluation e;
  Normalisation norm;
  try {
    norm = Normalisation::from_json(manifest.normalisation);
  } catch (const Error& err) {
    throw Error("model file '" + model_path + "': " + err.what());
  }
  try {
    e.data = training_data(d);
  } catch (const Error& err) {
    throw Error(data_path + ": " + err.what());
  }
  const TrainingData& td = e.data;
  const int64_t n = d.samples;

  // Accuracy and physics of the predictions (batched), then per-sample latency.
  predict(model, norm, td.kappa.slice(0, 0, 1), td.f.slice(0, 0, 1));  // warm-up
  auto t0 = Clock::now();
  e.prediction = predict(model, norm, td.kappa, td.f, 32);
  e.seconds_batched = seconds_since(t0) / double(n);
  const int64_t single_count = std::min<int64_t>(n, 16);
  t0 = Clock::now();
  for (int64_t i = 0; i < single_count; ++i)
    predict(model, norm, td.kappa.slice(0, i, i + 1), td.f.slice(0, i, i + 1));
  e.seconds_single = seconds_since(t0) / double(single_count);
  e.relative_l2 = relative_l2(e.prediction, td.u);
  const OperatorPtr A = find_family(d.info.pde).make_operator({{"kappa", td.kappa}, {"f", td.f}});
  e.error = summarize(e.relative_l2);
  e.residual = summarize(relative_residual(*A, e.prediction, td.f));
  e.petsc_residual = summarize(torch::tensor(d.residual, torch::kFloat64));
  e.petsc_samples = int(std::min<int64_t>(n, solve_samples));
  e.seconds_petsc = petsc_seconds_per_sample(d, e.petsc_samples, solver_prefix);

  e.report = {
      {"model", model_path},
      {"data", data_path},
      {"samples", n},
      {"grid", {{"nx", d.info.nx}, {"ny", d.info.ny}}},
      {"architecture", manifest.architecture},
      {"trained_grid", {{"nx", manifest.grid_nx}, {"ny", manifest.grid_ny}}},
      {"relative_l2", e.error.to_json()},
      {"relative_residual_prediction", e.residual.to_json()},
      {"relative_residual_petsc", e.petsc_residual.to_json()},
      {"seconds_per_sample",
       {{"surrogate_batched", e.seconds_batched},
        {"surrogate_single", e.seconds_single},
        {"petsc_solve", e.seconds_petsc},
        {"petsc_samples_timed", e.petsc_samples},
        {"torch_threads", torch::get_num_threads()},
        {"petsc_solver", d.info.ksp_type + " + " + d.info.pc_type + ", rtol " +
                             to_string(AttributeValue(d.info.rtol))}}},
      {"speedup_single_vs_petsc", e.seconds_petsc / e.seconds_single}};
  return e;
}

}  // namespace pins::petsc
