// pins.train: what `pins train` does (src/cli/cmd_train.cpp), through the same C++ API and
// with the same -train_* / -<type>_* options, but returning the model to Python and sending
// progress lines to a Python callable (which draws a progress bar that updates in place, also
// in a notebook, where the process's own stdout arrives only as appended text).

#include <torch/torch.h>

#include <ostream>
#include <sstream>

#include <torch/csrc/utils/pybind.h>

#include "bindings.hpp"
#include "handles.hpp"
#include "line_stream.hpp"
#include "pde/registry.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::python {

namespace {

OptionMap option_map(const OptionDict& options) {
  OptionMap map;
  for (const auto& [name, value] : options) map.set(name, value);
  return map;
}

TrainingData training_data_of(const Dataset& d, const std::string& path) {
  TrainingData td;
  try {
    td = training_data(d);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  td.coefficients = find_problem_family(d.info.pde).stencil_coefficients;
  return td;
}

}  // namespace

void bind_train(py::module_& m) {
  m.def(
      "train",
      [](const DatasetHandle& train_set, const DatasetHandle* val_set, const std::string& type,
         const OptionDict& options, const std::string& output, bool force, py::object progress) {
        const std::shared_ptr<Dataset> data = train_set.data;
        const std::shared_ptr<Dataset> val = val_set ? val_set->data : nullptr;
        const std::string& data_path = train_set.path;
        const std::string val_path = val_set ? val_set->path : "";
        const OptionMap map = option_map(options);
        for (const auto& [name, value] : options)
          PINS_CHECK(name.rfind("-train_", 0) == 0 || name.rfind("-" + type + "_", 0) == 0,
                     "train: option ", name,
                     " is neither a -train_* option nor an option of "
                     "-surrogate_type ",
                     type, " (-", type, "_*)");
        TrainOptions opts = TrainOptions::from_options(map);
        opts.force = force;
        // A checkpoint is what lets the CLI resume; pins.train writes one only when asked.
        PINS_CHECK(!opts.resume || !opts.checkpoint.empty(),
                   "-train_resume needs -train_checkpoint <file>");
        make_surrogate(type, map, kFeatureChannels, 1);  // fail on architecture options early
        if (!output.empty()) check_model_output(output, force);
        TrainingData td = training_data_of(*data, data_path), vd;
        if (val) {
          PINS_CHECK(val->info.nx == data->info.nx && val->info.ny == data->info.ny &&
                         val->info.pde == data->info.pde,
                     "validation data ", val_path, ": ", val->info.pde, " on ", val->info.nx, " x ",
                     val->info.ny, ", but the training data is ", data->info.pde, " on ",
                     data->info.nx, " x ", data->info.ny);
          vd = training_data_of(*val, val_path);
        }
        LineToPython lines(progress);
        std::ostream out(&lines);
        out.exceptions(std::ios::badbit);  // rethrow what the callback raised (e.g. Ctrl-C)
        opts.out = &out;
        // Checked once per mini-batch so Ctrl-C does not wait for the end of an epoch.
        opts.loss_hook = [](std::int64_t, const torch::Tensor& loss) {
          py::gil_scoped_acquire gil;
          throw_if_python_signal();
          return loss;
        };
        auto h = std::make_shared<ModelHandle>();
        TrainResult r;
        {
          py::gil_scoped_release release;
          set_training_threads(opts.threads);
          torch::manual_seed(opts.seed);  // the initial weights, as pins train
          h->model = make_surrogate(type, map, kFeatureChannels, 1);
          r = train_surrogate(*h->model, td, opts, val ? &vd : nullptr);
        }
        ModelManifest& mf = h->manifest;
        mf.architecture = h->model->type();
        mf.architecture_options = h->model->options_json();
        mf.in_channels = h->model->in_channels();
        mf.out_channels = h->model->out_channels();
        mf.dtype = opts.dtype;
        mf.problem_family = data->info.pde;
        mf.task = "solution";
        mf.grid_nx = data->info.nx;
        mf.grid_ny = data->info.ny;
        mf.normalisation = r.normalisation.to_json();
        mf.training_data_hash = td.fingerprint;
        mf.metrics = r.metrics();
        mf.metrics["training_data"] = data_path;
        if (val) mf.metrics["validation_data"] = val_path;
        mf.metrics["command"] = "pins.train (Python)";
        nlohmann::json train = nlohmann::json::object();
        for (const auto& [k, v] : options)
          if (k.rfind("-train_", 0) == 0) train[k] = v;
        mf.metrics["train_options"] = train;
        nlohmann::json history = nlohmann::json::array();
        for (const auto& e : r.history)
          history.push_back({{"epoch", e.epoch},
                             {"loss", e.loss},
                             {"data_loss", e.data_loss},
                             {"physics_loss", e.physics_loss},
                             {"val_rel_l2", e.val_rel_l2},
                             {"val_physics", e.val_physics},
                             {"lr", e.lr},
                             {"seconds", e.seconds},
                             {"samples_per_second", e.samples_per_second},
                             {"skipped_steps", e.skipped_steps}});
        h->history = history;
        if (!output.empty()) {
          py::gil_scoped_release release;
          save_model(output, *h->model, mf, force);
          h->manifest = read_model_manifest(output);
          h->path = output;
        }
        return h;
      },
      py::arg("data"), py::arg("val").none(true), py::arg("surrogate_type"), py::arg("options"),
      py::arg("output"), py::arg("force"), py::arg("progress"));

  m.def("surrogate_types", &surrogate_type_names);
  m.def("train_help", [] { return TrainOptions::help() + "\n" + surrogate_help(); });
}

}  // namespace pins::python
