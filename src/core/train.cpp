// The training loop (pins/core/trainer.hpp): split, normalisation, mini-batches, losses,
// the non-finite guard with rollback, validation, early stopping, checkpoints and resume.
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <numeric>

#include "pins/core/check.hpp"
#include "pins/core/family.hpp"
#include "pins/core/random.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/surrogate.hpp"
#include "train_augment.hpp"
#include "train_checkpoint.hpp"
#include "train_monitor.hpp"
#include "train_optimizer.hpp"

namespace pins {

namespace {

using detail::CheckpointData;
using Clock = std::chrono::steady_clock;

// A seeded permutation of 0..n-1 (Fisher–Yates on pins' portable generator).
std::vector<int64_t> permutation(int64_t n, std::uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  Rng rng(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[size_t(i)], p[rng.next_u64() % (i + 1)]);
  return p;
}

torch::Tensor index_tensor(const std::vector<int64_t>& v, size_t begin, size_t end) {
  return torch::tensor(std::vector<int64_t>(v.begin() + long(begin), v.begin() + long(end)),
                       torch::kInt64);
}

void check_writable_folder(const std::string& path, const char* option) {
  const std::filesystem::path p(path);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  PINS_CHECK(::access(dir.c_str(), W_OK) == 0, option, " ", path, ": folder '", dir,
             "' does not exist or is not writable");
}

// Stream ids of pins::sample_seed for the split and the per-epoch shuffles.
constexpr std::uint64_t kSplitStream = 0x5350;  // "SP"
constexpr std::uint64_t kShuffleStream = 1;
constexpr std::uint64_t kAugmentStream = 0x4147;  // "AG"

// Samples of `a` followed by those of `b` (b may be undefined only if a is).
torch::Tensor concat(const torch::Tensor& a, const torch::Tensor& b) {
  return a.defined() ? torch::cat({a, b}, 0) : a;
}

// Per-sample shape of a batched tensor ("[ny, nx]") for messages.
std::vector<int64_t> sample_shape(const torch::Tensor& t) {
  return std::vector<int64_t>(t.sizes().begin() + 1, t.sizes().end());
}

class TrainLoop {
 public:
  TrainLoop(Surrogate& model, const TrainingData& data, const TrainOptions& opt,
            const TrainingData* validation)
      : model_(model), data_(data), opt_(opt), validation_(validation) {}

  TrainResult run();

 private:
  struct Losses {
    torch::Tensor loss, data, physics;
  };

  void prepare();
  nlohmann::json fingerprint() const;
  Losses compute(const torch::Tensor& idx, detail::GridSymmetry sym);
  detail::GridSymmetry symmetry_for(std::int64_t step) const;
  bool adam_step(const torch::Tensor& idx, std::int64_t step, Losses& out);
  bool lbfgs_step(const torch::Tensor& idx, std::int64_t step, Losses& out);
  void validate(EpochRecord& r);
  double lr_at(int epoch) const;
  CheckpointData snapshot() const;
  void restore(const CheckpointData& c, const std::string& path);
  void resume();
  void rollback(int epoch);
  std::ostream& out() const { return opt_.out ? *opt_.out : std::cout; }

  Surrogate& model_;
  const TrainingData& data_;
  const TrainOptions& opt_;
  const TrainingData* validation_;
  torch::ScalarType dtype_ = torch::kFloat32;
  std::vector<std::pair<std::string, torch::Tensor>> named_;  // parameters, then buffers
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> optim_;
  torch::Tensor x_, y_, coeffs_, f_;  // whole dataset: features, target, operator values, rhs
  OperatorPtr operator_;              // the family's operator kind, for with_values(batch)
  std::vector<int64_t> train_, val_;
  Normalisation norm_;

  // Training state (what a checkpoint holds besides the tensors).
  int epoch_ = 0;  // epochs completed
  double lr_scale_ = 1;
  int bad_steps_ = 0, rollbacks_ = 0, best_epoch_ = 0;
  double best_val_ = INFINITY;
  std::vector<EpochRecord> history_;
  std::vector<torch::Tensor> best_;
  CheckpointData last_good_;
};

void TrainLoop::prepare() {
  opt_.validate();
  const Family& family = find_family(data_.pde);
  family.check_inputs(data_.inputs, "training data");
  const int64_t n = data_.samples();
  PINS_CHECK(n >= 1, "training data: no samples");
  for (const auto& [name, t] : data_.inputs)
    PINS_CHECK(t.dim() >= 2 && t.size(0) == n, "training data: input '", name, "' has shape ",
               t.sizes(), ", expected [", n, ", grid...]");
  PINS_CHECK(opt_.data_weight == 0 || data_.u.defined(),
             "-train_data_weight ", opt_.data_weight, " needs solutions u in the training data "
             "(use -train_data_weight 0 for physics-only training)");
  PINS_CHECK(!data_.u.defined() || data_.u.size(0) == n, "training data: u holds ",
             data_.u.size(0), " samples, the inputs ", n);
  int channels = 0;
  for (const auto& in : family.inputs()) channels += in.components;
  const int dof = family.stencil().dof;
  PINS_CHECK(model_.in_channels() == channels && model_.out_channels() == dof,
             "the trainer needs a surrogate with ", channels, " input channels (",
             family.input_names(), ") and ", dof, " output channel(s) (the ", family.name(),
             " family's dof), got ", model_.in_channels(), " -> ", model_.out_channels());
  set_training_threads(opt_.threads);
  dtype_ = opt_.scalar_type();
  model_.module().to(dtype_);
  model_.module().train();
  for (const auto& p : model_.module().named_parameters(true)) {
    named_.emplace_back(p.key(), p.value());
    params_.push_back(p.value());
  }
  for (const auto& b : model_.module().named_buffers(true))
    if (b.value().defined()) named_.emplace_back(b.key(), b.value());
  optim_ = detail::make_optimizer(opt_, params_);

  FieldMap inputs = data_.inputs;
  torch::Tensor u = data_.u;
  if (validation_) {
    // Train on every sample of data_; the validation samples go after them.
    const auto& v = *validation_;
    PINS_CHECK(v.pde == data_.pde, "validation data is for -pde ", v.pde,
               ", the training data for -pde ", data_.pde);
    family.check_inputs(v.inputs, "validation data");
    const int64_t m = v.samples();
    for (auto& [name, t] : inputs) {
      const torch::Tensor& w = v.input(name);
      PINS_CHECK(w.size(0) >= 1 && sample_shape(w) == sample_shape(t), "validation data: '",
                 name, "' must be [M, ", sample_shape(t), "] like the training data, got ",
                 w.sizes());
      t = concat(t, w);
    }
    if (u.defined()) {
      PINS_CHECK(v.u.defined() && v.u.size(0) == m && sample_shape(v.u) == sample_shape(u),
                 "validation data: solutions u [M, ", sample_shape(u),
                 "] are needed when training on them");
      u = concat(u, v.u);
    }
    train_.resize(size_t(n));
    std::iota(train_.begin(), train_.end(), 0);
    val_.resize(size_t(m));
    std::iota(val_.begin(), val_.end(), n);
  } else {
    const auto order = permutation(n, sample_seed(opt_.seed, 0, kSplitStream));
    const int64_t n_val = opt_.val_fraction > 0
                              ? std::max<int64_t>(1, std::llround(double(n) * opt_.val_fraction))
                              : 0;
    PINS_CHECK(n - n_val >= 1, "-train_val_fraction ", opt_.val_fraction,
               " leaves no training samples out of ", n);
    val_.assign(order.begin(), order.begin() + n_val);
    train_.assign(order.begin() + n_val, order.end());
  }
  norm_ = Normalisation::fit(data_, index_tensor(train_, 0, train_.size()));

  x_ = norm_.features(inputs, dtype_);
  if (u.defined()) y_ = (u / norm_.u_scale).to(dtype_);
  // The operator of the data's family, as its values (one row per sample): a batch's
  // operator is operator_->with_values(rows).
  const bool five_point = family.stencil() == Stencil{2, StencilShape::kStar, 1, 1};
  PINS_CHECK(opt_.augment == "none" || five_point,
             "-train_augment symmetries permutes 5-point stencils; the ", family.name(),
             " family's operator is ", family.stencil().describe());
  for (auto& [name, t] : inputs) t = t.contiguous();
  operator_ = family.make_operator(inputs);
  coeffs_ = operator_->values().to(dtype_);
  f_ = family.rhs(inputs).to(dtype_);
}

nlohmann::json TrainLoop::fingerprint() const {
  nlohmann::json j = {{"-surrogate_type", model_.type()},
                      {"surrogate options", model_.options_json()},
                      {"-train_dtype", opt_.dtype},
                      {"-train_optimizer", opt_.optimizer},
                      {"-train_batch_size", opt_.batch_size},
                      {"-train_seed", opt_.seed},
                      {"-train_val_fraction", opt_.val_fraction},
                      {"-train_lr", opt_.lr},
                      {"-train_schedule", opt_.schedule},
                      {"-train_step_size", opt_.step_size},
                      {"-train_gamma", opt_.gamma},
                      {"-train_weight_decay", opt_.weight_decay},
                      {"-train_data_weight", opt_.data_weight},
                      {"-train_physics_weight", opt_.physics_weight},
                      {"-train_physics_loss", opt_.physics_loss},
                      {"-train_augment", opt_.augment},
                      {"training data", data_.fingerprint},
                      {"validation data", validation_ ? validation_->fingerprint : ""},
                      {"data shape", x_.sizes().vec()}};
  // The cosine schedule spans the whole run; a step schedule allows more epochs on resume.
  if (opt_.schedule == "cosine") j["-train_epochs"] = opt_.epochs;
  return j;
}

double TrainLoop::lr_at(int epoch) const {
  const int e = epoch - 1;  // 0-based
  double f = 1;
  if (opt_.schedule == "cosine") {
    f = 0.5 * (1 + std::cos(M_PI * e / opt_.epochs));
  } else if (opt_.schedule == "step") {
    const int size = opt_.step_size > 0 ? opt_.step_size : std::max(1, opt_.epochs / 3);
    f = std::pow(opt_.gamma, e / size);
  }
  return opt_.lr * lr_scale_ * f;
}

detail::GridSymmetry TrainLoop::symmetry_for(std::int64_t step) const {
  if (opt_.augment != "symmetries") return {};
  const bool square = x_.size(-1) == x_.size(-2);
  return detail::draw_grid_symmetry(sample_seed(opt_.seed, std::uint64_t(step), kAugmentStream),
                                    square);
}

TrainLoop::Losses TrainLoop::compute(const torch::Tensor& idx, detail::GridSymmetry sym) {
  // The batch in the orientation `sym` (identity unless -train_augment symmetries).
  auto field = [&](const torch::Tensor& t) {
    const torch::Tensor b = t.index_select(0, idx);
    return sym.identity() ? b : detail::apply_to_field(b, sym);
  };
  const torch::Tensor pred = output_field(model_.forward(field(x_)));
  Losses l;
  l.loss = torch::zeros({}, pred.options());
  if (opt_.data_weight > 0) {
    l.data = relative_l2(pred, field(y_)).mean();
    l.loss = l.loss + opt_.data_weight * l.data;
  }
  if (opt_.physics_weight > 0) {
    const torch::Tensor c = coeffs_.index_select(0, idx);
    const OperatorPtr A =
        operator_->with_values(sym.identity() ? c : detail::apply_to_stencil(c, sym));
    l.physics = physics_loss(opt_.physics_loss, *A, pred * norm_.u_scale, field(f_));
    l.loss = l.loss + opt_.physics_weight * l.physics;
  }
  return l;
}

bool finite(const torch::Tensor& t) {
  return torch::isfinite(t).all().item<bool>();
}

bool TrainLoop::adam_step(const torch::Tensor& idx, std::int64_t step, Losses& l) {
  optim_->zero_grad();
  l = compute(idx, symmetry_for(step));
  if (opt_.loss_hook) l.loss = opt_.loss_hook(step, l.loss);
  bool ok = finite(l.loss);
  if (ok) {
    l.loss.backward();
    for (const auto& p : params_) ok = ok && (!p.grad().defined() || finite(p.grad()));
  }
  if (ok) optim_->step();
  optim_->zero_grad();
  return ok;
}

bool TrainLoop::lbfgs_step(const torch::Tensor& idx, std::int64_t step, Losses& l) {
  std::vector<torch::Tensor> before;
  for (const auto& p : params_) before.push_back(p.detach().clone());
  bool first = true, ok = true;
  const detail::GridSymmetry sym = symmetry_for(step);
  auto closure = [&]() -> torch::Tensor {
    optim_->zero_grad();
    Losses c = compute(idx, sym);
    if (opt_.loss_hook) c.loss = opt_.loss_hook(step, c.loss);
    if (first) l = c;  // the losses at the start of the step, as Adam reports them
    first = false;
    if (!finite(c.loss)) {
      ok = false;
      return c.loss.detach();
    }
    c.loss.backward();
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

void TrainLoop::validate(EpochRecord& r) {
  r.val_rel_l2 = r.val_physics = std::nan("");
  if (val_.empty()) return;
  torch::NoGradGuard no_grad;
  model_.module().eval();
  double rel = 0, phys = 0;
  for (size_t i = 0; i < val_.size(); i += 64) {
    const auto idx = index_tensor(val_, i, std::min(val_.size(), i + 64));
    const torch::Tensor pred = output_field(model_.forward(x_.index_select(0, idx)));
    const double b = double(idx.size(0));
    if (y_.defined()) rel += relative_l2(pred, y_.index_select(0, idx)).sum().item<double>();
    const OperatorPtr A = operator_->with_values(coeffs_.index_select(0, idx));
    phys += b * physics_loss(opt_.physics_loss, *A, pred * norm_.u_scale, f_.index_select(0, idx))
                    .item<double>();
  }
  model_.module().train();
  if (y_.defined()) r.val_rel_l2 = rel / double(val_.size());
  r.val_physics = phys / double(val_.size());
}

CheckpointData TrainLoop::snapshot() const {
  CheckpointData c;
  nlohmann::json history = nlohmann::json::array();
  for (const auto& r : history_) history.push_back(detail::to_json(r));
  c.state = {{"fingerprint", fingerprint()},
             {"epoch", epoch_},
             {"lr_scale", lr_scale_},
             {"bad_steps", bad_steps_},
             {"rollbacks", rollbacks_},
             {"best_epoch", best_epoch_},
             {"best_val", std::isfinite(best_val_) ? nlohmann::json(best_val_) : nlohmann::json()},
             {"normalisation", norm_.to_json()},
             {"history", history}};
  for (const auto& [name, t] : named_) c.tensors.emplace_back("model/" + name, t.detach().clone());
  for (size_t i = 0; i < best_.size(); ++i)
    c.tensors.emplace_back("best/" + named_[i].first, best_[i].clone());
  detail::save_optimizer_state(*optim_, opt_.optimizer, params_, c);
  return c;
}

void TrainLoop::restore(const CheckpointData& c, const std::string& path) {
  const auto& s = c.state;
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : named_) {
    const torch::Tensor& src = c.tensor("model/" + name, path);
    PINS_CHECK(src.sizes() == t.sizes() && src.scalar_type() == t.scalar_type(), "checkpoint '",
               path, "': tensor '", name, "' does not match the model");
    t.copy_(src);
  }
  best_.clear();
  if (c.has("best/" + named_.front().first))
    for (const auto& nt : named_) best_.push_back(c.tensor("best/" + nt.first, path).clone());
  detail::load_optimizer_state(*optim_, opt_.optimizer, params_, c, path);
  epoch_ = s.at("epoch").get<int>();
  lr_scale_ = s.at("lr_scale").get<double>();
  bad_steps_ = s.at("bad_steps").get<int>();
  rollbacks_ = s.at("rollbacks").get<int>();
  best_epoch_ = s.at("best_epoch").get<int>();
  best_val_ = s.at("best_val").is_number() ? s.at("best_val").get<double>() : INFINITY;
  history_.clear();
  for (const auto& r : s.at("history")) history_.push_back(detail::epoch_from_json(r));
}

void TrainLoop::resume() {
  const std::string& path = opt_.checkpoint;
  CheckpointData c;
  try {
    c = detail::read_checkpoint(path);
  } catch (const Error& e) {
    throw Error(std::string("-train_resume: ") + e.what());
  }
  const nlohmann::json want = fingerprint();
  try {
    const nlohmann::json& have = c.state.at("fingerprint");
    for (const auto& [key, value] : want.items()) {
      const std::string old = have.contains(key) ? have.at(key).dump() : "(nothing)";
      PINS_CHECK(have.contains(key) && have.at(key) == value, "-train_resume: checkpoint '",
                 path, "' was written with ", key, " ", old, ", this run has ", value.dump());
    }
    restore(c, path);
  } catch (const nlohmann::json::exception& e) {
    throw Error(detail::concat("-train_resume: checkpoint '", path, "' is corrupt (", e.what(),
                               ")"));
  }
  if (opt_.monitor >= 1)
    out() << "resumed from checkpoint '" << path << "' after epoch " << epoch_ << std::endl;
}

void TrainLoop::rollback(int epoch) {
  const int to = last_good_.state.at("epoch").get<int>();
  PINS_CHECK(rollbacks_ < opt_.max_rollbacks, "training stopped in epoch ", epoch,
             ": the loss or its gradient was not finite in ", bad_steps_,
             " steps (-train_max_bad_steps ", opt_.max_bad_steps, ") after ", rollbacks_,
             " rollbacks (-train_max_rollbacks ", opt_.max_rollbacks,
             ") to the state after epoch ", to, "; lower -train_lr or check the data");
  const double scale = lr_scale_;
  const int rollbacks = rollbacks_ + 1;
  restore(last_good_, "(in memory)");
  lr_scale_ = scale;  // keep the lowered rate, or the same steps would fail again
  rollbacks_ = rollbacks;
  bad_steps_ = 0;
  if (opt_.monitor >= 1)
    out() << "epoch " << epoch << ": " << opt_.max_bad_steps
          << " non-finite steps; rolled back to the state after epoch " << to
          << ", learning rate scale " << lr_scale_ << std::endl;
}

TrainResult TrainLoop::run() {
  prepare();
  if (!opt_.checkpoint.empty()) {
    check_writable_folder(opt_.checkpoint, "-train_checkpoint");
    PINS_CHECK(opt_.resume || opt_.force || !std::filesystem::exists(opt_.checkpoint),
               "-train_checkpoint ", opt_.checkpoint,
               " already exists; pass -train_resume to continue from it or -force to start over");
  }
  if (!opt_.log.empty()) check_writable_folder(opt_.log, "-train_log");
  if (opt_.resume) resume();
  last_good_ = snapshot();

  const int64_t batches = (int64_t(train_.size()) + opt_.batch_size - 1) / opt_.batch_size;
  bool stopped_early = false;
  double seconds_total = 0;
  int epochs_timed = 0;
  while (epoch_ < opt_.epochs) {
    const int e = epoch_ + 1;
    const auto t0 = Clock::now();
    detail::set_learning_rate(*optim_, lr_at(e));
    const auto order = permutation(int64_t(train_.size()), sample_seed(opt_.seed, e, kShuffleStream));
    double loss_sum = 0, data_sum = 0, phys_sum = 0;
    int64_t counted = 0;
    int skipped = 0;
    bool rolled_back = false;
    for (int64_t b = 0; b < batches; ++b) {
      const size_t begin = size_t(b * opt_.batch_size);
      const size_t end = std::min(train_.size(), begin + size_t(opt_.batch_size));
      std::vector<int64_t> ids;
      for (size_t i = begin; i < end; ++i) ids.push_back(train_[size_t(order[i])]);
      const auto idx = index_tensor(ids, 0, ids.size());
      Losses l;
      const std::int64_t step = int64_t(e - 1) * batches + b;
      const bool ok = opt_.optimizer == "lbfgs" ? lbfgs_step(idx, step, l) : adam_step(idx, step, l);
      if (!ok) {
        ++skipped;
        ++bad_steps_;
        lr_scale_ *= 0.5;
        detail::set_learning_rate(*optim_, lr_at(e));
        if (bad_steps_ >= opt_.max_bad_steps) {
          rollback(e);
          rolled_back = true;
          break;
        }
        continue;
      }
      const double n = double(ids.size());
      loss_sum += n * l.loss.item<double>();
      if (l.data.defined()) data_sum += n * l.data.item<double>();
      if (l.physics.defined()) phys_sum += n * l.physics.item<double>();
      counted += int64_t(ids.size());
      if (opt_.monitor >= 2 && (b + 1) % std::max<int64_t>(1, batches / 4) == 0)
        out() << "  epoch " << e << " batch " << b + 1 << "/" << batches << " loss "
              << l.loss.item<double>() << std::endl;
    }
    if (rolled_back) continue;

    EpochRecord r;
    r.epoch = e;
    const double c = counted > 0 ? double(counted) : std::nan("");
    r.loss = loss_sum / c;
    r.data_loss = opt_.data_weight > 0 ? data_sum / c : std::nan("");
    r.physics_loss = opt_.physics_weight > 0 ? phys_sum / c : std::nan("");
    validate(r);
    r.lr = lr_at(e);
    r.skipped_steps = skipped;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    r.samples_per_second = double(counted) / std::max(r.seconds, 1e-9);
    history_.push_back(r);
    epoch_ = e;

    const double criterion = std::isfinite(r.val_rel_l2)   ? r.val_rel_l2
                             : std::isfinite(r.val_physics) ? r.val_physics
                                                            : r.loss;
    if (criterion < best_val_ || best_.empty()) {
      best_val_ = criterion;
      best_epoch_ = e;
      best_.clear();
      for (const auto& nt : named_) best_.push_back(nt.second.detach().clone());
    }
    if (skipped == 0) {
      bad_steps_ = 0;
      last_good_ = snapshot();  // the state rollbacks return to
    }
    if (!opt_.checkpoint.empty() && opt_.checkpoint_every > 0 && e % opt_.checkpoint_every == 0)
      detail::write_checkpoint(opt_.checkpoint, skipped == 0 ? last_good_ : snapshot(), true);
    if (!opt_.log.empty()) detail::write_history_log(opt_.log, history_);
    seconds_total += r.seconds;
    ++epochs_timed;
    if (opt_.monitor >= 1)
      out() << detail::epoch_line(r, opt_.epochs, seconds_total / epochs_timed * (opt_.epochs - e))
            << std::endl;
    if (opt_.patience > 0 && e - best_epoch_ >= opt_.patience && e < opt_.epochs) {
      stopped_early = true;
      if (opt_.monitor >= 1)
        out() << "early stop: no better validation error in " << opt_.patience
              << " epochs (best: epoch " << best_epoch_ << ")" << std::endl;
      break;
    }
  }
  if (!opt_.checkpoint.empty()) detail::write_checkpoint(opt_.checkpoint, snapshot(), true);
  if (!opt_.log.empty()) detail::write_history_log(opt_.log, history_);

  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < best_.size(); ++i) named_[i].second.copy_(best_[i]);
  }
  model_.module().eval();
  TrainResult result;
  result.history = history_;
  result.normalisation = norm_;
  result.best_epoch = best_epoch_;
  result.best_val = best_val_;
  result.stopped_early = stopped_early;
  result.rollbacks = rollbacks_;
  result.train_samples = int64_t(train_.size());
  result.val_samples = int64_t(val_.size());
  return result;
}

}  // namespace

nlohmann::json TrainResult::metrics() const {
  nlohmann::json j = {{"epochs", history.size()},
                      {"best_epoch", best_epoch},
                      {"stopped_early", stopped_early},
                      {"rollbacks", rollbacks},
                      {"train_samples", train_samples},
                      {"val_samples", val_samples}};
  if (std::isfinite(best_val)) j["best_validation"] = best_val;
  if (!history.empty()) j["last_epoch"] = detail::to_json(history.back());
  return j;
}

TrainResult train_surrogate(Surrogate& model, const TrainingData& data, const TrainOptions& options,
                            const TrainingData* validation) {
  return TrainLoop(model, data, options, validation).run();
}

}  // namespace pins
