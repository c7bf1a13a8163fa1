#pragma once
// The one training loop of pins (private to pins::core): solution training on a dataset
// (train.cpp) and preconditioner training on sampled problems (precondition_train.cpp) both
// run it. It owns what does not depend on where a step's loss comes from:
//  - the optimiser step (Adam, or L-BFGS with its closure) with the non-finite guard: a step
//    whose loss or gradient is not finite never reaches the weights, halves the learning-rate
//    scale, and after max_bad_steps such steps the run rolls back to the state after the last
//    clean period; after max_rollbacks rollbacks training stops with an error;
//  - the learning-rate schedule (cosine, step or constant, over periods or over steps);
//  - checkpoints, written atomically every checkpoint_every periods and at the end, and
//    resume from them, bit-exact on the CPU with the same thread count: the model's tensors,
//    the optimiser state, the loop's counters (periods and global steps done, the step counter
//    sampled problems are drawn from) and the trainer's own state all go in;
//  - the history log, rewritten atomically after every period (CSV, or JSON for ".json");
//  - the progress monitor (a line per period, ETA, rollback and resume messages);
//  - data parallelism over a pins::ProcessGroup: each process computes the loss and the
//    gradient of its share of a step (LoopTask::loss returns the share, already weighted by
//    its fraction of the step), the loop sums both over the processes, so every process
//    takes the same optimiser step; a failure on one process stops all of them with its
//    message; checkpoints, the log and progress lines come from process 0 alone.
//
// A trainer supplies the rest through LoopTask: how a step's loss is computed (a mini-batch
// of the dataset, or freshly drawn problems of a global step number), what a period is (an
// epoch of mini-batches, or a report interval of steps) and what happens at its end
// (validation, a history record, best weights, early stopping), and its fingerprint.
//
// Periods are numbered from 1; global steps from 0 and run on across periods.

#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "pins/core/process_group.hpp"
#include "train_checkpoint.hpp"

namespace torch::optim {
class Optimizer;
}

namespace pins {
class Surrogate;
}

namespace pins::detail {

/// The learning rate at a point of the run: lr · f(t) with t the period (0-based) or the
/// global step, f a cosine over `length` (to 0), a step decay (gamma every step_size, 0:
/// length/3) or 1 (constant).
struct LearningRateSchedule {
  double lr = 1e-3;
  std::string kind = "cosine";  ///< cosine | step | constant
  int length = 1;               ///< periods (or steps) the cosine spans
  int step_size = 0;
  double gamma = 0.5;
  bool per_step = false;  ///< t is the global step instead of the period
  double factor(std::int64_t t) const;
};

/// What the loop does, apart from the trainer's part.
struct LoopSettings {
  std::string optimizer = "adam";  ///< adam | lbfgs
  double weight_decay = 0;         ///< Adam
  LearningRateSchedule schedule;
  int periods = 1;           ///< periods to run
  std::string checkpoint;    ///< file (empty: none)
  int checkpoint_every = 0;  ///< periods between checkpoints (0: only at the end)
  bool resume = false, force = false;
  std::string log;  ///< history log (empty: none)
  int max_bad_steps = 5, max_rollbacks = 3;
  int monitor = 1;              ///< 0 quiet, 1 a line per period, 2 also within periods
  std::ostream* out = nullptr;  ///< null: std::cout
  /// Test hook: sees each step's loss (global step, loss) and returns the loss to use.
  std::function<torch::Tensor(std::int64_t, const torch::Tensor&)> loss_hook;
  std::string advice = "lower -train_lr";  ///< ends the message when training stops
  /// The processes that share each step (null: this one alone).
  const ProcessGroup* group = nullptr;
};

/// A step's loss: `loss` is minimised; `parts` (may be undefined) are averaged for the
/// history like it, with the step's `weight` (e.g. its number of samples). With several
/// processes, `loss` and `parts` are this process's shares (their sums over the processes
/// are the step's), `weight` the whole step's, and every process returns as many parts.
struct StepLoss {
  torch::Tensor loss;
  std::vector<torch::Tensor> parts;
  double weight = 1;
};

/// What a period did: weighted means of the finite steps' losses (NaN if none was finite).
struct PeriodStats {
  int period = 0;               ///< 1-based
  std::int64_t steps_done = 0;  ///< global steps done at its end
  std::int64_t steps = 0;       ///< steps in the period
  double loss = 0;
  std::vector<double> parts;                    ///< NaN for parts never defined
  double weight = 0;                            ///< sum of the finite steps' weights
  int skipped = 0;                              ///< non-finite steps
  double lr = 0;                                ///< learning rate after the period
  std::chrono::steady_clock::time_point start;  ///< when the period began
};

/// The trainer's part of the loop.
class LoopTask {
 public:
  virtual ~LoopTask() = default;
  /// The global number of the first step of `period` (first_step(periods + 1): the total).
  virtual std::int64_t first_step(int period) const = 0;
  /// Called before the first step of each period run (again after a rollback).
  virtual void begin_period(int /*period*/) {}
  /// Selects the data of global step `step` (the `index`-th of its period); loss() then
  /// computes its loss, as often as the optimiser asks (L-BFGS: several times).
  virtual void begin_step(std::int64_t step, std::int64_t index) = 0;
  virtual StepLoss loss() = 0;
  /// After a period with no rollback: validate and record it (the loop's counters already
  /// count it, so a snapshot taken next holds the record).
  virtual void end_period(const PeriodStats& stats) = 0;
  /// The progress line of the period just recorded (monitor >= 1).
  virtual std::string progress_line(double eta_seconds) const = 0;
  /// After end_period: a message (printed) if training should stop now, else empty.
  virtual std::string early_stop(int /*period*/) { return {}; }
  /// Where the run is, for messages: "epoch 3" or "step 120" (step: 1-based count).
  virtual std::string label(int period, std::int64_t step) const = 0;
  /// What must match for a checkpoint to be resumed (option names → values).
  virtual nlohmann::json fingerprint() const = 0;
  /// The trainer's state (history, best weights, ...) into / out of a checkpoint; its keys
  /// go next to the loop's own ("fingerprint", "epoch", "step", "lr_scale", "bad_steps",
  /// "rollbacks", "optimizer") and its tensors should not start with "model/" or "optim/".
  virtual void save_state(CheckpointData& out) const = 0;
  virtual void load_state(const CheckpointData& in, const std::string& path) = 0;
  /// The history log's rows, one object per period, its keys in column order.
  virtual nlohmann::ordered_json log_rows() const = 0;
};

/// The loop over `model`'s parameters and buffers (moved to `dtype`, train mode).
class TrainingLoop {
 public:
  TrainingLoop(Surrogate& model, torch::ScalarType dtype, LoopSettings settings, LoopTask& task);
  ~TrainingLoop();

  /// Checks the checkpoint and log paths, resumes if asked, then runs the remaining periods.
  void run();

  int periods_done() const { return period_; }
  std::int64_t steps_done() const { return step_; }
  int rollbacks() const { return rollbacks_; }
  /// The model's parameters then buffers, by name (what checkpoints hold as "model/<name>").
  const std::vector<std::pair<std::string, torch::Tensor>>& named_tensors() const { return named_; }
  std::ostream& out() const;

 private:
  double lr_now(int period, std::int64_t step) const;
  bool loss_and_gradient(std::int64_t step, StepLoss& out);
  bool adam_step(std::int64_t step, StepLoss& out);
  bool lbfgs_step(std::int64_t step, StepLoss& out);
  CheckpointData snapshot() const;
  void restore(const CheckpointData& c, const std::string& path);
  void resume();
  void rollback(int period, std::int64_t step);
  void write_log() const;
  void write_checkpoint_now(const CheckpointData& c) const;
  bool root() const { return group_.rank() == 0; }

  Surrogate& model_;
  LoopSettings s_;
  LoopTask& task_;
  const ProcessGroup& group_;
  std::vector<std::pair<std::string, torch::Tensor>> named_;  // parameters, then buffers
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> optim_;

  int period_ = 0;         // periods completed
  std::int64_t step_ = 0;  // global steps completed (where sampling resumes)
  double lr_scale_ = 1;
  int bad_steps_ = 0, rollbacks_ = 0;
  CheckpointData last_good_;
};

/// Fails with "<option> <path>: folder '<dir>' does not exist or is not writable".
void check_writable_folder(const std::string& path, const char* option);

/// Writes log rows (LoopTask::log_rows) to `path` atomically: JSON (an array of objects, NaN
/// as null) if the name ends in ".json", else CSV (a header of the first row's keys).
void write_log_rows(const std::string& path, const nlohmann::ordered_json& rows);

}  // namespace pins::detail
