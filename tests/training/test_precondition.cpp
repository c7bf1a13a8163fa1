// Neural preconditioner building blocks (pins/core/precondition.hpp): the features do not
// see row scaling, a network step never increases the residual, the cycle and loss agree
// with a dense computation, the sampler is deterministic, and training lowers the loss.
#include "helpers.hpp"
#include "pins/core/check.hpp"
#include "pins/core/precondition.hpp"

using namespace pins;
using namespace pins::test;

namespace {

std::shared_ptr<Surrogate> small_pc(std::uint64_t seed = 0) {
  torch::manual_seed(seed);
  return make_surrogate("fno",
                        OptionMap::from_args({"-fno_modes", "4", "-fno_width", "8", "-fno_layers",
                                              "2", "-fno_padding", "2", "-fno_hidden", "16"}),
                        kPreconditionChannels, 1);
}

}  // namespace

TEST_CASE("scaled stencil: unit centre, invariant to row scaling, outward couplings zero") {
  const PreconditionBatch b = sample_precondition_batch({"darcy"}, 8, 2, 1, 0);
  const torch::Tensor a = b.scaled_coeffs;
  CHECK(torch::allclose(a.select(1, 0), torch::ones_like(a.select(1, 0))));
  // Scale every row by its own positive factor (another spacing or row convention).
  const torch::Tensor raw = darcy::stencil_coefficients(torch::full({1, 8, 8}, 3.0, torch::kFloat64));
  const torch::Tensor scale = torch::rand({1, 1, 8, 8}, torch::kFloat64) + 0.5;
  CHECK(torch::allclose(scaled_stencil(raw * scale), scaled_stencil(raw), 1e-14, 1e-14));
  CHECK(scaled_stencil(raw).select(1, 1).select(2, 0).abs().max().item<double>() == 0);
  CHECK(scaled_stencil(raw).select(1, 4).select(1, 7).abs().max().item<double>() == 0);
  torch::Tensor bad = raw.clone();
  bad[0][0][2][3] = -1;
  CHECK_THROWS_WITH_AS(scaled_stencil(bad), doctest::Contains("row 2, column 3"), pins::Error);
}

TEST_CASE("a network step never increases the residual, and the loss is exact") {
  auto model = small_pc(4);
  const PreconditionBatch b = sample_precondition_batch(operator_kinds(), 8, 4, 2, 0);
  torch::NoGradGuard no_grad;
  const torch::Tensor z = precondition_step(*model, b.scaled_coeffs, b.rhat);
  const torch::Tensor r = b.rhat - stencil_apply(b.scaled_coeffs, z);
  for (int i = 0; i < 4; ++i) CHECK(r[i].norm().item<double>() <= b.rhat[i].norm().item<double>() * (1 + 1e-12));
  // The loss against a direct computation; zero for the exact solution of a dense solve.
  const double loss = precondition_loss(b.scaled_coeffs, b.rhat, z).item<double>();
  const double direct = ((r.square().sum({1, 2}) / b.rhat.square().sum({1, 2}))).mean().item<double>();
  CHECK(loss == doctest::Approx(direct).epsilon(1e-12));
  const int64_t m = 64;
  const torch::Tensor eye = torch::eye(m, torch::kFloat64).view({m, 8, 8});
  const torch::Tensor A =
      stencil_apply(b.scaled_coeffs[0].unsqueeze(0).expand({m, 5, 8, 8}).contiguous(), eye).view({m, m}).t();
  const torch::Tensor exact = torch::linalg_solve(A, b.rhat[0].reshape({m, 1})).view({1, 8, 8});
  CHECK(precondition_loss(b.scaled_coeffs.narrow(0, 0, 1), b.rhat.narrow(0, 0, 1), exact).item<double>() <
        1e-20);
}

TEST_CASE("sampled problems are deterministic and cover every operator kind") {
  const auto a = sample_precondition_batch(operator_kinds(), 8, 8, 5, 100);
  const auto b = sample_precondition_batch(operator_kinds(), 8, 8, 5, 100);
  const auto c = sample_precondition_batch(operator_kinds(), 8, 8, 5, 108);
  CHECK(torch::equal(a.scaled_coeffs, b.scaled_coeffs));
  CHECK(torch::equal(a.rhat, b.rhat));
  CHECK(!torch::equal(a.rhat, c.rhat));
  // Anisotropic operators couple x and y differently; contrast operators span 10^4.
  CHECK(torch::isfinite(a.scaled_coeffs).all().item<bool>());
  CHECK_THROWS_WITH_AS(sample_precondition_batch({"spiral"}, 8, 1, 0, 0),
                       doctest::Contains("unknown preconditioner training operator 'spiral'"),
                       pins::Error);
}

TEST_CASE("a quarter of the sampled operators have a decoupled Dirichlet frame") {
  const auto b = sample_precondition_batch(operator_kinds(), 8, 64, 3, 0);
  const torch::Tensor c = b.scaled_coeffs.abs();  // [B, 5, 8, 8]
  // Frame: no coupling out of the ring's rows, none from the next rows into the ring.
  const torch::Tensor ring_rows = c.narrow(1, 1, 4).select(3, 0).sum({1, 2});   // column 0
  const torch::Tensor into_ring = c.select(1, 1).select(2, 1).sum(1);            // W of column 1
  const torch::Tensor framed = ring_rows == 0;
  CHECK(torch::equal(framed, into_ring == 0));
  const int64_t count = framed.sum().item<int64_t>();
  MESSAGE(count, " of 64 operators framed");
  CHECK(count >= 6);
  CHECK(count <= 26);
  // Unframed operators keep every interior coupling.
  CHECK((c.narrow(1, 1, 4).index({~framed}).narrow(2, 1, 6).narrow(3, 1, 6) > 0).all().item<bool>());
}

TEST_CASE("the stationary iteration of the cycle is the cycle applied to what is left") {
  auto model = small_pc(3);
  const PreconditionBatch b = sample_precondition_batch({"darcy"}, 8, 2, 4, 0);
  torch::NoGradGuard no_grad;
  const torch::Tensor z1 = precondition_cycle(*model, b.scaled_coeffs, b.rhat, 1);
  const torch::Tensor left = b.rhat - stencil_apply(b.scaled_coeffs, z1);
  const torch::Tensor z2 = z1 + precondition_cycle(*model, b.scaled_coeffs, left.contiguous(), 1);
  CHECK(torch::allclose(precondition_iterate(*model, b.scaled_coeffs, b.rhat, 1, 2), z2, 1e-6, 1e-6));
  CHECK(torch::equal(precondition_iterate(*model, b.scaled_coeffs, b.rhat, 1, 1), z1));
  // Each step minimises its residual, so the loss never grows with the iterations.
  const double l1 = precondition_loss(b.scaled_coeffs, b.rhat, z1).item<double>();
  const double l2 = precondition_loss(b.scaled_coeffs, b.rhat, z2).item<double>();
  CHECK(l2 <= l1 * (1 + 1e-9));
}

TEST_CASE("preconditioner training lowers the validation loss below sweeps alone") {
  auto model = small_pc(0);
  PreconditionTrainOptions o;
  o.grid = 16;
  o.steps = 60;
  o.batch_size = 8;
  o.lr = 3e-3;
  o.threads = 2;
  o.monitor_every = 0;
  o.val_samples = 16;
  const PreconditionTrainResult r = train_preconditioner(*model, o);
  MESSAGE("bare sweeps ", r.bare_val_loss, ", untrained ", r.initial_val_loss, ", trained ",
          r.final_val_loss);
  CHECK(r.final_val_loss < r.initial_val_loss);
  CHECK(r.final_val_loss < 0.9 * r.bare_val_loss);
}

TEST_CASE("preconditioner options: parsing and bad values") {
  const auto o = PreconditionTrainOptions::from_options(OptionMap::from_args(
      {"-grid", "32", "-precondition_operators", "darcy,contrast", "-train_steps", "10"}));
  CHECK(o.grid == 32);
  CHECK(o.kinds == std::vector<std::string>{"darcy", "contrast"});
  CHECK_THROWS_WITH_AS(PreconditionTrainOptions::from_options(OptionMap::from_args({"-train_epochs", "3"})),
                       doctest::Contains("unknown option -train_epochs for -task precondition"),
                       pins::Error);
  CHECK_THROWS_WITH_AS(PreconditionTrainOptions::from_options(
                           OptionMap::from_args({"-precondition_operators", "darcy,foo"})),
                       doctest::Contains("unknown kind 'foo'"), pins::Error);
  CHECK_THROWS_WITH_AS(PreconditionTrainOptions::from_options(OptionMap::from_args({"-grid", "4"})),
                       doctest::Contains("-grid must be in [8, 1024]"), pins::Error);
  CHECK_THROWS_WITH_AS(PreconditionTrainOptions::from_options(
                           OptionMap::from_args({"-precondition_iterations", "0"})),
                       doctest::Contains("-precondition_iterations must be in [1, 20], got 0"),
                       pins::Error);
  // MgNet smooths inside its cycle and is trained on three cycles unless told otherwise.
  const auto mg = PreconditionTrainOptions::from_options(OptionMap{}, "mgnet");
  CHECK(mg.smooth == 0);
  CHECK(mg.iterations == 3);
  CHECK(PreconditionTrainOptions::from_options(OptionMap{}, "fno").smooth == 2);
}
