#pragma once
/// \file
/// Rollouts of a one-step surrogate of a time-dependent family (Family::time_dependent):
/// the surrogate applied to its own output, step after step, from the initial states of a
/// trajectory dataset — how a user runs it in place of PETSc TS, and how `pins evaluate`
/// measures the error growing along a trajectory.
///
/// \code
///   pins::Trajectories t = pins::trajectories(pins::training_data(dataset));
///   torch::Tensor u = pins::rollout(model, norm, *family, t.inputs, t.u.select(1, 0), steps);
///   torch::Tensor err = pins::rollout_errors(u, t.u);        // [N, steps]
/// \endcode

#include <torch/types.h>

#include <cstdint>

#include "pins/core/family.hpp"
#include "pins/core/trainer.hpp"

namespace pins {

class Surrogate;

/// Trajectories as tensors: the dataset's inputs (without the state input) [N, grid...]
/// and the states u [N, T, (dof,) grid...], u[:, 0] the initial ones.
struct Trajectories {
  FieldMap inputs;
  torch::Tensor u;
  std::int64_t samples() const { return u.size(0); }
  std::int64_t times() const { return u.size(1); }
};

/// Undoes training_data's step rows (group T − 1 rows per sample) for `family`'s state input.
/// Throws pins::Error unless `steps` holds whole trajectories of a time-dependent family.
Trajectories trajectories(const TrainingData& steps, const Family& family);

/// The surrogate's rollout [N, steps + 1, (dof,) grid...] (float64; [:, 0] = initial) from
/// the initial states [N, (dof,) grid...] for the inputs (without the state input), each
/// step one pins::predict call in batches of `batch`. Throws pins::Error unless `family` is
/// time-dependent and steps ≥ 1.
torch::Tensor rollout(Surrogate& model, const Normalisation& norm, const Family& family,
                      const FieldMap& inputs, const torch::Tensor& initial, std::int64_t steps,
                      std::int64_t batch = 64);

/// Relative L2 error per sample and step, [N, T − 1], of a rollout [N, T, ...] against the
/// true trajectories [N, T, ...] (steps 1 … T − 1; step 0 is the shared initial state).
torch::Tensor rollout_errors(const torch::Tensor& rollout, const torch::Tensor& truth);

}  // namespace pins
