// The differentiable physics operators on torch tensors: the 5-point stencil residual and
// the loss terms, computed by pins' Kokkos kernels inside LibTorch autograd. Tensors cross
// from Python without copies (same LibTorch in both), and the autograd nodes pins creates
// are part of Python's graph, so gradients flow back to Python parameters.

#include <torch/types.h>

#include <torch/csrc/utils/pybind.h>

#include "bindings.hpp"
#include "tensor_args.hpp"
#include "pins/core/check.hpp"
#include "pins/core/family.hpp"
#include "pins/core/losses.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/trainer.hpp"

namespace pins::python {

void bind_tensors(py::module_& m) {
  // Kernels run without the GIL: arguments are converted before, results after.
  using release = py::call_guard<py::gil_scoped_release>;
  m.def(
      "residual",
      [](const torch::Tensor& c, const torch::Tensor& u, const torch::Tensor& f) {
        return stencil_residual(dense(c, "residual", "coeffs"), dense(u, "residual", "u"),
                                dense(f, "residual", "f"));
      },
      release());
  m.def(
      "apply",
      [](const torch::Tensor& c, const torch::Tensor& u) {
        return stencil_apply(dense(c, "apply", "coeffs"), dense(u, "apply", "u"));
      },
      release());
  m.def(
      "residual_loss",
      [](const torch::Tensor& c, const torch::Tensor& u, const torch::Tensor& f,
         const std::string& scaling) {
        const ResidualScaling s = scaling_from(scaling);
        return residual_loss(dense(c, "residual_loss", "coeffs"), dense(u, "residual_loss", "u"),
                             dense(f, "residual_loss", "f"), s);
      },
      release());
  m.def(
      "energy_loss",
      [](const torch::Tensor& c, const torch::Tensor& u, const torch::Tensor& f) {
        return energy_loss(dense(c, "energy_loss", "coeffs"), dense(u, "energy_loss", "u"),
                           dense(f, "energy_loss", "f"));
      },
      release());
  m.def(
      "physics_loss",
      [](const torch::Tensor& c, const torch::Tensor& u, const torch::Tensor& f,
         const std::string& kind) {
        PINS_CHECK(kind == "residual" || kind == "energy" || kind == "preconditioned",
                   "physics_loss: kind must be ", physics_loss_kinds(), ", got '", kind, "'");
        return physics_loss(kind, dense(c, "physics_loss", "coeffs"), dense(u, "physics_loss", "u"),
                            dense(f, "physics_loss", "f"));
      },
      release());
  m.def(
      "relative_residual",
      [](const torch::Tensor& c, const torch::Tensor& u, const torch::Tensor& f) {
        return relative_residual(dense(c, "relative_residual", "coeffs"),
                                 dense(u, "relative_residual", "u"),
                                 dense(f, "relative_residual", "f"));
      },
      release());
  m.def(
      "relative_l2",
      [](const torch::Tensor& p, const torch::Tensor& t) {
        PINS_CHECK(p.defined() && t.defined() && p.sizes() == t.sizes() && p.dim() >= 2,
                   "relative_l2: prediction and truth must be tensors of one shape [B, ...]");
        return relative_l2(p, t);
      },
      release());
  m.def(
      "coefficients",
      [](const torch::Tensor& kappa, const std::string& pde) {
        const Family& family = find_family(pde);  // throws for unknown names
        const torch::Tensor k = dense(kappa, "coefficients", "kappa");
        const int dim = family.dimension();
        PINS_CHECK(k.dim() == dim + 1 && k.is_floating_point(),
                   "coefficients: kappa must be a floating tensor ",
                   dim == 3 ? "[B, nz, ny, nx]" : "[B, ny, nx]", " for -pde ", pde, ", got ",
                   k.sizes(), " of ", k.scalar_type());
        PINS_CHECK(k.device().is_cpu(), "coefficients: kappa must be on the CPU, got ", k.device());
        return family.make_operator({{"kappa", k}})->values();
      },
      release());

  // Test hooks for the zero-copy promise: what C++ sees of a Python tensor.
  m.def("_data_ptr",
        [](const torch::Tensor& t) { return reinterpret_cast<std::uintptr_t>(t.data_ptr()); });
  m.def("_add_in_place", [](torch::Tensor t, double value) {
    PINS_CHECK(t.defined() && t.is_contiguous() && t.device().is_cpu() &&
                   t.scalar_type() == torch::kFloat64,
               "_add_in_place: expected a contiguous float64 CPU tensor");
    double* p = t.data_ptr<double>();  // written through the raw pointer, not a torch op
    for (int64_t i = 0; i < t.numel(); ++i) p[i] += value;
  });
}

}  // namespace pins::python
