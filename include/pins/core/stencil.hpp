#pragma once
/// \file
/// The generic 5-point stencil operator on batched 2-D grids, differentiable in LibTorch.
///
/// A 5-point operator A on an ny × nx grid is stored as coefficients [B, 5, ny, nx]:
/// for grid point (i, j) (row i along y, column j along x)
///
///   (A u)(i,j) = C(i,j) u(i,j) + W(i,j) u(i,j-1) + E(i,j) u(i,j+1)
///              + S(i,j) u(i-1,j) + N(i,j) u(i+1,j)
///
/// with channel order (C, W, E, S, N) = (centre, west, east, south, north). Neighbours
/// outside the grid do not exist: the coefficient pointing out of the grid is ignored
/// (Dirichlet data has been eliminated into C and the right-hand side, as PETSc does).
///
/// Forward and backward passes are Kokkos kernels working in place on the tensors'
/// memory (no copies). Inputs must be contiguous float32 or float64 tensors of one dtype on
/// the memory space of Kokkos' default execution space (the CPU for Serial/OpenMP builds).
///
/// Example:
/// \code
///   auto coeffs = pins::darcy::stencil_coefficients(kappa);   // [B,5,n,n]
///   auto u = model(kappa);                                      // [B,n,n], requires grad
///   auto loss = pins::residual_loss(coeffs, u, f);              // mean (A u - f)^2
///   loss.backward();                                            // adjoint kernels
/// \endcode

#include <torch/types.h>

namespace pins {

/// Number of coefficient channels of a 5-point stencil and their order.
constexpr int kStencilPoints = 5;
enum StencilChannel : int { kCentre = 0, kWest = 1, kEast = 2, kSouth = 3, kNorth = 4 };

/// A u for coefficients [B,5,ny,nx] and u [B,ny,nx]; differentiable in both.
torch::Tensor stencil_apply(const torch::Tensor& coeffs, const torch::Tensor& u);

/// A u − f (f [B,ny,nx]); differentiable in coeffs, u and f. One fused kernel.
torch::Tensor stencil_residual(const torch::Tensor& coeffs, const torch::Tensor& u,
                               const torch::Tensor& f);

/// Aᵀ v: the adjoint of stencil_apply with respect to u (not differentiable itself).
torch::Tensor stencil_apply_transpose(const torch::Tensor& coeffs, const torch::Tensor& v);

/// Gradient of ⟨g, A u⟩ with respect to the coefficients, shape [B,5,ny,nx]
/// (entries that point out of the grid are zero). Not differentiable itself.
torch::Tensor stencil_coefficient_gradient(const torch::Tensor& g, const torch::Tensor& u);

/// Throws pins::Error unless coeffs [B,5,ny,nx] and the fields [B,ny,nx] (undefined
/// tensors are skipped) are contiguous tensors of one supported dtype on the right device.
void check_stencil_inputs(const char* caller, const torch::Tensor& coeffs,
                          const torch::Tensor& u, const torch::Tensor& f = {});

}  // namespace pins
