// Black-box multigrid V-cycles as a fixed linear operator B ≈ A⁻¹ (pins/core/multigrid_cycle.hpp).
#include "pins/core/multigrid_cycle.hpp"

#include <torch/torch.h>

#include "pins/core/check.hpp"
#include "pins/core/stencil_operator.hpp"
#include "surrogates/multigrid.hpp"

namespace pins {

namespace {

// The operator's coefficients as the 9-point stencil layout of surrogates/multigrid.hpp
// ([Bt, 9, ny, nx], entry 3(dy+1)+(dx+1)); a 5-point star leaves the corners zero. Both
// layouts say that entry (dy, dx) at (i, j) couples unknown (i, j) to (i+dy, j+dx).
torch::Tensor nine_point(const StencilOperator& A) {
  const torch::Tensor& c = A.values();
  torch::Tensor s = torch::zeros({c.size(0), 9, c.size(2), c.size(3)}, c.options());
  const auto offsets = A.stencil().offsets();
  for (size_t p = 0; p < offsets.size(); ++p)
    s.select(1, mg::stencil_index(offsets[p][1], offsets[p][2])).copy_(c.select(1, long(p)));
  return s;
}

// r as [Bt, ny, nx] (a dof axis of 1 dropped).
torch::Tensor scalar_field(const torch::Tensor& r, int64_t ny, int64_t nx, const char* what) {
  const torch::Tensor t = r.dim() == 4 && r.size(1) == 1 ? r.squeeze(1) : r;
  PINS_CHECK(t.dim() == 3 && t.size(1) == ny && t.size(2) == nx, "MultigridCycle: ", what,
             " must be [B, ", ny, ", ", nx, "], got ", r.sizes());
  return t;
}

}  // namespace

std::string MultigridCycle::unsupported(const Operator& A) {
  const auto* s = dynamic_cast<const StencilOperator*>(&A);
  if (!s) return "the operator is " + A.describe() + ", not a structured stencil";
  const Stencil& st = s->stencil();
  if (st.dim != 2 || st.width != 1 || st.dof != 1)
    return "the operator is a stencil " + st.describe() +
           "; the multigrid cycle coarsens 2-D scalar stencils of width 1 (5- or 9-point)";
  return {};
}

MultigridCycle::MultigridCycle(const Operator& A, MultigridSettings settings)
    : settings_(settings) {
  const std::string why = unsupported(A);
  PINS_CHECK(why.empty(), "no multigrid cycle for this operator: ", why);
  PINS_CHECK(settings.cycles >= 1, "MultigridCycle: cycles must be at least 1, got ",
             settings.cycles);
  PINS_CHECK(settings.smoothing >= 1, "MultigridCycle: smoothing must be at least 1, got ",
             settings.smoothing);
  PINS_CHECK(settings.omega > 0 && settings.omega < 2, "MultigridCycle: omega must be in (0, 2), got ",
             settings.omega);
  PINS_CHECK(settings.coarsest >= 1, "MultigridCycle: coarsest must be at least 1, got ",
             settings.coarsest);
  torch::NoGradGuard no_grad;  // B is fixed: no gradient flows into the operator's values
  const auto& stencil = dynamic_cast<const StencilOperator&>(A);
  mg::Hierarchy h = mg::build_hierarchy(nine_point(stencil).detach(), settings.coarsest);
  ops_ = std::move(h.ops);
  prolongations_ = std::move(h.prolongations);
  coarse_inverse_ = h.coarse_inverse;
  for (const auto& op : ops_) {
    const torch::Tensor d = op.select(1, mg::kCentre);
    PINS_CHECK((d > 0).all().item<bool>(),
               "MultigridCycle: the operator has a non-positive diagonal entry on a ",
               op.size(2), " x ", op.size(3), " level (Jacobi smoothing needs a positive one)");
    inv_diagonal_.push_back(settings.omega / d);
  }
}

torch::Tensor MultigridCycle::v_cycle(size_t l, const torch::Tensor& r) const {
  if (l + 1 == ops_.size()) return mg::dense_apply(coarse_inverse_, r);
  const torch::Tensor& A = ops_[l];
  // Pre-smoothing from zero: the first Jacobi step is ωD⁻¹r.
  torch::Tensor x = inv_diagonal_[l] * r;
  for (int s = 1; s < settings_.smoothing; ++s)
    x = x + inv_diagonal_[l] * (r - mg::stencil_apply(A, x));
  const torch::Tensor rc =
      mg::restrict_to_coarse(prolongations_[l], r - mg::stencil_apply(A, x));
  x = x + mg::prolong(prolongations_[l], v_cycle(l + 1, rc));
  for (int s = 0; s < settings_.smoothing; ++s)
    x = x + inv_diagonal_[l] * (r - mg::stencil_apply(A, x));
  return x;
}

torch::Tensor MultigridCycle::apply(const torch::Tensor& r) const {
  const int64_t ny = ops_[0].size(2), nx = ops_[0].size(3);
  const torch::Tensor rs = scalar_field(r, ny, nx, "the residual");
  PINS_CHECK(rs.size(0) == ops_[0].size(0), "MultigridCycle: the residual holds ", rs.size(0),
             " samples, the operator ", ops_[0].size(0));
  PINS_CHECK(rs.scalar_type() == ops_[0].scalar_type(), "MultigridCycle: the residual is ",
             rs.scalar_type(), ", the operator ", ops_[0].scalar_type());
  torch::Tensor x = v_cycle(0, rs);
  for (int c = 1; c < settings_.cycles; ++c)
    x = x + v_cycle(0, rs - mg::stencil_apply(ops_[0], x));
  return x.view(r.sizes());
}

torch::Tensor MultigridCycle::refine(const torch::Tensor& u, const torch::Tensor& f, int k) const {
  PINS_CHECK(k >= 0, "the number of refinement cycles must be 0 or more, got ", k);
  torch::NoGradGuard no_grad;
  const int64_t ny = ops_[0].size(2), nx = ops_[0].size(3);
  torch::Tensor x = scalar_field(u, ny, nx, "u").to(ops_[0].scalar_type());
  const torch::Tensor b = scalar_field(f, ny, nx, "f").to(ops_[0].scalar_type());
  for (int c = 0; c < k; ++c) x = x + v_cycle(0, b - mg::stencil_apply(ops_[0], x));
  return x.to(u.scalar_type()).view(u.sizes());
}

std::vector<std::pair<int64_t, int64_t>> MultigridCycle::levels() const {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& op : ops_) out.emplace_back(op.size(2), op.size(3));
  return out;
}

}  // namespace pins
