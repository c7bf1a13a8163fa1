// pins.train_preconditioner: what `pins train -task precondition` does (issue 4), through
// the same C++ API: train a model for PC "surrogate" on sampled 5-point problems (no dataset)
// and write its model file. Compiled only when include/pins/core/precondition.hpp exists.

#include <torch/csrc/utils/pybind.h>

#include "bindings.hpp"

#if __has_include("pins/core/precondition.hpp")
#include <torch/torch.h>

#include <streambuf>

#include "handles.hpp"
#include "line_stream.hpp"
#include "pins/core/check.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::python {

void bind_precondition(py::module_& m) {
  m.def(
      "train_preconditioner",
      [](const std::string& output, const std::string& type, const OptionDict& options, bool force,
         py::object progress) {
        OptionMap map;
        for (const auto& [name, value] : options) map.set(name, value);
        PreconditionTrainOptions opts = PreconditionTrainOptions::from_options(map);
        make_surrogate(type, map, kPreconditionChannels, 1);  // fail on options before work
        PINS_CHECK(!output.empty(), "train_preconditioner: output (the model file) is required");
        check_model_output(output, force);
        LineToPython lines(progress);
        std::ostream out(&lines);
        out.exceptions(std::ios::badbit);  // rethrow what the callback raised (e.g. Ctrl-C)
        opts.out = &out;
        auto h = std::make_shared<ModelHandle>();
        PreconditionTrainResult r;
        {
          py::gil_scoped_release release;
          set_training_threads(opts.threads);
          torch::manual_seed(opts.seed);
          h->model = make_surrogate(type, map, kPreconditionChannels, 1);
          r = train_preconditioner(*h->model, opts);
          // The manifest `pins train -task precondition` writes
          // (src/cli/cmd_train_precondition.cpp).
          std::string kinds;
          for (const auto& k : opts.kinds) kinds += (kinds.empty() ? "" : ",") + k;
          ModelManifest mf;
          mf.problem_family = "5-point";
          mf.task = kPreconditionTask;
          mf.grid_nx = mf.grid_ny = opts.grid;
          mf.normalisation = {{"features", "couplings W,E,S,N of D^-1 A and D^-1 r / rms"},
                              {"smooth", opts.smooth},
                              {"jacobi_damping", kJacobiDamping}};
          mf.training_data_hash = "sampled:" + kinds + ":seed=" + std::to_string(opts.seed);
          mf.metrics = {{"val_residual2_bare_sweeps", r.bare_val_loss},
                        {"val_residual2_untrained", r.initial_val_loss},
                        {"val_residual2", r.final_val_loss},
                        {"steps", r.steps},
                        {"seconds", r.seconds},
                        {"operators", kinds},
                        {"command", "pins.train_preconditioner (Python)"}};
          save_model(output, *h->model, mf, force);
          h->manifest = read_model_manifest(output);
          h->path = output;
        }
        return h;
      },
      py::arg("output"), py::arg("surrogate_type"), py::arg("options"), py::arg("force"),
      py::arg("progress"));
}

}  // namespace pins::python

#else

namespace pins::python {
void bind_precondition(py::module_&) {}  // pins.train_preconditioner raises a clear error
}  // namespace pins::python

#endif
