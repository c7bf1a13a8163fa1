// Stencil operators of every shape (dim 1–3, star/box, width 1–2, dof 1–2) against the serial
// reference, their adjoints, gradients (finite differences in float64), the Operator
// interface and bad inputs. The fixed-shape fast paths (2-D 5- and 9-point, 3-D 7-point) are
// among the shapes, so they are checked against the same reference as the general kernel.
#include "doctest_torch.hpp"

#include <torch/torch.h>

#include <algorithm>

#include "pins/core/losses.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/stencil_operator.hpp"
#include "pins/core/stencil_reference.hpp"
#include "test_helpers.hpp"

using pins::Stencil;
using pins::StencilShape;
using pins::test::eps_of;
using pins::test::opts;
using pins::test::throws_with;

namespace {

struct Grid {
  int64_t B, nz, ny, nx;
};

// The shape of coefficients [B, K, grid…] and of fields [B, dof, grid…] for stencil s.
std::vector<int64_t> grid_axes(const Stencil& s, const Grid& g) {
  std::vector<int64_t> axes{g.nz, g.ny, g.nx};
  return std::vector<int64_t>(axes.end() - s.dim, axes.end());
}
std::vector<int64_t> coeff_shape(const Stencil& s, const Grid& g) {
  std::vector<int64_t> shape{g.B, s.channels()};
  for (int64_t n : grid_axes(s, g)) shape.push_back(n);
  return shape;
}
std::vector<int64_t> field_shape(const Stencil& s, const Grid& g) {
  std::vector<int64_t> shape{g.B, s.dof};
  for (int64_t n : grid_axes(s, g)) shape.push_back(n);
  return shape;
}

// Random coefficients; the centre couplings of each field to itself dominate. Couplings that
// point out of the grid are random too: the operator must ignore them.
torch::Tensor random_stencil_coeffs(const Stencil& s, const Grid& g, torch::ScalarType dtype) {
  torch::Tensor c = torch::rand(coeff_shape(s, g), torch::kFloat64) - 0.5;
  for (int r = 0; r < s.dof; ++r) c.select(1, s.channel(0, r, r)).add_(2.0 * s.points());
  return c.to(opts(dtype)).contiguous();
}

// The reference on the CPU in float64, shaped like u.
torch::Tensor reference_apply(const Stencil& s, const Grid& g, const torch::Tensor& c,
                              const torch::Tensor& u, const torch::Tensor& f = {}) {
  auto cd = c.to(torch::kCPU, torch::kFloat64).contiguous();
  auto ud = u.to(torch::kCPU, torch::kFloat64).contiguous();
  auto fd = f.defined() ? f.to(torch::kCPU, torch::kFloat64).contiguous() : torch::Tensor();
  auto out = torch::empty_like(ud);
  pins::reference::stencil_apply(s, cd.data_ptr<double>(), ud.data_ptr<double>(),
                                 fd.defined() ? fd.data_ptr<double>() : nullptr,
                                 out.data_ptr<double>(), g.B, g.nz, g.ny, g.nx);
  return out;
}

torch::Tensor reference_transpose(const Stencil& s, const Grid& g, const torch::Tensor& c,
                                  const torch::Tensor& v) {
  auto cd = c.to(torch::kCPU, torch::kFloat64).contiguous();
  auto vd = v.to(torch::kCPU, torch::kFloat64).contiguous();
  auto out = torch::empty_like(vd);
  pins::reference::stencil_apply_transpose(s, cd.data_ptr<double>(), vd.data_ptr<double>(),
                                           out.data_ptr<double>(), g.B, g.nz, g.ny, g.nx);
  return out;
}

// Rounding bound of one row: a few ulps of the sum of |terms| (K·dof terms at most).
double tolerance(const Stencil& s, const torch::Tensor& c, const torch::Tensor& u,
                 torch::ScalarType dtype) {
  const double scale = (c.abs().amax() * u.abs().amax()).item<double>() * s.points() * s.dof;
  return 8.0 * eps_of(dtype) * scale;
}

std::vector<Stencil> all_stencils() {
  std::vector<Stencil> out;
  for (int dim = 1; dim <= 3; ++dim)
    for (auto shape : {StencilShape::kStar, StencilShape::kBox})
      for (int width : {1, 2})
        for (int dof : {1, 2}) out.push_back(Stencil{dim, shape, width, dof});
  return out;
}

// Grids of each dimension, including sizes smaller than the stencil (every point an edge).
std::vector<Grid> grids_for(const Stencil& s) {
  if (s.dim == 1) return {{2, 1, 1, 1}, {1, 1, 1, 3}, {3, 1, 1, 17}};
  if (s.dim == 2) return {{1, 1, 1, 1}, {2, 1, 2, 3}, {2, 1, 7, 5}, {1, 1, 16, 33}};
  return {{1, 1, 1, 1}, {2, 2, 3, 1}, {1, 5, 4, 6}, {2, 6, 7, 9}};
}

}  // namespace

TEST_CASE("stencil offsets follow the documented order") {
  const Stencil five{2, StencilShape::kStar, 1, 1};
  CHECK(five.points() == 5);
  CHECK((five.offsets() == std::vector<std::array<int, 3>>{
                               {0, 0, 0}, {0, 0, -1}, {0, 0, 1}, {0, -1, 0}, {0, 1, 0}}));
  const Stencil seven{3, StencilShape::kStar, 1, 1};
  CHECK((seven.offsets().back() == std::array<int, 3>{1, 0, 0}));
  CHECK(Stencil{2, StencilShape::kBox, 1, 1}.points() == 9);
  CHECK(Stencil{3, StencilShape::kBox, 2, 3}.points() == 125);
  CHECK(Stencil{3, StencilShape::kBox, 2, 3}.channels() == 125 * 9);
  CHECK((Stencil{1, StencilShape::kStar, 2, 1}.offsets() ==
         std::vector<std::array<int, 3>>{{0, 0, 0}, {0, 0, -1}, {0, 0, 1}, {0, 0, -2}, {0, 0, 2}}));
  for (const Stencil& s : all_stencils()) {
    auto o = s.offsets();
    CHECK(int(o.size()) == s.points());
    std::sort(o.begin(), o.end());
    CHECK((std::adjacent_find(o.begin(), o.end()) == o.end()));  // no offset twice
  }
}

TEST_CASE("every stencil shape matches the serial reference: apply, residual, transpose") {
  torch::manual_seed(3);
  for (auto dtype : {torch::kFloat64, torch::kFloat32})
    for (const Stencil& s : all_stencils())
      for (const Grid& g : grids_for(s)) {
        CAPTURE(s.describe());
        CAPTURE(g.nz);
        CAPTURE(g.ny);
        CAPTURE(g.nx);
        CAPTURE(dtype);
        const auto c = random_stencil_coeffs(s, g, dtype);
        const auto u = torch::randn(field_shape(s, g), opts(dtype));
        const auto f = torch::randn(field_shape(s, g), opts(dtype));
        const double tol = tolerance(s, c, u, dtype);
        const auto Au = pins::stencil_apply(s, c, u);
        CHECK((Au.to(torch::kCPU, torch::kFloat64) - reference_apply(s, g, c, u)).abs().max()
                  .item<double>() <= tol);
        const auto r = pins::stencil_residual(s, c, u, f);
        CHECK((r.to(torch::kCPU, torch::kFloat64) - reference_apply(s, g, c, u, f)).abs().max()
                  .item<double>() <= tol + 4 * eps_of(dtype) * f.abs().max().item<double>());
        const auto ATv = pins::stencil_apply_transpose(s, c, f);
        CHECK((ATv.to(torch::kCPU, torch::kFloat64) - reference_transpose(s, g, c, f)).abs().max()
                  .item<double>() <= tolerance(s, c, f, dtype));
      }
}

TEST_CASE("scalar stencils take fields with or without the dof axis") {
  const Stencil s{3, StencilShape::kStar, 1, 1};
  const Grid g{2, 4, 5, 6};
  const auto c = random_stencil_coeffs(s, g, torch::kFloat64);
  const auto u = torch::randn({2, 4, 5, 6}, opts());
  const auto with_axis = pins::stencil_apply(s, c, u.unsqueeze(1).contiguous());
  const auto without = pins::stencil_apply(s, c, u);
  CHECK(without.sizes() == u.sizes());
  CHECK(torch::equal(with_axis.squeeze(1), without));
}

TEST_CASE("the transpose is the adjoint and the coefficient gradient is linear in the stencil") {
  torch::manual_seed(4);
  for (const Stencil& s : all_stencils()) {
    const Grid g = grids_for(s).back();
    CAPTURE(s.describe());
    const auto c = random_stencil_coeffs(s, g, torch::kFloat64);
    const auto u = torch::randn(field_shape(s, g), opts());
    const auto v = torch::randn(field_shape(s, g), opts());
    const double lhs = (pins::stencil_apply(s, c, u) * v).sum().item<double>();
    const double rhs = (u * pins::stencil_apply_transpose(s, c, v)).sum().item<double>();
    CHECK(std::abs(lhs - rhs) <= 1e3 * eps_of(torch::kFloat64) * (std::abs(lhs) + 1));
    // ⟨∂⟨v, A u⟩/∂C, δC⟩ = ⟨v, A(δC) u⟩: out-of-grid couplings count in neither.
    const auto dc = torch::randn(coeff_shape(s, g), opts());
    const double a = (pins::stencil_coefficient_gradient(s, v, u) * dc).sum().item<double>();
    const double b = (v * pins::stencil_apply(s, dc, u)).sum().item<double>();
    CHECK(std::abs(a - b) <= 1e3 * eps_of(torch::kFloat64) * (std::abs(b) + 1));
  }
}

TEST_CASE("autograd gradients of every stencil shape match finite differences") {
  torch::manual_seed(5);
  for (const Stencil& s : all_stencils()) {
    const Grid g = grids_for(s)[1];
    CAPTURE(s.describe());
    auto c = random_stencil_coeffs(s, g, torch::kFloat64).requires_grad_(true);
    auto u = torch::randn(field_shape(s, g), opts()).requires_grad_(true);
    auto f = torch::randn(field_shape(s, g), opts()).requires_grad_(true);
    auto loss = [&](const torch::Tensor& cc, const torch::Tensor& uu, const torch::Tensor& ff) {
      return pins::stencil_residual(s, cc, uu, ff).square().sum();
    };
    const torch::Tensor L = loss(c, u, f);
    L.backward();
    torch::NoGradGuard no_grad;
    // The loss is quadratic in each entry, so central differences are exact but for rounding:
    // each loss evaluation carries about eps·|L| of it, divided by 2h.
    const double h = 1e-6;
    const double rounding = 16 * eps_of(torch::kFloat64) * std::abs(L.item<double>()) / h;
    // A few entries of each input, central differences.
    for (auto* t : {&c, &u, &f}) {
      const auto flat_grad = t->grad().flatten();
      for (int64_t k : {int64_t(0), t->numel() / 2, t->numel() - 1}) {
        auto plus = t->detach().clone(), minus = t->detach().clone();
        plus.view(-1)[k] += h;
        minus.view(-1)[k] -= h;
        const double fd = ((t == &c ? loss(plus, u, f) : t == &u ? loss(c, plus, f) : loss(c, u, plus)) -
                           (t == &c ? loss(minus, u, f) : t == &u ? loss(c, minus, f) : loss(c, u, minus)))
                              .item<double>() / (2 * h);
        CHECK(std::abs(flat_grad[k].item<double>() - fd) <= rounding + 1e-9 * std::abs(fd));
      }
    }
  }
}

TEST_CASE("StencilOperator: shape, diagonal and the losses through the Operator interface") {
  torch::manual_seed(6);
  const Stencil s{2, StencilShape::kBox, 1, 2};
  const Grid g{3, 1, 6, 5};
  const auto c = random_stencil_coeffs(s, g, torch::kFloat64);
  const pins::StencilOperator A(s, c);
  CHECK(A.kind() == "stencil");
  CHECK(A.batch() == 3);
  CHECK((A.field_shape() == std::vector<int64_t>{2, 6, 5}));
  CHECK(A.describe().find("dim=2 box width=1 dof=2") != std::string::npos);
  const auto d = A.diagonal();
  CHECK(d.sizes() == torch::IntArrayRef({3, 2, 6, 5}));
  CHECK(torch::equal(d.select(1, 1), c.select(1, s.channel(0, 1, 1))));
  const auto u = torch::randn({3, 2, 6, 5}, opts());
  const auto f = torch::randn({3, 2, 6, 5}, opts());
  CHECK(torch::equal(A.residual(u, f), pins::stencil_residual(s, c, u, f)));
  // The 5-point API and the Operator API are one implementation.
  const auto c5 = pins::test::random_coeffs(2, 7, 6);
  const pins::StencilOperator A5(Stencil{2, StencilShape::kStar, 1, 1}, c5);
  const auto u5 = torch::randn({2, 7, 6}, opts()), f5 = torch::randn({2, 7, 6}, opts());
  CHECK(torch::equal(pins::residual_loss(A5, u5, f5), pins::residual_loss(c5, u5, f5)));
  CHECK(torch::equal(pins::physics_loss("energy", A5, u5, f5),
                     pins::physics_loss("energy", c5, u5, f5)));
  CHECK(torch::equal(pins::relative_residual(A5, u5, f5), pins::relative_residual(c5, u5, f5)));
  // Scale-free: the per-sample physics loss does not change when u and f scale together.
  CHECK(pins::physics_loss("residual", A, 10 * u, 10 * f).item<double>() ==
        doctest::Approx(pins::physics_loss("residual", A, u, f).item<double>()).epsilon(1e-12));
  // with_values takes any batch of the same stencil and grid: a mini-batch's rows.
  const auto rows = torch::tensor(std::vector<int64_t>{2, 0});
  const auto sub = A.with_values(c.index_select(0, rows).contiguous());
  CHECK(sub->batch() == 2);
  CHECK(torch::equal(sub->residual(u.index_select(0, rows), f.index_select(0, rows)),
                     A.residual(u, f).index_select(0, rows)));
  CHECK(throws_with([&] { A.with_values(c.slice(1, 0, 3).contiguous()); }, "any batch"));
}

TEST_CASE("bad stencils and shapes raise one-line errors naming what was expected") {
  const Stencil s{3, StencilShape::kStar, 1, 2};
  const Grid g{1, 3, 4, 5};
  const auto c = random_stencil_coeffs(s, g, torch::kFloat64);
  const auto u = torch::randn(field_shape(s, g), opts());
  CHECK(throws_with([&] { pins::stencil_apply(Stencil{4, StencilShape::kStar, 1, 1}, c, u); },
                    "dim must be 1, 2 or 3, got 4"));
  CHECK(throws_with([&] { pins::stencil_apply(Stencil{3, StencilShape::kStar, 0, 1}, c, u); },
                    "width must be at least 1"));
  CHECK(throws_with([&] { pins::stencil_apply(Stencil{3, StencilShape::kStar, 1, 0}, c, u); },
                    "dof must be at least 1"));
  CHECK(throws_with([&] { pins::stencil_apply(Stencil{3, StencilShape::kBox, 9, 1}, c, u); },
                    "at most 343"));
  CHECK(throws_with([&] { pins::stencil_apply(s, c.narrow(1, 0, 27).contiguous(), u); },
                    "coeffs must have shape [B, 28, nz, ny, nx]"));
  CHECK(throws_with([&] { pins::stencil_apply(s, c, u.select(1, 0).contiguous()); },
                    "u must have shape [B, dof, nz, ny, nx] = [1, 2, 3, 4, 5]"));
  CHECK(throws_with([&] { pins::stencil_residual(s, c, u, u.narrow(4, 0, 4).contiguous()); },
                    "f must have shape"));
  CHECK(throws_with([&] { pins::StencilOperator(s, c.select(2, 0)); }, "must have 5 axes"));
  CHECK(throws_with([&] { pins::stencil_apply(s, c, u.to(torch::kFloat32)); }, "dtype"));
}
