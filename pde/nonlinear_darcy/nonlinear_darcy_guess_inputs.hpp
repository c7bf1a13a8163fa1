#pragma once
/// \file
/// nonlinear_darcy's input fields read back from a SNES program's own equation, so that an
/// unmodified program gets the surrogate's initial guess from the command line
/// (-snes_surrogate_guess, src/petsc/snes_guess_surrogate.cpp): F(0) = −f, and the Jacobian
/// at u = 0 is the linear Darcy operator A(κ) for every k(u) of the family (k(0) = 1, and
/// the k'(0) terms multiply u_m − u_n = 0), whose face coefficients give κ back.

#include <torch/types.h>

namespace pins::nonlinear_darcy {

/// κ [ny, nx] (float64) from the 5-point coefficients [1, 5, ny, nx] (C, W, E, S, N; x along
/// the last axis) of the Jacobian at u = 0: a boundary cell's wall faces (2κ/h² each) give its
/// κ, and along each row the harmonic-mean faces 2κ_mκ_n/(κ_m + κ_n)/h² give the next cell's.
/// Throws pins::Error naming the first grid point (i along x, j along y) where the matrix is
/// not A(κ) for a positive κ — the program discretises another equation, or differently
/// (rows scaled by h², vertex-centred grid, ...) — within a rounding bound of 1e-8 relative.
torch::Tensor kappa_from_jacobian_at_zero(const torch::Tensor& coeffs);

}  // namespace pins::nonlinear_darcy
