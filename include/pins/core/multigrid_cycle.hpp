#pragma once
/// \file
/// A fixed linear approximation B ≈ A⁻¹ of a batch of scalar stencil operators, built from
/// the operator alone, as multigrid V-cycles in LibTorch with damped Jacobi smoothing,
/// Galerkin coarse operators RAP with R = Pᵀ and a dense solve on the coarsest grid:
/// - 2-D 5- or 9-point (star or box of width 1, one dof): black-box multigrid, Dendy's
///   operator-dependent interpolation (surrogates/multigrid.hpp has the parts);
/// - 3-D 7-point (star of width 1, one dof): aggregation of 2 × 2 × 2 cells with
///   piecewise-constant interpolation, whose Galerkin operators stay 7-point; each coarse
///   correction is scaled by MultigridSettings::aggregation_scale (about 2 makes up for the
///   too-small correction of constant aggregates).
///
/// What it is for:
/// - the "preconditioned" physics loss ‖B(Au − f)‖² / ‖Bf‖² (pins/core/losses.hpp): with
///   B ≈ A⁻¹ the residual is measured in (nearly) the norm of the error, not weighted by A²
///   towards the highest grid frequencies as ‖Au − f‖² is;
/// - test-time refinement of a surrogate's answer: k stationary steps u ← u + B(f − Au).
///
/// B is linear in the residual and fixed (built without autograd from the operator's values),
/// and with as many pre- as post-smoothing steps and R = Pᵀ it is symmetric when A is, so the
/// gradient of a loss through B is exact: autograd applies Bᵀ = B.
///
/// Example:
/// \code
///   pins::MultigridCycle B(A);                  // A: a pins::StencilOperator [Bt,5,ny,nx]
///   torch::Tensor z = B.apply(A.residual(u, f)); // ≈ u − u*, differentiable in u
///   torch::Tensor u5 = B.refine(u, f, 5);        // five V-cycles from u
/// \endcode

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pins {

class Operator;

/// How a MultigridCycle is built and run.
struct MultigridSettings {
  int cycles = 1;         ///< V-cycles per apply() (from a zero guess)
  int smoothing = 2;      ///< damped Jacobi steps before and after each coarse correction
  double omega = 2.0 / 3; ///< Jacobi damping (2/3: the classical choice for 5/9-point operators)
  std::int64_t coarsest = 4;  ///< 2-D: coarsen while both sides exceed this; 3-D: while the
                              ///< level has more than coarsest³ unknowns. Dense solve below.
  /// 3-D: factor of each coarse correction, in (0, 2]. Measured on 16³ 12/3 Darcy, error
  /// reduction per V-cycle with 2 smoothing steps: 0.71 (1.0), 0.51 (1.6), 0.46 (1.8), 0.52
  /// (2.0); with 1 smoothing step 2.0 diverges and 1.8 still converges (0.85).
  double aggregation_scale = 1.8;
};

/// B ≈ A⁻¹ for every operator of a batch (see the file comment).
class MultigridCycle {
 public:
  /// Builds the hierarchy of `A` (its current values, without gradient). Throws pins::Error
  /// with unsupported(A)'s reason for an operator this cycle cannot coarsen, or for bad
  /// settings.
  explicit MultigridCycle(const Operator& A, MultigridSettings settings = {});

  /// Empty if MultigridCycle supports `A`, else why not ("... is a 3-D stencil; ...").
  static std::string unsupported(const Operator& A);

  /// B r for residuals r [Bt, (nz,) ny, nx] (or with a dof axis of 1 after Bt),
  /// settings.cycles V-cycles from zero. Differentiable in r (linear); the result has r's shape and dtype.
  torch::Tensor apply(const torch::Tensor& r) const;

  /// k steps u ← u + V(f − A u) (one V-cycle each) from u; k = 0 returns u. Not
  /// differentiable (no autograd). Throws pins::Error for k < 0.
  torch::Tensor refine(const torch::Tensor& u, const torch::Tensor& f, int k) const;

  /// Grid levels, finest first, each slowest direction first: (ny, nx) or (nz, ny, nx).
  std::vector<std::vector<std::int64_t>> levels() const;

 private:
  torch::Tensor v_cycle(std::size_t level, const torch::Tensor& r) const;
  torch::Tensor level_apply(std::size_t level, const torch::Tensor& x) const;
  torch::Tensor coarse_correction(std::size_t level, const torch::Tensor& r) const;
  // r or u as [Bt, grid...] (a dof axis of 1 dropped); throws naming `what` otherwise.
  torch::Tensor scalar_field(const torch::Tensor& r, const char* what) const;

  MultigridSettings settings_;
  bool three_d_ = false;
  // 2-D: 9-point stencils [Bt, 9, ny, nx]; 3-D: 7-point coefficients [Bt, 7, nz, ny, nx].
  std::vector<torch::Tensor> ops_;            // finest first
  std::vector<std::shared_ptr<const Operator>> operators_;  // 3-D: ops_ as StencilOperators
  std::vector<torch::Tensor> inv_diagonal_;   // ω / diag per level
  std::vector<torch::Tensor> prolongations_;  // 2-D: one fewer than ops_
  torch::Tensor coarse_inverse_;              // [Bt, N, N] on the coarsest level
};

}  // namespace pins
