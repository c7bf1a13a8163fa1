#pragma once
/// \file
/// A fixed linear approximation B ≈ A⁻¹ of a batch of 2-D scalar stencil operators (5- or
/// 9-point, i.e. 2-D star or box of width 1 with one dof): black-box multigrid V-cycles in
/// pure LibTorch, built from the operator alone (Dendy's operator-dependent interpolation,
/// Galerkin coarse operators RAP with R = Pᵀ, damped Jacobi smoothing, a dense solve on the
/// coarsest grid; surrogates/multigrid.hpp has the parts).
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
#include <string>
#include <vector>

namespace pins {

class Operator;

/// How a MultigridCycle is built and run.
struct MultigridSettings {
  int cycles = 1;         ///< V-cycles per apply() (from a zero guess)
  int smoothing = 2;      ///< damped Jacobi steps before and after each coarse correction
  double omega = 2.0 / 3; ///< Jacobi damping (2/3: the classical choice for 5/9-point operators)
  std::int64_t coarsest = 4;  ///< coarsen while both grid sides exceed this; dense solve below
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

  /// B r for residuals r [Bt, ny, nx] (or [Bt, 1, ny, nx]), settings.cycles V-cycles from
  /// zero. Differentiable in r (linear); the result has r's shape and dtype.
  torch::Tensor apply(const torch::Tensor& r) const;

  /// k steps u ← u + V(f − A u) (one V-cycle each) from u; k = 0 returns u. Not
  /// differentiable (no autograd). Throws pins::Error for k < 0.
  torch::Tensor refine(const torch::Tensor& u, const torch::Tensor& f, int k) const;

  /// Grid levels, finest first (ny, nx).
  std::vector<std::pair<std::int64_t, std::int64_t>> levels() const;

 private:
  torch::Tensor v_cycle(std::size_t level, const torch::Tensor& r) const;

  MultigridSettings settings_;
  std::vector<torch::Tensor> ops_;            // 9-point stencils [Bt, 9, ny, nx], finest first
  std::vector<torch::Tensor> inv_diagonal_;   // ω / diag per level
  std::vector<torch::Tensor> prolongations_;  // one fewer than ops_
  torch::Tensor coarse_inverse_;              // [Bt, N, N] on the coarsest level
};

}  // namespace pins
