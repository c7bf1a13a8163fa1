#pragma once
/// \file
/// An a-posteriori estimate of each answer's relative error, from the family's operator alone.
///
/// For a linear family the error of an answer u is exactly e = u − u* = A⁻¹ (A u − f): the
/// residual r = F(u) carries all of it, but ‖r‖ weighs e by A's spectrum (towards the highest
/// grid frequencies), so a smooth wrong answer has a small residual and the certificate
/// ‖r‖/‖f‖ ranks errors poorly. The estimate applies an approximate inverse instead:
///
///     ε̂ = ‖B r‖ / ‖u − B r‖,   B = kErrorEstimateCycles multigrid V-cycles of L
///     (MultigridCycle),
///
/// with L = Family::linearised_operator(inputs, u) (A itself, or a nonlinear family's
/// linearisation at u). B ≈ L⁻¹ to the cycles' convergence factor (about 0.1 per V-cycle for
/// 2-D black-box multigrid, 0.5 for 3-D aggregation), so ε̂ tracks the true relative error
/// ‖e‖/‖u*‖ within a few per cent in 2-D (u − B r ≈ u* is the denominator, so large errors
/// are measured against the solution, not the answer); for a nonlinear family within the linearisation's
/// accuracy too. Its cost is that of the cycles (a few per cent of a solve's), paid per answer.
/// It is the score the calibrated bound can use instead of the certificate
/// (ErrorCalibration::score, pins/core/calibration.hpp).
///
/// An operator MultigridCycle cannot coarsen (a mesh's sparse matrix, several fields) is
/// inverted instead by Jacobi-preconditioned conjugate gradients on L e = r from zero, to 1 %
/// of the starting residual (at most 500 iterations) — if L is symmetric (checked with one
/// random probe against its transpose). That costs about a solve to 1 % accuracy: fine for a
/// score on small meshes, a price to weigh on large ones (the report times it).
///
/// Families without a linearisation (nonlinear ones that do not override it) or whose operator
/// is neither coarsenable nor symmetric have no estimate: error_estimate_unsupported says why.
///
/// Example:
/// \code
///   if (pins::error_estimate_unsupported(fam, inputs, u).empty())
///     torch::Tensor eps = pins::estimated_relative_error(fam, inputs, u);  // [B] float64
/// \endcode

#include <torch/types.h>

#include <string>

#include "pins/core/family.hpp"

namespace pins {

/// V-cycles per estimate (from zero). Two bring 2-D black-box multigrid to about 1 % of
/// L⁻¹ r and 3-D aggregation to about 25 %.
constexpr int kErrorEstimateCycles = 2;

/// Empty when `family` offers an error estimate for these inputs and answers u, else why
/// not (one line). Looks at the first sample only.
std::string error_estimate_unsupported(const Family& family, const FieldMap& inputs,
                                       const torch::Tensor& u);

/// ε̂ [B] float64 per answer (see the file comment); 0 for an answer u = 0 with r = 0.
/// Works through the batch in blocks of 64 samples. Throws pins::Error with
/// error_estimate_unsupported's reason when there is none.
torch::Tensor estimated_relative_error(const Family& family, const FieldMap& inputs,
                                       const torch::Tensor& u);

}  // namespace pins
