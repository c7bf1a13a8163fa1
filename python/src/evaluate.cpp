// pins.evaluate: the measurements of `pins evaluate` (src/cli/cmd_evaluate.cpp) on a model
// and a dataset already in memory, returned as the report.json dictionary instead of files:
// relative L2 errors, the relative residual of the predictions and of the PETSc solutions,
// and time per sample of the surrogate against PETSc re-solving the same samples.

#include <torch/csrc/utils/pybind.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "bindings.hpp"
#include "handles.hpp"
#include "pde/registry.hpp"
#include "pins/core/check.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/error.hpp"
#include "sample_solver.hpp"  // pins::petsc's private sample solver, as pins evaluate uses
#include "surrogates/surrogate.hpp"

namespace pins::python {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Mean wall time per sample of PETSc re-solving the first `count` samples with the
// dataset's own solver settings (assembly included), as pins evaluate measures it.
double petsc_seconds_per_sample(const Dataset& d, int count) {
  const std::string prefix = "pins_python_evaluate_";
  auto set = [&](const std::string& name, const std::string& value) {
    PINS_PETSC_CALL(PetscOptionsSetValue(nullptr, ("-" + prefix + name).c_str(), value.c_str()));
  };
  set("ksp_type", d.info.ksp_type);
  set("pc_type", d.info.pc_type);
  set("ksp_rtol", to_string(AttributeValue(d.info.rtol)));
  auto family = find_problem_family(d.info.pde).create();
  petsc::detail::SampleSolver solver(*family, d.info.ny, d.info.nx, prefix);
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

void bind_evaluate(py::module_& m) {
  m.def(
      "evaluate",
      [](ModelHandle& model, const DatasetHandle& data, int solve_samples, int threads) {
        PINS_CHECK(solve_samples >= 1, "evaluate: solve_samples must be at least 1, got ",
                   solve_samples);
        const Dataset& d = *data.data;
        ModelRequirements need;
        need.problem_family = d.info.pde;
        need.task = "solution";
        need.in_channels = kFeatureChannels;
        need.out_channels = 1;
        // Only the FNO is grid-independent by construction; the others must see their grid.
        if (model.manifest.architecture != "fno") {
          need.grid_nx = d.info.nx;
          need.grid_ny = d.info.ny;
        }
        check_model_requirements(model.manifest, need,
                                 model.path.empty() ? "(in memory)" : model.path);
        Normalisation norm;
        try {
          norm = Normalisation::from_json(model.manifest.normalisation);
        } catch (const Error& e) {
          throw Error("model '" + model.path + "': " + e.what());
        }
        ensure_petsc();
        petsc::ErrorCapture capture;
        py::gil_scoped_release release;
        set_training_threads(threads);
        TrainingData td;
        try {
          td = training_data(d);
        } catch (const Error& e) {
          throw Error(data.path + ": " + e.what());
        }
        Surrogate& s = *model.model;
        const int64_t n = d.samples;
        predict(s, norm, td.kappa.slice(0, 0, 1), td.f.slice(0, 0, 1));  // warm-up
        auto t0 = Clock::now();
        const torch::Tensor pred = predict(s, norm, td.kappa, td.f, 32);
        const double batched = seconds_since(t0) / double(n);
        const int64_t single_count = std::min<int64_t>(n, 16);
        t0 = Clock::now();
        for (int64_t i = 0; i < single_count; ++i)
          predict(s, norm, td.kappa.slice(0, i, i + 1), td.f.slice(0, i, i + 1));
        const double single = seconds_since(t0) / double(single_count);
        const torch::Tensor rel = relative_l2(pred, td.u);
        const torch::Tensor coeffs = find_problem_family(d.info.pde).stencil_coefficients(td.kappa);
        const torch::Tensor res = relative_residual(coeffs, pred, td.f);
        const Summary err = summarize(rel), phys = summarize(res);
        const Summary data_res = summarize(torch::tensor(d.residual, torch::kFloat64));
        const int solves = int(std::min<int64_t>(n, solve_samples));
        const double petsc = petsc_seconds_per_sample(d, solves);
        nlohmann::json j = {
            {"model", model.path},
            {"data", data.path},
            {"samples", n},
            {"grid", {{"nx", d.info.nx}, {"ny", d.info.ny}}},
            {"architecture", model.manifest.architecture},
            {"trained_grid", {{"nx", model.manifest.grid_nx}, {"ny", model.manifest.grid_ny}}},
            {"relative_l2", err.to_json()},
            {"relative_residual_prediction", phys.to_json()},
            {"relative_residual_petsc", data_res.to_json()},
            {"seconds_per_sample",
             {{"surrogate_batched", batched},
              {"surrogate_single", single},
              {"petsc_solve", petsc},
              {"petsc_samples_timed", solves},
              {"torch_threads", torch::get_num_threads()},
              {"petsc_solver", d.info.ksp_type + " + " + d.info.pc_type + ", rtol " +
                                   to_string(AttributeValue(d.info.rtol))}}},
            {"speedup_single_vs_petsc", petsc / single}};
        return std::make_tuple(j.dump(), pred, rel);
      },
      py::arg("model"), py::arg("data"), py::arg("solve_samples"), py::arg("threads"));
}

}  // namespace pins::python
