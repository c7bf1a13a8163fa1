#pragma once
/// \file
/// Certifying a dataset with the Kokkos operator: every stored solution's relative residual
/// ‖F(u)‖₂/‖F(0)‖₂ — ‖f − A u‖₂/‖f‖₂ for a linear family — is recomputed with the problem
/// family's residual (pins::Family::residual, set up for the dataset's sampler parameters:
/// for Darcy pins::darcy::stencil_coefficients and pins::stencil_residual, for a nonlinear
/// family its own kernel) — the same kernels the physics loss uses — independently of the
/// PETSc matrix or SNES callbacks that produced the data.
///
/// A trajectory dataset (a time-dependent family, u [N, T, grid…]) is checked step by step:
/// step t's residual is the family's one-step residual for the state u[:, t] (its
/// state_input) and the solution u[:, t + 1]; a sample's residual is the largest over its
/// T − 1 steps, which is what `pins generate` stores.
///
/// Example: `auto report = pins::petsc::verify_dataset(pins::read_dataset("d.h5"));`

#include <cstdint>
#include <vector>

#include "pins/core/dataset.hpp"

namespace pins::petsc {

/// Result of verify_dataset. A sample passes when residual ≤ tolerance + allowance, where
/// the allowance bounds the rounding in evaluating a residual twice (once by PETSc when the
/// data was made, once here): 2 · 6ε · ‖m‖₂ / ‖F(0)‖₂ (6 = terms per row), m the size of
/// the residual's terms (pins::Family::residual_magnitude: |A||u| + |f| when linear).
struct VerifyReport {
  std::int64_t samples = 0;
  double tolerance = 0;     ///< the requested tolerance (default: the dataset's rtol)
  double max_residual = 0;  ///< largest recomputed relative residual
  double mean_residual = 0;
  std::int64_t worst_sample = 0;     ///< where max_residual occurs
  double max_allowance = 0;          ///< largest rounding allowance used
  std::int64_t failures = 0;         ///< samples above tolerance + allowance
  std::int64_t first_failure = -1;   ///< the first such sample, or -1
  double max_stored_difference = 0;  ///< max |recomputed − stored residual|
  std::vector<double> residuals;     ///< per sample
};

/// Recomputes every sample's residual in batches (Kokkos kernels via LibTorch tensors).
/// `tolerance` < 0 means the dataset's solver.rtol. Throws pins::Error if the family is not
/// registered, the dataset is inputs-only (no solutions to check) or the data are unusable
/// (e.g. non-positive κ); does not throw on failures, which the report counts.
VerifyReport verify_dataset(const Dataset& data, double tolerance = -1);

}  // namespace pins::petsc
