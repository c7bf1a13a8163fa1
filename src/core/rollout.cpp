// Rollouts of one-step surrogates (pins/core/rollout.hpp).
#include "pins/core/rollout.hpp"

#include <torch/torch.h>

#include <vector>

#include "pins/core/check.hpp"

namespace pins {

Trajectories trajectories(const TrainingData& steps, const Family& family) {
  PINS_CHECK(family.time_dependent(), "the ", family.name(),
             " family is not time-dependent: its data holds no trajectories");
  PINS_CHECK(steps.u.defined(), "trajectories need the stored states u");
  const int64_t group = steps.group, rows = steps.u.size(0);
  PINS_CHECK(group >= 1 && rows % group == 0, "step data of ", rows,
             " rows does not hold whole trajectories of ", group, " steps");
  const int64_t n = rows / group;
  // Row i·group + t is step t of sample i: split the leading axis into [n, group].
  auto split = [&](const torch::Tensor& t) {
    std::vector<int64_t> shape = {n, group};
    shape.insert(shape.end(), t.sizes().begin() + 1, t.sizes().end());
    return t.reshape(shape);
  };
  Trajectories out;
  const std::string state = family.state_input();
  for (const auto& [name, t] : steps.inputs)
    if (name != state) out.inputs[name] = split(t).select(1, 0).contiguous();
  const torch::Tensor first = split(steps.input(state)).narrow(1, 0, 1);
  out.u = torch::cat({first, split(steps.u)}, 1).contiguous();
  return out;
}

torch::Tensor rollout(Surrogate& model, const Normalisation& norm, const Family& family,
                      const FieldMap& inputs, const torch::Tensor& initial, std::int64_t steps,
                      std::int64_t batch) {
  PINS_CHECK(family.time_dependent(), "rollout: the ", family.name(),
             " family is not time-dependent");
  PINS_CHECK(steps >= 1, "rollout: steps must be at least 1, got ", steps);
  PINS_CHECK(initial.defined() && initial.dim() >= 2, "rollout: initial states must be [N, grid...]");
  FieldMap in = inputs;
  torch::Tensor state = initial.to(torch::kFloat64).contiguous();
  std::vector<torch::Tensor> states = {state};
  for (int64_t s = 0; s < steps; ++s) {
    in[family.state_input()] = state;
    state = predict(model, norm, in, batch, &family).contiguous();
    states.push_back(state);
  }
  return torch::stack(states, 1);
}

torch::Tensor rollout_errors(const torch::Tensor& u, const torch::Tensor& truth) {
  PINS_CHECK(u.sizes() == truth.sizes() && u.dim() >= 3, "rollout_errors: the rollout ",
             u.sizes(), " and the trajectories ", truth.sizes(), " must be one shape [N, T, ...]");
  const int64_t n = u.size(0), t = u.size(1);
  std::vector<int64_t> shape = {n * (t - 1)};
  shape.insert(shape.end(), u.sizes().begin() + 2, u.sizes().end());
  auto steps = [&](const torch::Tensor& x) {
    return x.narrow(1, 1, t - 1).to(torch::kFloat64).reshape(shape);
  };
  return relative_l2(steps(u), steps(truth)).view({n, t - 1});
}

}  // namespace pins
