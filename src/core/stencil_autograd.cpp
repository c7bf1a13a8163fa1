// The stencil operator as torch::autograd::Functions: forward is the Kokkos apply kernel,
// backward the fused adjoint kernel (Aᵀ g for u, g ⊙ shifted u for the coefficients).
// Two Functions (A u and A u − f) because autograd cannot take an undefined input.
#include <torch/autograd.h>

#include "pins/core/check.hpp"
#include "pins/core/stencil.hpp"
#include "stencil_launch.hpp"

namespace pins {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

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
    detail::launch_backward(coeffs, u, g, need_u ? &grad_u : nullptr, need_c ? &grad_c : nullptr);
  return {grad_c, grad_u};
}

struct StencilApplyFunction : public torch::autograd::Function<StencilApplyFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& coeffs,
                               const torch::Tensor& u) {
    ctx->save_for_backward({coeffs, u});
    return detail::launch_apply(coeffs, u, torch::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    return stencil_backward(ctx, grad_outputs[0]);
  }
};

struct StencilResidualFunction : public torch::autograd::Function<StencilResidualFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& coeffs,
                               const torch::Tensor& u, const torch::Tensor& f) {
    ctx->save_for_backward({coeffs, u});
    return detail::launch_apply(coeffs, u, f);  // fused: one pass computes A u − f
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    variable_list grads = stencil_backward(ctx, grad_outputs[0]);
    grads.push_back(ctx->needs_input_grad(2) ? -grad_outputs[0] : torch::Tensor());
    return grads;
  }
};

}  // namespace

torch::Tensor stencil_apply(const torch::Tensor& coeffs, const torch::Tensor& u) {
  check_stencil_inputs("pins::stencil_apply", coeffs, u);
  return StencilApplyFunction::apply(coeffs, u);
}

torch::Tensor stencil_residual(const torch::Tensor& coeffs, const torch::Tensor& u,
                               const torch::Tensor& f) {
  PINS_CHECK(f.defined(), "pins::stencil_residual: f is an undefined tensor");
  check_stencil_inputs("pins::stencil_residual", coeffs, u, f);
  return StencilResidualFunction::apply(coeffs, u, f);
}

}  // namespace pins
