#pragma once
// What a solve-free training run draws and scores (pins train -task precondition and -task
// smoother): fresh problems every step, fixed validation problems, and the classical method
// the network replaces as the baseline. The loop around it (guard, rollback, schedule,
// checkpoints, log, progress lines) is one, in precondition_train.cpp.
#include <torch/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "option_table.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/process_group.hpp"

namespace pins {

class Surrogate;

namespace detail {

class SampledProblems {
 public:
  virtual ~SampledProblems() = default;
  /// Moves the validation problems to `device` (-train_device), where every later draw goes
  /// too: problems are drawn on the host (deterministic whatever the device) and moved.
  virtual void to(torch::Device device) = 0;
  /// Draws problems [share.begin, share.end) of step `step`'s batch (all of them on one
  /// process, this process's share with several); each problem is a function of the step
  /// and its position alone, so a resumed run, or a run on another number of processes,
  /// draws the same ones.
  virtual void draw(std::int64_t step, Share share) = 0;
  /// The mean loss on the drawn problems, differentiable in the model's parameters.
  virtual torch::Tensor loss(Surrogate& model) = 0;
  /// The loss on the fixed validation problems (no gradient).
  virtual double validation_loss(Surrogate& model) = 0;
  /// The validation loss without the network (the classical method it improves on).
  virtual double baseline_loss() = 0;
  /// The start line's account of the validation losses, e.g. "relative residual^2 after 4
  /// Jacobi sweeps alone 0.5, with the untrained network 0.4".
  virtual std::string validation_line(double baseline, double untrained) const = 0;
  /// The options that define the problems, merged into the checkpoint's fingerprint.
  virtual nlohmann::json fingerprint() const = 0;
};

/// The -train_* options every solve-free task reads (PreconditionTrainOptions::read_loop_options),
/// documented once: a task's option table is its own entries followed by these.
std::vector<OptionDoc> with_sampled_loop_options(std::vector<OptionDoc> task_options);

/// Throws pins::Error naming `option` if `kinds` is empty or holds a name that is not one of
/// operator_kinds().
void check_operator_kinds(const std::string& option, const std::vector<std::string>& kinds);

/// Trains `model` in place on `problems` with the loop settings of `options` (steps, batch,
/// schedule, checkpoints, guard); its validation losses are the result's.
PreconditionTrainResult train_on_sampled_problems(Surrogate& model,
                                                  const PreconditionTrainOptions& options,
                                                  SampledProblems& problems);

}  // namespace detail
}  // namespace pins
