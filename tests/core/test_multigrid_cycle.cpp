// The fixed multigrid cycle B ≈ A⁻¹ (pins/core/multigrid_cycle.hpp) and the physics losses
// built on it: B is symmetric for a symmetric operator, converges as a solver, makes the
// "preconditioned" loss track the relative error (where the residual loss does not), and its
// gradient matches finite differences.
#include "doctest_torch.hpp"

#include <torch/torch.h>

#include <array>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pins/core/losses.hpp"
#include "pins/core/multigrid_cycle.hpp"
#include "pins/core/stencil_operator.hpp"
#include "src/core/aggregation_3d.hpp"
#include "test_helpers.hpp"

using pins::test::opts;
using pins::test::throws_with;

namespace {

const pins::Stencil kFivePoint{2, pins::StencilShape::kStar, 1, 1};

// Darcy operators on ny × nx grids with a 12/3 two-phase κ (the benchmark's contrast).
pins::StencilOperator darcy(int64_t batch, int64_t ny, int64_t nx, uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor kappa =
      torch::where(torch::rand({batch, ny, nx}, torch::kFloat64) > 0.5, 12.0, 3.0).to(opts());
  return pins::StencilOperator(kFivePoint, pins::darcy::stencil_coefficients(kappa));
}

// 3-D Darcy operators (7-point) on nz × ny × nx grids with a 12/3 two-phase κ.
pins::StencilOperator darcy3d(int64_t batch, int64_t nz, int64_t ny, int64_t nx, uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor kappa =
      torch::where(torch::rand({batch, nz, ny, nx}, torch::kFloat64) > 0.5, 12.0, 3.0).to(opts());
  return pins::StencilOperator({3, pins::StencilShape::kStar, 1, 1},
                               pins::darcy::stencil_coefficients(kappa));
}

// The dense matrices [B, n, n] of a batch of stencil operators, 2-D or 3-D (column j is A e_j).
torch::Tensor dense(const pins::StencilOperator& A) {
  const auto grid = A.values().sizes().slice(2).vec();
  int64_t n = 1;
  for (int64_t s : grid) n *= s;
  std::vector<int64_t> probes{n};
  probes.insert(probes.end(), grid.begin(), grid.end());
  const torch::Tensor eye = torch::eye(n, opts()).view(probes);
  std::vector<int64_t> expand(A.values().dim(), -1);
  expand[0] = n;
  std::vector<torch::Tensor> out;
  for (int64_t b = 0; b < A.batch(); ++b) {
    const auto one = A.with_values(A.values()[b].unsqueeze(0).expand(expand).contiguous());
    out.push_back(one->apply(eye).reshape({n, n}).t());
  }
  return torch::stack(out);
}

double sum_product(const torch::Tensor& a, const torch::Tensor& b) { return (a * b).sum().item<double>(); }

}  // namespace

TEST_CASE("the multigrid cycle is symmetric for a symmetric operator, on odd and even grids") {
  for (auto [ny, nx] : {std::pair<int64_t, int64_t>{32, 32}, {37, 29}}) {
    CAPTURE(ny);
    const auto A = darcy(2, ny, nx, 3);
    const pins::MultigridCycle B(A);
    CHECK(B.levels().size() >= 3);
    const torch::Tensor x = torch::randn({2, ny, nx}, opts());
    const torch::Tensor y = torch::randn({2, ny, nx}, opts());
    const double xBy = sum_product(x, B.apply(y)), yBx = sum_product(y, B.apply(x));
    CHECK(std::abs(xBy - yBx) <= 1e-12 * std::abs(xBy));
    CHECK(sum_product(x, B.apply(x)) > 0);  // and positive: a norm
  }
}

TEST_CASE("the multigrid cycle solves: each V-cycle cuts the error by a fixed factor") {
  const auto A = darcy(2, 24, 24, 5);
  const torch::Tensor M = dense(A);
  const torch::Tensor f = torch::randn({2, 24, 24}, opts());
  const torch::Tensor u = torch::linalg_solve(M, f.view({2, -1, 1})).view({2, 24, 24});
  const pins::MultigridCycle B(A);
  auto error = [&](int k) {
    return (torch::norm(B.refine(torch::zeros_like(f), f, k) - u) / torch::norm(u)).item<double>();
  };
  const double e1 = error(1), e6 = error(6);
  INFO("errors after 1 and 6 cycles: " << e1 << ", " << e6);
  CHECK(e1 < 0.3);
  CHECK(e6 < 1e-4);          // ≤ 0.2 per cycle for this 1:4 contrast
  CHECK(torch::equal(B.refine(u, f, 0), u));
  CHECK(throws_with([&] { B.refine(u, f, -1); }, "must be 0 or more, got -1"));
}

TEST_CASE("the preconditioned loss tracks the relative error; the residual loss does not") {
  const auto A = darcy(1, 32, 32, 7);
  const torch::Tensor M = dense(A);
  const torch::Tensor f = torch::ones({1, 32, 32}, opts());
  const torch::Tensor u = torch::linalg_solve(M, f.view({1, -1, 1})).view({1, 32, 32});
  // A smooth and a rough error of the same size (1 % of u).
  const torch::Tensor xs = torch::linspace(0, 1, 32, opts());
  const torch::Tensor smooth = torch::outer(torch::sin(M_PI * xs), torch::sin(M_PI * xs)).unsqueeze(0);
  const torch::Tensor rough = torch::randn({1, 32, 32}, opts());
  double pre[2], res[2];
  int i = 0;
  for (const torch::Tensor& shape : {smooth, rough}) {
    const torch::Tensor e = shape * (0.01 * torch::norm(u) / torch::norm(shape));
    const double rel2 = std::pow(0.01, 2);
    pre[i] = pins::physics_loss("preconditioned", A, u + e, f).item<double>() / rel2;
    res[i] = pins::physics_loss("residual", A, u + e, f).item<double>() / rel2;
    ++i;
  }
  INFO("loss / relative error²: preconditioned " << pre[0] << ", " << pre[1] << "; residual "
                                                 << res[0] << ", " << res[1]);
  for (double p : pre) CHECK((p > 0.5 && p < 1.5));
  CHECK(res[1] / res[0] > 100);  // the residual loss weights rough errors far more
}

TEST_CASE("the preconditioned loss's gradient matches finite differences") {
  const auto A = darcy(2, 12, 10, 9);
  const torch::Tensor f = torch::randn({2, 12, 10}, opts());
  const torch::Tensor u = torch::randn({2, 12, 10}, opts()).requires_grad_(true);
  const torch::Tensor d = torch::randn({2, 12, 10}, opts());
  for (int cycles : {1, 2}) {
    CAPTURE(cycles);
    auto loss = [&](const torch::Tensor& v) {
      return pins::physics_loss("preconditioned", A, v, f, cycles);
    };
    const torch::Tensor g = torch::autograd::grad({loss(u)}, {u})[0];
    const double h = 1e-6;
    torch::NoGradGuard no_grad;
    const double fd =
        (loss(u + h * d).item<double>() - loss(u - h * d).item<double>()) / (2 * h);
    const double ad = sum_product(g, d);
    CHECK(std::abs(fd - ad) <= 1e-6 * std::abs(ad));
  }
}

TEST_CASE("symmetry_defect tells symmetric operators from others") {
  CHECK(pins::symmetry_defect(darcy(2, 9, 7, 1)) < 1e-14);
  const pins::StencilOperator upwind(kFivePoint, pins::test::random_coeffs(2, 9, 7));
  CHECK(pins::symmetry_defect(upwind) > 1e-3);
}

TEST_CASE("the multigrid cycle refuses operators and settings it cannot serve") {
  const pins::StencilOperator box27({3, pins::StencilShape::kBox, 1, 1},
                                    torch::ones({1, 27, 4, 4, 4}, opts()));
  CHECK(throws_with([&] { pins::MultigridCycle B(box27); },
                    "no multigrid cycle for this operator: the operator is a stencil dim=3 box"));
  CHECK(pins::MultigridCycle::unsupported(darcy(1, 8, 8, 1)).empty());
  CHECK(pins::MultigridCycle::unsupported(darcy3d(1, 4, 4, 4, 1)).empty());
  CHECK(throws_with([&] { pins::physics_loss("preconditioned", box27, torch::ones({1, 4, 4, 4}, opts()),
                                             torch::ones({1, 4, 4, 4}, opts())); },
                    "stencil dim=3 box"));
  pins::MultigridSettings bad;
  bad.omega = 2.5;
  CHECK(throws_with([&] { pins::MultigridCycle B(darcy(1, 8, 8, 1), bad); },
                    "omega must be in (0, 2), got 2.5"));
  const pins::MultigridCycle B(darcy(1, 8, 8, 1));
  CHECK(throws_with([&] { B.apply(torch::ones({1, 8, 9}, opts())); }, "must be [B, 8, 8]"));
  CHECK(throws_with([&] { pins::physics_loss("h1", darcy(1, 8, 8, 1), torch::ones({1, 8, 8}, opts()),
                                             torch::ones({1, 8, 8}, opts())); },
                    "residual, energy or preconditioned, got 'h1'"));
}

// ---- 3-D: aggregation multigrid for 7-point operators ----

TEST_CASE("3-D: the aggregation cycle is symmetric positive, its coarse operators are P'AP") {
  for (auto g : {std::array<int64_t, 3>{16, 16, 16}, std::array<int64_t, 3>{11, 9, 14}}) {
    CAPTURE(g[0]);
    const auto A = darcy3d(2, g[0], g[1], g[2], 3);
    const pins::MultigridCycle B(A);
    const auto levels = B.levels();
    CHECK(levels.size() >= 3);
    CHECK(levels[1] == std::vector<int64_t>{(g[0] + 1) / 2, (g[1] + 1) / 2, (g[2] + 1) / 2});
    const torch::Tensor x = torch::randn({2, g[0], g[1], g[2]}, opts());
    const torch::Tensor y = torch::randn({2, g[0], g[1], g[2]}, opts());
    const double xBy = sum_product(x, B.apply(y)), yBx = sum_product(y, B.apply(x));
    CHECK(std::abs(xBy - yBx) <= 1e-12 * std::abs(xBy));
    CHECK(sum_product(x, B.apply(x)) > 0);
  }
  // On a 5 x 3 x 4 grid the Galerkin operator equals P'AP formed densely, with P the
  // piecewise-constant prolongation (odd sides: the last aggregate holds one layer).
  const auto A = darcy3d(1, 5, 3, 4, 8);
  const int64_t n = 5 * 3 * 4, nc = 3 * 2 * 2;
  torch::Tensor P = torch::zeros({n, nc}, opts());
  for (int64_t z = 0; z < 5; ++z)
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 4; ++x)
        P[(z * 3 + y) * 4 + x][((z / 2) * 2 + y / 2) * 2 + x / 2] = 1.0;
  const torch::Tensor coarse = torch::matmul(P.t(), torch::matmul(dense(A)[0], P));
  const torch::Tensor cc = dense(pins::StencilOperator(
      {3, pins::StencilShape::kStar, 1, 1},
      pins::agg3d::galerkin(pins::agg3d::without_outside_couplings(A.values()))))[0];
  CHECK(torch::allclose(cc, coarse, 1e-13, 1e-10));
}

TEST_CASE("3-D: V-cycles of the aggregation multigrid solve 12/3 Darcy at a steady rate") {
  const auto A = darcy3d(2, 12, 12, 12, 5);
  const torch::Tensor M = dense(A);
  const torch::Tensor f = torch::randn({2, 12, 12, 12}, opts());
  const torch::Tensor u = torch::linalg_solve(M, f.view({2, -1, 1})).view({2, 12, 12, 12});
  const pins::MultigridCycle B(A);
  auto error = [&](int k) {
    return (torch::norm(B.refine(torch::zeros_like(f), f, k) - u) / torch::norm(u)).item<double>();
  };
  const double e1 = error(1), e10 = error(10);
  INFO("errors after 1 and 10 cycles: " << e1 << ", " << e10);
  CHECK(e1 < 0.5);
  CHECK(e10 < 1e-3);
}

TEST_CASE("3-D: the preconditioned loss's gradient matches finite differences") {
  const auto A = darcy3d(2, 6, 5, 7, 9);
  const torch::Tensor f = torch::randn({2, 6, 5, 7}, opts());
  const torch::Tensor u = torch::randn({2, 6, 5, 7}, opts()).requires_grad_(true);
  const torch::Tensor d = torch::randn({2, 6, 5, 7}, opts());
  auto loss = [&](const torch::Tensor& v) { return pins::physics_loss("preconditioned", A, v, f); };
  const torch::Tensor g = torch::autograd::grad({loss(u)}, {u})[0];
  const double h = 1e-6;
  torch::NoGradGuard no_grad;
  const double fd = (loss(u + h * d).item<double>() - loss(u - h * d).item<double>()) / (2 * h);
  const double ad = sum_product(g, d);
  CHECK(std::abs(fd - ad) <= 1e-6 * std::abs(ad));
}

