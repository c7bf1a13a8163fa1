#pragma once
// Launchers of the stencil kernels (private to pins::core). Inputs are assumed checked by
// pins::check_stencil_inputs; these only pick the kernel (a fixed-shape fast path or the
// general one), dispatch on dtype and run it.
#include <torch/types.h>

#include "pins/core/stencil_operator.hpp"

namespace pins::detail {

/// A u − f, or A u when f is undefined. Returns a new tensor shaped like u.
torch::Tensor launch_apply(const Stencil& s, const torch::Tensor& coeffs, const torch::Tensor& u,
                           const torch::Tensor& f);

/// One fused pass for the backward of ⟨g, A u⟩: writes Aᵀ g into *grad_u (shaped like g) and
/// the coefficient gradient into *grad_c ([B, K, grid…]); either pointer may be null (then its
/// input coeffs or u may be undefined). The outputs must be allocated by the caller.
void launch_backward(const Stencil& s, const torch::Tensor& coeffs, const torch::Tensor& u,
                     const torch::Tensor& g, torch::Tensor* grad_u, torch::Tensor* grad_c);

/// The 2-D star of width 1 with one dof: the layout of pins' 5-point API.
inline Stencil five_point() { return Stencil{2, StencilShape::kStar, 1, 1}; }

}  // namespace pins::detail
