// Models in Python: pins.load_model gives a handle whose forward() runs the C++ surrogate on
// torch tensors (differentiable: its parameters are ordinary torch tensors Python can see),
// and whose predict() applies the normalisation stored in the model file, as pins evaluate does.

#include <torch/torch.h>

#include <filesystem>

#include <torch/csrc/utils/pybind.h>

#include "bindings.hpp"
#include "handles.hpp"
#include "pins/core/check.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::python {

namespace {

torch::ScalarType model_dtype(const ModelHandle& h) {
  for (const auto& p : h.model->module().parameters()) return p.scalar_type();
  return torch::kFloat32;
}

Normalisation normalisation_of(const ModelHandle& h) {
  try {
    return Normalisation::from_json(h.manifest.normalisation);
  } catch (const Error& e) {
    throw Error("model file '" + h.path + "': " + e.what());
  }
}

void check_fields(const torch::Tensor& kappa, const torch::Tensor& f, const char* caller) {
  PINS_CHECK(kappa.defined() && f.defined(), caller, ": kappa and f must be tensors");
  PINS_CHECK(kappa.dim() == 3 && kappa.sizes() == f.sizes() && kappa.is_floating_point() &&
                 f.is_floating_point(),
             caller, ": kappa and f must be floating tensors of one shape [B, ny, nx], got ",
             kappa.sizes(), " and ", f.sizes());
  PINS_CHECK(kappa.device().is_cpu() && f.device().is_cpu(), caller,
             ": kappa and f must be CPU tensors");
}

}  // namespace

void check_model_output(const std::string& path, bool force) {
  PINS_CHECK(force || !std::filesystem::exists(path), "output ", path,
             " already exists; pass force=True to overwrite it");
  const auto folder = std::filesystem::path(path).parent_path();
  PINS_CHECK(folder.empty() || std::filesystem::is_directory(folder), "output ", path, ": folder '",
             folder.string(), "' does not exist");
}

void bind_models(py::module_& m) {
  py::class_<ModelHandle, std::shared_ptr<ModelHandle>>(m, "_Model")
      .def_property_readonly("path", [](const ModelHandle& h) { return h.path; })
      .def_property_readonly("manifest_json",
                             [](const ModelHandle& h) { return h.manifest.to_json().dump(); })
      .def_property_readonly("history_json", [](const ModelHandle& h) { return h.history.dump(); })
      .def_property_readonly("architecture", [](const ModelHandle& h) { return h.model->type(); })
      .def_property_readonly("in_channels",
                             [](const ModelHandle& h) { return h.model->in_channels(); })
      .def_property_readonly("out_channels",
                             [](const ModelHandle& h) { return h.model->out_channels(); })
      .def("forward",
           [](ModelHandle& h, const torch::Tensor& x) {
             PINS_CHECK(x.defined() && x.is_floating_point() && x.device().is_cpu(),
                        h.model->type(), ": input must be a floating CPU tensor [B, ",
                        h.model->in_channels(), ", ny, nx]");
             py::gil_scoped_release release;
             return h.model->forward(x.to(model_dtype(h)));  // the cast is differentiable
           })
      .def("features",
           [](ModelHandle& h, const torch::Tensor& kappa, const torch::Tensor& f) {
             check_fields(kappa, f, "features");
             return normalisation_of(h).features(kappa.to(torch::kFloat64), f.to(torch::kFloat64),
                                                 model_dtype(h));
           })
      .def("predict",
           [](ModelHandle& h, const torch::Tensor& kappa, const torch::Tensor& f, int64_t batch) {
             check_fields(kappa, f, "predict");
             PINS_CHECK(batch >= 1, "predict: batch must be at least 1, got ", batch);
             const Normalisation norm = normalisation_of(h);
             py::gil_scoped_release release;
             return predict(*h.model, norm, kappa.to(torch::kFloat64).contiguous(),
                            f.to(torch::kFloat64).contiguous(), batch);
           })
      .def("parameters",
           [](ModelHandle& h) {
             std::vector<torch::Tensor> out;
             for (const auto& p : h.model->module().parameters()) out.push_back(p);
             return out;
           })
      .def("set_training", [](ModelHandle& h, bool on) { h.model->module().train(on); })
      .def_property_readonly("training",
                             [](const ModelHandle& h) { return h.model->module().is_training(); })
      .def("save", [](ModelHandle& h, const std::string& path, bool force) {
        py::gil_scoped_release release;
        save_model(path, *h.model, h.manifest, force);
        h.manifest = read_model_manifest(path);  // with the integrity fields save_model wrote
        h.path = path;
      });

  m.def(
      "load_model",
      [](const std::string& path, const std::optional<std::string>& pde,
         const std::optional<std::string>& task) {
        ModelRequirements need;
        need.problem_family = pde;
        need.task = task;
        auto h = std::make_shared<ModelHandle>();
        {
          py::gil_scoped_release release;
          LoadedModel loaded = load_model(path, need);
          h->model = loaded.model;
          h->manifest = std::move(loaded.manifest);
        }
        h->path = path;
        return h;
      },
      py::arg("path"), py::arg("pde") = std::nullopt, py::arg("task") = std::nullopt);
}

}  // namespace pins::python
