// Problem families in pins::core: the built-in Darcy family through the interface, and a
// family registered from outside pins (a 3-D 7-point Poisson problem written here, as a PDE
// code would), including the default solution scale and the refusals.
#include "doctest_torch.hpp"

#include <torch/torch.h>

#include "pins/core/family.hpp"
#include "pins/core/losses.hpp"
#include "pins/core/stencil.hpp"
#include "test_helpers.hpp"

using pins::test::opts;
using pins::test::throws_with;

namespace {

// −∇·(κ∇u) = f on (0,1)³, u = 0 on the boundary, cell-centred with arithmetic face means:
// a user's own 3-D family, as small as it can be.
class Poisson3D final : public pins::Family {
 public:
  std::string name() const override { return "test_poisson3d"; }
  std::string summary() const override { return "-div(kappa grad u) = f on (0,1)^3"; }
  pins::Stencil stencil() const override { return {3, pins::StencilShape::kStar, 1, 1}; }
  std::vector<pins::InputField> inputs() const override {
    return {{"kappa", pins::FieldTransform::kLogStandardise, "conductivity"},
            {"f", pins::FieldTransform::kScale, "source"}};
  }
  pins::OperatorPtr make_operator(const pins::FieldMap& in) const override {
    check_inputs(in, "test_poisson3d operator");
    const torch::Tensor k = in.at("kappa");  // [B, n, n, n]
    const int64_t n = k.size(1);
    const double h2 = double(n) * double(n);
    torch::Tensor c = torch::zeros({k.size(0), 7, n, n, n}, k.options());
    // Offsets C, W, E, S, N, down, up: faces along x (axis 3), y (axis 2), z (axis 1).
    const int axes[6] = {3, 3, 2, 2, 1, 1};
    const int sides[6] = {-1, 1, -1, 1, -1, 1};
    for (int p = 0; p < 6; ++p) {
      // κ of the neighbour (the cell itself outside the grid: a wall at distance h/2 → 2κ).
      const torch::Tensor nb = torch::roll(k, -sides[p], axes[p]);
      torch::Tensor face = 0.5 * (k + nb);
      const int64_t edge = sides[p] < 0 ? 0 : n - 1;
      face.select(axes[p], edge).copy_(2 * k.select(axes[p], edge));
      c.select(1, 1 + p).copy_(-face * h2);
      c.select(1, 0).add_(face * h2);
    }
    return std::make_shared<pins::StencilOperator>(stencil(), c.contiguous());
  }
  torch::Tensor rhs(const pins::FieldMap& in) const override { return in.at("f"); }
};

}  // namespace

TEST_CASE("the built-in Darcy family reaches its operator through the interface") {
  const pins::Family& darcy = pins::find_family("darcy");
  CHECK(darcy.input_names() == "kappa, f");
  CHECK(darcy.stencil() == pins::Stencil{2, pins::StencilShape::kStar, 1, 1});
  const auto kappa = 1 + torch::rand({2, 6, 5}, opts());
  const auto f = torch::ones({2, 6, 5}, opts());
  const pins::OperatorPtr A = darcy.make_operator({{"kappa", kappa}, {"f", f}});
  CHECK(A->field_shape() == std::vector<int64_t>{6, 5});
  CHECK(torch::equal(darcy.rhs({{"kappa", kappa}, {"f", f}}), f));
  const auto u = torch::randn({2, 6, 5}, opts());
  CHECK(torch::equal(A->residual(u, f), pins::stencil_residual(A->values(), u, f)));
  CHECK(throws_with([&] { darcy.make_operator({{"f", f}}); }, "'kappa' is missing"));
}

TEST_CASE("a family registered from outside pins is found and trained against") {
  auto family = std::make_shared<Poisson3D>();
  pins::register_family(family);
  pins::register_family(family);  // the same object again: idempotent
  CHECK(throws_with([&] { pins::register_family(std::make_shared<Poisson3D>()); },
                    "'test_poisson3d' is already registered"));
  const auto names = pins::family_names();
  CHECK(names.front() == "darcy");  // built-ins first
  CHECK(std::find(names.begin(), names.end(), "test_poisson3d") != names.end());

  const pins::Family& fam = pins::find_family("test_poisson3d");
  const int64_t n = 6;
  const auto kappa = 1 + torch::rand({3, n, n, n}, opts());
  const auto f = torch::ones({3, n, n, n}, opts());
  const pins::FieldMap in{{"kappa", kappa}, {"f", f}};
  const pins::OperatorPtr A = fam.make_operator(in);
  CHECK(A->field_shape() == std::vector<int64_t>{n, n, n});
  // The operator is symmetric (arithmetic face means on both sides): ⟨Au, v⟩ = ⟨u, Av⟩.
  const auto u = torch::randn({3, n, n, n}, opts()), v = torch::randn({3, n, n, n}, opts());
  const double uv = (A->apply(u) * v).sum().item<double>();
  CHECK(uv == doctest::Approx((u * A->apply(v)).sum().item<double>()).epsilon(1e-12));
  // A physics loss through the family's operator trains a field towards the solution.
  auto w = torch::zeros({3, n, n, n}, opts()).requires_grad_(true);
  torch::optim::LBFGS opt({w}, torch::optim::LBFGSOptions(1).max_iter(500).tolerance_grad(1e-14).tolerance_change(1e-16));
  opt.step([&] {
    opt.zero_grad();
    auto loss = pins::energy_loss(*A, w, f);
    loss.backward();
    return loss;
  });
  CHECK(pins::relative_residual(*A, w.detach(), f).max().item<double>() < 1e-6);
  // The default scale (a few CG iterations) is the size of that solution, within a factor 2.
  const double rms = std::sqrt(w.detach().square().mean().item<double>());
  const double scale = fam.solution_scale(in);
  CHECK(scale > 0.5 * rms);
  CHECK(scale < 2.0 * rms);
}

TEST_CASE("unknown families and missing inputs are refused by name") {
  CHECK(throws_with([] { pins::find_family("heat"); },
                    "-pde 'heat' is not a known problem family (known: darcy"));
  const Poisson3D p;
  CHECK(throws_with([&] { p.make_operator({{"f", torch::ones({1, 2, 2, 2})}}); },
                    "the test_poisson3d family needs the input field 'kappa' (its inputs: kappa, f)"));
  CHECK(throws_with([] { pins::register_family(nullptr); }, "null"));
}
