// The nonlinear Darcy family's core pieces: the Kokkos residual F(u) against its serial
// reference and against the linear Darcy operator when k ≡ 1, its autograd adjoint against
// finite differences (float64), and the family interface (nonlinear(), residual(),
// with_parameters, the residual physics loss).
#include "doctest_torch.hpp"

#include <array>
#include <cmath>
#include <limits>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pde/nonlinear_darcy/nonlinear_darcy_family.hpp"
#include "pde/nonlinear_darcy/nonlinear_darcy_kernels.hpp"
#include "pins/core/family.hpp"
#include "pins/core/losses.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/stencil_operator.hpp"
#include "test_helpers.hpp"

using pins::nonlinear_darcy::Conductivity;
using pins::test::opts;
using pins::test::throws_with;

namespace {

const double kEps = std::numeric_limits<double>::epsilon();

// Threshold κ ∈ {3, 12}, a positive f, and u of size O(1) (where k(u) matters).
struct Inputs {
  torch::Tensor kappa, f, u;
};
Inputs random_inputs(int64_t B, int64_t ny, int64_t nx, torch::ScalarType dtype = torch::kFloat64) {
  torch::manual_seed(1234);
  Inputs in;
  in.kappa =
      torch::where(torch::rand({B, ny, nx}, torch::kFloat64) > 0.5, 12.0, 3.0).to(opts(dtype));
  in.f = (50 + 50 * torch::rand({B, ny, nx}, torch::kFloat64)).to(opts(dtype));
  in.u = torch::randn({B, ny, nx}, torch::kFloat64).to(opts(dtype));
  return in;
}

const Conductivity kQuadratic{0, 1.0};
const Conductivity kExp{1, 0.7};

}  // namespace

TEST_CASE("nonlinear_darcy residual: the Kokkos kernel equals its serial reference") {
  for (const Conductivity& k : {kQuadratic, kExp}) {
    for (auto shape : {std::array<int64_t, 3>{2, 9, 7}, std::array<int64_t, 3>{1, 3, 3},
                       std::array<int64_t, 3>{3, 16, 24}}) {
      CAPTURE(k.kind);
      const Inputs in = random_inputs(shape[0], shape[1], shape[2]);
      const torch::Tensor F = pins::nonlinear_darcy::residual(k, in.kappa, in.f, in.u);
      const torch::Tensor ref = pins::nonlinear_darcy::residual_reference(k, in.kappa, in.f, in.u);
      const torch::Tensor m = pins::nonlinear_darcy::residual_magnitude(k, in.kappa, in.f, in.u);
      // The same operations in the same order: rounding bound 10 eps of the terms' size.
      CHECK((F.cpu() - ref).abs().le(10 * kEps * m.cpu()).all().item<bool>());
      CHECK(F.abs().max().item<double>() > 1.0);  // not trivially zero
      // The adjoint kernel, likewise.
      const torch::Tensor g = torch::randn(in.u.sizes(), opts());
      const torch::Tensor JTg = pins::nonlinear_darcy::residual_adjoint(k, in.kappa, in.u, g);
      const torch::Tensor JTg_ref =
          pins::nonlinear_darcy::residual_adjoint_reference(k, in.kappa, in.u, g);
      const double scale = JTg_ref.abs().max().item<double>();
      CHECK((JTg.cpu() - JTg_ref).abs().max().item<double>() <= 64 * kEps * scale);
    }
  }
}

TEST_CASE("nonlinear_darcy residual with k = 1 is the linear Darcy residual A u - f") {
  const Inputs in = random_inputs(2, 11, 13);
  const Conductivity one{1, 0.0};  // exp(0 u) = 1
  const torch::Tensor F = pins::nonlinear_darcy::residual(one, in.kappa, in.f, in.u);
  const pins::StencilOperator A(pins::Stencil{2, pins::StencilShape::kStar, 1, 1},
                                pins::darcy::stencil_coefficients(in.kappa));
  const torch::Tensor r = A.residual(in.u, in.f);
  const torch::Tensor m = pins::nonlinear_darcy::residual_magnitude(one, in.kappa, in.f, in.u);
  CHECK((F - r).abs().le(10 * kEps * m).all().item<bool>());
  // And k(u) = 1 + u² is not: the check above has teeth.
  const torch::Tensor Fq = pins::nonlinear_darcy::residual(kQuadratic, in.kappa, in.f, in.u);
  CHECK((Fq - r).abs().max().item<double>() > 1.0);
}

TEST_CASE("nonlinear_darcy residual: autograd gradient matches finite differences (float64)") {
  for (const Conductivity& k : {kQuadratic, kExp}) {
    CAPTURE(k.kind);
    Inputs in = random_inputs(2, 6, 5);
    in.u = (0.5 * in.u).detach();
    const torch::Tensor w = torch::randn(in.u.sizes(), opts());  // L(u, f) = ⟨w, F(u, f)⟩
    const torch::Tensor u = in.u.clone().requires_grad_(true);
    const torch::Tensor f = in.f.clone().requires_grad_(true);
    (w * pins::nonlinear_darcy::residual(k, in.kappa, f, u)).sum().backward();
    const torch::Tensor v = torch::randn(in.u.sizes(), opts());
    auto L = [&](const torch::Tensor& uu, const torch::Tensor& ff) {
      torch::NoGradGuard no_grad;
      return (w * pins::nonlinear_darcy::residual(k, in.kappa, ff, uu)).sum().item<double>();
    };
    // Central differences: error O(h²) + rounding eps |L| / h; h = 1e-5 balances them.
    const double h = 1e-5;
    const double fd_u = (L(in.u + h * v, in.f) - L(in.u - h * v, in.f)) / (2 * h);
    const double ad_u = (u.grad() * v).sum().item<double>();
    CHECK(std::abs(fd_u - ad_u) <= 1e-6 * std::abs(ad_u));
    const double fd_f = (L(in.u, in.f + h * v) - L(in.u, in.f - h * v)) / (2 * h);
    const double ad_f = (f.grad() * v).sum().item<double>();
    CHECK(std::abs(fd_f - ad_f) <= 1e-6 * std::abs(ad_f));
    CHECK(ad_f == doctest::Approx(-(w * v).sum().item<double>()));
    // κ is not differentiated: no gradient flows to it.
    const torch::Tensor kappa = in.kappa.clone().requires_grad_(true);
    pins::nonlinear_darcy::residual(k, kappa, in.f, u).sum().backward();
    CHECK(!kappa.grad().defined());
  }
}

TEST_CASE("nonlinear_darcy residual: float32 agrees with float64 and bad inputs are refused") {
  const Inputs in = random_inputs(1, 8, 8);
  const torch::Tensor F64 = pins::nonlinear_darcy::residual(kQuadratic, in.kappa, in.f, in.u);
  const torch::Tensor F32 = pins::nonlinear_darcy::residual(
      kQuadratic, in.kappa.to(torch::kFloat32), in.f.to(torch::kFloat32), in.u.to(torch::kFloat32));
  const bool is_float32 = F32.scalar_type() == torch::kFloat32;
  CHECK(is_float32);
  const torch::Tensor m =
      pins::nonlinear_darcy::residual_magnitude(kQuadratic, in.kappa, in.f, in.u);
  // Inputs rounded to float32 (relative 2⁻²⁴ each), a few per term: 16 float32 eps.
  const double eps32 = std::numeric_limits<float>::epsilon();
  CHECK((F32.to(torch::kFloat64) - F64).abs().le(16 * eps32 * m).all().item<bool>());
  CHECK(throws_with([&] { pins::nonlinear_darcy::residual(kQuadratic, in.kappa, in.f, in.u[0]); },
                    "u must have shape [B, ny, nx]"));
  CHECK(throws_with(
      [&] {
        pins::nonlinear_darcy::residual(kQuadratic, in.kappa, in.f.to(torch::kFloat32), in.u);
      },
      "f must have kappa's dtype"));
  CHECK(throws_with([&] { pins::nonlinear_darcy::make_conductivity("cubic", 1.0); },
                    "-nonlinearity must be quadratic"));
  CHECK(throws_with([&] { pins::nonlinear_darcy::make_conductivity("exp", NAN); },
                    "-nonlinearity_beta must be finite"));
}

TEST_CASE("the nonlinear_darcy family: residual hook, parameters, physics loss") {
  const pins::Family& fam = pins::find_family("nonlinear_darcy");
  CHECK(fam.nonlinear());
  CHECK(!pins::find_family("darcy").nonlinear());
  const Inputs in = random_inputs(2, 10, 12);
  const pins::FieldMap fields{{"kappa", in.kappa}, {"f", in.f}};
  // The registered family is k(u) = 1 + u²; parameters select exp(β u).
  CHECK(torch::equal(fam.residual(fields, in.u),
                     pins::nonlinear_darcy::residual(kQuadratic, in.kappa, in.f, in.u)));
  const auto exp_family = pins::family_for(
      "nonlinear_darcy", {{"nonlinearity", "exp"}, {"nonlinearity_beta", "0.69999999999999996"}});
  CHECK(torch::equal(exp_family->residual(fields, in.u),
                     pins::nonlinear_darcy::residual(kExp, in.kappa, in.f, in.u)));
  CHECK(throws_with(
      [&] {
        pins::family_for("nonlinear_darcy", {{"nonlinearity", "cubic"}});
      },
      "-nonlinearity must be quadratic"));
  // The default hook of a linear family is A u − f; its relative residual ‖F(u)‖/‖F(0)‖.
  const pins::Family& darcy = pins::find_family("darcy");
  const pins::OperatorPtr A = darcy.make_operator(fields);
  CHECK(torch::equal(darcy.residual(fields, in.u), A->residual(in.u, in.f)));
  CHECK(torch::allclose(darcy.relative_residual(fields, in.u),
                        pins::relative_residual(*A, in.u, in.f), 4 * kEps, 0));
  CHECK(pins::family_for("darcy", {{"nonlinearity", "cubic"}}).get() == &darcy);
  // F(0) = −f, so the relative residual of u = 0 is 1.
  CHECK(torch::allclose(fam.relative_residual(fields, torch::zeros_like(in.u)),
                        torch::ones({2}, opts()), 4 * kEps, 0));
  // The residual physics loss through the hook: for a linear family it is the trainer's
  // physics_loss("residual"); it is differentiable in u through the adjoint kernel.
  const torch::Tensor lin =
      pins::scaled_residual_loss(darcy.residual(fields, in.u), A->diagonal(), in.f);
  CHECK(lin.item<double>() ==
        doctest::Approx(pins::physics_loss("residual", *A, in.u, in.f).item<double>())
            .epsilon(1e-12));
  const torch::Tensor u = in.u.clone().requires_grad_(true);
  pins::scaled_residual_loss(fam.residual(fields, u), A->diagonal(), in.f).backward();
  CHECK(u.grad().defined());
  CHECK(u.grad().abs().max().item<double>() > 0);
}
