// Neural preconditioner building blocks (pins/core/precondition.hpp): the features do not
// see row scaling, a network step never increases the residual, the cycle and loss agree
// with a dense computation, the sampler is deterministic, and training lowers the loss;
// training resumes bit for bit, survives NaN losses and logs every interval.
#include <cmath>
#include <fstream>
#include <sstream>

#include "helpers.hpp"
#include "pins/core/check.hpp"
#include "pins/core/precondition.hpp"

using namespace pins;
using namespace pins::test;

namespace {

// The small FNO of the trainer tests with the preconditioner's input channels.
std::shared_ptr<Surrogate> small_pc(std::uint64_t seed = 0) {
  return small_fno(seed, kPreconditionChannels);
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

// Preconditioner training runs the shared loop (src/core/training_loop.hpp): checkpoints and
// resume, the non-finite guard with rollback, and the history log, as solution training has.
namespace {

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

// 12 steps of 2 problems on 8 x 8, in intervals of 3 steps (a record, a checkpoint each).
PreconditionTrainOptions loop_options(std::ostream& out) {
  PreconditionTrainOptions o;
  o.grid = 8;
  o.steps = 12;
  o.batch_size = 2;
  o.lr = 3e-3;
  o.threads = 2;
  o.monitor_every = 3;
  o.val_samples = 4;
  o.seed = 5;
  o.out = &out;
  return o;
}

torch::Tensor nan_like(const torch::Tensor& loss) {
  return loss * std::nan("");
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// A CSV line without its "seconds" column (the 5th), the one thing a resume may change.
std::string without_seconds(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i)
    if (i != 4) out += cells[i] + ";";
  return out;
}

}  // namespace

TEST_CASE(
    "preconditioner training: resume after an interruption gives the same weights bit for bit") {
  const std::string dir = scratch("pc_resume");
  std::ostringstream sink;
  const PreconditionTrainOptions o = [&] {
    PreconditionTrainOptions t = loop_options(sink);
    t.checkpoint_every = 3;
    return t;
  }();

  PreconditionTrainOptions straight = o;
  straight.checkpoint = dir + "/straight.ckpt";
  straight.log = dir + "/straight.csv";
  auto a = small_pc(1);
  const PreconditionTrainResult ra = train_preconditioner(*a, straight);
  REQUIRE(ra.history.size() == 4);

  PreconditionTrainOptions first = o;
  first.checkpoint = dir + "/resumed.ckpt";
  first.log = dir + "/resumed.csv";
  first.loss_hook = [](std::int64_t step, const torch::Tensor& l) {
    if (step == 7) throw Interrupted();  // inside the third interval (steps 6-8)
    return l;
  };
  auto b = small_pc(1);
  CHECK_THROWS_AS(train_preconditioner(*b, first), Interrupted);
  CHECK(lines_of(first.log).size() == 3);  // header and the two intervals done

  PreconditionTrainOptions second = o;
  second.checkpoint = first.checkpoint;
  second.log = first.log;
  second.resume = true;
  auto c = small_pc(99);  // other initial weights: all must come from the checkpoint
  const PreconditionTrainResult rc = train_preconditioner(*c, second);
  CHECK(sink.str().find("resumed from checkpoint '" + first.checkpoint + "' after step 6") !=
        std::string::npos);

  CHECK(same_weights(weights(*a), weights(*c)));
  REQUIRE(rc.history.size() == ra.history.size());
  for (size_t i = 0; i < ra.history.size(); ++i) {
    CAPTURE(i);
    CHECK(ra.history[i].step == rc.history[i].step);
    CHECK(ra.history[i].loss == rc.history[i].loss);  // exact: same arithmetic, same order
    CHECK(ra.history[i].val_loss == rc.history[i].val_loss);
    CHECK(ra.history[i].lr == rc.history[i].lr);
  }
  CHECK(ra.initial_val_loss == rc.initial_val_loss);  // from the checkpoint, not recomputed
  CHECK(ra.final_val_loss == rc.final_val_loss);

  // The log is complete: a row per interval, the resumed run's equal to the straight one's.
  const auto la = lines_of(straight.log), lc = lines_of(second.log);
  REQUIRE(la.size() == 5);
  CHECK(la[0] == "step,loss,val_loss,lr,seconds,skipped_steps");
  REQUIRE(lc.size() == la.size());
  for (size_t i = 0; i < la.size(); ++i) CHECK(without_seconds(la[i]) == without_seconds(lc[i]));
  CHECK(la[4].rfind("12,", 0) == 0);

  // An existing checkpoint is not overwritten by a fresh run; one of other settings is refused.
  CHECK_THROWS_WITH_AS(train_preconditioner(*small_pc(), straight),
                       doctest::Contains("already exists; pass -train_resume"), pins::Error);
  PreconditionTrainOptions other = second;
  other.batch_size = 3;
  CHECK_THROWS_WITH_AS(train_preconditioner(*small_pc(), other),
                       doctest::Contains("was written with -train_batch_size 2, this run has 3"),
                       pins::Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("preconditioner training: a non-finite loss is skipped and leaves the weights alone") {
  std::ostringstream sink;
  PreconditionTrainOptions o = loop_options(sink);
  o.steps = 1;
  o.monitor_every = 1;
  o.loss_hook = [](std::int64_t, const torch::Tensor& l) { return nan_like(l); };
  auto model = small_pc(2);
  const auto before = weights(*model);
  const PreconditionTrainResult r = train_preconditioner(*model, o);
  REQUIRE(r.history.size() == 1);
  CHECK(r.history[0].skipped_steps == 1);
  CHECK(!std::isfinite(r.history[0].loss));  // no finite step to average
  CHECK(same_weights(weights(*model), before));
  CHECK(sink.str().find("skipped 1 non-finite steps") != std::string::npos);
}

TEST_CASE("preconditioner training: repeated NaN losses roll back to the last clean interval") {
  const std::string dir = scratch("pc_guard");
  std::ostringstream sink;
  PreconditionTrainOptions o = loop_options(sink);
  o.max_bad_steps = 1;
  o.max_rollbacks = 3;
  o.log = dir + "/log.json";
  int seen = 0;
  // Step 4 (the second of the second interval) fails the first two times it runs.
  o.loss_hook = [&](std::int64_t step, const torch::Tensor& l) {
    return step == 4 && seen++ < 2 ? nan_like(l) : l;
  };
  auto model = small_pc(3);
  const PreconditionTrainResult r = train_preconditioner(*model, o);
  CHECK(r.rollbacks == 2);
  CHECK(seen == 3);
  REQUIRE(r.history.size() == 4);
  CHECK(r.history[1].skipped_steps == 0);  // the interval that counted ran clean
  for (const auto& h : r.history) {
    CHECK(std::isfinite(h.loss));
    CHECK(std::isfinite(h.val_loss));
  }
  // The learning rate scale was halved at each bad step: the rate of the last step is a
  // quarter of the schedule's.
  const double cosine = o.lr * 0.5 * (1 + std::cos(M_PI * 11 / 12));
  CHECK(r.history[3].lr == doctest::Approx(0.25 * cosine).epsilon(1e-12));
  CHECK(sink.str().find("step 5: 1 non-finite steps; rolled back to the state after step 3") !=
        std::string::npos);
  CHECK(all_finite(*model));
  // The JSON log has every interval.
  std::ifstream in(o.log);
  const nlohmann::json log = nlohmann::json::parse(in);
  REQUIRE(log.size() == 4);
  CHECK(log[3]["step"] == 12);
  std::filesystem::remove_all(dir);
}

TEST_CASE("preconditioner training: persistent NaN losses stop with a clear message") {
  std::ostringstream sink;
  PreconditionTrainOptions o = loop_options(sink);
  o.max_bad_steps = 2;
  o.max_rollbacks = 1;
  o.loss_hook = [](std::int64_t step, const torch::Tensor& l) {
    return step >= 3 ? nan_like(l) : l;
  };
  auto model = small_pc(4);
  const std::string e = error_of([&] { train_preconditioner(*model, o); });
  CHECK(e.find("training stopped in step 5") != std::string::npos);
  CHECK(e.find("after 1 rollbacks (-train_max_rollbacks 1) to the state after step 3") !=
        std::string::npos);
  CHECK(e.find("lower -train_lr") != std::string::npos);
  CHECK(all_finite(*model));
}

TEST_CASE("preconditioner options: checkpoints and the guard") {
  const auto o = PreconditionTrainOptions::from_options(OptionMap::from_args(
      {"-train_checkpoint", "pc.ckpt", "-train_checkpoint_every", "100", "-train_max_bad_steps",
       "2", "-train_max_rollbacks", "0", "-train_resume"}));
  CHECK(o.checkpoint == "pc.ckpt");
  CHECK(o.checkpoint_every == 100);
  CHECK(o.resume);
  CHECK(o.max_bad_steps == 2);
  CHECK(o.max_rollbacks == 0);
  CHECK_THROWS_WITH_AS(PreconditionTrainOptions::from_options(
                           OptionMap::from_args({"-train_checkpoint_every", "75"})),
                       doctest::Contains("-train_checkpoint_every must be a multiple of the steps "
                                         "per interval (50, -train_monitor_every), got 75"),
                       pins::Error);
  CHECK_THROWS_WITH_AS(
      PreconditionTrainOptions::from_options(OptionMap::from_args({"-train_resume"})),
      doctest::Contains("-train_resume needs a checkpoint file"), pins::Error);
  const std::string help = PreconditionTrainOptions::help();
  for (const char* name : {"-train_checkpoint ", "-train_checkpoint_every", "-train_resume",
                           "-train_max_bad_steps", "-train_max_rollbacks", "-train_log"})
    CHECK(help.find(name) != std::string::npos);
}
