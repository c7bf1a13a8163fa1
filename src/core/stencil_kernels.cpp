// Host-side launchers of the stencil kernels: validate tensors, wrap their memory in
// unmanaged Kokkos Views (no copies) and run the functors of stencil_kernels.hpp.
#include "stencil_kernels.hpp"

#include "pins/core/check.hpp"
#include "pins/core/kokkos_runtime.hpp"
#include "pins/core/stencil.hpp"
#include "stencil_launch.hpp"

#include <sstream>

namespace pins {

namespace {

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

bool device_matches_kokkos(const torch::Tensor& t) {
  // Kokkos' default memory space decides where tensors must live.
  if (kokkos_uses_host_memory()) return t.device().is_cpu();
  return t.device().is_cuda() || t.device().is_hip();
}

void check_field(const char* caller, const char* name, const torch::Tensor& t,
                 const torch::Tensor& coeffs) {
  PINS_CHECK(t.dim() == 3 && t.size(0) == coeffs.size(0) && t.size(1) == coeffs.size(2) &&
                 t.size(2) == coeffs.size(3),
             caller, ": ", name, " must have shape [B, ny, nx] = [", coeffs.size(0), ", ",
             coeffs.size(2), ", ", coeffs.size(3), "] to match coeffs ", shape_of(coeffs),
             ", got ", shape_of(t));
  PINS_CHECK(t.scalar_type() == coeffs.scalar_type(), caller, ": ", name, " has dtype ",
             t.scalar_type(), " but coeffs have ", coeffs.scalar_type(),
             "; all inputs must share one dtype");
  PINS_CHECK(t.is_contiguous(), caller, ": ", name,
             " must be contiguous (row-major); call .contiguous() first");
  PINS_CHECK(t.device() == coeffs.device(), caller, ": ", name, " is on ", t.device(),
             " but coeffs are on ", coeffs.device());
}

}  // namespace

void check_stencil_inputs(const char* caller, const torch::Tensor& coeffs,
                          const torch::Tensor& u, const torch::Tensor& f) {
  PINS_CHECK(coeffs.defined(), caller, ": coeffs is an undefined tensor");
  PINS_CHECK(coeffs.dim() == 4 && coeffs.size(1) == kStencilPoints, caller,
             ": coeffs must have shape [B, 5, ny, nx] (channels C, W, E, S, N), got ",
             shape_of(coeffs));
  PINS_CHECK(coeffs.size(2) >= 1 && coeffs.size(3) >= 1, caller,
             ": coeffs must describe a non-empty grid, got ", shape_of(coeffs));
  PINS_CHECK(coeffs.scalar_type() == torch::kFloat64 || coeffs.scalar_type() == torch::kFloat32,
             caller, ": coeffs must be float32 or float64, got ", coeffs.scalar_type());
  PINS_CHECK(coeffs.is_contiguous(), caller,
             ": coeffs must be contiguous (row-major); call .contiguous() first");
  PINS_CHECK(device_matches_kokkos(coeffs), caller, ": tensors are on ", coeffs.device(),
             " but Kokkos runs on ", kernels::ExecSpace::name(),
             "; move them with .to() to the matching device");
  PINS_CHECK(u.defined(), caller, ": u is an undefined tensor");
  check_field(caller, "u", u, coeffs);
  if (f.defined()) check_field(caller, "f", f, coeffs);
}

namespace detail {

namespace {

template <class T>
kernels::CoeffView<T> coeff_view(const torch::Tensor& t) {
  return kernels::CoeffView<T>(t.data_ptr<std::remove_const_t<T>>(), t.size(0), t.size(1),
                               t.size(2), t.size(3));
}

template <class T>
kernels::FieldView<T> field_view(const torch::Tensor& t) {
  if (!t.defined()) return {};
  return kernels::FieldView<T>(t.data_ptr<std::remove_const_t<T>>(), t.size(0), t.size(1),
                               t.size(2));
}

int rows_of(const torch::Tensor& coeffs) {
  const auto rows = coeffs.size(0) * coeffs.size(2);
  PINS_CHECK(rows <= std::numeric_limits<int>::max(), "stencil: too many grid rows (", rows,
             ") for one kernel launch");
  return static_cast<int>(rows);
}

template <class T>
void apply_typed(const torch::Tensor& coeffs, const torch::Tensor& u, const torch::Tensor& f,
                 torch::Tensor& out) {
  kernels::ApplyFunctor<T> fn{coeff_view<const T>(coeffs),
                              field_view<const T>(u),
                              field_view<const T>(f),
                              field_view<T>(out),
                              static_cast<int>(coeffs.size(2)),
                              static_cast<int>(coeffs.size(3)),
                              f.defined()};
  Kokkos::parallel_for("pins::stencil_apply", kernels::row_policy(rows_of(coeffs)), fn);
  Kokkos::fence();
}

template <class T>
void backward_typed(const torch::Tensor& coeffs, const torch::Tensor& u,
                    const torch::Tensor& g, torch::Tensor* grad_u, torch::Tensor* grad_c) {
  kernels::BackwardFunctor<T> fn{
      coeffs.defined() ? coeff_view<const T>(coeffs) : kernels::CoeffView<const T>(),
      u.defined() ? field_view<const T>(u) : kernels::FieldView<const T>(),
      field_view<const T>(g),
      grad_u ? field_view<T>(*grad_u) : kernels::FieldView<T>(),
      grad_c ? coeff_view<T>(*grad_c) : kernels::CoeffView<T>(),
      static_cast<int>(g.size(1)),
      static_cast<int>(g.size(2)),
      grad_u != nullptr,
      grad_c != nullptr};
  Kokkos::parallel_for("pins::stencil_backward", kernels::row_policy(
                                                     static_cast<int>(g.size(0) * g.size(1))),
                       fn);
  Kokkos::fence();
}

}  // namespace

torch::Tensor launch_apply(const torch::Tensor& coeffs, const torch::Tensor& u,
                           const torch::Tensor& f) {
  ensure_kokkos_initialized();
  torch::Tensor out = torch::empty_like(u);
  if (coeffs.scalar_type() == torch::kFloat64)
    apply_typed<double>(coeffs, u, f, out);
  else
    apply_typed<float>(coeffs, u, f, out);
  return out;
}

void launch_backward(const torch::Tensor& coeffs, const torch::Tensor& u,
                     const torch::Tensor& g, torch::Tensor* grad_u, torch::Tensor* grad_c) {
  ensure_kokkos_initialized();
  if (g.scalar_type() == torch::kFloat64)
    backward_typed<double>(coeffs, u, g, grad_u, grad_c);
  else
    backward_typed<float>(coeffs, u, g, grad_u, grad_c);
}

}  // namespace detail

torch::Tensor stencil_apply_transpose(const torch::Tensor& coeffs, const torch::Tensor& v) {
  check_stencil_inputs("pins::stencil_apply_transpose", coeffs, v);
  torch::Tensor out = torch::empty_like(v);
  detail::launch_backward(coeffs, {}, v, &out, nullptr);
  return out;
}

torch::Tensor stencil_coefficient_gradient(const torch::Tensor& g, const torch::Tensor& u) {
  PINS_CHECK(g.defined() && g.dim() == 3, "pins::stencil_coefficient_gradient: g must have "
             "shape [B, ny, nx], got ", g.defined() ? shape_of(g) : "an undefined tensor");
  const auto shape = std::vector<int64_t>{g.size(0), kStencilPoints, g.size(1), g.size(2)};
  torch::Tensor out = torch::empty(shape, g.options());
  check_stencil_inputs("pins::stencil_coefficient_gradient", out, u, g);
  detail::launch_backward({}, u, g, nullptr, &out);
  return out;
}

}  // namespace pins
