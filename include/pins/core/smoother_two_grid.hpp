#pragma once
/// \file
/// A training loss for the learned smoother that sees the coarse grid (issue 14):
/// `pins train -task smoother -smoother_loss two_grid`.
///
/// The one-step loss (smoother_loss in pins/core/smoother.hpp) asks M to remove every error
/// component, smooth ones too, although inside PETSc's multigrid the coarse grid removes the
/// smooth ones. This loss measures M where it is used: the energy-norm error left by one
/// two-grid cycle of smoothed aggregation with M inside Chebyshev, the way GAMG's levels run:
///
///   E = S C S,   S = p(MA),   C = I − P A_c⁻¹ Pᵀ A,   A_c = Pᵀ A P,
///
/// - S: degree-2 Chebyshev in MA on [0.1 λ, 1.1 λ], λ the largest eigenvalue of MA estimated
///   by power iteration (GAMG's levels: Chebyshev, 2 steps, the same interval around a
///   Krylov estimate). λ is a Rayleigh quotient differentiable in M, so M's scale does not
///   matter, as it does not inside Chebyshev.
/// - P: smoothed aggregation, P = (I − ω D⁻¹A) P_tent with P_tent the piecewise-constant
///   prolongator of the given aggregates (per field) and ω = 4 / (3 ρ(D⁻¹A)), ρ by power
///   iteration; A_c is solved exactly (Cholesky). Neither depends on M: built once per batch.
///
/// The loss is the mean over the batch of ‖E z‖²_A / ‖z‖²_A for random z. With M = D⁻¹ it is
/// GAMG's own smoother, so the validation line compares the network with GAMG's default.
///
/// Example:
/// \code
///   auto coarse = pins::smoother_coarse_space(pattern, a, aggregate);  // once per batch
///   auto loss = pins::smoother_two_grid_loss(pattern, a, m, z, coarse);
/// \endcode

#include <torch/types.h>

namespace pins {

class SparsePattern;

/// Points per side of the box aggregates the training operators are coarsened by (3: GAMG's
/// MIS-2 aggregates of 5- and 7-point stencils are about that size).
inline constexpr int kSmootherAggregateSide = 3;

/// The coarse space of a batch: dense prolongators and the Cholesky factors of A_c.
struct SmootherCoarseSpace {
  torch::Tensor prolongation;   ///< P [B, n, nc]
  torch::Tensor coarse_factor;  ///< lower-triangular L, L Lᵀ = Pᵀ A P, [B, nc, nc]
};

/// Smoothed-aggregation coarse space of the square pattern's operators (values [B, nnz],
/// float64, symmetric positive definite) for `aggregate` [n] int64, the aggregate of every
/// row (ids 0 … nc − 1, every id used). Not differentiable. Throws pins::Error on bad shapes,
/// an unused aggregate id or a coarse operator that is not positive definite.
SmootherCoarseSpace smoother_coarse_space(const SparsePattern& pattern,
                                          const torch::Tensor& a_values,
                                          const torch::Tensor& aggregate);

/// C v = v − P A_c⁻¹ Pᵀ A v for v [B, n]: the A-orthogonal projection that removes the coarse
/// space's part of an error. Differentiable in v.
torch::Tensor coarse_correction(const SparsePattern& pattern, const torch::Tensor& a_values,
                                const SmootherCoarseSpace& coarse, const torch::Tensor& v);

/// λ [B]: the largest eigenvalue of MA estimated by `iterations` power steps from z [B, n]
/// (the iterates detached), as the A-Rayleigh quotient ⟨Ax, MAx⟩ / ⟨x, Ax⟩ — differentiable
/// in M's values.
torch::Tensor smoother_spectrum_estimate(const SparsePattern& pattern,
                                         const torch::Tensor& a_values,
                                         const torch::Tensor& m_values, const torch::Tensor& z,
                                         int iterations = 10);

/// p(MA) v: degree-2 Chebyshev on [0.1 λ, 1.1 λ] (λ [B]), normalised to p(0) = 1.
/// Differentiable in M's values, λ and v.
torch::Tensor chebyshev_smooth(const SparsePattern& pattern, const torch::Tensor& a_values,
                               const torch::Tensor& m_values, const torch::Tensor& lambda,
                               const torch::Tensor& v);

/// Mean over the batch of ‖S C S z‖²_A / ‖z‖²_A (see the file comment). Differentiable in M's
/// values.
torch::Tensor smoother_two_grid_loss(const SparsePattern& pattern, const torch::Tensor& a_values,
                                     const torch::Tensor& m_values, const torch::Tensor& z,
                                     const SmootherCoarseSpace& coarse);

}  // namespace pins
