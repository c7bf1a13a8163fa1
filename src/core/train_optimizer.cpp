// Optimizer construction and its state <-> checkpoint (no torch::serialize: that is pickle).
#include "train_optimizer.hpp"

#include <torch/optim/adam.h>
#include <torch/optim/lbfgs.h>

#include <cmath>
#include <sstream>
#include <type_traits>

#include "pins/core/check.hpp"

namespace pins::detail {

namespace {

// LibTorch keys per-parameter state by the parameter's TensorImpl: its address printed to a
// string in LibTorch 1.x, the pointer itself in 2.x. The key type is read off the state map,
// so the same source builds against both (the GPU machines have LibTorch 2.x).
using StateKey =
    std::decay_t<decltype(std::declval<const torch::optim::Optimizer&>().state())>::key_type;

template <class Key = StateKey>  // a template, so the branch not taken is not instantiated
Key key_of(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;  // what c10::guts::to_string does with a pointer
    os << p.unsafeGetTensorImpl();
    return os.str();
  } else {
    return Key(p.unsafeGetTensorImpl());
  }
}

// Adds a deep copy of `t` under `name`; undefined tensors (state not yet built) are left out.
void put(CheckpointData& out, const std::string& name, const torch::Tensor& t) {
  if (t.defined()) out.tensors.emplace_back(name, t.detach().clone());
}

// JSON has no NaN or Inf; they are stored as null (hex-exact doubles are not needed: JSON
// numbers from nlohmann round-trip doubles exactly).
nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

double from_number(const nlohmann::json& j) {
  return j.is_number() ? j.get<double>() : std::nan("");
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::string& kind, double lr,
                                                        double weight_decay,
                                                        const std::vector<torch::Tensor>& params) {
  if (kind == "lbfgs") {
    // One L-BFGS iteration sequence per mini-batch; the line search keeps it stable.
    return std::make_unique<torch::optim::LBFGS>(
        params,
        torch::optim::LBFGSOptions(lr).max_iter(5).history_size(20).line_search_fn("strong_wolfe"));
  }
  return std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(lr).weight_decay(weight_decay));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

void save_optimizer_state(const torch::optim::Optimizer& optimizer, const std::string& kind,
                          const std::vector<torch::Tensor>& params, CheckpointData& out) {
  nlohmann::json j = {{"kind", kind}, {"params", nlohmann::json::array()}};
  const auto& state = optimizer.state();
  for (size_t i = 0; i < params.size(); ++i) {
    auto it = state.find(key_of(params[i]));
    if (it == state.end()) {
      j["params"].push_back(nullptr);
      continue;
    }
    const std::string p = "optim/" + std::to_string(i) + "/";
    if (kind == "adam") {
      const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
      j["params"].push_back({{"step", s.step()}});
      put(out, p + "exp_avg", s.exp_avg());
      put(out, p + "exp_avg_sq", s.exp_avg_sq());
    } else {
      const auto& s = static_cast<const torch::optim::LBFGSParamState&>(*it->second);
      j["params"].push_back({{"func_evals", s.func_evals()},
                             {"n_iter", s.n_iter()},
                             {"t", number(s.t())},
                             {"prev_loss", number(s.prev_loss())},
                             {"history", s.old_dirs().size()}});
      put(out, p + "d", s.d());
      put(out, p + "H_diag", s.H_diag());
      put(out, p + "prev_flat_grad", s.prev_flat_grad());
      for (size_t k = 0; k < s.old_dirs().size(); ++k) {
        put(out, p + "old_dirs/" + std::to_string(k), s.old_dirs()[k]);
        put(out, p + "old_stps/" + std::to_string(k), s.old_stps()[k]);
        put(out, p + "ro/" + std::to_string(k), s.ro()[k]);
      }
    }
  }
  out.state["optimizer"] = j;
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::string& kind,
                          const std::vector<torch::Tensor>& params, const CheckpointData& in,
                          const std::string& path) {
  const std::string file = "checkpoint '" + path + "'";
  const auto& j = in.state.at("optimizer");
  PINS_CHECK(j.at("kind").get<std::string>() == kind, file, " holds ",
             j.at("kind").get<std::string>(), " optimizer state, this run uses -train_optimizer ",
             kind);
  const auto& list = j.at("params");
  PINS_CHECK(list.size() == params.size(), file, " has optimizer state for ", list.size(),
             " parameters, the model has ", params.size());
  auto& state = optimizer.state();
  state.clear();
  for (size_t i = 0; i < params.size(); ++i) {
    if (list[i].is_null()) continue;
    const std::string p = "optim/" + std::to_string(i) + "/";
    // Checkpoints hold host tensors; the state lives where its parameter does.
    auto get = [&](const std::string& name) {
      return in.has(p + name) ? in.tensor(p + name, path).to(params[i].device(), true).clone()
                              : torch::Tensor();
    };
    if (kind == "adam") {
      auto s = std::make_unique<torch::optim::AdamParamState>();
      s->step(list[i].at("step").get<int64_t>());
      s->exp_avg(get("exp_avg"));
      s->exp_avg_sq(get("exp_avg_sq"));
      PINS_CHECK(s->exp_avg().sizes() == params[i].sizes(), file,
                 ": optimizer state does not match the model's parameter ", i);
      state[key_of(params[i])] = std::move(s);
    } else {
      auto s = std::make_unique<torch::optim::LBFGSParamState>();
      s->func_evals(list[i].at("func_evals").get<int64_t>());
      s->n_iter(list[i].at("n_iter").get<int64_t>());
      s->t(from_number(list[i].at("t")));
      s->prev_loss(from_number(list[i].at("prev_loss")));
      s->d(get("d"));
      s->H_diag(get("H_diag"));
      s->prev_flat_grad(get("prev_flat_grad"));
      std::deque<torch::Tensor> dirs, stps, ro;
      const size_t n = list[i].at("history").get<size_t>();
      for (size_t k = 0; k < n; ++k) {
        dirs.push_back(get("old_dirs/" + std::to_string(k)));
        stps.push_back(get("old_stps/" + std::to_string(k)));
        ro.push_back(get("ro/" + std::to_string(k)));
      }
      s->old_dirs(dirs);
      s->old_stps(stps);
      s->ro(ro);
      state[key_of(params[i])] = std::move(s);
    }
  }
}

}  // namespace pins::detail
