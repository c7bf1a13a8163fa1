// The stencil operator as a torch::autograd::Function: forward is the Kokkos apply kernel,
// backward the fused adjoint kernel (Aᵀ g for u, g ⊙ shifted u for the coefficients).
#include <torch/autograd.h>

#include "pins/core/check.hpp"
#include "pins/core/stencil.hpp"
#include "stencil_launch.hpp"

namespace pins {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct StencilResidualFunction : public torch::autograd::Function<StencilResidualFunction> {
  // f may be undefined: then this is A u.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& coeffs,
                               const torch::Tensor& u, const torch::Tensor& f) {
    ctx->save_for_backward({coeffs, u});
    ctx->saved_data["has_f"] = f.defined();
    return detail::launch_apply(coeffs, u, f);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& coeffs = saved[0];
    const torch::Tensor& u = saved[1];
    // Upstream gradients may be broadcast views (e.g. from mean()); the kernels need
    // contiguous memory.
    const torch::Tensor g = grad_outputs[0].contiguous();
    const bool need_c = ctx->needs_input_grad(0);
    const bool need_u = ctx->needs_input_grad(1);
    const bool need_f = ctx->saved_data["has_f"].toBool() && ctx->needs_input_grad(2);

    torch::Tensor grad_c, grad_u, grad_f;
    if (need_u) grad_u = torch::empty_like(u);
    if (need_c) grad_c = torch::empty_like(coeffs);
    if (need_u || need_c)
      detail::launch_backward(coeffs, u, g, need_u ? &grad_u : nullptr,
                              need_c ? &grad_c : nullptr);
    if (need_f) grad_f = -g;
    return {grad_c, grad_u, grad_f};
  }
};

}  // namespace

torch::Tensor stencil_apply(const torch::Tensor& coeffs, const torch::Tensor& u) {
  check_stencil_inputs("pins::stencil_apply", coeffs, u);
  return StencilResidualFunction::apply(coeffs, u, torch::Tensor());
}

torch::Tensor stencil_residual(const torch::Tensor& coeffs, const torch::Tensor& u,
                               const torch::Tensor& f) {
  PINS_CHECK(f.defined(), "pins::stencil_residual: f is an undefined tensor");
  check_stencil_inputs("pins::stencil_residual", coeffs, u, f);
  return StencilResidualFunction::apply(coeffs, u, f);
}

}  // namespace pins
