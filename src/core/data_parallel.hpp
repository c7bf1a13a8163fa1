#pragma once
// Data-parallel pieces of the training loop (private to pins::core): every process computes
// the loss and gradients of its share of a global mini-batch (its share already weighted by
// its fraction of the batch, so that the shares add up to the batch's loss), and these sums
// make every process hold the global batch's loss and gradient.

#include <torch/types.h>

#include <string>
#include <vector>

#include "pins/core/process_group.hpp"

namespace pins::detail {

/// Sums the gradients of `params` over `group` in place: one flat buffer in the parameters'
/// dtype, one sum (an undefined gradient counts as zeros and is defined afterwards).
void sum_gradients(const std::vector<torch::Tensor>& params, const ProcessGroup& group);

/// Throws pins::Error on every process if the parameters differ between the processes
/// (a checksum of their values; `where` names the point of the run for the message).
void check_same_parameters(const std::vector<torch::Tensor>& params, const ProcessGroup& group,
                           const std::string& where);

}  // namespace pins::detail
