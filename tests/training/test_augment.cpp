// -train_augment symmetries and -train_val_data: the grid symmetries map Darcy problems onto
// Darcy problems (so augmented batches are true samples), and a separate validation set
// leaves every training sample in training.
#include "../../src/core/train_augment.hpp"
#include "helpers.hpp"
#include "pins/core/check.hpp"

#include <set>

using namespace pins;
using namespace pins::test;
using pins::detail::apply_to_field;
using pins::detail::apply_to_stencil;
using pins::detail::grid_symmetry;

TEST_CASE("grid symmetries commute with the Darcy operator (square and rectangular grids)") {
  darcy::SamplerOptions so;
  so.seed = 3;
  so.forcing = darcy::ForcingKind::kRandomField;
  for (const auto& [ny, nx] : {std::pair{9, 9}, std::pair{7, 11}}) {
    darcy::Sampler sampler(so, ny, nx);
    torch::Tensor kappa = torch::empty({2, ny, nx}, torch::kFloat64);
    torch::Tensor f = torch::empty_like(kappa);
    for (int i = 0; i < 2; ++i)
      sampler.sample(std::uint64_t(i), kappa[i].data_ptr<double>(), f[i].data_ptr<double>());
    const torch::Tensor u = torch::randn_like(kappa);
    const torch::Tensor coeffs = darcy::stencil_coefficients(kappa);
    for (unsigned s = 0; s < (nx == ny ? 8u : 4u); ++s) {
      CAPTURE(s);
      CAPTURE(nx);
      const auto sym = grid_symmetry(s);
      // The operator of the moved κ is the moved operator ...
      const torch::Tensor moved = apply_to_stencil(coeffs, sym);
      CHECK(torch::allclose(darcy::stencil_coefficients(apply_to_field(kappa, sym)), moved,
                            1e-14, 1e-14));
      // ... and it maps moved fields to moved residuals.
      CHECK(torch::allclose(stencil_residual(moved, apply_to_field(u, sym), apply_to_field(f, sym)),
                            apply_to_field(stencil_residual(coeffs, u, f), sym), 1e-12, 1e-12));
    }
    if (nx != ny)
      CHECK_THROWS_WITH_AS(apply_to_field(kappa, grid_symmetry(4)),
                           doctest::Contains("square grid"), pins::Error);
  }
  // A non-trivial symmetry really moves things (the test above cannot pass by doing nothing).
  const torch::Tensor a = torch::arange(9, torch::kFloat64).view({1, 3, 3});
  CHECK(apply_to_field(a, grid_symmetry(1))[0][0][0].item<double>() == 2);
  CHECK(apply_to_field(a, grid_symmetry(4))[0][0][1].item<double>() == 3);
}

TEST_CASE("augmented training draws all orientations and moves the batches") {
  const TrainingData d = darcy_data(12, 8);
  TrainOptions o = quick_options();
  o.augment = "symmetries";
  o.epochs = 3;
  o.batch_size = 4;
  // Orientations differ between steps: count them through the training it drives.
  std::set<unsigned> seen;
  for (std::int64_t step = 0; step < 64; ++step) {
    const auto s = pins::detail::draw_grid_symmetry(std::uint64_t(step) * 7919u, true);
    seen.insert(unsigned(s.flip_x) | unsigned(s.flip_y) << 1 | unsigned(s.transpose) << 2);
  }
  CHECK(seen.size() == 8);
  auto plain = small_fno(3);
  auto augmented = small_fno(3);
  TrainOptions p = o;
  p.augment = "none";
  const TrainResult rp = train_surrogate(*plain, d, p);
  const TrainResult ra = train_surrogate(*augmented, d, o);
  CHECK(ra.history.back().loss != rp.history.back().loss);  // the batches were moved
  CHECK(std::isfinite(ra.history.back().loss));
}

TEST_CASE("a separate validation set: all training samples train, the other set validates") {
  const TrainingData d = darcy_data(10, 8);
  const TrainingData v = darcy_data(4, 8, true, 5);
  TrainOptions o = quick_options();
  o.epochs = 2;
  o.val_fraction = 0.5;  // ignored with a validation set
  auto m = small_fno(1);
  const TrainResult r = train_surrogate(*m, d, o, &v);
  CHECK(r.train_samples == 10);
  CHECK(r.val_samples == 4);
  CHECK(std::isfinite(r.history.back().val_rel_l2));

  TrainingData wrong = darcy_data(2, 6);
  auto m2 = small_fno(1);
  CHECK_THROWS_WITH_AS(train_surrogate(*m2, d, o, &wrong), doctest::Contains("validation data"),
                       pins::Error);
  TrainOptions bad = quick_options();
  bad.augment = "rotate";
  CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("-train_augment must be none or symmetries"),
                       pins::Error);
}
