#pragma once
// The coarsening of pins::MultigridCycle for 3-D scalar 7-point stencils: aggregation of
// 2 × 2 × 2 cells (the last aggregate of an odd side holds one layer), piecewise-constant
// prolongation P, R = Pᵀ (the sum over an aggregate), Galerkin coarse operators Pᵀ A P.
// With piecewise-constant P the Galerkin operator of a 7-point star is again a 7-point
// star: two aggregates couple only through the fine couplings that cross their shared face,
// and the couplings inside an aggregate fold into its centre. Private to pins::core.
//
// Layout: pins::StencilOperator's 3-D star of width 1, coefficients [B, 7, nz, ny, nx] in the
// channel order (C, −x, +x, −y, +y, −z, +z).
//
// Piecewise-constant coarse corrections are too small for smooth errors by a factor of about
// two (the Galerkin operator of constant aggregates weighs a coarse face by its fine faces,
// not by the coarse spacing), so the V-cycle scales each coarse correction
// (MultigridSettings::aggregation_scale); the scaling keeps B symmetric.

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace pins::agg3d {

/// The coefficients with every coupling that points out of the grid set to zero
/// (StencilOperator ignores them; the Galerkin sums must not count them).
torch::Tensor without_outside_couplings(const torch::Tensor& c);

/// Coarse grid (nz, ny, nx) of a fine one: ⌈n/2⌉ per side.
std::vector<std::int64_t> coarse_grid(const std::vector<std::int64_t>& fine);

/// Pᵀ A P [B, 7, ⌈nz/2⌉, ⌈ny/2⌉, ⌈nx/2⌉] of fine coefficients c [B, 7, nz, ny, nx] (out-of-grid
/// couplings already zero).
torch::Tensor galerkin(const torch::Tensor& c);

/// R r = Pᵀ r: sums of r [B, nz, ny, nx] over the aggregates.
torch::Tensor restrict_sum(const torch::Tensor& r);

/// P x: the aggregate values xc [B, Z, Y, X] copied to their cells, cropped to `fine` (nz, ny, nx).
torch::Tensor prolong_constant(const torch::Tensor& xc, const std::vector<std::int64_t>& fine);

/// The dense inverses [B, N, N] of the operators (N = nz·ny·nx ≤ max_unknowns), formed in
/// float64 and returned in c's dtype. Throws pins::Error for a singular matrix or too large N.
torch::Tensor dense_inverse(const torch::Tensor& c, std::int64_t max_unknowns = 4096);

}  // namespace pins::agg3d
