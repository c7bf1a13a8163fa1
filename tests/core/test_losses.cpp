// Physics-loss terms built on the stencil operator.
#include "doctest_torch.hpp"

#include "pins/core/losses.hpp"
#include "pins/core/stencil.hpp"
#include "pde/darcy/darcy_coefficients.hpp"
#include "test_helpers.hpp"

using pins::test::random_coeffs;
using pins::test::opts;
using pins::test::throws_with;

TEST_CASE("residual_loss is the mean squared (optionally diagonally scaled) residual") {
  torch::manual_seed(10);
  auto c = random_coeffs(3, 6, 7);
  auto u = torch::randn({3, 6, 7}, opts());
  auto f = torch::randn({3, 6, 7}, opts());
  auto r = pins::stencil_residual(c, u, f);
  CHECK(pins::residual_loss(c, u, f).item<double>() ==
        doctest::Approx(r.square().mean().item<double>()).epsilon(1e-14));
  auto rs = r / c.select(1, 0);
  CHECK(pins::residual_loss(c, u, f, pins::ResidualScaling::kDiagonal).item<double>() ==
        doctest::Approx(rs.square().mean().item<double>()).epsilon(1e-14));
}

TEST_CASE("residual_loss gradient in u is 2/n A^T r") {
  torch::manual_seed(11);
  auto c = random_coeffs(2, 5, 5);
  auto u = torch::randn({2, 5, 5}, opts()).requires_grad_();
  auto f = torch::randn({2, 5, 5}, opts());
  pins::residual_loss(c, u, f).backward();
  auto r = pins::stencil_residual(c, u.detach(), f);
  auto expected = pins::stencil_apply_transpose(c, r) * (2.0 / r.numel());
  CHECK(torch::allclose(u.grad(), expected, 1e-12, 1e-14));
}

TEST_CASE("energy_loss: value and gradient A u - f for a symmetric operator") {
  torch::manual_seed(12);
  auto kappa = torch::rand({2, 8, 8}, opts()) + 0.5;
  auto c = pins::darcy::stencil_coefficients(kappa);  // symmetric positive definite
  auto u = torch::randn({2, 8, 8}, opts()).requires_grad_();
  auto f = torch::randn({2, 8, 8}, opts());
  auto e = pins::energy_loss(c, u, f);
  auto Au = pins::stencil_apply(c, u.detach());
  const double expected =
      ((0.5 * u.detach() * Au - f * u.detach()).sum({1, 2})).mean().item<double>();
  CHECK(e.item<double>() == doctest::Approx(expected).epsilon(1e-13));
  e.backward();
  // d/du of mean_b(½ uᵀAu − fᵀu) = (A u − f) / B for symmetric A.
  CHECK(torch::allclose(u.grad(), (Au - f) / 2.0, 1e-11, 1e-11));
}

TEST_CASE("loss terms reject bad inputs") {
  auto c = random_coeffs(1, 4, 4);
  auto u = torch::randn({1, 4, 4}, opts());
  CHECK(throws_with([&] { pins::energy_loss(c, u, torch::Tensor()); }, "f is an undefined"));
  CHECK(throws_with([&] { pins::residual_loss(c, u, torch::randn({1, 4, 5}, opts())); },
                    "f must have shape"));
}
