#pragma once
/// \file
/// The nonlinear Darcy residual F(u) = Σ_faces t k̄ (u_m − u_n) − f (pde/nonlinear_darcy/
/// nonlinear_darcy_flux.hpp) on batches of 2-D grids, as Kokkos kernels and a
/// torch::autograd::Function, plus a plain serial reference of each kernel for tests.
///
/// Every tensor is [B, ny, nx], contiguous, one dtype (float32 or float64) on Kokkos'
/// device; the kernels compute in double and round the result to that dtype.
///
/// Example:
/// \code
///   auto F = pins::nonlinear_darcy::residual({0, 1.0}, kappa, f, u);  // k(u) = 1 + u²
///   F.square().sum().backward();    // u.grad() = 2 J(u)ᵀ F by the adjoint kernel
/// \endcode

#include <torch/types.h>

#include "pde/nonlinear_darcy/nonlinear_darcy_flux.hpp"

namespace pins::nonlinear_darcy {

/// F(u; κ, f) [B, ny, nx]. Differentiable in u (backward: J(u)ᵀ g, the adjoint kernel) and f
/// (−g); not in κ (no gradient flows to it). Throws pins::Error naming a bad input.
torch::Tensor residual(const Conductivity& k, const torch::Tensor& kappa, const torch::Tensor& f,
                       const torch::Tensor& u);

/// J(u)ᵀ g [B, ny, nx], J = ∂F/∂u (no autograd).
torch::Tensor residual_adjoint(const Conductivity& k, const torch::Tensor& kappa,
                               const torch::Tensor& u, const torch::Tensor& g);

/// Σ_faces t k̄ (|u_m| + |u_n|) + |f| [B, ny, nx]: the size of F's terms, for rounding bounds.
torch::Tensor residual_magnitude(const Conductivity& k, const torch::Tensor& kappa,
                                 const torch::Tensor& f, const torch::Tensor& u);

/// Serial references of residual and residual_adjoint (plain loops over float64 CPU copies;
/// float64 CPU results), for tests.
torch::Tensor residual_reference(const Conductivity& k, const torch::Tensor& kappa,
                                 const torch::Tensor& f, const torch::Tensor& u);
torch::Tensor residual_adjoint_reference(const Conductivity& k, const torch::Tensor& kappa,
                                         const torch::Tensor& u, const torch::Tensor& g);

}  // namespace pins::nonlinear_darcy
