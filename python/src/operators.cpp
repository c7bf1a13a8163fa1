// pins.Operator: any pins::Operator (sparse from a PETSc matrix, stencil, ...) as a Python
// object, its differentiable apply/residual and the losses on it; pins.petsc.operator(A)
// makes one from a petsc4py Mat. Tensors cross without copies; the autograd nodes the
// kernels create are part of Python's graph, so gradients reach u, f and op.values.

#include <petscmat.h>
#include <torch/types.h>

#include <torch/csrc/utils/pybind.h>

#include "bindings.hpp"
#include "handles.hpp"
#include "tensor_args.hpp"
#include "pins/core/check.hpp"
#include "pins/core/family.hpp"
#include "pins/core/losses.hpp"
#include "pins/core/trainer.hpp"  // sampler_parameters
#include "pins/core/operator.hpp"
#include "pins/core/stencil_operator.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/operator.hpp"

namespace pins::python {

namespace {

// The Python object holds the C++ operator (immutable, shared).
struct PyOperator {
  OperatorPtr op;
};

// A petsc4py Mat (or anything with an integer `.handle`, as petsc4py objects have) as a Mat.
Mat mat_of(const py::handle& obj, const char* caller) {
  PINS_CHECK(py::hasattr(obj, "handle"), caller,
             ": expected a petsc4py.PETSc.Mat, got an object of type ",
             std::string(py::str(obj.get_type().attr("__name__"))));
  const auto address = obj.attr("handle").cast<std::uintptr_t>();
  PINS_CHECK(address != 0, caller, ": the petsc4py Mat is empty (not created)");
  Mat A = reinterpret_cast<Mat>(address);
  PetscClassId id = 0;
  PINS_PETSC_CALL(PetscObjectGetClassId(reinterpret_cast<PetscObject>(A), &id));
  PINS_CHECK(id == MAT_CLASSID, caller,
             ": expected a petsc4py.PETSc.Mat, got another PETSc "
             "object");
  return A;
}

}  // namespace

void bind_operators(py::module_& m) {
  using release = py::call_guard<py::gil_scoped_release>;
  py::class_<PyOperator>(m, "Operator",
                         "A batch of linear operators A_b (pins::Operator): apply, residual and "
                         "adjoints as differentiable torch operations.")
      .def_property_readonly(
          "kind", [](const PyOperator& o) { return o.op->kind(); },
          "The operator form: \"stencil\" or \"sparse\".")
      .def("describe", [](const PyOperator& o) { return o.op->describe(); })
      .def_property_readonly(
          "batch", [](const PyOperator& o) { return o.op->batch(); },
          "Number of operators B in the batch.")
      .def_property_readonly(
          "field_shape", [](const PyOperator& o) { return o.op->field_shape(); },
          "Shape of one field without the batch axis, e.g. [n] or [ny, nx].")
      .def_property_readonly(
          "values", [](const PyOperator& o) { return o.op->values(); },
          "The operator's entries (stencil coefficients or CSR values), a torch tensor.")
      .def(
          "apply",
          [](const PyOperator& o, const torch::Tensor& u) {
            return o.op->apply(dense(u, "Operator.apply", "u"));
          },
          release())
      .def(
          "residual",
          [](const PyOperator& o, const torch::Tensor& u, const torch::Tensor& f) {
            return o.op->residual(dense(u, "Operator.residual", "u"),
                                  dense(f, "Operator.residual", "f"));
          },
          release())
      .def(
          "apply_transpose",
          [](const PyOperator& o, const torch::Tensor& v) {
            return o.op->apply_transpose(dense(v, "Operator.apply_transpose", "v"));
          },
          release())
      .def(
          "diagonal", [](const PyOperator& o) { return o.op->diagonal(); }, release())
      .def(
          "with_values",
          [](const PyOperator& o, const torch::Tensor& v) {
            return PyOperator{o.op->with_values(dense(v, "Operator.with_values", "values"))};
          },
          release())
      .def("__repr__",
           [](const PyOperator& o) { return "<pins.Operator " + o.op->describe() + ">"; });

  m.def(
      "operator_residual_loss",
      [](const PyOperator& o, const torch::Tensor& u, const torch::Tensor& f,
         const std::string& scaling) {
        const ResidualScaling s = scaling_from(scaling);
        return residual_loss(*o.op, dense(u, "residual_loss", "u"), dense(f, "residual_loss", "f"),
                             s);
      },
      release());
  m.def(
      "operator_energy_loss",
      [](const PyOperator& o, const torch::Tensor& u, const torch::Tensor& f) {
        return energy_loss(*o.op, dense(u, "energy_loss", "u"), dense(f, "energy_loss", "f"));
      },
      release());
  m.def(
      "operator_physics_loss",
      [](const PyOperator& o, const torch::Tensor& u, const torch::Tensor& f,
         const std::string& kind) {
        return physics_loss(kind, *o.op, dense(u, "physics_loss", "u"),
                            dense(f, "physics_loss", "f"));
      },
      release());
  m.def(
      "operator_relative_residual",
      [](const PyOperator& o, const torch::Tensor& u, const torch::Tensor& f) {
        return relative_residual(*o.op, dense(u, "relative_residual", "u"),
                                 dense(f, "relative_residual", "f"));
      },
      release());

  // Dataset.system(start, stop): the family's operator and right-hand side for samples
  // [start, stop), built as the trainer and `pins verify` build them (for a mesh family,
  // from the mesh in the file), over views of the dataset's arrays.
  m.def(
      "dataset_system",
      [](const DatasetHandle& h, std::int64_t start, std::int64_t stop) {
        const Dataset& d = *h.data;
        PINS_CHECK(0 <= start && start < stop && stop <= d.samples, "Dataset.system: samples [",
                   start, ", ", stop, ") are not a non-empty range of the ", d.samples,
                   " samples");
        const auto family = family_for(d.info.pde, sampler_parameters(d.info), d.info.mesh);
        PINS_CHECK(!family->nonlinear(), "Dataset.system: the ", d.info.pde,
                   " family is nonlinear; its equation is no linear system");
        FieldMap inputs;
        for (const auto& a : d.inputs) {
          std::vector<int64_t> shape = {stop - start};
          shape.insert(shape.end(), a.shape.begin(), a.shape.end());
          inputs[a.name] = torch::from_blob(const_cast<double*>(a.sample(start)), shape,
                                            torch::kFloat64)
                               .clone();
        }
        OperatorPtr op = family->make_operator(inputs);
        torch::Tensor f = family->rhs(inputs);
        return py::make_tuple(PyOperator{std::move(op)}, f);
      },
      py::arg("dataset"), py::arg("start"), py::arg("stop"));

  // pins.stencil_operator(coeffs, dim, shape, width, dof): a stencil operator of any shape.
  m.def(
      "stencil_operator",
      [](const torch::Tensor& coeffs, int dim, const std::string& shape, int width, int dof) {
        PINS_CHECK(shape == "star" || shape == "box",
                   "stencil_operator: shape must be 'star' or 'box', got '", shape, "'");
        const Stencil s{dim, shape == "box" ? StencilShape::kBox : StencilShape::kStar, width, dof};
        return PyOperator{std::make_shared<StencilOperator>(
            s, dense(coeffs, "stencil_operator", "coeffs"))};
      },
      release());

  // pins.petsc.operator(A or [A0, A1, ...]): the matrices' local rows as one operator.
  m.def("petsc_operator", [](const py::object& mats) {
    ensure_petsc();
    std::vector<Mat> list;
    if (py::isinstance<py::list>(mats) || py::isinstance<py::tuple>(mats)) {
      for (const py::handle& h : mats) list.push_back(mat_of(h, "pins.petsc.operator"));
    } else {
      list.push_back(mat_of(mats, "pins.petsc.operator"));
    }
    petsc::ErrorCapture capture;  // PETSc errors become one-line exceptions
    OperatorPtr op;
    PINS_PETSC_CALL(petsc::operator_from_matrices(list, &op));
    return PyOperator{op};
  });
}

}  // namespace pins::python
