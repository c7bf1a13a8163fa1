#pragma once
/// \file
/// Physics-loss terms built on the differentiable stencil operator (pins/core/stencil.hpp).
/// Both are differentiable in u, the coefficients and f, and reduce to a scalar.

#include <torch/types.h>

namespace pins {

/// How residual_loss weights each point's residual.
enum class ResidualScaling {
  kNone,      ///< r = A u − f
  kDiagonal,  ///< r = D⁻¹ (A u − f), D = diag(A): each equation divided by its centre weight
};

/// Mean over the batch and the grid of r², with r the (optionally diagonally scaled)
/// residual A u − f. Example: `auto loss = pins::residual_loss(coeffs, u, f);`
torch::Tensor residual_loss(const torch::Tensor& coeffs, const torch::Tensor& u,
                            const torch::Tensor& f,
                            ResidualScaling scaling = ResidualScaling::kNone);

/// Mean over the batch of the energy functional ½ uᵀ A u − fᵀ u (sums over the grid).
/// For symmetric positive definite A its minimiser is the solution of A u = f.
torch::Tensor energy_loss(const torch::Tensor& coeffs, const torch::Tensor& u,
                          const torch::Tensor& f);

}  // namespace pins
