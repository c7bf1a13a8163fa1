// MgNet and its fixed multigrid parts: Galerkin products against dense matrices, the
// untrained cycle is a working V-cycle, the network is linear in the residual, the
// inference cache follows the operator and the weights, and bad channel counts are refused.
#include "helpers.hpp"

#include <nlohmann/json.hpp>

#include "pins/core/model_file.hpp"
#include "surrogates/mgnet.hpp"
#include "surrogates/multigrid.hpp"

using pins::test::shape_of;
using pins::test::TempDir;
using pins::test::throws_with;
namespace mg = pins::mg;

namespace {

// The dense matrix [N, N] of a linear map f on [1, ny, nx] grids (column j = f(e_j)).
template <class F>
torch::Tensor dense_of(F f, int64_t ny, int64_t nx) {
  const int64_t n = ny * nx;
  const torch::Tensor eye = torch::eye(n, torch::kFloat64).view({n, ny, nx});
  return f(eye).reshape({n, -1}).t();
}

// A random symmetric positive 9-point stencil-like operator (diagonally dominant).
torch::Tensor random_stencil(int64_t ny, int64_t nx, bool five_point) {
  torch::Tensor A = -torch::rand({1, 9, ny, nx}, torch::kFloat64);
  if (five_point) {
    for (int k : {0, 2, 6, 8}) A.select(1, k).zero_();
  }
  A.select(1, mg::kCentre).fill_(9.0);
  return A;
}

// Couplings W, E, S, N of the scaled 5-point Laplacian (−¼ inside, 0 out of the grid).
torch::Tensor laplacian_couplings(int64_t B, int64_t ny, int64_t nx, torch::Dtype dtype) {
  torch::Tensor c = torch::full({B, 4, ny, nx}, -0.25, dtype);
  c.select(1, 0).select(2, 0).zero_();
  c.select(1, 1).select(2, nx - 1).zero_();
  c.select(1, 2).select(1, 0).zero_();
  c.select(1, 3).select(1, ny - 1).zero_();
  return c;
}

std::shared_ptr<pins::Surrogate> small_mgnet(int smooth = 2) {
  return pins::make_surrogate(
      "mgnet",
      pins::OptionMap::from_args({"-mgnet_width", "4", "-mgnet_smooth", std::to_string(smooth)}), 5,
      1);
}

double relative_residual(const torch::Tensor& couplings, const torch::Tensor& r,
                         const torch::Tensor& z) {
  const torch::Tensor A = mg::stencil_from_couplings(couplings);
  return ((r - mg::stencil_apply(A, z)).norm() / r.norm()).item<double>();
}

}  // namespace

TEST_CASE("multigrid: R is the transpose of P and the Galerkin stencil is R A P") {
  torch::manual_seed(11);
  for (auto [ny, nx] : std::vector<std::pair<int64_t, int64_t>>{{8, 8}, {7, 10}, {9, 5}}) {
    for (bool five : {true, false}) {
      INFO("grid " << ny << " x " << nx << (five ? " 5-point" : " 9-point"));
      const int64_t nc = ny / 2, mc = nx / 2;
      const torch::Tensor A = random_stencil(ny, nx, five);
      const torch::Tensor W = mg::prolongation_weights(A);
      auto batch = [](const torch::Tensor& S, int64_t b) {
        return S.expand({b, 9, S.size(2), S.size(3)});
      };
      const torch::Tensor P =
          dense_of([&](auto x) { return mg::prolong(batch(W, x.size(0)), x); }, nc, mc);
      const torch::Tensor R = dense_of(
          [&](auto x) { return mg::restrict_to_coarse(batch(W, x.size(0)), x); }, ny, nx);
      CHECK(torch::allclose(R, P.t(), 0, 1e-14));
      const torch::Tensor Ad = dense_of(
          [&](auto x) { return mg::stencil_apply(batch(A, x.size(0)), x, five); }, ny, nx);
      const torch::Tensor At = dense_of(
          [&](auto x) { return mg::stencil_apply_transpose(batch(A, x.size(0)), x); }, ny, nx);
      CHECK(torch::allclose(At, Ad.t(), 0, 1e-14));
      const torch::Tensor Ac = mg::galerkin(A, W);
      CHECK(shape_of(Ac) == shape_of({1, 9, nc, mc}));
      const torch::Tensor Acd = dense_of(
          [&](auto x) { return mg::stencil_apply(Ac.expand({x.size(0), 9, nc, mc}), x); }, nc, mc);
      CHECK(torch::allclose(Acd, torch::matmul(P.t(), torch::matmul(Ad, P)), 1e-12, 1e-12));
    }
  }
}

TEST_CASE("multigrid: P is bilinear for the Laplacian and follows the flux across a jump") {
  // Scaled 5-point Laplacian on 7 × 7: coarse points at (1,1), (1,3), (1,5), (3,1), ...
  torch::Tensor A = mg::stencil_from_couplings(laplacian_couplings(1, 7, 7, torch::kFloat64));
  torch::Tensor W = mg::prolongation_weights(A);
  auto w = [&](int i, int j, int dy, int dx) {
    return W[0][mg::stencil_index(dy, dx)][i][j].item<double>();
  };
  CHECK(w(3, 3, 0, 0) == 1);                                 // a coarse point
  CHECK(w(3, 2, 0, -1) == doctest::Approx(0.5));             // between two on a row
  CHECK(w(2, 3, 1, 0) == doctest::Approx(0.5));              // between two on a column
  CHECK(w(2, 2, 1, 1) == doctest::Approx(0.25));             // between four
  CHECK(W.sum(1)[0][2][2].item<double>() == doctest::Approx(1.0));
  // Face conductances along x: 10⁴ for the faces up to the one between columns 3 and 4, 1
  // after it (face j lies west of column j). Fine (3, 4) then sits between coarse (3, 3),
  // tied to it by 10⁴, and coarse (3, 5), tied by 1: it follows (3, 3), as the flux does.
  torch::Tensor kappa = torch::ones({7, 8}, torch::kFloat64);
  kappa.narrow(1, 0, 5).fill_(1e4);
  torch::Tensor c = laplacian_couplings(1, 7, 7, torch::kFloat64);
  const torch::Tensor west = kappa.narrow(1, 0, 7), east = kappa.narrow(1, 1, 7);
  const torch::Tensor centre = west + east + 2.0;
  c.select(1, 0).copy_(-(west / centre).unsqueeze(0));
  c.select(1, 1).copy_(-(east / centre).unsqueeze(0));
  c.select(1, 2).copy_(-(1.0 / centre).unsqueeze(0));
  c.select(1, 3).copy_(-(1.0 / centre).unsqueeze(0));
  c.select(1, 0).select(2, 0).zero_();
  c.select(1, 1).select(2, 6).zero_();
  c.select(1, 2).select(1, 0).zero_();
  c.select(1, 3).select(1, 6).zero_();
  W = mg::prolongation_weights(mg::stencil_from_couplings(c));
  CHECK(w(3, 4, 0, -1) == doctest::Approx(1e4 / (1e4 + 1)));
  CHECK(w(3, 4, 0, 1) == doctest::Approx(1 / (1e4 + 1)));
}

TEST_CASE("multigrid: the dense inverse inverts, and a too large coarse grid is refused") {
  torch::manual_seed(12);
  const torch::Tensor A = random_stencil(5, 6, false);
  const torch::Tensor inv = mg::dense_inverse(A);
  const torch::Tensor x = torch::randn({1, 5, 6}, torch::kFloat64);
  CHECK(torch::allclose(mg::stencil_apply(A, mg::dense_apply(inv, x)), x, 1e-12, 1e-12));
  CHECK(throws_with([&] { mg::dense_inverse(A, 10); }, "has 30 unknowns, more than the 10"));
}

TEST_CASE("untrained MgNet is a classical V-cycle: one application removes most of the residual") {
  auto net = small_mgnet();
  auto* impl = dynamic_cast<pins::MgNetImpl*>(net.get());
  REQUIRE(impl != nullptr);
  CHECK(impl->levels_for(64, 64) == 4);  // 64, 32, 16, 8
  CHECK(impl->levels_for(8, 8) == 1);
  net->module().to(torch::kFloat64);
  torch::manual_seed(13);
  for (auto [ny, nx] : std::vector<std::pair<int64_t, int64_t>>{{64, 64}, {33, 47}}) {
    INFO("grid " << ny << " x " << nx);
    const torch::Tensor c = laplacian_couplings(2, ny, nx, torch::kFloat64);
    const torch::Tensor r = torch::randn({2, ny, nx}, torch::kFloat64);
    const torch::Tensor z = net->forward(torch::cat({c, r.unsqueeze(1)}, 1)).select(1, 0);
    CHECK(shape_of(z) == shape_of({2, ny, nx}));
    CHECK(relative_residual(c, r, z) < 0.2);
  }
  // A grid no larger than `coarsest` is solved exactly.
  const torch::Tensor c = laplacian_couplings(1, 8, 6, torch::kFloat64);
  const torch::Tensor r = torch::randn({1, 8, 6}, torch::kFloat64);
  CHECK(relative_residual(c, r, net->forward(torch::cat({c, r.unsqueeze(1)}, 1)).select(1, 0)) <
        1e-12);
}

TEST_CASE("MgNet is linear in the residual, also after training has moved its weights") {
  auto net = small_mgnet(1);
  net->module().to(torch::kFloat64);
  torch::manual_seed(14);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->module().parameters()) p.add_(0.05 * torch::randn_like(p));
  }
  const torch::Tensor c = laplacian_couplings(1, 20, 24, torch::kFloat64) *
                          (1 + 0.5 * torch::rand({1, 4, 20, 24}, torch::kFloat64));
  const torch::Tensor r1 = torch::randn({1, 1, 20, 24}, torch::kFloat64);
  const torch::Tensor r2 = torch::randn({1, 1, 20, 24}, torch::kFloat64);
  auto f = [&](const torch::Tensor& r) { return net->forward(torch::cat({c, r}, 1)); };
  CHECK(torch::allclose(f(2.0 * r1 - 3.0 * r2), 2.0 * f(r1) - 3.0 * f(r2), 1e-10, 1e-10));
}

TEST_CASE("MgNet's inference cache follows the operator and the weights") {
  auto net = small_mgnet();
  torch::manual_seed(15);
  const torch::Tensor c1 = laplacian_couplings(1, 24, 24, torch::kFloat32);
  const torch::Tensor c2 = c1 * (0.5 + 0.5 * torch::rand_like(c1));
  const torch::Tensor r = torch::randn({1, 1, 24, 24});
  auto fresh = [&](const torch::Tensor& c) {  // with autograd: never cached
    return net->forward(torch::cat({c, r}, 1)).detach();
  };
  const torch::Tensor y1 = fresh(c1), y2 = fresh(c2);
  CHECK_FALSE(torch::allclose(y1, y2));
  torch::NoGradGuard no_grad;
  auto cached = [&](const torch::Tensor& c) { return net->forward(torch::cat({c, r}, 1)); };
  CHECK(torch::equal(cached(c1), y1));
  CHECK(torch::equal(cached(c1), y1));  // a hit
  CHECK(torch::equal(cached(c2), y2));  // another operator: rebuilt
  CHECK(torch::equal(cached(c1), y1));
  for (auto& p : net->module().parameters()) p.add_(0.1);  // new weights: rebuilt
  CHECK_FALSE(torch::equal(cached(c1), y1));
  CHECK(torch::equal(cached(c1), fresh(c1)));
}

TEST_CASE("MgNet: gradients reach every weight, and a model file round trip is exact") {
  auto net = small_mgnet();
  torch::manual_seed(16);
  {
    torch::NoGradGuard no_grad;  // move the zero last layers off zero
    for (auto& p : net->module().parameters()) p.add_(0.05 * torch::randn_like(p));
  }
  const torch::Tensor x =
      torch::cat({laplacian_couplings(2, 20, 20, torch::kFloat32), torch::randn({2, 1, 20, 20})}, 1);
  (net->forward(x) * torch::randn({2, 1, 20, 20})).sum().backward();
  for (const auto& p : net->module().named_parameters()) {
    INFO("parameter " << p.key());
    REQUIRE(p.value().grad().defined());
    CHECK(p.value().grad().abs().max().item<double>() > 0);
  }
  TempDir dir;
  pins::save_model(dir.file("mg.pins"), *net, pins::ModelManifest{}, true);
  pins::LoadedModel loaded = pins::load_model(dir.file("mg.pins"));
  CHECK(loaded.model->type() == "mgnet");
  CHECK(loaded.model->options_json() == net->options_json());
  torch::NoGradGuard no_grad;
  CHECK(torch::equal(loaded.model->forward(x), net->forward(x)));
}

TEST_CASE("MgNet refuses other channel counts and bad options, naming them") {
  CHECK(throws_with([] { pins::make_surrogate("mgnet", pins::OptionMap{}, 3, 1); },
                    "mgnet: is a preconditioner network (-task precondition) with 5 input channels"));
  CHECK(throws_with(
      [] { pins::make_surrogate("mgnet", pins::OptionMap{{"-mgnet_smooth", "0"}}, 5, 1); },
      "mgnet: smooth must be at least 1, got 0 (-mgnet_smooth)"));
  CHECK(throws_with(
      [] { pins::make_surrogate("mgnet", pins::OptionMap{{"-mgnet_coarsest", "100"}}, 5, 1); },
      "mgnet: coarsest must be at most 64"));
  auto net = small_mgnet();
  CHECK(throws_with([&] { net->forward(torch::randn({1, 4, 8, 8})); }, "mgnet: input must have"));
}
