#pragma once
// The training loop's optimizer: Adam or L-BFGS over a model's parameters, with its state copied
// to and from checkpoints (private to pins::core).

#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <vector>

#include "train_checkpoint.hpp"

namespace pins::detail {

/// Adam (`kind` "adam", with `weight_decay`) or L-BFGS ("lbfgs") over `params`.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::string& kind, double lr,
                                                        double weight_decay,
                                                        const std::vector<torch::Tensor>& params);

/// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

/// Copies the optimizer's per-parameter state into `out` (state["optimizer"] and tensors
/// "optim/..."), deep copies.
void save_optimizer_state(const torch::optim::Optimizer& optimizer, const std::string& kind,
                          const std::vector<torch::Tensor>& params, CheckpointData& out);

/// Replaces the optimizer's state with the one in `in` (from save_optimizer_state).
void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::string& kind,
                          const std::vector<torch::Tensor>& params, const CheckpointData& in,
                          const std::string& path);

}  // namespace pins::detail
