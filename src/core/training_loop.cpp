// The training loop shared by solution and preconditioner training (training_loop.hpp).
#include "training_loop.hpp"

#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "atomic_file.hpp"
#include "data_parallel.hpp"
#include "pins/core/check.hpp"
#include "surrogates/surrogate.hpp"
#include "train_optimizer.hpp"

namespace pins::detail {

namespace {

using Clock = std::chrono::steady_clock;

bool finite(const torch::Tensor& t) {
  return torch::isfinite(t).all().item<bool>();
}

}  // namespace

double LearningRateSchedule::factor(std::int64_t t) const {
  if (kind == "cosine") return 0.5 * (1 + std::cos(M_PI * double(t) / length));
  if (kind == "step") {
    const int size = step_size > 0 ? step_size : std::max(1, length / 3);
    return std::pow(gamma, double(t / size));
  }
  return 1;
}

void check_writable_folder(const std::string& path, const char* option) {
  const std::filesystem::path p(path);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  PINS_CHECK(::access(dir.c_str(), W_OK) == 0, option, " ", path, ": folder '", dir,
             "' does not exist or is not writable");
}

void write_log_rows(const std::string& path, const nlohmann::ordered_json& rows) {
  std::string text;
  const bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  if (json) {
    // Keys sorted, as nlohmann::json prints them (the rows hold NaN as null already).
    text = nlohmann::json::parse(rows.dump()).dump(1) + "\n";
  } else {
    std::ostringstream os;
    os.precision(17);
    bool header = true;
    for (const auto& row : rows) {
      if (header) {
        bool first = true;
        for (const auto& item : row.items()) {
          os << (first ? "" : ",") << item.key();
          first = false;
        }
        os << '\n';
        header = false;
      }
      bool first = true;
      for (const auto& item : row.items()) {
        os << (first ? "" : ",");
        first = false;
        const auto& v = item.value();
        if (v.is_null())
          os << std::nan("");  // what streaming a NaN double writes
        else if (v.is_number_integer())
          os << v.get<std::int64_t>();
        else if (v.is_number())
          os << v.get<double>();
        else if (v.is_boolean())
          os << (v.get<bool>() ? 1 : 0);
        else
          os << v.get<std::string>();
      }
      os << '\n';
    }
    text = os.str();
  }
  AtomicFile out(path, "training log");
  out.write(text.data(), text.size());
  out.commit(/*force=*/true);
}

TrainingLoop::TrainingLoop(Surrogate& model, torch::ScalarType dtype, LoopSettings settings,
                           LoopTask& task)
    : model_(model), s_(std::move(settings)), task_(task), group_(group_or_single(s_.group)) {
  PINS_CHECK(s_.periods >= 0, "training loop: negative number of periods");
  if (!root()) s_.monitor = 0;  // one process reports
  model_.module().to(dtype);
  model_.module().train();
  for (const auto& p : model_.module().named_parameters(true)) {
    named_.emplace_back(p.key(), p.value());
    params_.push_back(p.value());
  }
  for (const auto& b : model_.module().named_buffers(true))
    if (b.value().defined()) named_.emplace_back(b.key(), b.value());
  optim_ = make_optimizer(s_.optimizer, s_.schedule.lr, s_.weight_decay, params_);
}

TrainingLoop::~TrainingLoop() = default;

std::ostream& TrainingLoop::out() const {
  return s_.out ? *s_.out : std::cout;
}

double TrainingLoop::lr_now(int period, std::int64_t step) const {
  const std::int64_t t = s_.schedule.per_step ? step : std::int64_t(period - 1);
  return s_.schedule.lr * lr_scale_ * s_.schedule.factor(t);
}

// The step's loss into `l` and its gradient into the parameters' grads, summed over the
// processes; false if the loss or the gradient is not finite (on any process: then all
// return false). An exception on one process is thrown on every process.
bool TrainingLoop::loss_and_gradient(std::int64_t step, StepLoss& l) {
  if (group_.size() == 1) {
    l = task_.loss();
    if (s_.loss_hook) l.loss = s_.loss_hook(step, l.loss);
    if (!finite(l.loss)) return false;
    l.loss.backward();
    for (const auto& p : params_)
      if (p.grad().defined() && !finite(p.grad())) return false;
    return true;
  }
  std::string error;
  bool ok = false;
  try {
    l = task_.loss();
    if (s_.loss_hook) l.loss = s_.loss_hook(step, l.loss);
    ok = finite(l.loss);
    if (ok && l.loss.requires_grad()) l.loss.backward();
  } catch (const std::exception& e) {
    error = e.what();
    if (error.empty()) error = "unknown error";
  }
  // One sum of the scalars: [loss, parts..., part defined..., failed], a fixed layout (a
  // process that failed may not know how many parts the others have); a non-finite share
  // makes the sum non-finite on every process.
  constexpr size_t kMaxParts = 8;
  if (error.empty() && l.parts.size() > kMaxParts)
    error = concat("training loop: a step has ", l.parts.size(), " loss parts, at most ",
                   kMaxParts, " can be summed over processes");
  const size_t parts = error.empty() ? l.parts.size() : 0;
  std::vector<double> v(2 * kMaxParts + 2, 0.0);
  if (error.empty()) {
    v[0] = ok ? l.loss.item<double>() : std::nan("");
    for (size_t i = 0; i < parts; ++i)
      if (l.parts[i].defined()) {
        v[1 + i] = l.parts[i].item<double>();
        v[1 + kMaxParts + i] = 1;
      }
  }
  v.back() = error.empty() ? 0 : 1;
  group_.sum(v.data(), v.size());
  if (v.back() > 0) {
    const std::string first = group_.first_error(error);
    throw Error(first.empty() ? std::string("training failed on another process") : first);
  }
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  l.loss = torch::full({}, v[0], options);
  for (size_t i = 0; i < parts; ++i)
    l.parts[i] = v[1 + kMaxParts + i] > 0 ? torch::full({}, v[1 + i], options) : torch::Tensor();
  if (!std::isfinite(v[0])) return false;
  sum_gradients(params_, group_);
  for (const auto& p : params_)
    if (p.grad().defined() && !finite(p.grad())) return false;
  return true;
}

bool TrainingLoop::adam_step(std::int64_t step, StepLoss& l) {
  optim_->zero_grad();
  const bool ok = loss_and_gradient(step, l);
  if (ok) optim_->step();
  optim_->zero_grad();
  return ok;
}

bool TrainingLoop::lbfgs_step(std::int64_t step, StepLoss& l) {
  std::vector<torch::Tensor> before;
  for (const auto& p : params_) before.push_back(p.detach().clone());
  bool first = true, ok = true;
  auto closure = [&]() -> torch::Tensor {
    optim_->zero_grad();
    StepLoss c;
    const bool good = loss_and_gradient(step, c);
    if (first) l = c;  // the losses at the start of the step, as Adam reports them
    first = false;
    ok = ok && good;
    return c.loss.detach();
  };
  optim_->step(closure);
  for (const auto& p : params_) ok = ok && finite(p);
  if (!ok) {
    // Undo whatever the line search did and forget the curvature pairs it built.
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i) params_[i].copy_(before[i]);
    optim_->state().clear();
  }
  optim_->zero_grad();
  return ok;
}

CheckpointData TrainingLoop::snapshot() const {
  CheckpointData c;
  task_.save_state(c);
  c.state["fingerprint"] = task_.fingerprint();
  c.state["epoch"] = period_;
  c.state["step"] = step_;
  c.state["lr_scale"] = lr_scale_;
  c.state["bad_steps"] = bad_steps_;
  c.state["rollbacks"] = rollbacks_;
  for (const auto& [name, t] : named_) c.tensors.emplace_back("model/" + name, t.detach().clone());
  save_optimizer_state(*optim_, s_.optimizer, params_, c);
  return c;
}

void TrainingLoop::restore(const CheckpointData& c, const std::string& path) {
  const auto& s = c.state;
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : named_) {
      const torch::Tensor& src = c.tensor("model/" + name, path);
      PINS_CHECK(src.sizes() == t.sizes() && src.scalar_type() == t.scalar_type(), "checkpoint '",
                 path, "': tensor '", name, "' does not match the model");
      t.copy_(src);
    }
  }
  load_optimizer_state(*optim_, s_.optimizer, params_, c, path);
  period_ = s.at("epoch").get<int>();
  // Checkpoints from before the shared loop have no step counter: it follows from the epoch.
  step_ = s.contains("step") ? s.at("step").get<std::int64_t>() : task_.first_step(period_ + 1);
  lr_scale_ = s.at("lr_scale").get<double>();
  bad_steps_ = s.at("bad_steps").get<int>();
  rollbacks_ = s.at("rollbacks").get<int>();
  task_.load_state(c, path);
}

void TrainingLoop::resume() {
  const std::string& path = s_.checkpoint;
  CheckpointData c;
  try {
    c = read_checkpoint(path);
  } catch (const Error& e) {
    throw Error(std::string("-train_resume: ") + e.what());
  }
  const nlohmann::json want = task_.fingerprint();
  try {
    const nlohmann::json& have = c.state.at("fingerprint");
    for (const auto& [key, value] : want.items()) {
      const std::string old = have.contains(key) ? have.at(key).dump() : "(nothing)";
      PINS_CHECK(have.contains(key) && have.at(key) == value, "-train_resume: checkpoint '", path,
                 "' was written with ", key, " ", old, ", this run has ", value.dump());
    }
    restore(c, path);
  } catch (const nlohmann::json::exception& e) {
    throw Error(concat("-train_resume: checkpoint '", path, "' is corrupt (", e.what(), ")"));
  }
  if (s_.monitor >= 1)
    out() << "resumed from checkpoint '" << path << "' after " << task_.label(period_, step_)
          << std::endl;
}

void TrainingLoop::rollback(int period, std::int64_t step) {
  const int to = last_good_.state.at("epoch").get<int>();
  const std::int64_t to_step = last_good_.state.at("step").get<std::int64_t>();
  PINS_CHECK(rollbacks_ < s_.max_rollbacks, "training stopped in ", task_.label(period, step + 1),
             ": the loss or its gradient was not finite in ", bad_steps_,
             " steps (-train_max_bad_steps ", s_.max_bad_steps, ") after ", rollbacks_,
             " rollbacks (-train_max_rollbacks ", s_.max_rollbacks, ") to the state after ",
             task_.label(to, to_step), "; ", s_.advice);
  const double scale = lr_scale_;
  const int rollbacks = rollbacks_ + 1;
  restore(last_good_, "(in memory)");
  lr_scale_ = scale;  // keep the lowered rate, or the same steps would fail again
  rollbacks_ = rollbacks;
  bad_steps_ = 0;
  if (s_.monitor >= 1)
    out() << task_.label(period, step + 1) << ": " << s_.max_bad_steps
          << " non-finite steps; rolled back to the state after " << task_.label(to, to_step)
          << ", learning rate scale " << lr_scale_ << std::endl;
}

// Process 0 writes; every process learns whether it could (a full disk must stop them all).
void TrainingLoop::write_log() const {
  if (s_.log.empty()) return;
  run_collectively(group_, [&] {
    if (root()) write_log_rows(s_.log, task_.log_rows());
  });
}

void TrainingLoop::write_checkpoint_now(const CheckpointData& c) const {
  run_collectively(group_, [&] {
    if (root()) write_checkpoint(s_.checkpoint, c, true);
  });
}

void TrainingLoop::run() {
  // Every process checks and resumes (from the same file); a failure on one stops all.
  run_collectively(group_, [&] {
    if (!s_.checkpoint.empty()) {
      check_writable_folder(s_.checkpoint, "-train_checkpoint");
      PINS_CHECK(s_.resume || s_.force || !std::filesystem::exists(s_.checkpoint),
                 "-train_checkpoint ", s_.checkpoint,
                 " already exists; pass -train_resume to continue from it or -force to start "
                 "over");
    }
    if (!s_.log.empty()) check_writable_folder(s_.log, "-train_log");
    if (s_.resume) resume();
  });
  check_same_parameters(params_, group_, s_.resume ? "resuming" : "initialisation");
  last_good_ = snapshot();

  const std::int64_t total_steps = task_.first_step(s_.periods + 1);
  double seconds_total = 0;
  std::int64_t steps_timed = 0;
  while (period_ < s_.periods) {
    const int p = period_ + 1;
    PeriodStats st;
    st.period = p;
    st.start = Clock::now();
    const std::int64_t first = task_.first_step(p), steps = task_.first_step(p + 1) - first;
    st.steps = steps;
    task_.begin_period(p);
    double loss_sum = 0;
    std::vector<double> part_sums;
    std::vector<bool> part_seen;
    bool rolled_back = false;
    for (std::int64_t b = 0; b < steps; ++b) {
      const std::int64_t step = first + b;
      set_learning_rate(*optim_, lr_now(p, step));
      task_.begin_step(step, b);
      StepLoss l;
      const bool ok = s_.optimizer == "lbfgs" ? lbfgs_step(step, l) : adam_step(step, l);
      if (!ok) {
        ++st.skipped;
        ++bad_steps_;
        lr_scale_ *= 0.5;
        if (bad_steps_ >= s_.max_bad_steps) {
          rollback(p, step);
          rolled_back = true;
          break;
        }
        continue;
      }
      loss_sum += l.weight * l.loss.item<double>();
      if (part_sums.size() < l.parts.size()) {
        part_sums.resize(l.parts.size(), 0);
        part_seen.resize(l.parts.size(), false);
      }
      for (size_t i = 0; i < l.parts.size(); ++i)
        if (l.parts[i].defined()) {
          part_sums[i] += l.weight * l.parts[i].item<double>();
          part_seen[i] = true;
        }
      st.weight += l.weight;
      if (s_.monitor >= 2 && (b + 1) % std::max<std::int64_t>(1, steps / 4) == 0)
        out() << "  " << task_.label(p, step + 1) << " batch " << b + 1 << "/" << steps << " loss "
              << l.loss.item<double>() << std::endl;
    }
    if (rolled_back) continue;

    const double w = st.weight > 0 ? st.weight : std::nan("");
    st.loss = loss_sum / w;
    st.parts.resize(part_sums.size());
    for (size_t i = 0; i < part_sums.size(); ++i)
      st.parts[i] = part_seen[i] ? part_sums[i] / w : std::nan("");
    st.steps_done = first + steps;
    st.lr = lr_now(p, st.steps_done - 1);
    step_ = st.steps_done;
    period_ = p;
    task_.end_period(st);
    check_same_parameters(params_, group_, task_.label(p, st.steps_done));
    seconds_total += std::chrono::duration<double>(Clock::now() - st.start).count();
    steps_timed += steps;
    const double eta =
        steps_timed > 0 ? seconds_total / double(steps_timed) * double(total_steps - step_) : 0;
    if (st.skipped == 0) {
      bad_steps_ = 0;
      last_good_ = snapshot();  // the state rollbacks return to
    }
    if (!s_.checkpoint.empty() && s_.checkpoint_every > 0 && p % s_.checkpoint_every == 0)
      write_checkpoint_now(st.skipped == 0 ? last_good_ : snapshot());
    write_log();
    if (s_.monitor >= 1) out() << task_.progress_line(eta) << std::endl;
    const std::string stop = task_.early_stop(p);
    if (!stop.empty()) {
      if (s_.monitor >= 1) out() << stop << std::endl;
      break;
    }
  }
  if (!s_.checkpoint.empty()) write_checkpoint_now(snapshot());
  write_log();
}

}  // namespace pins::detail
