#pragma once
/// \file
/// Structured stencil operators of any shape on batched 1-, 2- or 3-D grids, in PETSc's DMDA
/// vocabulary: dimension, star or box, stencil width, dof per grid point.
///
/// Layout (channels first, as LibTorch's convolutions want it):
/// - fields u, f: [B, dof, (nz,) (ny,) nx]; for dof = 1 also [B, (nz,) (ny,) nx];
/// - coefficients: [B, K, (nz,) (ny,) nx] with K = points() · dof², channel
///   k = (p · dof + r) · dof + c couples field r at grid point x to field c at x + offset(p):
///
///     (A u)_r(x) = Σ_p Σ_c C_k(x) u_c(x + offset(p)),
///
///   and couplings that point out of the grid are ignored (Dirichlet data eliminated into the
///   right-hand side, as PETSc does).
/// - Offsets are (dz, dy, dx). Their order: the centre first; then, for a star, along x
///   (−1, +1, −2, +2, …), then y, then z; for a box, every other point of the
///   (2w+1)^dim cube in lexicographic (dz, dy, dx) order. So the 2-D star of width 1 is
///   (C, W, E, S, N), the layout of pins' 5-point API (pins/core/stencil.hpp), which is this
///   operator's special case.
///
/// Kernels (Kokkos, zero-copy on the tensors' memory, float32/float64): apply, the fused
/// residual, the adjoint for the field (Aᵀ g) and for the coefficients (g ⊗ shifted u). The
/// 2-D 5-point, 2-D 9-point and 3-D 7-point scalar stencils take fixed-shape fast paths; a
/// general kernel covers every other shape.
///
/// Example:
/// \code
///   pins::Stencil s{3, pins::StencilShape::kStar, 1, 1};          // 3-D 7-point
///   pins::StencilOperator A(s, coeffs);                          // coeffs [B,7,nz,ny,nx]
///   auto r = A.residual(u, f);                                   // u, f [B,nz,ny,nx]
/// \endcode

#include <array>
#include <string>
#include <vector>

#include "pins/core/operator.hpp"

namespace pins {

/// Star (only the points along the axes) or box (the whole cube), as DMDA_STENCIL_STAR/BOX.
enum class StencilShape : int { kStar = 0, kBox = 1 };

/// The shape of a stencil: dimension 1–3, star or box, width ≥ 1, dof ≥ 1 fields per point.
struct Stencil {
  int dim = 2;
  StencilShape shape = StencilShape::kStar;
  int width = 1;
  int dof = 1;

  /// Throws pins::Error naming the bad member unless 1 ≤ dim ≤ 3, width ≥ 1, dof ≥ 1 (and the
  /// stencil has at most 343 points).
  void check() const;
  /// Number of grid points the stencil couples (5 for the 2-D star of width 1).
  int points() const;
  /// Number of coefficient channels K = points() · dof².
  int channels() const { return points() * dof * dof; }
  /// The offsets (dz, dy, dx) in channel order (see the file comment).
  std::vector<std::array<int, 3>> offsets() const;
  /// Channel of the coupling from field r at x to field c at x + offsets()[p].
  int channel(int p, int r, int c) const { return (p * dof + r) * dof + c; }
  /// "dim=2 star width=1 dof=1"
  std::string describe() const;
  bool operator==(const Stencil& o) const {
    return dim == o.dim && shape == o.shape && width == o.width && dof == o.dof;
  }
  bool operator!=(const Stencil& o) const { return !(*this == o); }
};

/// A batch of stencil operators: the stencil and its coefficients [B, K, (nz,) (ny,) nx].
class StencilOperator final : public Operator {
 public:
  /// Checks the coefficients' shape against the stencil (throws pins::Error naming what was
  /// expected). The tensor is held, not copied; it must be contiguous float32/float64 on
  /// Kokkos' memory space.
  StencilOperator(const Stencil& stencil, torch::Tensor coeffs);

  const Stencil& stencil() const { return stencil_; }
  /// The grid (nz, ny, nx) with 1 for the dimensions the stencil does not have.
  std::array<int64_t, 3> grid() const { return grid_; }

  std::string kind() const override { return "stencil"; }
  std::string describe() const override;
  int64_t batch() const override { return coeffs_.size(0); }
  /// {dof, (nz,) (ny,) nx} for dof > 1, {(nz,) (ny,) nx} for dof = 1.
  std::vector<int64_t> field_shape() const override;
  const torch::Tensor& values() const override { return coeffs_; }
  torch::Tensor apply(const torch::Tensor& u) const override;
  torch::Tensor residual(const torch::Tensor& u, const torch::Tensor& f) const override;
  torch::Tensor apply_transpose(const torch::Tensor& v) const override;
  torch::Tensor diagonal() const override;
  std::shared_ptr<const Operator> with_values(torch::Tensor values) const override;
  std::shared_ptr<const Operator> to(torch::Device device) const override;

 private:
  Stencil stencil_;
  torch::Tensor coeffs_;
  std::array<int64_t, 3> grid_;
};

/// A u for a stencil, its coefficients [B,K,…] and u [B,(dof,)…]; differentiable in both.
torch::Tensor stencil_apply(const Stencil& s, const torch::Tensor& coeffs, const torch::Tensor& u);

/// A u − f; one fused kernel; differentiable in coeffs, u and f.
torch::Tensor stencil_residual(const Stencil& s, const torch::Tensor& coeffs,
                               const torch::Tensor& u, const torch::Tensor& f);

/// Aᵀ v (not differentiable itself).
torch::Tensor stencil_apply_transpose(const Stencil& s, const torch::Tensor& coeffs,
                                      const torch::Tensor& v);

/// Gradient of ⟨g, A u⟩ with respect to the coefficients, shape [B, K, grid…] (couplings
/// that point out of the grid get zero). Not differentiable itself.
torch::Tensor stencil_coefficient_gradient(const Stencil& s, const torch::Tensor& g,
                                           const torch::Tensor& u);

/// Throws pins::Error unless coeffs is a contiguous [B, K, grid…] tensor of a supported dtype
/// on Kokkos' memory space for stencil `s` (the coefficient half of check_stencil_inputs).
void check_stencil_coefficients(const char* caller, const Stencil& s, const torch::Tensor& coeffs);

/// Throws pins::Error unless coeffs [B,K,grid…] and the fields (undefined ones are skipped)
/// are contiguous tensors of one supported dtype on Kokkos' memory space, shaped for `s`.
void check_stencil_inputs(const char* caller, const Stencil& s, const torch::Tensor& coeffs,
                          const torch::Tensor& u, const torch::Tensor& f = {});

}  // namespace pins
