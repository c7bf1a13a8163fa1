#pragma once
/// \file
/// The Darcy operator as 5-point stencil coefficients for pins' generic operator.

#include <torch/types.h>

namespace pins::darcy {

/// Stencil coefficients [B, 5, ny, nx] (C, W, E, S, N) of the Darcy operator for the cell
/// conductivities kappa [B, ny, nx] on the unit square (hx = 1/nx, hy = 1/ny), exactly as
/// the PETSc assembly builds its matrix rows. kappa must be contiguous float32/float64 and
/// positive; the result has its dtype. Computed by a Kokkos kernel (not differentiable).
///
/// Example: `auto r = pins::stencil_residual(pins::darcy::stencil_coefficients(kappa), u, f);`
torch::Tensor stencil_coefficients(const torch::Tensor& kappa);

}  // namespace pins::darcy
