#pragma once
// Launchers of the stencil kernels (private to pins::core). Inputs are assumed checked by
// pins::check_stencil_inputs; these only dispatch on dtype and run the Kokkos functors.
#include <torch/types.h>

namespace pins::detail {

/// A u − f, or A u when f is undefined. Returns a new tensor shaped like u.
torch::Tensor launch_apply(const torch::Tensor& coeffs, const torch::Tensor& u,
                           const torch::Tensor& f);

/// One fused pass for the backward of ⟨g, A u⟩: writes Aᵀ g into *grad_u and the
/// coefficient gradient into *grad_c; either pointer may be null (then its input
/// coeffs or u may be undefined).
void launch_backward(const torch::Tensor& coeffs, const torch::Tensor& u,
                     const torch::Tensor& g, torch::Tensor* grad_u, torch::Tensor* grad_c);

}  // namespace pins::detail
