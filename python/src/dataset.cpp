// pins datasets in Python: the arrays of a file read by pins::read_dataset, handed out as
// numpy arrays that view the C++ buffers (no copies; each view keeps the dataset alive), and
// the file's attributes as a dict. The Python class pins.Dataset wraps this one.

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>

#include "bindings.hpp"
#include "handles.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"

namespace pins::python {

namespace {

// A numpy view of `values` shaped `shape`, owned by `owner` (the Python handle object).
template <class T>
py::array view(const std::vector<T>& values, std::vector<py::ssize_t> shape, py::handle owner) {
  return py::array_t<T>(std::move(shape), values.data(), owner);
}

py::object attribute_value(const AttributeValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return py::int_(*i);
  if (const auto* d = std::get_if<double>(&v)) return py::float_(*d);
  return py::str(std::get<std::string>(v));
}

}  // namespace

void bind_dataset(py::module_& m) {
  py::class_<DatasetHandle, std::shared_ptr<DatasetHandle>>(m, "_Dataset")
      .def(py::init([](const std::string& path) {
             auto d = std::make_shared<Dataset>();
             {
               py::gil_scoped_release release;
               *d = read_dataset(path);
             }
             return std::make_shared<DatasetHandle>(DatasetHandle{path, d});
           }),
           py::arg("path"))
      .def_property_readonly("path", [](const DatasetHandle& h) { return h.path; })
      .def_property_readonly("samples", [](const DatasetHandle& h) { return h.data->samples; })
      .def_property_readonly("grid", [](const DatasetHandle& h) { return h.data->info.grid; })
      .def_property_readonly("dof", [](const DatasetHandle& h) { return h.data->info.dof; })
      .def_property_readonly("inputs",
                             [](const DatasetHandle& h) {
                               std::vector<std::string> names;
                               for (const auto& in : h.data->info.inputs) names.push_back(in.name);
                               return names;
                             })
      .def_property_readonly("pde", [](const DatasetHandle& h) { return h.data->info.pde; })
      .def_property_readonly("labelled",
                             [](const DatasetHandle& h) { return h.data->info.labelled; })
      .def("array",
           [](py::object self, const std::string& name) -> py::array {
             const DatasetHandle& h = self.cast<const DatasetHandle&>();
             const Dataset& d = *h.data;
             auto with_samples = [&](const std::vector<std::int64_t>& shape) {
               std::vector<py::ssize_t> out = {py::ssize_t(d.samples)};
               out.insert(out.end(), shape.begin(), shape.end());
               return out;
             };
             for (const auto& a : d.inputs)
               if (a.name == name) return view(a.values, with_samples(a.shape), self);
             if (name == "u" || name == "iterations" || name == "residual")
               require_labelled(d.info, h.path, "it has no array '" + name + "'");
             if (name == "u") return view(d.u.values, with_samples(d.u.shape), self);
             if (name == "iterations") return view(d.iterations, {d.samples}, self);
             if (name == "residual") return view(d.residual, {d.samples}, self);
             if (name == "seeds")
               return view(d.seeds, {d.samples, py::ssize_t(d.info.seed_streams)}, self);
             throw Error("Dataset has no array '" + name + "' (arrays: " + d.info.input_list() +
                         ", u, iterations, residual, seeds)");
           })
      .def("mesh",
           [](py::object self) -> py::object {
             const DatasetHandle& h = self.cast<const DatasetHandle&>();
             const std::shared_ptr<const Mesh>& mesh = h.data->info.mesh;
             if (!mesh) return py::none();
             py::dict out;  // views of the dataset's mesh, kept alive by the handle
             out["cell_type"] = mesh->cell_type;
             out["coordinates"] =
                 view(mesh->coordinates, {py::ssize_t(mesh->vertex_count()), mesh->dim}, self);
             out["cells"] = view(mesh->cells,
                                 {py::ssize_t(mesh->cell_count()), mesh->cell_vertices()}, self);
             out["points"] = view(mesh->point_vertex, {py::ssize_t(mesh->point_count())}, self);
             return out;
           })
      .def("attributes", [](const DatasetHandle& h) {
        py::dict out;  // insertion-ordered: the file's order
        for (const Attribute& a : read_dataset_attributes(h.path))
          out[py::str(a.name)] = attribute_value(a.value);
        return out;
      });
}

}  // namespace pins::python
