// Solution training (pins/core/trainer.hpp): split, normalisation, mini-batches, losses,
// validation, best weights and early stopping. The loop itself (optimiser steps with the
// non-finite guard and rollback, learning-rate schedule, checkpoints and resume, history log,
// progress lines) is the shared one of training_loop.hpp; an epoch is its period.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <numeric>

#include <sys/resource.h>

#include "pins/core/check.hpp"
#include "pins/core/family.hpp"
#include "pins/core/multigrid_cycle.hpp"
#include "pins/core/process_group.hpp"
#include "pins/core/random.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/mesh_graph.hpp"
#include "surrogates/surrogate.hpp"
#include "train_augment.hpp"
#include "train_checkpoint.hpp"
#include "train_monitor.hpp"
#include "training_loop.hpp"

namespace pins {

namespace {

using detail::CheckpointData;
using Clock = std::chrono::steady_clock;
using detail::PeriodStats;
using detail::StepLoss;

// This process's peak resident set size in MB (getrusage: the kernel's high-water mark).
double peak_memory_mb() {
  struct rusage usage {};
  return getrusage(RUSAGE_SELF, &usage) == 0 ? double(usage.ru_maxrss) / 1024.0 : 0.0;
}

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

// Stream ids of pins::sample_seed for the split and the per-epoch shuffles.
constexpr std::uint64_t kSplitStream = 0x5350;  // "SP"
constexpr std::uint64_t kShuffleStream = 1;
constexpr std::uint64_t kAugmentStream = 0x4147;  // "AG"
constexpr std::uint64_t kUnlabelledStream = 0x554c;  // "UL"

// Per-sample shape of a batched tensor ({ny, nx}).
std::vector<int64_t> sample_shape(const torch::Tensor& t) {
  return std::vector<int64_t>(t.sizes().begin() + 1, t.sizes().end());
}

// "[M, ny, nx]": the shape of `t` with its sample count written as `count`, for messages.
std::string shape_with(const std::string& count, const torch::Tensor& t) {
  std::string s = "[" + count;
  for (int64_t d : sample_shape(t)) s += ", " + std::to_string(d);
  return s + "]";
}

// Solution training's part of the shared loop: an epoch of shuffled mini-batches is a
// period; step `s` is mini-batch s % batches of epoch s / batches + 1.
class TrainLoop : public detail::LoopTask {
 public:
  TrainLoop(Surrogate& model, const TrainingData& data, const TrainOptions& opt,
            const TrainingData* validation, const TrainingData* unlabelled)
      : model_(model), data_(data), opt_(opt), validation_(validation), unlabelled_(unlabelled) {}

  TrainResult run();

  // detail::LoopTask
  std::int64_t first_step(int epoch) const override;
  void begin_period(int epoch) override;
  void begin_step(std::int64_t step, std::int64_t batch) override;
  StepLoss loss() override;
  void end_period(const PeriodStats& stats) override;
  std::string progress_line(double eta_seconds) const override;
  std::string early_stop(int epoch) override;
  std::string label(int epoch, std::int64_t step) const override;
  nlohmann::json fingerprint() const override;
  void save_state(CheckpointData& out) const override;
  void load_state(const CheckpointData& in, const std::string& path) override;
  nlohmann::ordered_json log_rows() const override { return detail::history_rows(history_); }

 private:
  struct Losses {
    torch::Tensor loss, data, physics;
  };

  // What a batch of rows needs, read and computed when it is used.
  struct Batch {
    FieldMap inputs;    // raw (float64)
    torch::Tensor u;    // the labelled rows' solutions (float64; they come first), or undefined
    torch::Tensor x;    // features (dtype_)
    OperatorPtr A;      // the operator (values in dtype_), undefined if not asked for
    torch::Tensor f;    // right-hand side (dtype_), with A
  };
  Batch rows_of(const torch::Tensor& rows, bool with_operator) const;
  TrainingData gather(const std::vector<int64_t>& rows) const;
  torch::Tensor target(const torch::Tensor& u, const FieldMap& inputs) const;
  void prepare();
  void check_physics_loss(const Family& family) const;
  Losses compute(const torch::Tensor& idx, const torch::Tensor& unlabelled_idx,
                 detail::GridSymmetry sym);
  torch::Tensor physics(const FieldMap& inputs, const OperatorPtr& A, const torch::Tensor& u,
                        const torch::Tensor& f) const;
  torch::Tensor solution(const torch::Tensor& pred, const FieldMap& inputs) const;
  torch::Tensor unlabelled_batch(std::int64_t batch) const;
  detail::GridSymmetry symmetry_for(std::int64_t step) const;
  void validate(EpochRecord& r);
  const std::vector<std::pair<std::string, torch::Tensor>>& named() const {
    return loop_->named_tensors();
  }

  Surrogate& model_;
  const TrainingData& data_;
  const TrainOptions& opt_;
  const TrainingData* validation_;
  const TrainingData* unlabelled_;
  torch::ScalarType dtype_ = torch::kFloat32;
  // Where the model and every batch tensor live (-train_device); the rows are read and
  // their features computed on the host, then moved here.
  torch::Device device_ = torch::kCPU;
  // The rows: the training data's, then the validation data's, then the unlabelled data's;
  // row r of part p is row r − first_[p] of *parts_[p], held in memory or streamed from its
  // file. A batch's rows are read, and its features, target, operator and right-hand side
  // computed, when it is used (rows_of), so nothing per row is stored beyond the data itself.
  std::vector<const TrainingData*> parts_;
  std::vector<int64_t> first_;
  int64_t rows_ = 0;       // all parts' rows
  bool labelled_ = false;  // whether the training data has solutions
  std::vector<int64_t> data_shape_;  // the features of every row: [rows, channels, grid...]
  OperatorPtr operator_;  // the family's operator kind, for with_values(a batch's values)
  // The data's family, set up for its parameters. Nonlinear families: the physics loss is
  // scaled_residual_loss of family_->residual on the batch's raw inputs.
  std::shared_ptr<const Family> family_;
  std::vector<int64_t> train_, val_, unlabelled_rows_;  // rows (of parts_)
  int64_t unlabelled_batch_ = 0;  // unlabelled samples per step
  Normalisation norm_;
  detail::TrainingLoop* loop_ = nullptr;
  int64_t batches_ = 0;         // mini-batches per epoch
  std::vector<int64_t> order_;  // this epoch's shuffle
  std::vector<int64_t> unlabelled_order_;  // and of the unlabelled samples
  const ProcessGroup& group_ = group_or_single(opt_.group);
  torch::Tensor idx_;           // this process's share of this step's labelled samples
  torch::Tensor uidx_;          // and of its unlabelled ones (undefined: none)
  int64_t step_labelled_ = 0, step_rows_ = 0;  // the whole step's: labelled, all rows
  detail::GridSymmetry sym_;    // and their orientation

  // Training state (what a checkpoint holds besides the loop's).
  int best_epoch_ = 0;
  double best_val_ = INFINITY;
  std::vector<EpochRecord> history_;
  std::vector<torch::Tensor> best_;
};

// The first min(rows, count) rows of `d` (held in memory, whether or not d is streamed).
TrainingData head(const TrainingData& d, int64_t count) {
  std::vector<int64_t> rows(size_t(std::min(d.samples(), count)));
  std::iota(rows.begin(), rows.end(), 0);
  return d.select(rows);
}

void TrainLoop::prepare() {
  opt_.validate();
  family_ = family_for(data_.pde, data_.parameters, data_.mesh);
  const Family& family = *family_;
  const int64_t n = data_.samples();
  PINS_CHECK(n >= 1, "training data: no samples");
  const TrainingData first = head(data_, 1);
  family.check_inputs(first.inputs, "training data");
  if (!data_.source) {
    for (const auto& [name, t] : data_.inputs)
      PINS_CHECK(t.dim() >= 2 && t.size(0) == n, "training data: input '", name, "' has shape ",
                 t.sizes(), ", expected [", n, ", grid...]");
    PINS_CHECK(!data_.u.defined() || data_.u.size(0) == n, "training data: u holds ",
               data_.u.size(0), " samples, the inputs ", n);
  }
  labelled_ = data_.labelled();
  PINS_CHECK(opt_.data_weight == 0 || labelled_,
             "-train_data_weight ", opt_.data_weight, " needs solutions u in the training data "
             "(use -train_data_weight 0 for physics-only training)");
  const int channels = family.input_channels();
  const int dof = family.dof();
  PINS_CHECK(model_.in_channels() == channels && model_.out_channels() == dof,
             "the trainer needs a surrogate with ", channels, " input channels (",
             family.input_names(), ") and ", dof, " output channel(s) (the ", family.name(),
             " family's dof), got ", model_.in_channels(), " -> ", model_.out_channels());
  set_training_threads(opt_.threads);
  dtype_ = opt_.scalar_type();
  device_ = training_device(opt_.device);
  model_.module().to(device_);

  parts_ = {&data_};
  first_ = {0};
  rows_ = n;
  auto add_part = [&](const TrainingData& d) {
    parts_.push_back(&d);
    first_.push_back(rows_);
    rows_ += d.samples();
  };
  // Another set's checks against the training data: the same family, mesh and (for a
  // nonlinear family) equation, inputs of the same shape; returns its first row.
  auto check_same_problem = [&](const TrainingData& d, const std::string& what) {
    PINS_CHECK(d.pde == data_.pde, what, " is for -pde ", d.pde, ", the training data for -pde ",
               data_.pde);
    PINS_CHECK(!family.on_mesh() || (d.mesh && *d.mesh == *data_.mesh), what,
               " must be on the training data's mesh (the ", family.name(),
               " family's operator and the network's graph come from it)");
    PINS_CHECK(!family.nonlinear() || d.parameters == data_.parameters, what,
               " has other sampler parameters than the training data; the ", family.name(),
               " family's equation depends on them");
    const int64_t m = d.samples();
    PINS_CHECK(m >= 1, what, ": no samples");
    TrainingData w = head(d, 1);
    family.check_inputs(w.inputs, what);
    for (const auto& [name, t] : first.inputs) {
      const torch::Tensor& x = w.input(name);
      PINS_CHECK(sample_shape(x) == sample_shape(t), what, ": '", name, "' must be ",
                 shape_with("M", t), " like the training data, got ",
                 shape_with(std::to_string(m), x));
    }
    return w;
  };
  if (validation_) {
    // Train on every sample of data_; the validation samples go after them.
    const auto& v = *validation_;
    const int64_t m = v.samples();
    const TrainingData w = check_same_problem(v, "validation data");
    if (labelled_)
      PINS_CHECK(w.u.defined() && sample_shape(w.u) == sample_shape(first.u),
                 "validation data: solutions u ", shape_with("M", first.u),
                 " are needed when training on them");
    train_.resize(size_t(n));
    std::iota(train_.begin(), train_.end(), 0);
    val_.resize(size_t(m));
    std::iota(val_.begin(), val_.end(), n);
    add_part(v);
  } else {
    // Whole groups (a trajectory's steps) go to one side; single rows when group is 1.
    const int64_t group = data_.group >= 1 && n % data_.group == 0 ? data_.group : 1;
    const int64_t groups = n / group;
    const auto order = permutation(groups, sample_seed(opt_.seed, 0, kSplitStream));
    const int64_t n_val =
        opt_.val_fraction > 0
            ? std::max<int64_t>(1, std::llround(double(groups) * opt_.val_fraction))
            : 0;
    PINS_CHECK(groups - n_val >= 1, "-train_val_fraction ", opt_.val_fraction,
               " leaves no training samples out of ", groups,
               group > 1 ? " trajectories" : "");
    for (int64_t k = 0; k < groups; ++k)
      for (int64_t r = 0; r < group; ++r)
        (k < n_val ? val_ : train_).push_back(order[size_t(k)] * group + r);
  }
  if (unlabelled_) {
    // Unlabelled samples go after the labelled ones (training, validation); their rows have
    // no solutions.
    const auto& w = *unlabelled_;
    check_same_problem(w, "unlabelled data");
    const int64_t m = w.samples();
    unlabelled_rows_.resize(size_t(m));
    std::iota(unlabelled_rows_.begin(), unlabelled_rows_.end(), rows_);
    add_part(w);
    unlabelled_batch_ = opt_.unlabelled_batch_size > 0 ? opt_.unlabelled_batch_size
                                                       : opt_.batch_size;
  }
  norm_ = Normalisation::fit(data_, index_tensor(train_, 0, train_.size()));

  // The features' shape (the checkpoint fingerprint's "data shape"), from one row.
  data_shape_ = network_input(norm_, first.inputs, dtype_, &family).sizes().vec();
  data_shape_[0] = rows_;
  const bool five_point =
      !family.on_mesh() && family.stencil() == Stencil{2, StencilShape::kStar, 1, 1};
  PINS_CHECK(opt_.augment == "none" || five_point,
             "-train_augment symmetries permutes 5-point stencils; the ", family.name(),
             " family's operator is ", family.operator_description());
  PINS_CHECK(opt_.augment == "none" || !family.nonlinear(),
             "-train_augment symmetries permutes linear operators; the ", family.name(),
             " family's equation is nonlinear");
  // The operator's kind (and, for the checks, its values) from the first rows: a batch's
  // operator is family.make_operator of its rows.
  {
    std::vector<int64_t> some(size_t(std::min<int64_t>(rows_, 64)));
    std::iota(some.begin(), some.end(), 0);
    FieldMap inputs = gather(some).inputs;
    for (auto& [name, t] : inputs) t = t.to(device_);
    operator_ = family.make_operator(inputs);
    // A mesh surrogate runs on the graph of the operator's couplings between the points
    // (read on the host; the network moves its geometry to its input's device).
    if (family.on_mesh())
      model_.set_graph(mesh_graph_of(*family.mesh(), *operator_->to(torch::kCPU)));
  }
  check_physics_loss(family);
}

// The rows `rows` (of any parts, in that order) with their inputs; u holds the solutions of
// the leading rows that have them (a batch's labelled rows come before its unlabelled ones).
TrainingData TrainLoop::gather(const std::vector<int64_t>& rows) const {
  std::vector<std::vector<int64_t>> local(parts_.size());
  std::vector<size_t> part_of(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    size_t p = parts_.size() - 1;
    while (rows[i] < first_[p]) --p;
    PINS_CHECK(rows[i] >= 0 && rows[i] < rows_, "training row ", rows[i], " out of range");
    part_of[i] = p;
    local[p].push_back(rows[i] - first_[p]);
  }
  // Rows of one part at a time, in the parts' order; then into the order asked for.
  std::vector<TrainingData> read;
  std::vector<int64_t> at(rows.size()), offset(parts_.size(), 0);
  int64_t next = 0;
  for (size_t p = 0; p < parts_.size(); ++p) {
    offset[p] = next;
    next += int64_t(local[p].size());
    if (!local[p].empty()) read.push_back(parts_[p]->select(local[p]));
  }
  std::vector<int64_t> seen(parts_.size(), 0);
  bool ordered = true;
  for (size_t i = 0; i < rows.size(); ++i) {
    at[i] = offset[part_of[i]] + seen[part_of[i]]++;
    ordered = ordered && at[i] == int64_t(i);
  }
  if (read.size() == 1 && ordered) return std::move(read.front());
  TrainingData out;
  const torch::Tensor order = torch::tensor(at, torch::kInt64);
  for (const auto& [name, t] : read.front().inputs) {
    std::vector<torch::Tensor> pieces;
    for (const TrainingData& r : read) pieces.push_back(r.inputs.at(name));
    const torch::Tensor all = torch::cat(pieces, 0);
    out.inputs[name] = ordered ? all : all.index_select(0, order);
  }
  std::vector<torch::Tensor> us;
  int64_t with_u = 0;
  for (const TrainingData& r : read)
    if (r.u.defined()) {
      us.push_back(r.u);
      with_u += r.u.size(0);
    }
  if (!us.empty()) {
    // Only the leading rows have solutions: take them in the order asked for.
    for (int64_t i = 0; i < with_u; ++i)
      PINS_CHECK(at[size_t(i)] < with_u, "training rows: labelled rows must come first");
    const torch::Tensor all = torch::cat(us, 0);
    out.u = ordered ? all : all.index_select(0, order.narrow(0, 0, with_u));
  }
  return out;
}

TrainLoop::Batch TrainLoop::rows_of(const torch::Tensor& rows, bool with_operator) const {
  const torch::Tensor r = rows.contiguous();
  TrainingData d =
      gather(std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()));
  Batch b;
  // The features on the host (the mesh families' averaging to points is there), the rest
  // from the inputs on the device: the operator's coefficients are a Kokkos kernel's, and
  // targets, a time-dependent family's state and a nonlinear family's residual read them.
  b.x = network_input(norm_, d.inputs, dtype_, family_.get()).to(device_);
  for (auto& [name, t] : d.inputs) b.inputs[name] = t.to(device_);
  if (d.u.defined()) b.u = d.u.to(device_);
  if (with_operator) {
    b.A = operator_->with_values(family_->make_operator(b.inputs)->values().to(dtype_));
    b.f = family_->rhs(b.inputs).to(dtype_);
  }
  return b;
}

// The training target of labelled rows with solutions `u` and raw inputs `inputs`.
torch::Tensor TrainLoop::target(const torch::Tensor& u, const FieldMap& inputs) const {
  return norm_.target(u, inputs).to(dtype_);
}

// The physics loss of the predictions u (de-normalised) on dataset rows `rows` whose
// operator is A and right-hand side f: physics_loss for linear families; for nonlinear
// ones the residual loss of the family's own F (check_physics_loss allows no other).
torch::Tensor TrainLoop::physics(const FieldMap& inputs, const OperatorPtr& A,
                                 const torch::Tensor& u, const torch::Tensor& f) const {
  if (!family_->nonlinear()) return physics_loss(opt_.physics_loss, *A, u, f, opt_.physics_cycles);
  FieldMap in;
  for (const InputField& field : family_->inputs())
    in[field.name] = inputs.at(field.name).to(dtype_).contiguous();
  return scaled_residual_loss(family_->residual(in, u.contiguous()), A->diagonal(), f);
}

// The de-normalised solution of the network's output `pred` for rows whose raw inputs are
// `inputs`: u_scale · pred, plus the step's state for a time-dependent family.
torch::Tensor TrainLoop::solution(const torch::Tensor& pred, const FieldMap& inputs) const {
  const torch::Tensor u = pred * norm_.u_scale;
  return norm_.state.empty() ? u : inputs.at(norm_.state).to(dtype_) + u;
}

// Refuses, before the first step, a physics loss the family's operator cannot give.
void TrainLoop::check_physics_loss(const Family& family) const {
  // Validation reports the physics loss even at weight 0: refused whatever the weight.
  PINS_CHECK(!family.nonlinear() || opt_.physics_loss == "residual", "-train_physics_loss ",
             opt_.physics_loss, " is not available for the ", family.name(),
             " family: its equation is nonlinear; use residual");
  const bool physics = opt_.physics_weight > 0;
  if (physics && opt_.physics_loss == "energy") {
    // ½uᵀAu − fᵀu has the solution as its minimiser only for symmetric positive definite A.
    const double defect = symmetry_defect(*operator_);
    PINS_CHECK(defect <= 1e-10, "-train_physics_loss energy needs a symmetric operator, but the ",
               family.name(), " family's is not (|Ax - A'x|/|Ax| = ", defect,
               "): use residual or preconditioned");
  }
  if (physics && opt_.physics_loss == "preconditioned") {
    const std::string why = MultigridCycle::unsupported(*operator_);
    PINS_CHECK(why.empty(), "-train_physics_loss preconditioned is not available for the ",
               family.name(), " family: ", why, "; use residual or energy");
  }
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
                      {"-train_physics_cycles", opt_.physics_cycles},
                      {"-train_unlabelled_batch_size", unlabelled_batch_},
                      {"unlabelled data", unlabelled_ ? unlabelled_->fingerprint : ""},
                      {"-train_augment", opt_.augment},
                      {"training data", data_.fingerprint},
                      {"validation data", validation_ ? validation_->fingerprint : ""},
                      {"data shape", data_shape_}};
  // The cosine schedule spans the whole run; a step schedule allows more epochs on resume.
  if (opt_.schedule == "cosine") j["-train_epochs"] = opt_.epochs;
  return j;
}

detail::GridSymmetry TrainLoop::symmetry_for(std::int64_t step) const {
  if (opt_.augment != "symmetries") return {};
  const bool square = data_shape_.back() == data_shape_[data_shape_.size() - 2];
  return detail::draw_grid_symmetry(sample_seed(opt_.seed, std::uint64_t(step), kAugmentStream),
                                    square);
}

TrainLoop::Losses TrainLoop::compute(const torch::Tensor& idx, const torch::Tensor& uidx,
                                     detail::GridSymmetry sym) {
  // One forward pass over the labelled rows `idx` followed by the unlabelled rows `uidx`.
  const torch::Tensor all = uidx.defined() ? torch::cat({idx, uidx}) : idx;
  const int64_t labelled = idx.size(0);
  // This process's shares of the step's mean losses: its mean times its fraction of the
  // step's rows (1 on one process), so that the shares add up to the step's means.
  const double data_share = double(labelled) / double(std::max<int64_t>(step_labelled_, 1));
  const double physics_share = double(all.size(0)) / double(std::max<int64_t>(step_rows_, 1));
  if (all.size(0) == 0) {  // a step with fewer rows than processes: nothing here
    const torch::Tensor zero =
        torch::zeros({}, torch::TensorOptions().dtype(dtype_).device(device_));
    Losses l{zero, opt_.data_weight > 0 ? zero : torch::Tensor(),
             opt_.physics_weight > 0 ? zero : torch::Tensor()};
    return l;
  }
  // The batch in the orientation `sym` (identity unless -train_augment symmetries).
  auto field = [&](const torch::Tensor& b) {
    return sym.identity() ? b : detail::apply_to_field(b, sym);
  };
  const Batch b = rows_of(all, opt_.physics_weight > 0);
  const torch::Tensor pred = output_field(model_.forward(field(b.x)));
  Losses l;
  l.loss = torch::zeros({}, pred.options());
  if (opt_.data_weight > 0) {
    if (labelled > 0) {
      FieldMap in;
      for (const auto& [name, t] : b.inputs) in[name] = t.narrow(0, 0, labelled);
      l.data = relative_l2(pred.narrow(0, 0, labelled), field(target(b.u, in))).mean() *
               data_share;
    } else {
      l.data = torch::zeros({}, pred.options());
    }
    l.loss = l.loss + opt_.data_weight * l.data;
  }
  if (opt_.physics_weight > 0) {
    const OperatorPtr A =
        sym.identity() ? b.A
                       : operator_->with_values(detail::apply_to_stencil(b.A->values(), sym));
    l.physics = physics(b.inputs, A, solution(pred, b.inputs), field(b.f)) * physics_share;
    l.loss = l.loss + opt_.physics_weight * l.physics;
  }
  return l;
}

// The unlabelled rows of mini-batch `b` of this epoch: the next unlabelled_batch_ entries of
// the epoch's own shuffle of the unlabelled set (unlabelled_order_, drawn in begin_period),
// from position b · unlabelled_batch_ and wrapping around (a function of (epoch, b) alone, so
// a resumed run draws the same ones).
torch::Tensor TrainLoop::unlabelled_batch(std::int64_t b) const {
  if (unlabelled_rows_.empty()) return {};
  const int64_t m = int64_t(unlabelled_rows_.size());
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < unlabelled_batch_; ++i)
    rows.push_back(
        unlabelled_rows_[size_t(unlabelled_order_[size_t((b * unlabelled_batch_ + i) % m)])]);
  return index_tensor(rows, 0, rows.size());
}

void TrainLoop::validate(EpochRecord& r) {
  r.val_rel_l2 = r.val_physics = std::nan("");
  if (val_.empty()) return;
  torch::NoGradGuard no_grad;
  model_.module().eval();
  // Each process validates its share of the split; the sums are the split's.
  const Share mine = share_of(val_.size(), group_.rank(), group_.size());
  double sums[3] = {0, 0, 0};
  double& rel = sums[0];
  double& phys = sums[1];
  // A failure here (e.g. a damaged sample of a streamed file) is every process's: the others
  // would wait in the sum for ever.
  std::string error;
  try {
    // In chunks of a mini-batch: validation needs no more memory than a training step.
    const size_t chunk = size_t(opt_.batch_size);
    for (size_t i = mine.begin; i < mine.end; i += chunk) {
      const auto idx = index_tensor(val_, i, std::min(mine.end, i + chunk));
      const Batch b = rows_of(idx, true);
      const torch::Tensor pred = output_field(model_.forward(b.x));
      if (labelled_) rel += relative_l2(pred, target(b.u, b.inputs)).sum().item<double>();
      phys += double(idx.size(0)) *
              physics(b.inputs, b.A, solution(pred, b.inputs), b.f).item<double>();
    }
  } catch (const std::exception& e) {
    error = *e.what() ? e.what() : "unknown error";
    sums[2] = 1;
  }
  model_.module().train();
  group_.sum(sums, 3);
  if (sums[2] > 0) {
    const std::string first = group_.first_error(error);
    throw Error(first.empty() ? std::string("validation failed on another process") : first);
  }
  if (labelled_) r.val_rel_l2 = rel / double(val_.size());
  r.val_physics = phys / double(val_.size());
}

std::int64_t TrainLoop::first_step(int epoch) const {
  return int64_t(epoch - 1) * batches_;
}

void TrainLoop::begin_period(int epoch) {
  order_ = permutation(int64_t(train_.size()), sample_seed(opt_.seed, epoch, kShuffleStream));
  if (!unlabelled_rows_.empty())
    unlabelled_order_ = permutation(int64_t(unlabelled_rows_.size()),
                                    sample_seed(opt_.seed, std::uint64_t(epoch), kUnlabelledStream));
}

void TrainLoop::begin_step(std::int64_t step, std::int64_t b) {
  // The global mini-batch is the same on any number of processes; each takes its share.
  const size_t begin = size_t(b * opt_.batch_size);
  const size_t end = std::min(train_.size(), begin + size_t(opt_.batch_size));
  const Share mine = share_of(end - begin, group_.rank(), group_.size());
  std::vector<int64_t> ids;
  for (size_t i = begin + mine.begin; i < begin + mine.end; ++i)
    ids.push_back(train_[size_t(order_[i])]);
  idx_ = index_tensor(ids, 0, ids.size());
  step_labelled_ = int64_t(end - begin);
  step_rows_ = step_labelled_;
  uidx_ = torch::Tensor();
  const torch::Tensor u = unlabelled_batch(b);
  if (u.defined()) {
    const Share um = share_of(size_t(u.size(0)), group_.rank(), group_.size());
    uidx_ = u.slice(0, int64_t(um.begin), int64_t(um.end));
    step_rows_ += u.size(0);
  }
  sym_ = symmetry_for(step);
}

StepLoss TrainLoop::loss() {
  Losses l = compute(idx_, uidx_, sym_);
  return {l.loss, {l.data, l.physics}, double(step_labelled_)};
}

void TrainLoop::end_period(const PeriodStats& st) {
  auto part = [&](size_t i) { return i < st.parts.size() ? st.parts[i] : std::nan(""); };
  EpochRecord r;
  r.epoch = st.period;
  r.loss = st.loss;
  r.data_loss = opt_.data_weight > 0 ? part(0) : std::nan("");
  r.physics_loss = opt_.physics_weight > 0 ? part(1) : std::nan("");
  validate(r);
  r.lr = st.lr;
  r.skipped_steps = st.skipped;
  r.seconds = std::chrono::duration<double>(Clock::now() - st.start).count();
  r.samples_per_second = st.weight / std::max(r.seconds, 1e-9);
  history_.push_back(r);

  const double criterion = std::isfinite(r.val_rel_l2)    ? r.val_rel_l2
                           : std::isfinite(r.val_physics) ? r.val_physics
                                                          : r.loss;
  if (criterion < best_val_ || best_.empty()) {
    best_val_ = criterion;
    best_epoch_ = r.epoch;
    best_.clear();
    for (const auto& nt : named()) best_.push_back(nt.second.detach().clone());
  }
}

std::string TrainLoop::progress_line(double eta_seconds) const {
  return detail::epoch_line(history_.back(), opt_.epochs, eta_seconds);
}

std::string TrainLoop::early_stop(int e) {
  if (opt_.patience > 0 && e - best_epoch_ >= opt_.patience && e < opt_.epochs)
    return detail::concat("early stop: no better validation error in ", opt_.patience,
                          " epochs (best: epoch ", best_epoch_, ")");
  return {};
}

std::string TrainLoop::label(int epoch, std::int64_t) const {
  return "epoch " + std::to_string(epoch);
}

void TrainLoop::save_state(CheckpointData& c) const {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& r : history_) history.push_back(detail::to_json(r));
  c.state["best_epoch"] = best_epoch_;
  c.state["best_val"] = std::isfinite(best_val_) ? nlohmann::json(best_val_) : nlohmann::json();
  c.state["normalisation"] = norm_.to_json();
  c.state["history"] = history;
  for (size_t i = 0; i < best_.size(); ++i)
    c.tensors.emplace_back("best/" + named()[i].first, best_[i].clone());
}

void TrainLoop::load_state(const CheckpointData& c, const std::string& path) {
  const auto& s = c.state;
  best_.clear();
  if (c.has("best/" + named().front().first))
    for (const auto& nt : named())
      best_.push_back(c.tensor("best/" + nt.first, path).to(nt.second.device(), true).clone());
  best_epoch_ = s.at("best_epoch").get<int>();
  best_val_ = s.at("best_val").is_number() ? s.at("best_val").get<double>() : INFINITY;
  history_.clear();
  for (const auto& r : s.at("history")) history_.push_back(detail::epoch_from_json(r));
}

TrainResult TrainLoop::run() {
  run_collectively(group_, [&] { prepare(); });
  batches_ = (int64_t(train_.size()) + opt_.batch_size - 1) / opt_.batch_size;
  detail::LoopSettings s;
  s.optimizer = opt_.optimizer;
  s.weight_decay = opt_.weight_decay;
  s.schedule.lr = opt_.lr;
  s.schedule.kind = opt_.schedule;
  s.schedule.length = opt_.epochs;
  s.schedule.step_size = opt_.step_size;
  s.schedule.gamma = opt_.gamma;
  s.periods = opt_.epochs;
  s.checkpoint = opt_.checkpoint;
  s.checkpoint_every = opt_.checkpoint_every;
  s.resume = opt_.resume;
  s.force = opt_.force;
  s.log = opt_.log;
  s.max_bad_steps = opt_.max_bad_steps;
  s.max_rollbacks = opt_.max_rollbacks;
  s.monitor = opt_.monitor;
  s.out = opt_.out;
  s.loss_hook = opt_.loss_hook;
  s.advice = "lower -train_lr or check the data";
  s.group = opt_.group;
  detail::TrainingLoop loop(model_, dtype_, std::move(s), *this);
  loop_ = &loop;
  loop.run();
  const bool stopped_early = loop.periods_done() < opt_.epochs;

  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < best_.size(); ++i) named()[i].second.copy_(best_[i]);
  }
  loop_ = nullptr;
  model_.module().eval();
  TrainResult result;
  result.history = history_;
  result.normalisation = norm_;
  result.best_epoch = best_epoch_;
  result.best_val = best_val_;
  result.stopped_early = stopped_early;
  result.rollbacks = loop.rollbacks();
  result.train_samples = int64_t(train_.size());
  result.val_samples = int64_t(val_.size());
  result.unlabelled_samples = int64_t(unlabelled_rows_.size());
  result.peak_memory_mb = peak_memory_mb();
  return result;
}

}  // namespace

nlohmann::json TrainResult::metrics() const {
  nlohmann::json j = {{"epochs", history.size()},
                      {"best_epoch", best_epoch},
                      {"stopped_early", stopped_early},
                      {"rollbacks", rollbacks},
                      {"train_samples", train_samples},
                      {"val_samples", val_samples},
                      {"unlabelled_samples", unlabelled_samples},
                      {"peak_memory_mb", peak_memory_mb}};
  if (std::isfinite(best_val)) j["best_validation"] = best_val;
  if (!history.empty()) j["last_epoch"] = detail::to_json(history.back());
  return j;
}

TrainResult train_surrogate(Surrogate& model, const TrainingData& data, const TrainOptions& options,
                            const TrainingData* validation, const TrainingData* unlabelled) {
  return TrainLoop(model, data, options, validation, unlabelled).run();
}

}  // namespace pins
