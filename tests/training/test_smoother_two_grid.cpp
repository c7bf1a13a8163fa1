// The smoother's two-grid loss (pins/core/smoother_two_grid.hpp): the sampler's box
// aggregates, the coarse correction as an A-orthogonal projection, Chebyshev against a dense
// polynomial, the loss against a dense two-grid cycle, bad input, and training that beats
// GAMG's Chebyshev/Jacobi smoother on that loss.
#include <cmath>

#include "helpers.hpp"
#include "smoother_helpers.hpp"
#include "pins/core/check.hpp"
#include "pins/core/smoother.hpp"
#include "pins/core/smoother_train.hpp"
#include "pins/core/smoother_two_grid.hpp"
#include "pins/core/sparse_operator.hpp"

using namespace pins;
using namespace pins::test;

namespace {

// Degree-2 Chebyshev on [0.1 λ, 1.1 λ] as a dense matrix polynomial in T = MA.
torch::Tensor dense_chebyshev(const torch::Tensor& T, double lambda) {
  const double theta = 0.6 * lambda, delta = 0.5 * lambda;
  const torch::Tensor I = torch::eye(T.size(0), torch::kFloat64);
  const torch::Tensor X = (theta * I - T) / delta;
  return (2 * X.mm(X) - I) / (2 * (theta / delta) * (theta / delta) - 1);
}

}  // namespace

TEST_CASE("box aggregates: 3 points per side, per field, every id used") {
  const SmootherBatch b = sample_smoother_batch({"darcy"}, 2, 7, 1, 1, 0, 2);
  REQUIRE(b.aggregate.size(0) == 2 * 49);
  // ⌈7/3⌉² = 9 boxes per field, 2 fields.
  CHECK(b.aggregate.max().item<int64_t>() == 17);
  CHECK(torch::bincount(b.aggregate).min().item<int64_t>() > 0);
  // Point (y, x) = (4, 6) of field 1: box (1, 2) → 9 + 1·3 + 2.
  CHECK(b.aggregate[49 + 4 * 7 + 6].item<int64_t>() == 9 + 3 + 2);
  const SmootherBatch c = sample_smoother_batch({"darcy"}, 3, 4, 1, 1, 0);
  CHECK(c.aggregate.max().item<int64_t>() == 7);  // 2³ boxes of a 4³ grid
  CHECK(c.aggregate[3 * 16 + 0 * 4 + 3].item<int64_t>() == 4 + 0 + 1);  // (z, y, x) = (3, 0, 3)
}

TEST_CASE("the coarse correction is the A-orthogonal projection off P's range") {
  const SmootherBatch b = sample_smoother_batch({"darcy", "contrast"}, 2, 8, 2, 3, 0);
  const SmootherCoarseSpace c = smoother_coarse_space(b.pattern, b.values, b.aggregate);
  CHECK(c.prolongation.sizes() == torch::IntArrayRef({2, 64, 9}));
  const torch::Tensor v = b.z, cv = coarse_correction(b.pattern, b.values, c, v);
  // Idempotent, A-self-adjoint, and P's range is removed.
  CHECK(torch::allclose(coarse_correction(b.pattern, b.values, c, cv), cv, 1e-10, 1e-12));
  const torch::Tensor u = torch::randn({2, 64}, torch::kFloat64);
  const torch::Tensor cu = coarse_correction(b.pattern, b.values, c, u);
  const auto a_dot = [&](const torch::Tensor& x, const torch::Tensor& y) {
    return (x * sparse_apply(b.pattern, b.values, y.contiguous())).sum(1);
  };
  CHECK(torch::allclose(a_dot(cu, v), a_dot(u, cv), 1e-10, 1e-12));
  const torch::Tensor coarse_vector =
      torch::bmm(c.prolongation, torch::randn({2, 9, 1}, torch::kFloat64)).squeeze(2);
  CHECK(coarse_correction(b.pattern, b.values, c, coarse_vector).abs().max().item<double>() <
        1e-10 * coarse_vector.abs().max().item<double>());
  // A smooth error is mostly removed, a checkerboard mostly kept (A-norms).
  const torch::Tensor smooth = torch::ones({2, 64}, torch::kFloat64);
  const torch::Tensor checker =
      torch::arange(64, torch::kFloat64).remainder(2).mul(2).sub(1).unsqueeze(0).repeat({2, 1});
  const auto kept = [&](const torch::Tensor& x) {
    return (a_dot(coarse_correction(b.pattern, b.values, c, x), coarse_correction(b.pattern, b.values, c, x)) /
            a_dot(x, x))
        .max()
        .item<double>();
  };
  CHECK(kept(smooth) < 0.3);
  CHECK(kept(checker) > 0.7);
}

TEST_CASE("Chebyshev and the two-grid loss equal their dense forms; the loss has a gradient") {
  const SmootherBatch b = sample_smoother_batch({"darcy", "anisotropic"}, 3, 5, 2, 5, 0);
  const SmootherCoarseSpace c = smoother_coarse_space(b.pattern, b.values, b.aggregate);
  auto model = small_smoother(2);
  const torch::Tensor m =
      smoother_apply_model(*model, b.pattern, b.values).detach().requires_grad_(true);
  const torch::Tensor lambda = smoother_spectrum_estimate(b.pattern, b.values, m, b.z);
  const torch::Tensor loss = smoother_two_grid_loss(b.pattern, b.values, m, b.z, c);
  double direct = 0;
  for (int i = 0; i < 2; ++i) {
    const torch::Tensor A = dense_of(b.pattern, b.values[i]), M = dense_of(b.pattern, m[i].detach());
    const torch::Tensor T = M.mm(A);
    // MA is similar to the symmetric M^{1/2} A M^{1/2}: real eigenvalues; λ̂ below the largest.
    const double top = torch::real(torch::linalg_eigvals(T)).max().item<double>();
    const double l = lambda[i].item<double>();
    CHECK(l <= top * (1 + 1e-10));
    CHECK(l > 0.5 * top);
    const torch::Tensor S = dense_chebyshev(T, l);
    const torch::Tensor z = b.z[i].unsqueeze(0);
    CHECK(torch::allclose(
        chebyshev_smooth(b.pattern, b.values[i].unsqueeze(0), m[i].detach().unsqueeze(0),
                         lambda[i].detach().unsqueeze(0), z)
            .squeeze(0),
        S.mv(b.z[i]), 1e-10, 1e-12));
    const torch::Tensor P = c.prolongation[i];
    const torch::Tensor C = torch::eye(A.size(0), torch::kFloat64) -
                            P.mm(torch::linalg_solve(P.t().mm(A).mm(P), P.t().mm(A)));
    const torch::Tensor e = S.mm(C).mm(S).mv(b.z[i]);
    direct += (e.dot(A.mv(e)) / b.z[i].dot(A.mv(b.z[i]))).item<double>() / 2;
  }
  CHECK(loss.item<double>() == doctest::Approx(direct).epsilon(1e-9));
  CHECK(loss.item<double>() > 0);
  CHECK(loss.item<double>() < 1);
  loss.backward();
  CHECK(torch::isfinite(m.grad()).all().item<bool>());
  CHECK(m.grad().abs().max().item<double>() > 0);
  // M's scale does not matter: λ follows it.
  const torch::Tensor scaled = smoother_two_grid_loss(b.pattern, b.values, 7.0 * m.detach(), b.z, c);
  CHECK(scaled.item<double>() == doctest::Approx(loss.item<double>()).epsilon(1e-9));
}

TEST_CASE("the coarse space refuses what it cannot build, naming it") {
  const SmootherBatch b = sample_smoother_batch({"darcy"}, 2, 6, 1, 1, 0);
  torch::Tensor gap = b.aggregate.clone();
  gap.masked_fill_(gap == 2, 3);  // id 2 unused
  CHECK_THROWS_WITH_AS(smoother_coarse_space(b.pattern, b.values, gap),
                       doctest::Contains("must hold a row"), pins::Error);
  CHECK_THROWS_WITH_AS(smoother_coarse_space(b.pattern, b.values, b.aggregate.narrow(0, 0, 5)),
                       doctest::Contains("the aggregates must be int64 [36]"), pins::Error);
  CHECK_THROWS_WITH_AS(smoother_coarse_space(b.pattern, -b.values, b.aggregate),
                       doctest::Contains("not positive definite"), pins::Error);
  CHECK_THROWS_WITH_AS(SmootherTrainOptions::from_options(OptionMap{{"-smoother_loss", "v_cycle"}}),
                       doctest::Contains("-smoother_loss must be one_step or two_grid, got 'v_cycle'"),
                       pins::Error);
}

TEST_CASE("training on the two-grid loss beats GAMG's Chebyshev/Jacobi on it") {
  SmootherTrainOptions o = SmootherTrainOptions::from_options(
      OptionMap{{"-grid", "12"}, {"-smoother_grid3d", "6"}, {"-smoother_loss", "two_grid"}});
  o.loop.steps = 150;
  o.loop.batch_size = 4;
  o.loop.lr = 3e-3;
  o.loop.monitor_every = 0;
  o.loop.threads = 1;
  torch::manual_seed(0);
  auto model = make_surrogate("entry_mlp", OptionMap{}, kSmootherFeatures, 1);
  const PreconditionTrainResult r = train_smoother(*model, o);
  INFO("Chebyshev/Jacobi " << r.bare_val_loss << ", untrained " << r.initial_val_loss
                           << ", trained " << r.final_val_loss);
  CHECK(r.final_val_loss < r.initial_val_loss);
  CHECK(r.final_val_loss < 0.95 * r.bare_val_loss);
}
