#pragma once
/// \file
/// What pins::training_data (a dataset in memory) and pins::streamed_training_data (a
/// dataset read from its file per mini-batch) share, so both accept the same files and
/// give the same rows. Private to pins::core.

#include "pins/core/dataset.hpp"
#include "pins/core/family.hpp"
#include "pins/core/trainer.hpp"

namespace pins::detail {

/// Checks a dataset's attributes for training and returns its family: a known family that
/// takes the dataset's sampler parameters and mesh, single states or trajectories as the
/// family learns them, every input array the family needs with its components, the grid's
/// dimension. Throws pins::Error naming what is wrong.
const Family& check_training_info(const DatasetInfo& info);

/// The TrainingData of `info` without rows: family name, sampler parameters, mesh.
TrainingData training_data_header(const DatasetInfo& info);

/// Throws, naming the first sample at fault, unless every value of input `name` is positive
/// (`values` [samples, ...] of the input from sample `first_sample` on; the family takes the
/// logarithm of inputs it log-standardises).
void check_positive(const Family& family, const std::string& name, const torch::Tensor& values,
                    std::int64_t first_sample = 0);

}  // namespace pins::detail
