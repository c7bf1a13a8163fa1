// The non-finite guard: a bad step leaves the weights alone and lowers the learning rate;
// repeated bad steps roll back to the last good state; persistent ones stop training.
#include <cmath>

#include "helpers.hpp"

using namespace pins;
using namespace pins::test;

namespace {
torch::Tensor nan_like(const torch::Tensor& loss) {
  return loss * std::nan("");
}
}  // namespace

TEST_CASE("a non-finite loss is skipped: weights unchanged, learning rate halved") {
  const TrainingData d = darcy_data(8, 8);
  auto model = small_fno();
  model->module().to(torch::kFloat32);
  const auto before = weights(*model);
  TrainOptions o = quick_options();
  o.epochs = 1;  // one step: 6 training samples in one batch
  o.loss_hook = [](std::int64_t, const torch::Tensor& l) { return nan_like(l); };
  const TrainResult r = train_surrogate(*model, d, o);
  REQUIRE(r.history.size() == 1);
  CHECK(r.history[0].skipped_steps == 1);
  CHECK(r.history[0].lr == doctest::Approx(0.5 * o.lr));
  CHECK(same_weights(weights(*model), before));
}

TEST_CASE("a non-finite gradient is skipped too") {
  const TrainingData d = darcy_data(8, 8);
  auto model = small_fno();
  model->module().to(torch::kFloat32);
  const auto before = weights(*model);
  TrainOptions o = quick_options();
  o.epochs = 1;
  // A finite loss whose gradient is NaN.
  o.loss_hook = [](std::int64_t, const torch::Tensor& l) {
    torch::Tensor out = l.clone();
    out.register_hook([](torch::Tensor g) { return g * std::nan(""); });
    return out;
  };
  const TrainResult r = train_surrogate(*model, d, o);
  CHECK(r.history[0].skipped_steps == 1);
  CHECK(std::isfinite(r.history[0].loss) == false);  // no step counted
  CHECK(same_weights(weights(*model), before));
}

TEST_CASE("repeated bad steps roll back to the last good epoch, then training goes on") {
  const TrainingData d = darcy_data(8, 8);
  auto model = small_fno();
  TrainOptions o = quick_options();
  o.epochs = 3;
  o.max_bad_steps = 1;
  o.max_rollbacks = 3;
  int seen = 0;
  // Step 1 (epoch 2's only step) fails the first two times it runs.
  o.loss_hook = [&](std::int64_t step, const torch::Tensor& l) {
    return step == 1 && seen++ < 2 ? nan_like(l) : l;
  };
  const TrainResult r = train_surrogate(*model, d, o);
  CHECK(r.rollbacks == 2);
  REQUIRE(r.history.size() == 3);
  CHECK(r.history[0].lr == doctest::Approx(o.lr));
  CHECK(r.history[1].lr == doctest::Approx(0.25 * o.lr));  // halved at each bad step
  CHECK(r.history[1].skipped_steps == 0);  // the epoch that counted ran clean
  for (const auto& e : r.history) CHECK(std::isfinite(e.loss));
  CHECK(all_finite(*model));
}

TEST_CASE("bad steps that keep happening stop training with a clear message") {
  const TrainingData d = darcy_data(8, 8);
  auto model = small_fno();
  TrainOptions o = quick_options();
  o.epochs = 4;
  o.max_bad_steps = 2;
  o.max_rollbacks = 2;
  o.batch_size = 3;  // two steps per epoch
  o.loss_hook = [](std::int64_t step, const torch::Tensor& l) {
    return step >= 2 ? nan_like(l) : l;
  };
  const std::string e = error_of([&] { train_surrogate(*model, d, o); });
  CHECK(e.find("training stopped in epoch 2") != std::string::npos);
  CHECK(e.find("after 2 rollbacks") != std::string::npos);
  CHECK(e.find("-train_lr") != std::string::npos);
  CHECK(all_finite(*model));
}

TEST_CASE("physics-only training (no solutions) reduces the residual") {
  const TrainingData d = darcy_data(16, 12, /*with_u=*/false);
  auto model = small_fno(1);
  TrainOptions o = quick_options();
  o.data_weight = 0;
  o.physics_weight = 1;
  o.epochs = 40;
  o.batch_size = 4;
  o.lr = 3e-3;
  const TrainResult r = train_surrogate(*model, d, o);
  REQUIRE(r.history.size() == 40);
  CHECK(!std::isfinite(r.history.front().val_rel_l2));  // nothing to compare with
  INFO("val physics first " << r.history.front().val_physics << " last "
                            << r.history.back().val_physics);
  CHECK(r.history.back().val_physics < 0.3 * r.history.front().val_physics);
  // And the trained model's residual, measured afresh, agrees.
  const torch::Tensor u = predict(*model, r.normalisation, d.inputs);
  const double res =
      physics_loss("residual", darcy::stencil_coefficients(d.input("kappa")), u, d.input("f"))
          .item<double>();
  CHECK(res < 0.3);
}

TEST_CASE("data loss needs solutions") {
  TrainingData d = darcy_data(4, 8, /*with_u=*/false);
  auto model = small_fno();
  CHECK(error_of([&] { train_surrogate(*model, d, quick_options()); })
            .find("use -train_data_weight 0 for physics-only training") != std::string::npos);
}
