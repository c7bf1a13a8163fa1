// Physics-loss terms on any pins::Operator; the 5-point coefficient-tensor overloads are the
// 2-D star stencil's case of the same code.
#include "pins/core/losses.hpp"

#include <torch/torch.h>

#include "pins/core/check.hpp"
#include "pins/core/multigrid_cycle.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/stencil_operator.hpp"

namespace pins {

namespace {

// The 5-point API's operator; the constructor checks the coefficients' shape.
StencilOperator five_point(const torch::Tensor& coeffs) {
  PINS_CHECK(coeffs.defined(), "coeffs is an undefined tensor");
  return StencilOperator(Stencil{2, StencilShape::kStar, 1, 1}, coeffs);
}

// Sum over every axis but the batch axis: one value per sample.
torch::Tensor per_sample_sum(const torch::Tensor& t) { return t.flatten(1).sum(1); }

// A per-sample factor [B] shaped to broadcast against a batch of fields.
torch::Tensor per_sample(const torch::Tensor& s, const torch::Tensor& like) {
  std::vector<int64_t> shape(like.dim(), 1);
  shape[0] = -1;
  return s.view(shape);
}

}  // namespace

torch::Tensor residual_loss(const Operator& A, const torch::Tensor& u, const torch::Tensor& f,
                            ResidualScaling scaling) {
  torch::Tensor r = A.residual(u, f);
  if (scaling == ResidualScaling::kDiagonal) r = r / A.diagonal();
  return r.square().mean();
}

torch::Tensor energy_loss(const Operator& A, const torch::Tensor& u, const torch::Tensor& f) {
  PINS_CHECK(f.defined(), "pins::energy_loss: f is an undefined tensor");
  const torch::Tensor Au = A.apply(u);
  PINS_CHECK(f.sizes() == u.sizes(), "pins::energy_loss: f must have shape ", u.sizes(),
             " (like u), got ", f.sizes());
  return per_sample_sum(0.5 * (u * Au) - f * u).mean();
}

torch::Tensor scaled_residual_loss(const torch::Tensor& r, const torch::Tensor& diagonal,
                                   const torch::Tensor& f) {
  PINS_CHECK(r.defined() && f.defined() && diagonal.defined() && r.sizes() == f.sizes() &&
                 diagonal.sizes() == f.sizes(),
             "pins::scaled_residual_loss: r, the diagonal and f must have one shape, got ",
             r.defined() ? r.sizes() : torch::IntArrayRef{}, ", ",
             diagonal.defined() ? diagonal.sizes() : torch::IntArrayRef{}, " and ",
             f.defined() ? f.sizes() : torch::IntArrayRef{});
  const torch::Tensor den = per_sample_sum((f / diagonal).square()).clamp_min(1e-300);
  return (per_sample_sum((r / diagonal).square()) / den).mean();
}

const char* physics_loss_kinds() { return "residual, energy or preconditioned"; }

double symmetry_defect(const Operator& A) {
  torch::NoGradGuard no_grad;
  // A fixed, non-smooth x (a smooth one could hide an antisymmetric part that cancels on it).
  const auto shape = [&] {
    std::vector<int64_t> s{A.batch()};
    for (int64_t d : A.field_shape()) s.push_back(d);
    return s;
  }();
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const torch::Tensor x =
      torch::sin(torch::arange(n, A.values().options()) * 0.7548776662466927 + 0.3).view(shape);
  const torch::Tensor Ax = A.apply(x), ATx = A.apply_transpose(x);
  const torch::Tensor num = per_sample_sum((Ax - ATx).square()).sqrt();
  const torch::Tensor den = per_sample_sum(Ax.square()).sqrt().clamp_min(1e-300);
  return (num / den).max().item<double>();
}

torch::Tensor physics_loss(const std::string& kind, const Operator& A, const torch::Tensor& u,
                           const torch::Tensor& f, int cycles) {
  PINS_CHECK(kind == "residual" || kind == "energy" || kind == "preconditioned",
             "-train_physics_loss must be ", physics_loss_kinds(), ", got '", kind, "'");
  if (kind == "preconditioned") {
    MultigridSettings settings;
    settings.cycles = cycles;
    const MultigridCycle B(A, settings);
    const torch::Tensor e = B.apply(A.residual(u.contiguous(), f.contiguous()));
    const torch::Tensor ustar = B.apply(f.contiguous());
    const torch::Tensor den = per_sample_sum(ustar.square()).clamp_min(1e-300);
    return (per_sample_sum(e.square()) / den).mean();
  }
  // Both losses are homogeneous in (u, f): scaling each sample by s_b turns the batch-mean
  // losses into the per-sample relative ones documented in losses.hpp.
  const torch::Tensor dinv_f = f / A.diagonal();
  const int64_t n = f[0].numel();
  if (kind == "residual") {
    // residual_loss = mean_b,i (D⁻¹r)² / s_b² with s_b² = ‖D⁻¹f_b‖² / n.
    const torch::Tensor s = (per_sample_sum(dinv_f.square()) / n).sqrt().clamp_min(1e-300);
    const torch::Tensor sv = per_sample(s, f);
    return residual_loss(A, (u / sv).contiguous(), (f / sv).contiguous(),
                         ResidualScaling::kDiagonal);
  }
  // energy_loss = mean_b E_b / s_b² with s_b² = n · f_bᵀD⁻¹f_b.
  const torch::Tensor s = (per_sample_sum(f * dinv_f) * n).sqrt().clamp_min(1e-300);
  const torch::Tensor sv = per_sample(s, f);
  return energy_loss(A, (u / sv).contiguous(), (f / sv).contiguous());
}

torch::Tensor relative_residual(const Operator& A, const torch::Tensor& u, const torch::Tensor& f) {
  torch::NoGradGuard no_grad;
  const torch::Tensor r = A.residual(u.contiguous(), f.contiguous());
  return per_sample_sum(r.square()).sqrt() / per_sample_sum(f.square()).sqrt().clamp_min(1e-300);
}

// The 5-point coefficient-tensor API.

torch::Tensor residual_loss(const torch::Tensor& coeffs, const torch::Tensor& u,
                            const torch::Tensor& f, ResidualScaling scaling) {
  PINS_CHECK(f.defined(), "pins::stencil_residual: f is an undefined tensor");
  return residual_loss(five_point(coeffs), u, f, scaling);
}

torch::Tensor energy_loss(const torch::Tensor& coeffs, const torch::Tensor& u,
                          const torch::Tensor& f) {
  PINS_CHECK(f.defined(), "pins::energy_loss: f is an undefined tensor");
  check_stencil_inputs("pins::energy_loss", coeffs, u, f);
  return energy_loss(five_point(coeffs), u, f);
}

torch::Tensor physics_loss(const std::string& kind, const torch::Tensor& coeffs,
                           const torch::Tensor& u, const torch::Tensor& f) {
  return physics_loss(kind, five_point(coeffs), u, f);
}

torch::Tensor relative_residual(const torch::Tensor& coeffs, const torch::Tensor& u,
                                const torch::Tensor& f) {
  return relative_residual(five_point(coeffs), u, f);
}

}  // namespace pins
