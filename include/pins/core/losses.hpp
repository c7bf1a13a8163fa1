#pragma once
/// \file
/// Physics-loss terms built on the differentiable operators: any pins::Operator
/// (pins/core/operator.hpp), or 5-point stencil coefficients [B,5,ny,nx] (pins/core/stencil.hpp).
/// All are differentiable in u, the operator's values and f, and reduce to a scalar (or, for
/// relative_residual, one value per sample). Per-sample sums run over every non-batch axis.

#include <torch/types.h>

#include <string>

namespace pins {

class Operator;

/// How residual_loss weights each point's residual.
enum class ResidualScaling {
  kNone,      ///< r = A u − f
  kDiagonal,  ///< r = D⁻¹ (A u − f), D = diag(A): each equation divided by its centre weight
};

/// Mean over the batch and the grid of r², with r the (optionally diagonally scaled)
/// residual A u − f. Example: `auto loss = pins::residual_loss(coeffs, u, f);`
torch::Tensor residual_loss(const torch::Tensor& coeffs, const torch::Tensor& u,
                            const torch::Tensor& f,
                            ResidualScaling scaling = ResidualScaling::kNone);

/// Mean over the batch of the energy functional ½ uᵀ A u − fᵀ u (sums over the grid).
/// For symmetric positive definite A its minimiser is the solution of A u = f.
torch::Tensor energy_loss(const torch::Tensor& coeffs, const torch::Tensor& u,
                          const torch::Tensor& f);

/// The trainer's physics loss for 5-point coefficients [B,5,ny,nx] and u, f [B,ny,nx]
/// (de-normalised); see the Operator overload.
torch::Tensor physics_loss(const std::string& kind, const torch::Tensor& coeffs,
                           const torch::Tensor& u, const torch::Tensor& f);

/// ‖f − A u‖₂ / ‖f‖₂ per sample [B] for 5-point coefficients (what datasets store for the
/// PETSc solutions).
torch::Tensor relative_residual(const torch::Tensor& coeffs, const torch::Tensor& u,
                                const torch::Tensor& f);

/// residual_loss for any operator: mean over the batch and the field of r², r = A u − f or
/// D⁻¹(A u − f) with D = diag(A).
torch::Tensor residual_loss(const Operator& A, const torch::Tensor& u, const torch::Tensor& f,
                            ResidualScaling scaling = ResidualScaling::kNone);

/// energy_loss for any operator: batch mean of ½ uᵀ A u − fᵀ u.
torch::Tensor energy_loss(const Operator& A, const torch::Tensor& u, const torch::Tensor& f);

/// The trainer's grid-independent physics loss (batch mean of a per-sample, scale-free
/// value), for any operator; what each is a norm of:
/// - "residual": ‖D⁻¹(A u − f)‖² / ‖D⁻¹f‖², the diagonally scaled residual. Its minimiser
///   is the solution, but it weights the error e = u − u* by (D⁻¹A)², i.e. by the square of
///   the grid frequency: dominated by the highest frequencies;
/// - "energy": (½uᵀAu − fᵀu) / (n · fᵀD⁻¹f), n unknowns per sample. For symmetric positive
///   definite A it equals ½‖e‖²_A − ½‖u*‖²_A (scaled): differences are the energy norm of the
///   error, weighted by A, not A². Meaningless for a non-symmetric A (the trainer refuses it:
///   symmetry_defect);
/// - "preconditioned": ‖B(A u − f)‖² / ‖B f‖² with B ≈ A⁻¹ fixed `cycles` black-box
///   multigrid V-cycles (pins/core/multigrid_cycle.hpp): B(Au − f) ≈ e and Bf ≈ u*, so this is
///   close to the relative L2 error squared that evaluations report. 2-D 5/9-point scalar
///   stencils only (pins::MultigridCycle::unsupported says why not otherwise).
/// Throws pins::Error for another kind.
torch::Tensor physics_loss(const std::string& kind, const Operator& A, const torch::Tensor& u,
                           const torch::Tensor& f, int cycles = 1);

/// The "residual" physics loss from a residual r [B, field…] computed elsewhere, e.g. by a
/// nonlinear family's pins::Family::residual: batch mean of ‖D⁻¹r‖² / ‖D⁻¹f‖², D [B, field…]
/// a positive diagonal scaling (an operator's diagonal()). With r = A u − f and D = diag(A)
/// it is physics_loss("residual", A, u, f) up to rounding. Differentiable in r.
torch::Tensor scaled_residual_loss(const torch::Tensor& r, const torch::Tensor& diagonal,
                                   const torch::Tensor& f);

/// The physics-loss kinds physics_loss accepts, for messages: "residual, energy or preconditioned".
const char* physics_loss_kinds();

/// max over the batch of ‖A x − Aᵀx‖ / ‖A x‖ for a fixed pseudo-random x: 0 up to rounding
/// (about 1e-15 in float64) for a symmetric operator.
double symmetry_defect(const Operator& A);

/// ‖f − A u‖₂ / ‖f‖₂ per sample [B]; not differentiable (computed without autograd).
torch::Tensor relative_residual(const Operator& A, const torch::Tensor& u, const torch::Tensor& f);

}  // namespace pins
