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
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/train_job.hpp"
#include "pins/core/process_group.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"
#include "world_group.hpp"

namespace pins::python {

namespace {

OptionMap option_map(const OptionDict& options) {
  OptionMap map;
  for (const auto& [name, value] : options) map.set(name, value);
  return map;
}

}  // namespace

void bind_train(py::module_& m) {
  m.def(
      "train",
      [](const DatasetHandle* train_set, const DatasetHandle* val_set,
         const DatasetHandle* unlabelled_set, const std::string& type, const OptionDict& options,
         const std::string& output, bool force, py::object progress) {
        PINS_CHECK(train_set || unlabelled_set,
                   "train: data (a labelled dataset) or unlabelled (inputs only) is required");
        const std::shared_ptr<Dataset> data = train_set ? train_set->data : nullptr;
        const std::shared_ptr<Dataset> unlabelled =
            unlabelled_set ? unlabelled_set->data : nullptr;
        const std::shared_ptr<Dataset> val = val_set ? val_set->data : nullptr;
        const std::string data_path = train_set ? train_set->path : "";
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
        make_surrogate(type, map, 1, 1);  // fail on architecture options early
        if (!output.empty()) check_model_output(output, force);
        // Under mpiexec (petsc4py initialises MPI): data parallel over MPI_COMM_WORLD, as
        // `mpiexec -n P pins train`; process 0 reports and writes the model file.
        const auto group = world_group_if_mpi();
        opts.group = group.get();
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
        TrainJob job;
        job.surrogate_type = type;
        job.options = map;
        job.train = opts;
        job.data = data.get();
        job.data_path = data_path;
        job.validation = val.get();
        job.validation_path = val_path;
        job.unlabelled = unlabelled.get();
        job.unlabelled_path = unlabelled_set ? unlabelled_set->path : "";
        job.command = "pins.train (Python)";
        auto h = std::make_shared<ModelHandle>();
        {
          py::gil_scoped_release release;
          TrainedModel t = run_train_job(job);
          h->model = t.model;
          h->manifest = t.manifest;
          h->history = t.history;
        }
        const ModelManifest& mf = h->manifest;
        if (!output.empty()) {
          py::gil_scoped_release release;
          run_collectively(group_or_single(group.get()), [&] {
            if (!group || group->rank() == 0) save_model(output, *h->model, mf, force);
          });
          h->manifest = read_model_manifest(output);
          h->path = output;
        }
        return h;
      },
      py::arg("data").none(true), py::arg("val").none(true), py::arg("unlabelled").none(true),
      py::arg("surrogate_type"), py::arg("options"),
      py::arg("output"), py::arg("force"), py::arg("progress"));

  m.def("surrogate_types", &surrogate_type_names);
  m.def("train_help", [] { return TrainOptions::help() + "\n" + surrogate_help(); });
}

}  // namespace pins::python
