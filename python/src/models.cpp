// Models in Python: pins.load_model gives a handle whose forward() runs the C++ surrogate on
// torch tensors (differentiable: its parameters are ordinary torch tensors Python can see),
// and whose predict() applies the normalisation stored in the model file, as pins evaluate does.

#include <torch/torch.h>

#include <filesystem>
#include <optional>

#include <torch/csrc/utils/pybind.h>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "handles.hpp"
#include "pins/core/calibration.hpp"
#include "pins/core/error_estimate.hpp"
#include "pins/core/check.hpp"
#include "pins/core/family.hpp"
#include "pins/core/rollout.hpp"
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

// The inputs as float64 CPU tensors, checked: floating, on the CPU, all of one batch.
FieldMap checked_inputs(const std::map<std::string, torch::Tensor>& in, const char* caller) {
  FieldMap out;
  for (const auto& [name, t] : in) {
    PINS_CHECK(t.defined() && t.is_floating_point() && t.dim() >= 2, caller, ": input '", name,
               "' must be a floating tensor [B, (nz,) ny, nx], got ",
               t.defined() ? t.sizes() : c10::IntArrayRef{});
    PINS_CHECK(t.device().is_cpu(), caller, ": input '", name, "' must be a CPU tensor");
    PINS_CHECK(out.empty() || t.size(0) == out.begin()->second.size(0), caller, ": input '", name,
               "' holds ", t.size(0), " samples, '", out.begin()->first, "' ",
               out.begin()->second.size(0));
    out[name] = t.to(torch::kFloat64).contiguous();
  }
  return out;
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
      .def_property_readonly("input_names",
                             [](const ModelHandle& h) {
                               std::vector<std::string> names;
                               for (const auto& in : normalisation_of(h).inputs)
                                 names.push_back(in.name);
                               return names;
                             })
      .def_property_readonly("state_input",
                             [](const ModelHandle& h) { return normalisation_of(h).state; })
      .def("features",
           [](ModelHandle& h, const std::map<std::string, torch::Tensor>& inputs) {
             const FieldMap in = checked_inputs(inputs, "features");
             return normalisation_of(h).features(in, model_dtype(h));
           })
      .def("predict",
           [](ModelHandle& h, const std::map<std::string, torch::Tensor>& inputs, int64_t batch) {
             const FieldMap in = checked_inputs(inputs, "predict");
             PINS_CHECK(batch >= 1, "predict: batch must be at least 1, got ", batch);
             const Normalisation norm = normalisation_of(h);
             py::gil_scoped_release release;
             return predict(*h.model, norm, in, batch);
           })
      .def("predict_with_evidence",
           [](ModelHandle& h, const std::map<std::string, torch::Tensor>& inputs, int64_t batch,
              const std::map<std::string, std::string>& parameters) {
             const FieldMap in = checked_inputs(inputs, "predict");
             PINS_CHECK(batch >= 1, "predict: batch must be at least 1, got ", batch);
             const Normalisation norm = normalisation_of(h);
             // The certificate is the family's own residual: the family set up for the
             // equation's parameters (its defaults unless given, e.g. nonlinear_darcy's k(u)).
             const std::shared_ptr<const Family> family =
                 family_for(h.manifest.problem_family, parameters);
             PINS_CHECK(!family->on_mesh(), "predict(evidence=True): ", family->name(),
                        " answers live on a dataset's mesh; use pins.evaluate on the dataset");
             std::optional<ErrorCalibration> c;
             if (h.manifest.metrics.is_object() && h.manifest.metrics.contains("calibration")) {
               try {
                 c = ErrorCalibration::from_json(h.manifest.metrics.at("calibration"));
               } catch (const Error& e) {
                 throw Error("model file '" + h.path + "': " + e.what());
               }
             }
             torch::Tensor u, residual, statistics, bound, score, estimate;
             {
               py::gil_scoped_release release;
               u = predict(*h.model, norm, in, batch);
               residual = family->relative_residual(in, u);
               statistics = input_statistics(norm.features(in, torch::kFloat64));
               if (error_estimate_unsupported(*family, in, u).empty())
                 estimate = estimated_relative_error(*family, in, u);
               if (c) {
                 PINS_CHECK(!c->uses_estimate() || estimate.defined(), "model file '", h.path,
                            "' is calibrated on error estimates, which ", family->name(),
                            " does not offer for these inputs");
                 bound = (c->uses_estimate() ? estimate : residual) * c->quantile;
                 if (c->residual_threshold > 0) score = c->ood_scores(residual, statistics);
               }
             }
             py::dict out;
             out["u"] = u;
             out["certificate"] = residual;
             out["error_estimate"] = estimate.defined() ? py::cast(estimate) : py::none();
             out["bound"] = bound.defined() ? py::cast(bound) : py::none();
             out["ood_score"] = score.defined() ? py::cast(score) : py::none();
             out["flagged"] = score.defined() ? py::cast(score > 1) : py::none();
             out["level"] = c ? py::cast(c->level) : py::none();
             return out;
           })
      .def("rollout",
           [](ModelHandle& h, const std::map<std::string, torch::Tensor>& inputs,
              const torch::Tensor& initial, int64_t steps, int64_t batch) {
             const FieldMap in = checked_inputs(inputs, "rollout");
             PINS_CHECK(batch >= 1, "rollout: batch must be at least 1, got ", batch);
             PINS_CHECK(initial.defined() && initial.is_floating_point() &&
                            initial.device().is_cpu(),
                        "rollout: the initial states must be a floating CPU tensor [B, ny, nx]");
             const Normalisation norm = normalisation_of(h);
             // The family's state input is all a rollout needs of it (no parameters).
             const Family& family = find_family(h.manifest.problem_family);
             py::gil_scoped_release release;
             return rollout(*h.model, norm, family, in, initial.to(torch::kFloat64), steps, batch);
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
