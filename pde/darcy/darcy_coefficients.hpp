#pragma once
/// \file
/// The Darcy operators as stencil coefficients for pins' generic operator: 5-point in 2-D
/// (`darcy`), 7-point in 3-D (`darcy3d`).

#include <torch/types.h>

namespace pins::darcy {

/// What the boundary faces of the grid contribute: Dirichlet u = 0 at the wall (2κ_cell, the
/// Darcy families) or no flux (nothing: homogeneous Neumann, e.g. allen_cahn's diffusion).
enum class Boundary { kDirichlet, kNoFlux };

/// Stencil coefficients [B, 5, ny, nx] (C, W, E, S, N) of the Darcy operator for the cell
/// conductivities kappa [B, ny, nx] on the unit square (hx = 1/nx, hy = 1/ny), or
/// [B, 7, nz, ny, nx] (C, W, E, S, N, down, up: pins::StencilOperator's 3-D star order) for
/// kappa [B, nz, ny, nx] on the unit cube, exactly as the PETSc assembly builds its rows. kappa must be contiguous float32/float64 and
/// positive; the result has its dtype. Computed by a Kokkos kernel (not differentiable).
///
/// Example: `auto r = pins::stencil_residual(pins::darcy::stencil_coefficients(kappa), u, f);`
/// With Boundary::kNoFlux the boundary faces contribute nothing (homogeneous Neumann).
torch::Tensor stencil_coefficients(const torch::Tensor& kappa,
                                   Boundary boundary = Boundary::kDirichlet);

}  // namespace pins::darcy
