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
#include "pins/core/process_group.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"
#include "world_group.hpp"

namespace pins::python {

void bind_precondition(py::module_& m) {
  m.def(
      "train_preconditioner",
      [](const std::string& output, const std::string& type, const OptionDict& options, bool force,
         py::object progress) {
        OptionMap map;
        for (const auto& [name, value] : options) map.set(name, value);
        check_surrogate_traits(type, {kPreconditionTask, 2, false, ""});  // 5-point, 2-D
        PreconditionTrainOptions opts = PreconditionTrainOptions::from_options(map, type);
        make_surrogate(type, map, kPreconditionChannels, 1);  // fail on options before work
        PINS_CHECK(!output.empty(), "train_preconditioner: output (the model file) is required");
        check_model_output(output, force);
        LineToPython lines(progress);
        std::ostream out(&lines);
        out.exceptions(std::ios::badbit);  // rethrow what the callback raised (e.g. Ctrl-C)
        opts.out = &out;
        opts.force = force;  // also starts over from an existing -train_checkpoint
        // Under mpiexec: data parallel over MPI_COMM_WORLD; process 0 writes the file.
        const auto group = world_group_if_mpi();
        opts.group = group.get();
        auto h = std::make_shared<ModelHandle>();
        PreconditionTrainResult r;
        {
          py::gil_scoped_release release;
          set_training_threads(opts.threads);
          torch::manual_seed(opts.seed);
          h->model = make_surrogate(type, map, kPreconditionChannels, 1);
          r = train_preconditioner(*h->model, opts);
          const ModelManifest mf =
              precondition_manifest(opts, r, "pins.train_preconditioner (Python)");
          run_collectively(group_or_single(group.get()), [&] {
            if (!group || group->rank() == 0) save_model(output, *h->model, mf, force);
          });
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
