#pragma once
/// \file
/// The fixed (not learned) parts of pins::MgNet: variable 9-point stencils on a 2-D grid,
/// operator-dependent prolongation P and its transpose R = Pᵀ, Galerkin coarse operators
/// RAP, and the dense inverse of the coarsest operator. Pure LibTorch, so they run wherever
/// the tensors are (CPU, CUDA) and in any floating dtype.
///
/// A stencil is a tensor [B, 9, ny, nx]; entry k = 3(dy+1) + (dx+1) at (i, j) couples
/// unknown (i, j) to (i+dy, j+dx) (dy along ny, the rows; dx along nx, the columns), so
/// k = 4 is the centre, 1 south, 7 north, 3 west, 5 east. Couplings that point out of the
/// grid are ignored (zero Dirichlet outside).
///
/// Coarsening keeps every second unknown: coarse (I, J) sits on fine (2I+1, 2J+1), so an
/// ny × nx grid coarsens to ⌊ny/2⌋ × ⌊nx/2⌋ for even and odd sizes alike. P is read from
/// the operator (Dendy's black-box multigrid rule): a fine point between two coarse points
/// on a grid line takes the weights of the stencil collapsed across that line, and a fine
/// point between four coarse points takes the values that make (A P)ᵢ = 0 there. For the
/// Laplacian this is bilinear interpolation (weights 1, ½, ¼); across a jump in the
/// coefficient it follows the flux, which keeps the coarse levels good for 1:10⁴ contrast,
/// where bilinear interpolation fails. With R = Pᵀ the coarse operator RAP of a 5- or
/// 9-point operator is again 9-point, and symmetric when A is.
///
/// Example:
/// \code
///   auto A  = pins::mg::stencil_from_couplings(couplings);  // [B,9,n,n] from W,E,S,N
///   auto W  = pins::mg::prolongation_weights(A);
///   auto Ac = pins::mg::galerkin(A, W);                       // [B,9,n/2,n/2]
///   auto y  = pins::mg::stencil_apply(A, x);                  // A x, x [B,n,n]
/// \endcode

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace pins::mg {

/// Index of the stencil entry for the offset (dy, dx) ∈ {−1, 0, 1}².
constexpr int stencil_index(int dy, int dx) { return 3 * (dy + 1) + (dx + 1); }
/// The centre entry.
inline constexpr int kCentre = 4;

/// The 9-point stencil [B,9,ny,nx] of a 5-point operator with unit centre whose couplings
/// W, E, S, N are the channels of `couplings` [B,4,ny,nx] (corners zero).
torch::Tensor stencil_from_couplings(const torch::Tensor& couplings);

/// y = A x for a stencil A [B,9,ny,nx] and x [B,ny,nx]. `five_point` skips the corner
/// entries (they must then be zero): a level-0 operator costs 5 products, not 9.
torch::Tensor stencil_apply(const torch::Tensor& A, const torch::Tensor& x, bool five_point = false);

/// Aᵀx for a stencil A [B,9,ny,nx] (the stencil of the transposed matrix, applied).
torch::Tensor stencil_apply_transpose(const torch::Tensor& A, const torch::Tensor& x);

/// The prolongation P of A [B,9,ny,nx] as a stencil W [B,9,ny,nx]: (P xc)(i,j) =
/// Σ_k W_k(i,j) x̃(i+dy_k, j+dx_k), where x̃ is xc placed on the fine points (2I+1, 2J+1)
/// and zero elsewhere.
torch::Tensor prolongation_weights(const torch::Tensor& A);

/// P xc: xc [B,⌊ny/2⌋,⌊nx/2⌋] to the fine grid [B,ny,nx], with W from prolongation_weights.
torch::Tensor prolong(const torch::Tensor& W, const torch::Tensor& xc);

/// R x = Pᵀ x: the fine [B,ny,nx] to the coarse grid [B,⌊ny/2⌋,⌊nx/2⌋].
torch::Tensor restrict_to_coarse(const torch::Tensor& W, const torch::Tensor& x);

/// The Galerkin coarse operator Pᵀ A P [B,9,⌊ny/2⌋,⌊nx/2⌋] of A [B,9,ny,nx] for the
/// prolongation W, computed by probing with the 9 colours of the coarse grid (one batched
/// A application each).
torch::Tensor galerkin(const torch::Tensor& A, const torch::Tensor& W);

/// The inverse [B,N,N] (N = ny·nx, row-major unknowns) of a stencil's matrix, formed in
/// float64 and returned in A's dtype. Throws pins::Error if N is above `max_unknowns` or
/// the matrix is singular.
torch::Tensor dense_inverse(const torch::Tensor& A, int64_t max_unknowns = 4096);

/// Applies the dense inverse Ainv [B,N,N] to r [B,ny,nx].
torch::Tensor dense_apply(const torch::Tensor& Ainv, const torch::Tensor& r);

/// Whether a hierarchy coarsens an ny × nx level once more: both sides exceed `coarsest`.
inline bool coarsens(int64_t ny, int64_t nx, int64_t coarsest) {
  return ny > coarsest && nx > coarsest;
}

/// The Galerkin hierarchy of A: ops[0] = A, P_l = prolongation_weights(ops[l]),
/// ops[l+1] = galerkin(ops[l], P_l), coarsening while both sides of the grid exceed
/// `coarsest`; the last level's dense inverse.
struct Hierarchy {
  std::vector<torch::Tensor> ops;
  std::vector<torch::Tensor> prolongations;  // one fewer than ops
  torch::Tensor coarse_inverse;
};
Hierarchy build_hierarchy(const torch::Tensor& A, int64_t coarsest);

}  // namespace pins::mg
