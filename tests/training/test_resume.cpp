// Checkpoints: an interrupted run resumed from its checkpoint reproduces the uninterrupted
// run bit for bit (CPU, same thread count); incompatible or damaged checkpoints are refused.
#include <cmath>
#include <fstream>

#include "helpers.hpp"

using namespace pins;
using namespace pins::test;

namespace {

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

void check_same_history(const std::vector<EpochRecord>& a, const std::vector<EpochRecord>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(a[i].loss == b[i].loss);  // exact: same arithmetic in the same order
    CHECK(a[i].data_loss == b[i].data_loss);
    CHECK(a[i].val_rel_l2 == b[i].val_rel_l2);
    CHECK(a[i].lr == b[i].lr);
  }
}

void resume_reproduces(const std::string& optimizer, const std::string& augment = "none",
                       const TrainingData* unlabelled = nullptr,
                       const std::string& physics_loss = "residual") {
  const TrainingData d = darcy_data(12, 8);
  const std::string dir = scratch("resume_" + optimizer + augment);
  TrainOptions o = quick_options();
  o.optimizer = optimizer;
  o.augment = augment;
  o.epochs = 4;
  o.batch_size = 4;  // 9 training samples: 3 steps per epoch
  o.schedule = "cosine";
  o.physics_weight = 0.1;
  o.physics_loss = physics_loss;
  o.unlabelled_batch_size = 3;  // 7 unlabelled samples: the batches wrap around the shuffle
  o.lr = optimizer == "lbfgs" ? 0.5 : 2e-3;
  o.checkpoint_every = 1;

  TrainOptions straight = o;
  straight.checkpoint = dir + "/straight.ckpt";
  auto a = small_fno(5);
  const TrainResult ra = train_surrogate(*a, d, straight, nullptr, unlabelled);

  TrainOptions first = o;
  first.checkpoint = dir + "/resumed.ckpt";
  first.loss_hook = [](std::int64_t step, const torch::Tensor& l) {
    if (step == 6) throw Interrupted();  // the first step of epoch 3
    return l;
  };
  auto b = small_fno(5);
  CHECK_THROWS_AS(train_surrogate(*b, d, first, nullptr, unlabelled), Interrupted);
  TrainOptions second = o;
  second.checkpoint = first.checkpoint;
  second.resume = true;
  auto c = small_fno(99);  // other initial weights: all must come from the checkpoint
  const TrainResult rc = train_surrogate(*c, d, second, nullptr, unlabelled);

  check_same_history(ra.history, rc.history);
  CHECK(ra.best_epoch == rc.best_epoch);
  CHECK(same_weights(weights(*a), weights(*c)));
  std::filesystem::remove_all(dir);
}

}  // namespace

TEST_CASE("resume after an interruption reproduces the uninterrupted run exactly (Adam)") {
  resume_reproduces("adam");
}

TEST_CASE("resume reproduces the uninterrupted run exactly (L-BFGS)") {
  resume_reproduces("lbfgs");
}

TEST_CASE("resume reproduces the uninterrupted run exactly (Adam, symmetry augmentation)") {
  resume_reproduces("adam", "symmetries");
}

TEST_CASE("resume reproduces the uninterrupted run exactly (unlabelled samples, preconditioned)") {
  const TrainingData u = darcy_data(7, 8, /*with_u=*/false, /*f_seed_offset=*/3);
  resume_reproduces("adam", "none", &u, "preconditioned");
}

TEST_CASE("checkpoints: existing file, incompatible options, damaged files") {
  const TrainingData d = darcy_data(8, 8);
  const std::string dir = scratch("ckpt_errors");
  TrainOptions o = quick_options();
  o.epochs = 1;
  o.checkpoint = dir + "/run.ckpt";
  auto m = small_fno();
  train_surrogate(*m, d, o);
  REQUIRE(std::filesystem::exists(o.checkpoint));

  // Not resuming: an existing checkpoint is not overwritten.
  const auto size = std::filesystem::file_size(o.checkpoint);
  CHECK(error_of([&] { train_surrogate(*small_fno(), d, o); }).find("already exists") !=
        std::string::npos);
  CHECK(std::filesystem::file_size(o.checkpoint) == size);

  TrainOptions r = o;
  r.resume = true;
  r.batch_size = 2;
  CHECK(error_of([&] { train_surrogate(*small_fno(), d, r); })
            .find("was written with -train_batch_size 64, this run has 2") != std::string::npos);
  r = o;
  r.resume = true;
  r.dtype = "float64";
  CHECK(error_of([&] { train_surrogate(*small_fno(), d, r); }).find("-train_dtype") !=
        std::string::npos);
  r = o;
  r.resume = true;
  TrainingData other = darcy_data(8, 8);
  other.fingerprint = "other data";
  CHECK(error_of([&] { train_surrogate(*small_fno(), other, r); }).find("training data") !=
        std::string::npos);

  // Truncated and corrupted files.
  std::string bytes;
  {
    std::ifstream in(o.checkpoint, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  r = o;
  r.resume = true;
  {
    std::ofstream out(o.checkpoint, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size() / 2));
  }
  CHECK(error_of([&] { train_surrogate(*small_fno(), d, r); }).find("truncated") !=
        std::string::npos);
  {
    std::string flipped = bytes;
    flipped[flipped.size() - 3] ^= 0x55;
    std::ofstream out(o.checkpoint, std::ios::binary | std::ios::trunc);
    out.write(flipped.data(), std::streamsize(flipped.size()));
  }
  CHECK(error_of([&] { train_surrogate(*small_fno(), d, r); }).find("SHA-256") !=
        std::string::npos);
  r.checkpoint = dir + "/missing.ckpt";
  CHECK(error_of([&] { train_surrogate(*small_fno(), d, r); }).find("does not exist") !=
        std::string::npos);
  std::filesystem::remove_all(dir);
}
