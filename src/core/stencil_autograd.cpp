// The stencil operator as torch::autograd::Functions: forward is the Kokkos apply kernel,
// backward the fused adjoint kernel (Aᵀ g for u, g ⊙ shifted u for the coefficients).
// Two Functions (A u and A u − f) because autograd cannot take an undefined input. The
// stencil travels as four ints in the context. pins' 5-point API (pins/core/stencil.hpp) is
// the 2-D star of width 1 of the same functions.
#include <torch/autograd.h>

#include "pins/core/check.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/stencil_operator.hpp"
#include "stencil_launch.hpp"

namespace pins {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

void save_stencil(AutogradContext* ctx, const Stencil& s) {
  ctx->saved_data["dim"] = int64_t(s.dim);
  ctx->saved_data["shape"] = int64_t(s.shape);
  ctx->saved_data["width"] = int64_t(s.width);
  ctx->saved_data["dof"] = int64_t(s.dof);
}

Stencil saved_stencil(AutogradContext* ctx) {
  return Stencil{int(ctx->saved_data["dim"].toInt()),
                 StencilShape(ctx->saved_data["shape"].toInt()),
                 int(ctx->saved_data["width"].toInt()), int(ctx->saved_data["dof"].toInt())};
}

// Gradients of ⟨g, A(coeffs) u⟩ for the inputs autograd asks for (0: coeffs, 1: u).
variable_list stencil_backward(AutogradContext* ctx, const torch::Tensor& grad_output) {
  const auto saved = ctx->get_saved_variables();
  const torch::Tensor& coeffs = saved[0];
  const torch::Tensor& u = saved[1];
  // Upstream gradients may be broadcast views (e.g. from mean()); the kernels need
  // contiguous memory.
  const torch::Tensor g = grad_output.contiguous();
  const bool need_c = ctx->needs_input_grad(0);
  const bool need_u = ctx->needs_input_grad(1);
  torch::Tensor grad_c, grad_u;
  if (need_u) grad_u = torch::empty_like(u);
  if (need_c) grad_c = torch::empty_like(coeffs);
  if (need_u || need_c)
    detail::launch_backward(saved_stencil(ctx), coeffs, u, g, need_u ? &grad_u : nullptr,
                            need_c ? &grad_c : nullptr);
  return {grad_c, grad_u, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
}

struct StencilApplyFunction : public torch::autograd::Function<StencilApplyFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& coeffs,
                               const torch::Tensor& u, int64_t dim, int64_t shape, int64_t width,
                               int64_t dof) {
    const Stencil s{int(dim), StencilShape(shape), int(width), int(dof)};
    save_stencil(ctx, s);
    ctx->save_for_backward({coeffs, u});
    return detail::launch_apply(s, coeffs, u, torch::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    return stencil_backward(ctx, grad_outputs[0]);
  }
};

struct StencilResidualFunction : public torch::autograd::Function<StencilResidualFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& coeffs,
                               const torch::Tensor& u, const torch::Tensor& f, int64_t dim,
                               int64_t shape, int64_t width, int64_t dof) {
    const Stencil s{int(dim), StencilShape(shape), int(width), int(dof)};
    save_stencil(ctx, s);
    ctx->save_for_backward({coeffs, u});
    return detail::launch_apply(s, coeffs, u, f);  // fused: one pass computes A u − f
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    variable_list g = stencil_backward(ctx, grad_outputs[0]);
    // Inputs: coeffs, u, f, then the four stencil ints.
    return {g[0], g[1], ctx->needs_input_grad(2) ? -grad_outputs[0] : torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor stencil_apply(const Stencil& s, const torch::Tensor& coeffs, const torch::Tensor& u) {
  check_stencil_inputs("pins::stencil_apply", s, coeffs, u);
  return StencilApplyFunction::apply(coeffs, u, int64_t(s.dim), int64_t(s.shape),
                                     int64_t(s.width), int64_t(s.dof));
}

torch::Tensor stencil_residual(const Stencil& s, const torch::Tensor& coeffs,
                               const torch::Tensor& u, const torch::Tensor& f) {
  PINS_CHECK(f.defined(), "pins::stencil_residual: f is an undefined tensor");
  check_stencil_inputs("pins::stencil_residual", s, coeffs, u, f);
  return StencilResidualFunction::apply(coeffs, u, f, int64_t(s.dim), int64_t(s.shape),
                                        int64_t(s.width), int64_t(s.dof));
}

// pins' 5-point API: the 2-D star of width 1.

torch::Tensor stencil_apply(const torch::Tensor& coeffs, const torch::Tensor& u) {
  return stencil_apply(detail::five_point(), coeffs, u);
}

torch::Tensor stencil_residual(const torch::Tensor& coeffs, const torch::Tensor& u,
                               const torch::Tensor& f) {
  return stencil_residual(detail::five_point(), coeffs, u, f);
}

torch::Tensor stencil_apply_transpose(const torch::Tensor& coeffs, const torch::Tensor& v) {
  return stencil_apply_transpose(detail::five_point(), coeffs, v);
}

torch::Tensor stencil_coefficient_gradient(const torch::Tensor& g, const torch::Tensor& u) {
  PINS_CHECK(g.defined() && g.dim() == 3, "pins::stencil_coefficient_gradient: g must have "
             "shape [B, ny, nx], got ", g.defined() ? detail::concat(g.sizes()) : "an undefined tensor");
  return stencil_coefficient_gradient(detail::five_point(), g, u);
}

void check_stencil_inputs(const char* caller, const torch::Tensor& coeffs, const torch::Tensor& u,
                          const torch::Tensor& f) {
  check_stencil_inputs(caller, detail::five_point(), coeffs, u, f);
}

}  // namespace pins
