// Training a neural preconditioner on sampled problems (precondition.hpp): no dataset, no
// solves; every step draws fresh operators and residuals, so there is nothing to overfit.
// The loop (guard, rollback, schedule, checkpoints and resume, log, progress lines) is the
// one solution training runs (training_loop.hpp).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "option_table.hpp"
#include "pins/core/check.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/trainer.hpp"
#include "sampled_problems.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"
#include "train_checkpoint.hpp"
#include "train_device.hpp"
#include "train_monitor.hpp"
#include "training_loop.hpp"

namespace pins {

namespace {

using detail::OptionDoc;
using detail::join_commas;

const std::vector<OptionDoc> kOptions = detail::with_sampled_loop_options({
    {"-grid", "cells per side of the training operators"},
    {"-precondition_operators",
     "comma-separated operator kinds: darcy,lognormal,contrast,anisotropic"},
    {"-precondition_smooth", "damped-Jacobi sweeps before and after the network in training"},
    {"-precondition_iterations", "cycles of the stationary iteration the loss is taken after"},
});

}  // namespace

std::vector<OptionDoc> detail::with_sampled_loop_options(std::vector<OptionDoc> task_options) {
  const OptionDoc loop[] = {
      {"-train_steps", "optimiser steps, each on a fresh batch (0: write the untrained network)"},
      {"-train_batch_size", "problems per step"},
      {"-train_lr", "initial learning rate (cosine schedule to 0)"},
      {"-train_seed", "seed of the initial weights and the sampled problems"},
      {"-train_threads", "LibTorch threads (0: the cores available)"},
      {"-train_device",
       "auto, cpu or cuda: where the model, the drawn problems and the loss live (auto: cuda "
       "when LibTorch sees a GPU and pins' Kokkos kernels run on one, else cpu)"},
      {"-train_monitor_every",
       "steps per interval: a progress line, a validation, a log row (0: quiet, intervals of 50)"},
      {"-train_log",
       "write the history (step, loss, val_loss, lr, seconds, skipped_steps; .json: JSON, else "
       "CSV)"},
      {"-train_checkpoint", "checkpoint file (none unless given)"},
      {"-train_checkpoint_every",
       "write a checkpoint every k steps, a multiple of the interval (0: only at the end)"},
      {"-train_resume", "continue from the checkpoint (bit for bit as the uninterrupted run)"},
      {"-train_max_bad_steps", "non-finite steps before rolling back to the last clean interval"},
      {"-train_max_rollbacks", "rollbacks before training stops with an error"},
  };
  task_options.insert(task_options.end(), std::begin(loop), std::end(loop));
  return task_options;
}

void detail::check_operator_kinds(const std::string& option, const std::vector<std::string>& kinds) {
  PINS_CHECK(!kinds.empty(), option, " is empty (known: ", join_commas(operator_kinds()), ")");
  for (const auto& k : kinds) {
    bool known = false;
    for (const auto& n : operator_kinds()) known = known || k == n;
    PINS_CHECK(known, option, ": unknown kind '", k, "' (known: ", join_commas(operator_kinds()),
               ")");
  }
}

void PreconditionTrainOptions::read_loop_options(const OptionMap& o) {
  steps = o.get_int("-train_steps", steps);
  batch_size = o.get_int("-train_batch_size", batch_size);
  lr = o.get_double("-train_lr", lr);
  const int s = o.get_int("-train_seed", 0);
  PINS_CHECK(s >= 0, "-train_seed must be >= 0, got ", s);
  seed = std::uint64_t(s);
  threads = o.get_int("-train_threads", threads);
  device = o.get_string("-train_device", device);
  monitor_every = o.get_int("-train_monitor_every", monitor_every);
  log = o.get_string("-train_log", log);
  checkpoint = o.get_string("-train_checkpoint", checkpoint);
  checkpoint_every = o.get_int("-train_checkpoint_every", checkpoint_every);
  resume = o.get_bool("-train_resume", resume);
  max_bad_steps = o.get_int("-train_max_bad_steps", max_bad_steps);
  max_rollbacks = o.get_int("-train_max_rollbacks", max_rollbacks);
}

PreconditionTrainOptions PreconditionTrainOptions::from_options(const OptionMap& o,
                                                                const std::string& surrogate) {
  detail::check_known_options(o, kOptions, {"-train_", "-precondition_"}, " for -task precondition");
  PreconditionTrainOptions t;
  if (!surrogate.empty() && surrogate_traits(surrogate).smooths) {
    t.smooth = 0;  // its V-cycle smooths on every level itself
    t.iterations = 3;
  }
  t.grid = o.get_int("-grid", t.grid);
  if (o.has("-precondition_operators"))
    t.kinds = detail::split_commas(o.get_string("-precondition_operators", ""));
  t.smooth = o.get_int("-precondition_smooth", t.smooth);
  t.iterations = o.get_int("-precondition_iterations", t.iterations);
  t.read_loop_options(o);
  t.validate();
  return t;
}

std::string PreconditionTrainOptions::help() {
  const PreconditionTrainOptions d;
  std::ostringstream os;
  os << "Preconditioner training options (pins train -task precondition):\n";
  os << detail::option_help_lines(kOptions);
  os << "  defaults: -grid " << d.grid << " -precondition_operators " << join_commas(d.kinds)
     << " -precondition_smooth " << d.smooth << " (0 for mgnet) -precondition_iterations "
     << d.iterations << " (3 for mgnet) -train_steps " << d.steps << " -train_batch_size "
     << d.batch_size << " -train_lr " << d.lr << " -train_monitor_every " << d.monitor_every
     << " -train_checkpoint_every " << d.checkpoint_every << " -train_max_bad_steps "
     << d.max_bad_steps << " -train_max_rollbacks " << d.max_rollbacks << "\n";
  return os.str();
}

void PreconditionTrainOptions::validate() const {
  PINS_CHECK(grid >= 8 && grid <= 1024, "-grid must be in [8, 1024] for -task precondition, got ", grid);
  detail::check_operator_kinds("-precondition_operators", kinds);
  PINS_CHECK(smooth >= 0 && smooth <= 50, "-precondition_smooth must be in [0, 50], got ", smooth);
  PINS_CHECK(iterations >= 1 && iterations <= 20, "-precondition_iterations must be in [1, 20], got ",
             iterations);
  validate_loop();
}

void PreconditionTrainOptions::validate_loop() const {
  PINS_CHECK(steps >= 0, "-train_steps must be >= 0 (0 writes the untrained network, a "
             "baseline), got ", steps);
  PINS_CHECK(batch_size >= 1, "-train_batch_size must be at least 1, got ", batch_size);
  PINS_CHECK(lr > 0 && std::isfinite(lr), "-train_lr must be positive, got ", lr);
  PINS_CHECK(threads >= 0, "-train_threads must be >= 0, got ", threads);
  detail::check_train_device_name(device);
  PINS_CHECK(monitor_every >= 0, "-train_monitor_every must be >= 0, got ", monitor_every);
  PINS_CHECK(val_samples >= 1, "validation samples must be at least 1");
  PINS_CHECK(checkpoint_every >= 0 && checkpoint_every % interval() == 0,
             "-train_checkpoint_every must be a multiple of the steps per interval (", interval(),
             ", -train_monitor_every), got ", checkpoint_every);
  PINS_CHECK(!resume || !checkpoint.empty(),
             "-train_resume needs a checkpoint file (-train_checkpoint)");
  PINS_CHECK(max_bad_steps >= 1, "-train_max_bad_steps must be at least 1, got ", max_bad_steps);
  PINS_CHECK(max_rollbacks >= 0, "-train_max_rollbacks must be >= 0, got ", max_rollbacks);
}

namespace {

using detail::CheckpointData;
using detail::PeriodStats;
using detail::StepLoss;
using Clock = std::chrono::steady_clock;

// Solve-free training runs in float32: the problems are fresh every step, so float64 buys
// nothing the next batch would not change more.
constexpr torch::ScalarType kSampledDtype = torch::kFloat32;

using detail::finite_or_null;
using detail::number_or_nan;

// A preconditioner-training record as `Json` (checkpoint json or log ordered_json).
template <class Json>
Json record_json(const PreconditionRecord& r) {
  return {{"step", r.step},
          {"loss", finite_or_null<Json>(r.loss)},
          {"val_loss", finite_or_null<Json>(r.val_loss)},
          {"lr", r.lr},
          {"seconds", r.seconds},
          {"skipped_steps", r.skipped_steps}};
}

// Solve-free training's part of the shared loop (training_loop.hpp): an interval of
// opt.interval() steps is a period; step s draws its problems from the step counter alone,
// so the counter the loop checkpoints is the sampler's whole state.
class SampledLoop : public detail::LoopTask {
 public:
  SampledLoop(Surrogate& model, const PreconditionTrainOptions& opt,
              detail::SampledProblems& problems)
      : model_(model), opt_(opt), problems_(problems) {}

  PreconditionTrainResult run();

  std::int64_t first_step(int interval) const override {
    return std::min<std::int64_t>(std::int64_t(interval - 1) * opt_.interval(), opt_.steps);
  }
  // Data parallel: each process draws and scores its share of the step's problems; its
  // share of the step's mean loss is its mean times its fraction of them.
  void begin_step(std::int64_t step, std::int64_t) override {
    share_ = share_of(size_t(opt_.batch_size), group_.rank(), group_.size());
    problems_.draw(step, share_);
  }
  StepLoss loss() override {
    const double fraction = double(share_.end - share_.begin) / double(opt_.batch_size);
    torch::Tensor l = problems_.loss(model_);
    if (group_.size() > 1) l = l * fraction;
    return {l, {}, 1.0};
  }
  void end_period(const PeriodStats& st) override {
    PreconditionRecord r;
    r.step = st.steps_done;
    r.loss = st.loss;
    r.val_loss = val_loss();
    r.lr = st.lr;
    r.skipped_steps = st.skipped;
    r.seconds = std::chrono::duration<double>(Clock::now() - st.start).count();
    history_.push_back(r);
    problems_per_second_ = double(st.steps * opt_.batch_size) / std::max(r.seconds, 1e-9);
  }
  std::string progress_line(double eta) const override {
    const PreconditionRecord& r = history_.back();
    std::ostringstream os;
    os << "step " << std::setw(5) << r.step << "/" << opt_.steps << "  loss " << std::scientific
       << std::setprecision(3) << r.loss << "  val " << r.val_loss << std::defaultfloat << "  lr "
       << std::setprecision(2) << r.lr << std::setprecision(6) << "  "
       << std::llround(problems_per_second_) << " problems/s  ETA " << detail::format_duration(eta);
    if (r.skipped_steps > 0) os << "  skipped " << r.skipped_steps << " non-finite steps";
    return os.str();
  }
  std::string label(int, std::int64_t step) const override {
    return "step " + std::to_string(step);
  }
  nlohmann::json fingerprint() const override {
    nlohmann::json f = {{"-surrogate_type", model_.type()},
                        {"surrogate options", model_.options_json()},
                        {"-train_steps", opt_.steps},  // the cosine schedule spans the whole run
                        {"-train_batch_size", opt_.batch_size},
                        {"-train_lr", opt_.lr},
                        {"-train_seed", opt_.seed},
                        {"steps per interval (-train_monitor_every)", opt_.interval()},
                        {"validation problems", opt_.val_samples}};
    f.update(problems_.fingerprint());
    return f;
  }
  void save_state(CheckpointData& c) const override {
    nlohmann::json h = nlohmann::json::array();
    for (const auto& r : history_) h.push_back(record_json<nlohmann::json>(r));
    c.state["history"] = h;
    c.state["initial_val_loss"] = finite_or_null(initial_val_);
    c.state["bare_val_loss"] = finite_or_null(bare_val_);
  }
  void load_state(const CheckpointData& c, const std::string&) override {
    const auto& s = c.state;
    history_.clear();
    for (const auto& j : s.at("history")) {
      PreconditionRecord r;
      r.step = j.at("step").get<std::int64_t>();
      r.loss = number_or_nan(j.at("loss"));
      r.val_loss = number_or_nan(j.at("val_loss"));
      r.lr = j.at("lr").get<double>();
      r.seconds = j.at("seconds").get<double>();
      r.skipped_steps = j.at("skipped_steps").get<int>();
      history_.push_back(r);
    }
    initial_val_ = number_or_nan(s.at("initial_val_loss"));
    bare_val_ = number_or_nan(s.at("bare_val_loss"));
  }
  nlohmann::ordered_json log_rows() const override {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& r : history_) rows.push_back(record_json<nlohmann::ordered_json>(r));
    return rows;
  }

 private:
  double val_loss() {
    torch::NoGradGuard no_grad;
    model_.module().eval();
    const double l = problems_.validation_loss(model_);
    model_.module().train();
    return l;
  }

  Surrogate& model_;
  const PreconditionTrainOptions& opt_;
  detail::SampledProblems& problems_;
  const ProcessGroup& group_ = group_or_single(opt_.group);
  Share share_;  // this process's problems of the step
  double problems_per_second_ = 0;
  // What a checkpoint holds besides the loop's state.
  std::vector<PreconditionRecord> history_;
  double initial_val_ = 0, bare_val_ = 0;
};

PreconditionTrainResult SampledLoop::run() {
  opt_.validate_loop();
  PINS_CHECK(opt_.batch_size >= group_.size(), "-train_batch_size ", opt_.batch_size,
             " gives fewer problems per step than the ", group_.size(),
             " processes training: at least one each");
  // Resolved before anything moves, so a refused device leaves the model as it was.
  const torch::Device device = training_device(opt_.device);
  set_training_threads(opt_.threads);
  const auto t0 = Clock::now();
  std::ostream& out = opt_.out ? *opt_.out : std::cout;
  model_.module().to(device, kSampledDtype);
  model_.module().train();
  problems_.to(device);

  if (!opt_.resume) {  // else both come from the checkpoint
    bare_val_ = problems_.baseline_loss();
    initial_val_ = val_loss();
    if (opt_.monitor_every > 0 && group_.rank() == 0)
      out << "  validation: " << opt_.val_samples << " problems; "
          << problems_.validation_line(bare_val_, initial_val_) << std::endl;
  }

  detail::LoopSettings s;
  s.optimizer = "adam";
  s.schedule.lr = opt_.lr;
  s.schedule.kind = "cosine";
  s.schedule.length = std::max(1, opt_.steps);
  s.schedule.per_step = true;
  s.periods = int((std::int64_t(opt_.steps) + opt_.interval() - 1) / opt_.interval());
  s.checkpoint = opt_.checkpoint;
  s.checkpoint_every = opt_.checkpoint_every / opt_.interval();
  s.resume = opt_.resume;
  s.force = opt_.force;
  s.log = opt_.log;
  s.max_bad_steps = opt_.max_bad_steps;
  s.max_rollbacks = opt_.max_rollbacks;
  s.monitor = opt_.monitor_every > 0 ? 1 : 0;
  s.out = opt_.out;
  s.loss_hook = opt_.loss_hook;
  s.advice = "lower -train_lr";
  s.group = opt_.group;
  if (group_.rank() != 0) s.monitor = 0;
  detail::TrainingLoop loop(model_, kSampledDtype, std::move(s), *this);
  loop.run();

  PreconditionTrainResult result;
  result.bare_val_loss = bare_val_;
  result.initial_val_loss = initial_val_;
  // Stays the untrained value for -train_steps 0.
  result.final_val_loss = history_.empty() ? initial_val_ : history_.back().val_loss;
  result.history = history_;
  result.rollbacks = loop.rollbacks();
  result.steps = opt_.steps;
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  model_.module().eval();
  return result;
}

// The 5-point preconditioner's problems: operators and residuals of sample_precondition_batch,
// the loss after opt.iterations cycles of the network between Jacobi sweeps.
class PreconditionProblems : public detail::SampledProblems {
 public:
  explicit PreconditionProblems(const PreconditionTrainOptions& opt) : opt_(opt) {
    // A fixed validation set, drawn far from the training indices.
    const PreconditionBatch val = sample_precondition_batch(
        opt_.kinds, opt_.grid, opt_.val_samples, opt_.seed, std::uint64_t(1) << 40);
    val_c_ = val.scaled_coeffs.to(kSampledDtype);
    val_r_ = val.rhat.to(kSampledDtype);
  }
  void to(torch::Device device) override {
    device_ = device;
    val_c_ = val_c_.to(device);
    val_r_ = val_r_.to(device);
  }
  void draw(std::int64_t step, Share share) override {
    const PreconditionBatch b = sample_precondition_batch(
        opt_.kinds, opt_.grid, int(share.end - share.begin), opt_.seed,
        std::uint64_t(step) * std::uint64_t(opt_.batch_size) + share.begin);
    c_ = b.scaled_coeffs.to(device_, kSampledDtype);
    r_ = b.rhat.to(device_, kSampledDtype);
  }
  torch::Tensor loss(Surrogate& model) override {
    return precondition_loss(c_, r_,
                             precondition_iterate(model, c_, r_, opt_.smooth, opt_.iterations));
  }
  double validation_loss(Surrogate& model) override {
    return precondition_loss(
               val_c_, val_r_,
               precondition_iterate(model, val_c_, val_r_, opt_.smooth, opt_.iterations))
        .item<double>();
  }
  double baseline_loss() override {
    torch::NoGradGuard no_grad;
    const torch::Tensor z = jacobi_sweeps(val_c_, val_r_, torch::zeros_like(val_r_),
                                          2 * opt_.smooth * opt_.iterations);
    return precondition_loss(val_c_, val_r_, z).item<double>();
  }
  std::string validation_line(double baseline, double untrained) const override {
    std::ostringstream os;
    os << "relative residual^2 ";
    if (opt_.smooth > 0)
      os << "after " << 2 * opt_.smooth * opt_.iterations << " Jacobi sweeps alone " << baseline
         << ", ";
    os << "with the untrained network " << untrained;
    if (opt_.iterations > 1) os << " (after " << opt_.iterations << " cycles)";
    return os.str();
  }
  nlohmann::json fingerprint() const override {
    return {{"-grid", opt_.grid},
            {"-precondition_operators", detail::join_commas(opt_.kinds)},
            {"-precondition_smooth", opt_.smooth},
            {"-precondition_iterations", opt_.iterations}};
  }

 private:
  const PreconditionTrainOptions& opt_;
  torch::Device device_ = torch::kCPU;
  torch::Tensor val_c_, val_r_;  // the fixed validation problems
  torch::Tensor c_, r_;          // this step's problems
};

}  // namespace

PreconditionTrainResult detail::train_on_sampled_problems(Surrogate& model,
                                                          const PreconditionTrainOptions& opt,
                                                          detail::SampledProblems& problems) {
  return SampledLoop(model, opt, problems).run();
}

PreconditionTrainResult train_preconditioner(Surrogate& model,
                                             const PreconditionTrainOptions& opt) {
  opt.validate();
  PINS_CHECK(model.in_channels() == kPreconditionChannels && model.out_channels() == 1,
             "a preconditioner model needs ", kPreconditionChannels,
             " input channels (couplings W, E, S, N and the residual) and 1 output, got ",
             model.in_channels(), " -> ", model.out_channels());
  PreconditionProblems problems(opt);
  return detail::train_on_sampled_problems(model, opt, problems);
}

InputFlag fit_operator_flag(const PreconditionTrainOptions& opts, int count) {
  torch::NoGradGuard no_grad;
  // Training draws indices step · batch + i, validation from 2^40: these come after both.
  const PreconditionBatch b =
      sample_precondition_batch(opts.kinds, opts.grid, count, opts.seed, std::uint64_t(1) << 41);
  InputFlag flag;
  flag.fit(operator_statistics(b.scaled_coeffs));
  return flag;
}

ModelManifest precondition_manifest(const PreconditionTrainOptions& opts,
                                    const PreconditionTrainResult& r, const std::string& command) {
  const std::string kinds = join_commas(opts.kinds);
  ModelManifest m;
  m.problem_family = "5-point";
  m.task = kPreconditionTask;
  m.grid_nx = m.grid_ny = opts.grid;
  m.normalisation = {{"features", "couplings W,E,S,N of D^-1 A and D^-1 r / rms"},
                     {"smooth", opts.smooth},
                     {"loss_iterations", opts.iterations},
                     {"jacobi_damping", kJacobiDamping}};
  m.training_data_hash = "sampled:" + kinds + ":seed=" + std::to_string(opts.seed);
  m.metrics = {{"val_residual2_bare_sweeps", r.bare_val_loss},
               {"val_residual2_untrained", r.initial_val_loss},
               {"val_residual2", r.final_val_loss},
               {"steps", r.steps},
               {"seconds", r.seconds},
               {"training_seconds", r.seconds},  // the same key as solution models'
               {"operators", kinds},
               {"command", command}};
  // Calibrated at training time: which operators are unlike those it was trained on.
  m.metrics[kOperatorFlagKey] = fit_operator_flag(opts).to_json(kOperatorFlagWhat);
  return m;
}

}  // namespace pins
