// Multigrid V-cycles as a fixed linear operator B ≈ A⁻¹ (pins/core/multigrid_cycle.hpp):
// black-box multigrid in 2-D, aggregation in 3-D.
#include "pins/core/multigrid_cycle.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <string>

#include "pins/core/check.hpp"
#include "pins/core/stencil_operator.hpp"
#include "aggregation_3d.hpp"
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

}  // namespace

std::string MultigridCycle::unsupported(const Operator& A) {
  const auto* s = dynamic_cast<const StencilOperator*>(&A);
  if (!s) return "the operator is " + A.describe() + ", not a structured stencil";
  const Stencil& st = s->stencil();
  const bool two_d = st.dim == 2 && st.width == 1 && st.dof == 1;
  const bool seven_point = st.dim == 3 && st.shape == StencilShape::kStar && st.width == 1 &&
                           st.dof == 1;
  if (!two_d && !seven_point)
    return "the operator is a stencil " + st.describe() +
           "; the multigrid cycle coarsens scalar stencils of width 1: 2-D 5- or 9-point, "
           "3-D 7-point";
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
  PINS_CHECK(settings.aggregation_scale > 0 && settings.aggregation_scale <= 2,
             "MultigridCycle: aggregation_scale must be in (0, 2], got ", settings.aggregation_scale);
  torch::NoGradGuard no_grad;  // B is fixed: no gradient flows into the operator's values
  const auto& stencil = dynamic_cast<const StencilOperator&>(A);
  three_d_ = stencil.stencil().dim == 3;
  if (three_d_) {
    // Aggregation: 7-point Galerkin levels until at most coarsest³ unknowns remain.
    const int64_t dense_limit = settings.coarsest * settings.coarsest * settings.coarsest;
    ops_.push_back(agg3d::without_outside_couplings(stencil.values().detach()));
    auto unknowns = [](const torch::Tensor& c) { return c.size(2) * c.size(3) * c.size(4); };
    while (unknowns(ops_.back()) > dense_limit) ops_.push_back(agg3d::galerkin(ops_.back()));
    for (const auto& c : ops_)
      operators_.push_back(std::make_shared<StencilOperator>(stencil.stencil(), c));
    coarse_inverse_ = agg3d::dense_inverse(ops_.back(), std::max<int64_t>(dense_limit, 4096));
  } else {
    mg::Hierarchy h = mg::build_hierarchy(nine_point(stencil).detach(), settings.coarsest);
    ops_ = std::move(h.ops);
    prolongations_ = std::move(h.prolongations);
    coarse_inverse_ = h.coarse_inverse;
  }
  for (const auto& op : ops_) {
    const torch::Tensor d = op.select(1, three_d_ ? 0 : mg::kCentre);
    PINS_CHECK((d > 0).all().item<bool>(),
               "MultigridCycle: the operator has a non-positive diagonal entry on a level of ",
               op.sizes().slice(2), " (Jacobi smoothing needs a positive one)");
    inv_diagonal_.push_back(settings.omega / d);
  }
}

torch::Tensor MultigridCycle::level_apply(size_t l, const torch::Tensor& x) const {
  return three_d_ ? operators_[l]->apply(x) : mg::stencil_apply(ops_[l], x);
}

// The coarse-grid correction P V(R r) of level l for the residual r after pre-smoothing.
torch::Tensor MultigridCycle::coarse_correction(size_t l, const torch::Tensor& r) const {
  if (!three_d_)
    return mg::prolong(prolongations_[l], v_cycle(l + 1, mg::restrict_to_coarse(prolongations_[l], r)));
  const torch::Tensor xc = v_cycle(l + 1, agg3d::restrict_sum(r));
  return settings_.aggregation_scale *
         agg3d::prolong_constant(xc, {r.size(1), r.size(2), r.size(3)});
}

torch::Tensor MultigridCycle::v_cycle(size_t l, const torch::Tensor& r) const {
  if (l + 1 == ops_.size()) return mg::dense_apply(coarse_inverse_, r);
  // Pre-smoothing from zero: the first Jacobi step is ωD⁻¹r.
  torch::Tensor x = inv_diagonal_[l] * r;
  for (int s = 1; s < settings_.smoothing; ++s) x = x + inv_diagonal_[l] * (r - level_apply(l, x));
  x = x + coarse_correction(l, r - level_apply(l, x));
  for (int s = 0; s < settings_.smoothing; ++s) x = x + inv_diagonal_[l] * (r - level_apply(l, x));
  return x;
}

torch::Tensor MultigridCycle::scalar_field(const torch::Tensor& r, const char* what) const {
  const auto grid = ops_[0].sizes().slice(2);  // (nz,) ny, nx
  const int64_t dims = int64_t(grid.size());
  const torch::Tensor t = r.dim() == dims + 2 && r.size(1) == 1 ? r.squeeze(1) : r;
  std::string shape;
  for (int64_t n : grid) shape += ", " + std::to_string(n);
  PINS_CHECK(t.dim() == dims + 1 && t.sizes().slice(1) == grid, "MultigridCycle: ", what,
             " must be [B", shape, "], got ", r.sizes());
  return t;
}

torch::Tensor MultigridCycle::apply(const torch::Tensor& r) const {
  const torch::Tensor rs = scalar_field(r, "the residual");
  PINS_CHECK(rs.size(0) == ops_[0].size(0), "MultigridCycle: the residual holds ", rs.size(0),
             " samples, the operator ", ops_[0].size(0));
  PINS_CHECK(rs.scalar_type() == ops_[0].scalar_type(), "MultigridCycle: the residual is ",
             rs.scalar_type(), ", the operator ", ops_[0].scalar_type());
  torch::Tensor x = v_cycle(0, rs);
  for (int c = 1; c < settings_.cycles; ++c) x = x + v_cycle(0, rs - level_apply(0, x));
  return x.view(r.sizes());
}

torch::Tensor MultigridCycle::refine(const torch::Tensor& u, const torch::Tensor& f, int k) const {
  PINS_CHECK(k >= 0, "the number of refinement cycles must be 0 or more, got ", k);
  torch::NoGradGuard no_grad;
  torch::Tensor x = scalar_field(u, "u").to(ops_[0].scalar_type());
  const torch::Tensor b = scalar_field(f, "f").to(ops_[0].scalar_type());
  for (int c = 0; c < k; ++c) x = x + v_cycle(0, b - level_apply(0, x));
  return x.to(u.scalar_type()).view(u.sizes());
}

std::vector<std::vector<int64_t>> MultigridCycle::levels() const {
  std::vector<std::vector<int64_t>> out;
  for (const auto& op : ops_) out.push_back(op.sizes().slice(2).vec());
  return out;
}

}  // namespace pins
