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
  family->set_up(d.info.grid, std::uint64_t(d.info.seed));
  detail::SampleSolver solver(*family, d.info.dof, prefix);
  auto inputs_of = [&](std::int64_t i) {
    std::vector<const double*> in;
    for (const auto& a : d.inputs) in.push_back(a.sample(i));
    return in;
  };
  std::vector<double> u(size_t(d.u.sample_size()));
  solver.solve(inputs_of(0), u.data());  // warm-up: first-call costs
  const auto t0 = Clock::now();
  for (int i = 0; i < count; ++i) {
    const auto r = solver.solve(inputs_of(i), u.data());
    PINS_CHECK(r.failure.empty(), "PETSc re-solve of sample ", i, " failed: ", r.failure);
  }
  return seconds_since(t0) / count;
}

nlohmann::json grid_json(std::int64_t nx, std::int64_t ny, std::int64_t nz) {
  nlohmann::json g = {{"nx", nx}, {"ny", ny}};
  if (nz > 0) g["nz"] = nz;
  return g;
}

}  // namespace

ModelRequirements evaluation_requirements(const std::string& architecture, const DatasetInfo& info) {
  ModelRequirements need;
  need.problem_family = info.pde;
  need.task = "solution";
  const Family& family = find_family(info.pde);
  need.in_channels = family.input_channels();
  need.out_channels = family.stencil().dof;
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
                          const std::string& solver_prefix) {
  PINS_CHECK(solve_samples >= 1, "the number of PETSc re-solves must be at least 1, got ",
             solve_samples);
  require_labelled(d.info, data_path, "evaluation compares the model with stored solutions");
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
  auto rows = [&](int64_t i, int64_t e) {
    FieldMap part;
    for (const auto& [name, t] : td.inputs) part[name] = t.slice(0, i, e);
    return part;
  };
  predict(model, norm, rows(0, 1));  // warm-up
  auto t0 = Clock::now();
  e.prediction = predict(model, norm, td.inputs, 32);
  e.seconds_batched = seconds_since(t0) / double(n);
  const int64_t single_count = std::min<int64_t>(n, 16);
  t0 = Clock::now();
  for (int64_t i = 0; i < single_count; ++i)
    predict(model, norm, rows(i, i + 1));
  e.seconds_single = seconds_since(t0) / double(single_count);
  e.relative_l2 = relative_l2(e.prediction, td.u);
  const Family& family = find_family(d.info.pde);
  const OperatorPtr A = family.make_operator(td.inputs);
  e.error = summarize(e.relative_l2);
  e.residual = summarize(relative_residual(*A, e.prediction, family.rhs(td.inputs)));
  e.petsc_residual = summarize(torch::tensor(d.residual, torch::kFloat64));
  e.petsc_samples = int(std::min<int64_t>(n, solve_samples));
  e.seconds_petsc = petsc_seconds_per_sample(d, e.petsc_samples, solver_prefix);

  e.report = {
      {"model", model_path},
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
        {"petsc_solve", e.seconds_petsc},
        {"petsc_samples_timed", e.petsc_samples},
        {"torch_threads", torch::get_num_threads()},
        {"petsc_solver", d.info.ksp_type + " + " + d.info.pc_type + ", rtol " +
                             to_string(AttributeValue(d.info.rtol))}}},
      {"speedup_single_vs_petsc", e.seconds_petsc / e.seconds_single}};
  return e;
}

}  // namespace pins::petsc
