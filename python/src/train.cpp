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
      [](py::object train_arg, py::object val_arg, py::object unlabelled_arg,
         const std::string& type, const OptionDict& options, const std::string& output,
         bool force, py::object progress) {
        // Each set is a Dataset already in memory, or a file: those are read here, whole or
        // (larger than -train_memory) by their attributes only and streamed while training.
        std::shared_ptr<Dataset> sets[3];
        std::string paths[3];
        const py::object args[3] = {train_arg, val_arg, unlabelled_arg};
        for (int i = 0; i < 3; ++i) {
          if (args[i].is_none()) continue;
          if (py::isinstance<py::str>(args[i])) {
            paths[i] = args[i].cast<std::string>();
          } else {
            const auto& h = args[i].cast<const DatasetHandle&>();
            sets[i] = h.data;
            paths[i] = h.path;
          }
        }
        PINS_CHECK(!train_arg.is_none() || !unlabelled_arg.is_none(),
                   "train: data (a labelled dataset) or unlabelled (inputs only) is required");
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
        {
          std::vector<std::string> to_read(3);
          for (int i = 0; i < 3; ++i)
            if (!sets[i] && !paths[i].empty()) to_read[i] = paths[i];
          py::gil_scoped_release release;
          std::vector<Dataset> read = read_training_datasets(
              to_read, training_memory_budget(opts.memory_mb, group ? group->size() : 1));
          for (int i = 0; i < 3; ++i)
            if (!to_read[i].empty()) sets[i] = std::make_shared<Dataset>(std::move(read[i]));
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
        TrainJob job;
        job.surrogate_type = type;
        job.options = map;
        job.train = opts;
        job.data = sets[0].get();
        job.data_path = paths[0];
        job.validation = sets[1].get();
        job.validation_path = paths[1];
        job.unlabelled = sets[2].get();
        job.unlabelled_path = paths[2];
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
