// Normalisation, features, the physics and data losses, and the -train_* options.
#include <cmath>

#include "helpers.hpp"
#include "pins/core/losses.hpp"

using namespace pins;
using pins::test::darcy_data;
using pins::test::error_of;

TEST_CASE("normalisation: statistics of the training split, features, JSON round trip") {
  const TrainingData d = darcy_data(6, 8);
  const torch::Tensor idx = torch::tensor(std::vector<int64_t>{0, 2, 3, 5}, torch::kInt64);
  const Normalisation n = Normalisation::fit(d, idx);
  const torch::Tensor lk = d.input("kappa").index_select(0, idx).log();
  const FieldScaling& k = n.input("kappa");
  CHECK(k.transform == FieldTransform::kLogStandardise);
  CHECK(k.shift == doctest::Approx(lk.mean().item<double>()).epsilon(1e-14));
  CHECK(k.scale == doctest::Approx(lk.std(false).item<double>()).epsilon(1e-14));
  CHECK(n.input("f").transform == FieldTransform::kScale);
  CHECK(n.input("f").scale ==
        doctest::Approx(
            std::sqrt(d.input("f").index_select(0, idx).square().mean().item<double>())));
  CHECK(n.u_scale ==
        doctest::Approx(std::sqrt(d.u.index_select(0, idx).square().mean().item<double>())));

  const torch::Tensor x = n.features(d.select(idx).inputs, torch::kFloat64);
  CHECK(x.sizes() == c10::IntArrayRef{4, 2, 8, 8});
  CHECK(std::abs(x.select(1, 0).mean().item<double>()) < 1e-12);
  CHECK(x.select(1, 0).std(false).item<double>() == doctest::Approx(1.0));
  CHECK(x.select(1, 1).square().mean().item<double>() == doctest::Approx(1.0));

  const Normalisation back = Normalisation::from_json(n.to_json());
  CHECK(back.input("kappa").shift == k.shift);
  CHECK(back.input("f").scale == n.input("f").scale);
  CHECK(back.u_scale == n.u_scale);
  nlohmann::json bad = n.to_json();
  bad.erase("u_scale");
  CHECK(error_of([&] { Normalisation::from_json(bad); }).find("'u_scale'") != std::string::npos);
  bad = n.to_json();
  bad["inputs"][1]["scale"] = 0.0;
  CHECK(error_of([&] { Normalisation::from_json(bad); }).find("positive") != std::string::npos);
  bad = n.to_json();
  bad["inputs"][0]["transform"] = "sqrt";
  CHECK(error_of([&] { Normalisation::from_json(bad); }).find("log_standardise or scale") !=
        std::string::npos);
  // A missing input is named.
  CHECK(error_of([&] { n.features({{"kappa", d.input("kappa")}}, torch::kFloat64); })
            .find("'f' is missing") != std::string::npos);
}

TEST_CASE("normalisation: model files written before families had inputs still load") {
  // The manifest form of earlier pins versions (Darcy only).
  const nlohmann::json old = {{"log_kappa_mean", 0.5}, {"log_kappa_std", 2.0},
                              {"f_scale", 3.0},        {"u_scale", 0.25}};
  const Normalisation n = Normalisation::from_json(old);
  REQUIRE(n.inputs.size() == 2);
  CHECK(n.input("kappa").transform == FieldTransform::kLogStandardise);
  CHECK(n.input("kappa").shift == 0.5);
  CHECK(n.input("kappa").scale == 2.0);
  CHECK(n.input("f").scale == 3.0);
  CHECK(n.u_scale == 0.25);
  CHECK(n.channels() == 2);
  const torch::Tensor kappa = torch::full({1, 2, 2}, std::exp(2.5), torch::kFloat64);
  const torch::Tensor f = torch::full({1, 2, 2}, 6.0, torch::kFloat64);
  const torch::Tensor x = n.features({{"kappa", kappa}, {"f", f}}, torch::kFloat64);
  CHECK(x.select(1, 0).allclose(torch::full({1, 2, 2}, 1.0, torch::kFloat64)));
  CHECK(x.select(1, 1).allclose(torch::full({1, 2, 2}, 2.0, torch::kFloat64)));
}

TEST_CASE("normalisation without solutions estimates the solution scale from f and kappa") {
  const TrainingData d = darcy_data(4, 8, /*with_u=*/false);
  const Normalisation n = Normalisation::fit(d, torch::arange(4, torch::kInt64));
  CHECK(n.u_scale == doctest::Approx(n.input("f").scale /
                                     (2 * M_PI * M_PI * d.input("kappa").mean().item<double>())));
}

TEST_CASE("physics loss: zero at the solution, one at u = 0, invariant to scaling") {
  const TrainingData d = darcy_data(3, 10);
  const torch::Tensor c = darcy::stencil_coefficients(d.input("kappa"));
  const double eps = std::numeric_limits<double>::epsilon();
  // At the exact solution only rounding is left: |D⁻¹r|/|D⁻¹f| is at most about
  // cond(D⁻¹A) · eps, and cond < 10⁴ on this 10 × 10 grid with contrast 4.
  CHECK(physics_loss("residual", c, d.u, d.input("f")).item<double>() < std::pow(1e4 * eps, 2));
  // r = −f at u = 0: the relative residual is exactly 1.
  CHECK(physics_loss("residual", c, torch::zeros_like(d.u), d.input("f")).item<double>() ==
        doctest::Approx(1.0).epsilon(1e-14));
  const torch::Tensor wrong = d.u * 1.1;
  const double r1 = physics_loss("residual", c, wrong, d.input("f")).item<double>();
  CHECK(physics_loss("residual", c, wrong * 5, d.input("f") * 5).item<double>() ==
        doctest::Approx(r1).epsilon(1e-12));
  // The energy is minimal at the solution and independent of the scale of (u, f).
  const double e_star = physics_loss("energy", c, d.u, d.input("f")).item<double>();
  CHECK(e_star < 0);
  CHECK(physics_loss("energy", c, wrong, d.input("f")).item<double>() > e_star);
  CHECK(physics_loss("energy", c, d.u * 3, d.input("f") * 3).item<double>() ==
        doctest::Approx(e_star).epsilon(1e-12));
  CHECK(error_of([&] { physics_loss("l1", c, d.u, d.input("f")); }).find("-train_physics_loss") !=
        std::string::npos);
}

TEST_CASE("relative L2 per sample") {
  const torch::Tensor u = torch::ones({2, 3, 3}, torch::kFloat64);
  const torch::Tensor p = u * torch::tensor({1.5, 1.0}, torch::kFloat64).view({2, 1, 1});
  const torch::Tensor r = relative_l2(p, u);
  CHECK(r[0].item<double>() == doctest::Approx(0.5));
  CHECK(r[1].item<double>() == 0.0);
}

TEST_CASE("train options: defaults, parsing, unknown names and bad values") {
  const TrainOptions d = TrainOptions::from_options(OptionMap{});
  CHECK(d.optimizer == "adam");
  const TrainOptions o = TrainOptions::from_options(OptionMap::from_args(
      {"-train_epochs", "7", "-train_optimizer", "lbfgs", "-train_physics_weight", "0.5",
       "-train_resume", "-train_checkpoint", "c.ckpt", "-fno_modes", "4"}));
  CHECK(o.epochs == 7);
  CHECK(o.optimizer == "lbfgs");
  CHECK(o.physics_weight == 0.5);
  CHECK(o.resume);
  const std::string unknown =
      error_of([] { TrainOptions::from_options(OptionMap{{"-train_epoch", "3"}}); });
  CHECK(unknown.find("unknown option -train_epoch") != std::string::npos);
  CHECK(unknown.find("-train_epochs") != std::string::npos);
  CHECK(error_of([] { TrainOptions::from_options(OptionMap{{"-train_schedule", "linear"}}); })
            .find("-train_schedule must be") != std::string::npos);
  CHECK(error_of([] {
          TrainOptions::from_options(
              OptionMap{{"-train_data_weight", "0"}, {"-train_physics_weight", "0"}});
        }).find("nothing to train on") != std::string::npos);
  CHECK(error_of([] { TrainOptions::from_options(OptionMap{{"-train_lr", "abc"}}); })
            .find("-train_lr") != std::string::npos);
  CHECK(TrainOptions::help().find("-train_max_bad_steps <5>") != std::string::npos);
}
