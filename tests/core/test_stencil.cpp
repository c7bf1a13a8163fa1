// The Kokkos stencil operator against the serial reference, its adjoint and gradients.
#include "doctest_torch.hpp"

#include "pins/core/stencil.hpp"
#include "pins/core/stencil_reference.hpp"
#include "test_helpers.hpp"

using pins::test::eps_of;
using pins::test::opts;
using pins::test::random_coeffs;
using pins::test::reference_apply;
using pins::test::row_tolerance;
using pins::test::throws_with;

namespace {

torch::Tensor reference_transpose(const torch::Tensor& c, const torch::Tensor& v) {
  auto cd = c.to(torch::kCPU, torch::kFloat64).contiguous();
  auto vd = v.to(torch::kCPU, torch::kFloat64).contiguous();
  auto out = torch::empty_like(vd);
  pins::reference::stencil_apply_transpose(cd.data_ptr<double>(), vd.data_ptr<double>(),
                                           out.data_ptr<double>(), v.size(0), v.size(1),
                                           v.size(2));
  return out.to(v.device());
}

struct Shape {
  int64_t B, ny, nx;
};
const Shape kShapes[] = {{1, 1, 1}, {1, 1, 5}, {2, 5, 1}, {1, 2, 2},
                         {3, 7, 5}, {2, 16, 16}, {1, 33, 17}};

}  // namespace

TEST_CASE("stencil_apply and stencil_residual match the serial reference") {
  torch::manual_seed(1);
  for (auto dtype : {torch::kFloat64, torch::kFloat32})
    for (const Shape& s : kShapes) {
      CAPTURE(s.B);
      CAPTURE(s.ny);
      CAPTURE(s.nx);
      auto c = random_coeffs(s.B, s.ny, s.nx, dtype);
      auto u = torch::randn({s.B, s.ny, s.nx}, opts(dtype));
      auto f = torch::randn({s.B, s.ny, s.nx}, opts(dtype));
      const double tol = row_tolerance(c.select(1, 0), u, dtype);
      auto Au = pins::stencil_apply(c, u);
      const bool same_dtype = Au.scalar_type() == dtype;  // (c10::toString confuses doctest)
      CHECK(same_dtype);
      CHECK((Au.to(torch::kFloat64) - reference_apply(c, u)).abs().max().item<double>() <=
            tol);
      auto r = pins::stencil_residual(c, u, f);
      CHECK((r.to(torch::kFloat64) - reference_apply(c, u, f)).abs().max().item<double>() <=
            tol + 2 * eps_of(dtype) * f.abs().max().item<double>());
    }
}

TEST_CASE("stencil_apply_transpose is the adjoint: matches reference and <v, A u> = <A^T v, u>") {
  torch::manual_seed(2);
  for (const Shape& s : kShapes) {
    CAPTURE(s.ny);
    CAPTURE(s.nx);
    auto c = random_coeffs(s.B, s.ny, s.nx);
    auto u = torch::randn({s.B, s.ny, s.nx}, opts());
    auto v = torch::randn({s.B, s.ny, s.nx}, opts());
    auto ATv = pins::stencil_apply_transpose(c, v);
    const double tol = row_tolerance(c.select(1, 0), v, torch::kFloat64);
    CHECK((ATv - reference_transpose(c, v)).abs().max().item<double>() <= tol);
    const double lhs = (v * pins::stencil_apply(c, u)).sum().item<double>();
    const double rhs = (ATv * u).sum().item<double>();
    CHECK(std::abs(lhs - rhs) <= 64 * eps_of(torch::kFloat64) * u.numel() *
                                     c.select(1, 0).abs().max().item<double>() * 10);
  }
}

TEST_CASE("residual gradients agree with central finite differences (float64)") {
  // L = <w, A(c) u - f> is bilinear in (c, u) and linear in f, so a central difference
  // along any direction is exact up to rounding: compare with the analytic directional
  // derivative <grad, d> for random directions d in all three inputs.
  torch::manual_seed(3);
  for (const Shape& s : {Shape{2, 6, 5}, Shape{1, 9, 9}, Shape{1, 1, 4}}) {
    auto c = random_coeffs(s.B, s.ny, s.nx).requires_grad_();
    auto u = torch::randn({s.B, s.ny, s.nx}, opts()).requires_grad_();
    auto f = torch::randn({s.B, s.ny, s.nx}, opts()).requires_grad_();
    auto w = torch::randn({s.B, s.ny, s.nx}, opts());
    // A non-linear head, so the upstream gradient is not constant: L = sum(w * r^2) / 2.
    auto loss_of = [&](const torch::Tensor& cc, const torch::Tensor& uu, const torch::Tensor& ff) {
      auto r = pins::stencil_residual(cc, uu, ff);
      return (0.5 * w * r * r).sum();
    };
    loss_of(c, u, f).backward();
    auto dc = torch::randn_like(c), du = torch::randn_like(u), df = torch::randn_like(f);
    // Out-of-grid coefficients have no effect: their gradient must be exactly zero.
    auto gc = c.grad();
    CHECK(gc.select(1, 1).select(2, 0).abs().max().item<double>() == 0.0);
    CHECK(gc.select(1, 4).select(1, s.ny - 1).abs().max().item<double>() == 0.0);
    const double analytic = (gc * dc).sum().item<double>() + (u.grad() * du).sum().item<double>() +
                            (f.grad() * df).sum().item<double>();
    torch::NoGradGuard ng;
    const double h = 1e-5;  // L is quartic along d: O(h^2) truncation, O(eps/h) rounding
    const double lp = loss_of(c + h * dc, u + h * du, f + h * df).item<double>();
    const double lm = loss_of(c - h * dc, u - h * du, f - h * df).item<double>();
    const double fd = (lp - lm) / (2 * h);
    CHECK(std::abs(fd - analytic) <= 1e-6 * std::max(1.0, std::abs(analytic)));
  }
}

TEST_CASE("per-input gradients equal the adjoint formulas exactly") {
  torch::manual_seed(4);
  auto c = random_coeffs(2, 8, 7).requires_grad_();
  auto u = torch::randn({2, 8, 7}, opts()).requires_grad_();
  auto f = torch::randn({2, 8, 7}, opts()).requires_grad_();
  auto g = torch::randn({2, 8, 7}, opts());
  pins::stencil_residual(c, u, f).backward(g);
  CHECK(torch::allclose(u.grad(), pins::stencil_apply_transpose(c.detach(), g)));
  CHECK(torch::allclose(c.grad(), pins::stencil_coefficient_gradient(g, u.detach())));
  CHECK(torch::equal(f.grad(), -g));
}

TEST_CASE("a batch of B equals B single calls, forward and backward") {
  torch::manual_seed(5);
  const int64_t B = 4;
  auto c = random_coeffs(B, 10, 12);
  auto u = torch::randn({B, 10, 12}, opts());
  auto f = torch::randn({B, 10, 12}, opts());
  auto g = torch::randn({B, 10, 12}, opts());
  auto cb = c.clone().requires_grad_(), ub = u.clone().requires_grad_();
  auto rb = pins::stencil_residual(cb, ub, f);
  rb.backward(g);
  for (int64_t b = 0; b < B; ++b) {
    auto cs = c.slice(0, b, b + 1).clone().requires_grad_();
    auto us = u.slice(0, b, b + 1).clone().requires_grad_();
    auto rs = pins::stencil_residual(cs, us, f.slice(0, b, b + 1).contiguous());
    rs.backward(g.slice(0, b, b + 1).contiguous());
    CHECK(torch::equal(rs.detach(), rb.detach().slice(0, b, b + 1)));
    CHECK(torch::equal(us.grad(), ub.grad().slice(0, b, b + 1)));
    CHECK(torch::equal(cs.grad(), cb.grad().slice(0, b, b + 1)));
  }
}

TEST_CASE("gradients flow through a broadcast upstream gradient (mean)") {
  auto c = random_coeffs(2, 5, 5);
  auto u = torch::randn({2, 5, 5}, opts()).requires_grad_();
  pins::stencil_apply(c, u).mean().backward();  // mean's backward is an expanded view
  auto ones = torch::full({2, 5, 5}, 1.0 / 50, opts());
  CHECK(torch::allclose(u.grad(), pins::stencil_apply_transpose(c, ones)));
}

TEST_CASE("bad inputs raise clear errors") {
  auto c = random_coeffs(2, 4, 4);
  auto u = torch::randn({2, 4, 4}, opts());
  CHECK(throws_with([&] { pins::stencil_apply(c.slice(1, 0, 4), u); }, "[B, 5, ny, nx]"));
  CHECK(throws_with([&] { pins::stencil_apply(c, u.slice(2, 0, 3).contiguous()); },
                    "u must have shape [B, ny, nx] = [2, 4, 4]"));
  CHECK(throws_with([&] { pins::stencil_apply(c, u.to(torch::kFloat32)); }, "dtype"));
  CHECK(throws_with([&] { pins::stencil_apply(c.to(torch::kInt32), u.to(torch::kInt32)); },
                    "float32 or float64"));
  CHECK(throws_with([&] { pins::stencil_apply(c, u.transpose(1, 2)); }, "contiguous"));
  CHECK(throws_with([&] { pins::stencil_apply(c.transpose(2, 3), u); }, "contiguous"));
  CHECK(throws_with([&] { pins::stencil_residual(c, u, torch::Tensor()); }, "f is an undefined"));
  CHECK(throws_with([&] { pins::stencil_residual(c, u, u.slice(0, 0, 1).contiguous()); },
                    "f must have shape"));
  CHECK(throws_with([&] { pins::stencil_apply(torch::Tensor(), u); }, "undefined"));
}
