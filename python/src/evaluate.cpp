// pins.evaluate: pins::petsc::evaluate_model (what `pins evaluate` measures) on a model and
// a dataset already in memory, returned as the report.json dictionary instead of files; and
// pins.calibrate: pins::petsc::calibrate_model, kept in the model handle's manifest.

#include <torch/csrc/utils/pybind.h>
#include <torch/torch.h>


#include "bindings.hpp"
#include "handles.hpp"
#include "pins/core/check.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/evaluate.hpp"

namespace pins::python {

namespace {

// The model must answer on the dataset's family, task and grid (one line naming the field).
void check_serves(const ModelHandle& model, const Dataset& d) {
  check_model_requirements(model.manifest,
                           petsc::evaluation_requirements(model.manifest.architecture, d.info),
                           model.path.empty() ? "(in memory)" : model.path);
}

}  // namespace

void bind_evaluate(py::module_& m) {
  m.def(
      "evaluate",
      [](ModelHandle& model, const DatasetHandle& data, int solve_samples, int threads,
         const std::vector<int>& refine) {
        PINS_CHECK(solve_samples >= 1, "evaluate: solve_samples must be at least 1, got ",
                   solve_samples);
        for (int k : refine)
          PINS_CHECK(k >= 0, "evaluate: refine counts must be 0 or more, got ", k);
        const Dataset& d = *data.data;
        check_serves(model, d);
        ensure_petsc();
        petsc::ErrorCapture capture;
        py::gil_scoped_release release;
        set_training_threads(threads);
        const petsc::Evaluation e =
            petsc::evaluate_model(*model.model, model.manifest, model.path, d, data.path,
                                  solve_samples, "pins_python_evaluate_", refine);
        const nlohmann::json& j = e.report;
        const torch::Tensor &pred = e.prediction, &rel = e.relative_l2;
        return std::make_tuple(j.dump(), pred, rel);
      },
      py::arg("model"), py::arg("data"), py::arg("solve_samples"), py::arg("threads"),
      py::arg("refine"));
  m.def(
      "calibrate",
      [](ModelHandle& model, const DatasetHandle& data, double level, const std::string& score,
         int threads) {
        const Dataset& d = *data.data;
        check_serves(model, d);
        ensure_petsc();
        petsc::ErrorCapture capture;
        py::gil_scoped_release release;
        set_training_threads(threads);
        const ErrorCalibration c =
            petsc::calibrate_model(*model.model, model.manifest, model.path, d,
                                   data.path.empty() ? "(in memory)" : data.path, level,
                                   score);
        // The handle's manifest carries it from now on (Model.save writes it to a file).
        model.manifest.metrics["calibration"] = c.to_json();
        return c.to_json().dump();
      },
      py::arg("model"), py::arg("data"), py::arg("level"), py::arg("score"),
      py::arg("threads"));
}

}  // namespace pins::python
