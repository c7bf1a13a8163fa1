// A-posteriori error estimates by multigrid cycles on the residual (pins/core/error_estimate.hpp).
#include "pins/core/error_estimate.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "pins/core/check.hpp"
#include "pins/core/multigrid_cycle.hpp"

namespace pins {

namespace {

FieldMap rows_of(const FieldMap& inputs, int64_t first, int64_t count) {
  FieldMap out;
  for (const auto& [name, field] : inputs) out[name] = field.narrow(0, first, count).contiguous();
  return out;
}

// Per-sample inner products of [B, ...] tensors, and a [B] factor shaped to scale them.
torch::Tensor sample_dot(const torch::Tensor& a, const torch::Tensor& b) {
  return (a * b).flatten(1).sum(1);
}
torch::Tensor per_sample(const torch::Tensor& s, const torch::Tensor& like) {
  std::vector<int64_t> shape(like.dim(), 1);
  shape[0] = -1;
  return s.view(shape);
}

// Whether L is symmetric, by one probe: ‖L x − Lᵀ x‖ ≤ 1e-8 ‖L x‖ for every sample. The probe
// is a fixed irregular field (no draw from LibTorch's generator, whose state belongs to the
// caller's training or sampling).
bool symmetric(const Operator& L, const torch::Tensor& like) {
  const torch::Tensor x =
      torch::sin(1.7 * torch::arange(like.numel(), torch::TensorOptions()
                                                        .dtype(like.scalar_type())
                                                        .device(like.device())) + 0.3)
          .reshape(like.sizes());
  const torch::Tensor ax = L.apply(x), atx = L.apply_transpose(x);
  const torch::Tensor gap = (ax - atx).flatten(1).norm(2, 1), size = ax.flatten(1).norm(2, 1);
  return (gap <= 1e-8 * size).all().item<bool>();
}

// Jacobi-preconditioned conjugate gradients on L e = r from zero, per sample, until every
// residual is below kCgTolerance of its start (at most kCgMaxIterations). CG's iterates grow
// in norm towards e from below, so the estimate is ‖e‖ within the tolerance's reach.
constexpr double kCgTolerance = 1e-2;
constexpr int kCgMaxIterations = 500;

torch::Tensor conjugate_gradients(const Operator& L, const torch::Tensor& r) {
  const torch::Tensor inv_diag = 1.0 / L.diagonal().reshape(r.sizes());
  torch::Tensor e = torch::zeros_like(r), res = r.clone();
  torch::Tensor z = inv_diag * res, p = z.clone();
  torch::Tensor rz = sample_dot(res, z);
  const torch::Tensor start = res.flatten(1).norm(2, 1);
  for (int it = 0; it < kCgMaxIterations; ++it) {
    if ((res.flatten(1).norm(2, 1) <= kCgTolerance * start).all().item<bool>()) break;
    const torch::Tensor lp = L.apply(p.contiguous());
    const torch::Tensor alpha = rz / sample_dot(p, lp).clamp_min(1e-300);
    e = e + per_sample(alpha, p) * p;
    res = res - per_sample(alpha, p) * lp;
    z = inv_diag * res;
    const torch::Tensor rz_new = sample_dot(res, z);
    p = z + per_sample(rz_new / rz.clamp_min(1e-300), p) * p;
    rz = rz_new;
  }
  return e;
}

}  // namespace

std::string error_estimate_unsupported(const Family& family, const FieldMap& inputs,
                                       const torch::Tensor& u) {
  torch::NoGradGuard no_grad;
  PINS_CHECK(u.defined() && u.dim() >= 1 && u.size(0) >= 1,
             "error estimate: no answers given");
  const FieldMap first = rows_of(inputs, 0, 1);
  const OperatorPtr L = family.linearised_operator(first, u.narrow(0, 0, 1).contiguous());
  if (!L)
    return "the " + family.name() +
           " family offers no linearisation of its equation (Family::linearised_operator)";
  if (MultigridCycle::unsupported(*L).empty()) return {};
  // Operators multigrid cannot coarsen (meshes, several fields): CG, if L is symmetric.
  const torch::Tensor r = family.residual(first, u.narrow(0, 0, 1).contiguous());
  if (!symmetric(*L, r.reshape(L->batch_field_shape())) ||
      !(L->diagonal() > 0).all().item<bool>())
    return "the " + family.name() + " operator is neither one multigrid can coarsen (" +
           MultigridCycle::unsupported(*L) +
           ") nor symmetric with a positive diagonal (for conjugate gradients)";
  return {};
}

torch::Tensor estimated_relative_error(const Family& family, const FieldMap& inputs,
                                       const torch::Tensor& u) {
  torch::NoGradGuard no_grad;
  const std::string why = error_estimate_unsupported(family, inputs, u);
  PINS_CHECK(why.empty(), "no error estimate: ", why);
  auto norm = [](const torch::Tensor& t) {
    return t.to(torch::kFloat64).square().flatten(1).sum(1).sqrt();
  };
  constexpr int64_t kBlock = 64;  // bounds the hierarchy's memory on large test sets
  MultigridSettings settings;
  settings.cycles = kErrorEstimateCycles;
  std::vector<torch::Tensor> parts;
  const int64_t n = u.size(0);
  for (int64_t first = 0; first < n; first += kBlock) {
    const int64_t count = std::min(kBlock, n - first);
    const FieldMap in = rows_of(inputs, first, count);
    const torch::Tensor ub = u.narrow(0, first, count).contiguous();
    const torch::Tensor r = family.residual(in, ub);
    const OperatorPtr L = family.linearised_operator(in, ub);
    torch::Tensor e;
    if (MultigridCycle::unsupported(*L).empty()) {
      e = MultigridCycle(*L, settings).apply(r.reshape(ub.sizes()).contiguous());
    } else {
      e = conjugate_gradients(*L, r.reshape(L->batch_field_shape()).contiguous());
    }
    // The error relative to the solution, u* ≈ u − e: not to the answer, which differs from
    // the solution by the error itself (a 50 % error would otherwise read as 100 % or 33 %).
    parts.push_back(norm(e) / norm(ub - e.reshape(ub.sizes())).clamp_min(1e-300));
  }
  return torch::cat(parts);
}

}  // namespace pins
