#pragma once
/// \file
/// Training a pins surrogate on a dataset: normalised features, a relative L2 data loss and
/// a physics loss built on the problem's own discrete operator, Adam (step or cosine
/// schedule) or L-BFGS, seeded mini-batches, a validation split, early stopping, atomic
/// checkpoints with bit-exact resume (CPU, same thread count), and a guard that never lets a
/// non-finite loss or gradient reach the weights.
///
/// Example (what `pins train` does):
/// \code
///   pins::TrainOptions opts = pins::TrainOptions::from_options(options);  // -train_*
///   pins::TrainingData data = pins::training_data(pins::read_dataset("train.h5"));
///   torch::manual_seed(opts.seed);                                          // initial weights
///   auto model = pins::make_surrogate("fno", options, 2, 1);  // channels: inputs, dof
///   pins::TrainResult r = pins::train_surrogate(*model, data, opts);
///   pins::ModelManifest m;  // r.normalisation.to_json() goes into m.normalisation
/// \endcode

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pins/core/family.hpp"  // FieldMap, FieldTransform
#include "pins/core/losses.hpp"  // physics_loss, relative_residual
#include "pins/core/options.hpp"

namespace pins {

class Surrogate;
class ProcessGroup;
struct Dataset;
struct DatasetInfo;

/// Input channels of the Darcy features: [normalised log κ, normalised f]. Other families
/// have one channel per input component: Normalisation::channels().
inline constexpr int kFeatureChannels = 2;

struct TrainingData;

/// Rows of training data read when they are used, not held in memory: a dataset streamed
/// from its file (pins::streamed_training_data). Reads are const and repeatable: the same
/// rows give the same values bit for bit.
class RowSource {
 public:
  virtual ~RowSource() = default;
  /// Rows N.
  virtual std::int64_t rows() const = 0;
  /// Whether the rows have solutions u.
  virtual bool labelled() const = 0;
  /// The rows `index` (any order, repeats allowed) of every input, [k, (c,) grid...], and
  /// of u when labelled, as float64 tensors into `out` (its inputs and u). Throws
  /// pins::Error naming the file, the array and the sample for a bad value.
  virtual void read(const std::vector<std::int64_t>& index, TrainingData& out) const = 0;
};

/// Samples as float64 tensors: every input field of the family, [N, (c,) grid...], and the
/// solutions u [N, (dof,) grid...] (undefined: physics-only training). A streamed one
/// (`source` set: pins::streamed_training_data) holds no tensors: its rows are read from
/// the file by select(), which the trainer calls per mini-batch.
struct TrainingData {
  FieldMap inputs;                      ///< by name, e.g. {"kappa": [N,ny,nx], "f": [N,ny,nx]}
  torch::Tensor u;
  std::string pde = "darcy";            ///< problem family (pins::find_family): its operator
  std::string fingerprint;              ///< SHA-256 of the arrays (model manifests record it)
  /// The dataset's sampler parameters (pins::Family::with_parameters): they select the
  /// equation of families that have some, e.g. nonlinear_darcy's k(u).
  std::map<std::string, std::string> parameters;
  /// The dataset's mesh (mesh families: their fields live on it), else null.
  std::shared_ptr<const Mesh> mesh;
  /// Consecutive rows that come from one trajectory (time-dependent families: the T − 1
  /// steps of a sample, pins::training_data); the validation split keeps them together, so
  /// no trajectory is half trained on and half validated on. 1 otherwise.
  std::int64_t group = 1;
  /// The rows, when they are streamed from a file rather than held in `inputs` and `u`.
  std::shared_ptr<const RowSource> source;

  /// Input `name`; throws pins::Error naming the inputs there are otherwise (and, for
  /// streamed data, that its rows are read with select()).
  const torch::Tensor& input(const std::string& name) const;
  /// Samples N (from the first input, or the source's rows).
  std::int64_t samples() const;
  /// Whether there are solutions u (held, or in the source's file).
  bool labelled() const;
  /// The rows `index` of every input (and of u when labelled), held in memory: for streamed
  /// data, read from the file.
  TrainingData select(const torch::Tensor& index) const;
  TrainingData select(const std::vector<std::int64_t>& index) const;
};

/// Tensors from a dataset read with pins::read_dataset (u included; u undefined for an
/// inputs-only dataset, info.labelled false, whose fingerprint then hashes the inputs
/// alone). For a time-dependent family (Family::time_dependent) the dataset holds
/// trajectories u [N, T, grid...] and the rows are its N (T − 1) steps, sample by sample:
/// the dataset's inputs repeated, the state input = u[:, t], u = u[:, t + 1] (group T − 1).
/// Throws pins::Error naming the array if the dataset's inputs are not the family's, sizes
/// disagree or a value is NaN/Inf, and naming the mismatch for a trajectory dataset given to
/// a single-state family or the reverse.
TrainingData training_data(const Dataset& dataset);

/// The training data of the dataset file `path` streamed, not loaded: the same rows,
/// checks and fingerprint as training_data(read_dataset(path)), but each select() reads its
/// rows from the file (pins::DatasetStream), so memory does not grow with the dataset. The
/// checks that need every value (NaN/Inf, positive log-transformed inputs) and the
/// fingerprint are one pass over the file in blocks of at most `block_bytes` (at least one
/// sample). Needs pins built with HDF5.
TrainingData streamed_training_data(const std::string& path,
                                    std::int64_t block_bytes = std::int64_t(64) << 20);

/// A dataset's sampler attributes as pins::family_for takes them: name without "sampler.",
/// value as text (pins::to_string).
std::map<std::string, std::string> sampler_parameters(const DatasetInfo& info);

/// How one input field becomes feature channels (its family's FieldTransform with the
/// statistics fitted on the training split): log-standardised, (log x − shift) / scale,
/// for positive coefficient fields (κ spans orders of magnitude, e.g. contrast 10⁴, and the
/// operator depends on κ ratios, which log turns into differences); scaled, x / scale, for
/// source-like fields (not centred, so zero stays zero and the maps stay linear).
struct FieldScaling {
  std::string name;
  FieldTransform transform = FieldTransform::kScale;
  double shift = 0, scale = 1;
  int components = 1;
};

/// Feature and target scaling, fitted on the training split and stored in the model file.
/// u is divided by its root mean square (without solutions: the family's solution_scale).
/// For a time-dependent family the network predicts the step's change instead: the target
/// is (u − state) / u_scale with u_scale the change's root mean square, and the solution is
/// state + u_scale · output (a one-step surrogate starts from the identity map, so a rollout
/// does not lose the state to the network's relative error).
struct Normalisation {
  std::vector<FieldScaling> inputs;  ///< in channel order (the family's inputs())
  double u_scale = 1;
  /// The family's state input (Family::state_input) the output is added to; empty: none.
  std::string state;
  /// The training target for solutions u of the inputs: (u − state) / u_scale.
  torch::Tensor target(const torch::Tensor& u, const FieldMap& inputs) const;
  /// The solution for the network's output field (output_field): state + u_scale · output.
  torch::Tensor solution(const torch::Tensor& output, const FieldMap& inputs) const;
  /// Fits the statistics on the samples `index` of `data`, inputs in `family`'s order,
  /// reading them in blocks of kFitRows rows (the same sums for held and streamed data).
  static Normalisation fit(const TrainingData& data, const torch::Tensor& index);
  static constexpr std::int64_t kFitRows = 16;
  nlohmann::json to_json() const;
  /// Reads what to_json wrote, and the Darcy form of earlier model files (log_kappa_mean,
  /// log_kappa_std, f_scale, u_scale); throws pins::Error naming a missing or bad field.
  static Normalisation from_json(const nlohmann::json& json);
  /// Feature channels (one per input component).
  int channels() const;
  /// Features [B, channels(), grid...] in `dtype` from the inputs [B, (c,) grid...].
  torch::Tensor features(const FieldMap& inputs, torch::ScalarType dtype) const;
  /// The scaling of input `name`; throws pins::Error if there is none.
  const FieldScaling& input(const std::string& name) const;
};

/// Training settings; the command line names are given with each field.
struct TrainOptions {
  int epochs = 100;                   ///< -train_epochs
  int batch_size = 16;                ///< -train_batch_size
  double lr = 1e-3;                   ///< -train_lr: initial learning rate
  std::string schedule = "cosine";    ///< -train_schedule step|cosine|constant
  int step_size = 0;                  ///< -train_step_size: epochs per step decay (0: epochs/3)
  double gamma = 0.5;                 ///< -train_gamma: step decay factor
  std::string optimizer = "adam";     ///< -train_optimizer adam|lbfgs
  double weight_decay = 0;            ///< -train_weight_decay (Adam)
  double data_weight = 1;             ///< -train_data_weight: weight of the relative L2 loss
  double physics_weight = 0;          ///< -train_physics_weight
  std::string physics_loss = "residual";  ///< -train_physics_loss residual|energy|preconditioned
  int physics_cycles = 1;             ///< -train_physics_cycles: V-cycles of B (preconditioned)
  double val_fraction = 0.125;        ///< -train_val_fraction (ignored with validation data)
  std::string val_data;               ///< -train_val_data: validation dataset (pins train)
  std::string unlabelled;             ///< -train_unlabelled: inputs-only dataset (pins train)
  int unlabelled_batch_size = 0;      ///< -train_unlabelled_batch_size (0: batch_size)
  std::string augment = "none";       ///< -train_augment none|symmetries (train_augment.hpp)
  int patience = 0;                   ///< -train_patience: epochs without improvement (0: off)
  std::uint64_t seed = 0;             ///< -train_seed: weights, split and shuffles
  int threads = 0;                    ///< -train_threads (0: the cores available)
  int checkpoint_every = 0;           ///< -train_checkpoint_every (epochs; 0: only at the end)
  std::string checkpoint;             ///< -train_checkpoint: file (empty: no checkpoints)
  bool resume = false;                ///< -train_resume: continue from the checkpoint
  bool force = false;                 ///< overwrite an existing checkpoint when not resuming
  int monitor = 1;                    ///< -train_monitor 0|1|2
  std::string log;                    ///< -train_log: history as .json, else CSV
  int max_bad_steps = 5;              ///< -train_max_bad_steps before a rollback
  int max_rollbacks = 3;              ///< -train_max_rollbacks before stopping
  std::string dtype = "float32";      ///< -train_dtype float32|float64
  /// -train_device auto|cpu|cuda: where training runs (pins::training_device resolves it).
  std::string device = "auto";
  /// -train_memory: MB of dataset values this process may hold (0: auto, a quarter of the
  /// memory available at the start, shared among the processes of the node). Datasets that
  /// fit are read whole; larger ones are streamed from their files, mini-batch by mini-batch
  /// (pins::read_training_datasets). The result is the same either way.
  double memory_mb = 0;

  /// Test hook: sees each mini-batch loss (global step counter, loss) and returns the loss
  /// to use, e.g. a NaN to exercise the guard.
  std::function<torch::Tensor(std::int64_t step, const torch::Tensor& loss)> loss_hook;
  /// Where progress lines go (monitor ≥ 1); null: std::cout.
  std::ostream* out = nullptr;
  /// Data-parallel training (pins/core/process_group.hpp): every process of the group runs
  /// train_surrogate with the same data and options; each computes its share of every
  /// global mini-batch (-train_batch_size samples in all) and of the validation set, and the
  /// sums make the run the same as on one process up to floating-point summation order.
  /// Process 0 writes checkpoints, the log and progress lines. Null: this process alone.
  const ProcessGroup* group = nullptr;

  /// Reads every -train_* option; an unknown -train_* name or a bad value is an error
  /// naming it (and listing the known names). Other options are ignored.
  static TrainOptions from_options(const OptionMap& options);
  /// -help text: every -train_* option with its default.
  static std::string help();
  /// Throws pins::Error naming the first invalid setting.
  void validate() const;
  torch::ScalarType scalar_type() const;
};

/// One epoch of the history.
struct EpochRecord {
  int epoch = 0;             ///< 1-based
  double loss = 0;           ///< mean weighted training loss
  double data_loss = 0;      ///< mean relative L2² on the training batches (NaN: no data)
  double physics_loss = 0;   ///< mean physics loss
  double val_rel_l2 = 0;     ///< mean relative L2 error on the validation split (NaN: none)
  double val_physics = 0;    ///< mean physics loss on the validation split
  double lr = 0;             ///< learning rate at the end of the epoch
  double seconds = 0;        ///< wall time (not part of the resume guarantee)
  double samples_per_second = 0;
  int skipped_steps = 0;     ///< steps skipped for a non-finite loss or gradient
};

/// What train_surrogate produced; the model holds the best (lowest validation) weights.
struct TrainResult {
  std::vector<EpochRecord> history;
  Normalisation normalisation;
  int best_epoch = 0;
  double best_val = 0;
  bool stopped_early = false;
  int rollbacks = 0;
  std::int64_t train_samples = 0, val_samples = 0;
  std::int64_t unlabelled_samples = 0;  ///< inputs-only samples seen by the physics loss
  /// This process's peak resident memory (VmHWM, MB) when training ended.
  double peak_memory_mb = 0;
  /// Summary for the model manifest's metrics.
  nlohmann::json metrics() const;
};

/// Trains `model` (in place) on `data` with `options`. With `validation` (same grid and
/// family), every sample of `data` is trained on and `validation` is the held-out set;
/// otherwise options.val_fraction of `data` is held out. With `unlabelled` (inputs only, same
/// grid and family; its u is ignored), each mini-batch of `data` gets
/// options.unlabelled_batch_size of its samples (cycled in a seeded shuffle), and the physics
/// loss covers both: the data loss the labelled samples only. An epoch is a pass over the
/// labelled training samples. Throws pins::Error for bad options, a checkpoint that does not
/// match (resume), a physics loss the family's operator does not support (energy: a
/// non-symmetric operator; preconditioned: see MultigridCycle::unsupported), or non-finite
/// losses that persist after options.max_rollbacks rollbacks.
TrainResult train_surrogate(Surrogate& model, const TrainingData& data, const TrainOptions& options,
                            const TrainingData* validation = nullptr,
                            const TrainingData* unlabelled = nullptr);

/// Relative L2 error per sample over all its values, ‖p − u‖ / ‖u‖, [B].
torch::Tensor relative_l2(const torch::Tensor& prediction, const torch::Tensor& truth);

/// The network's input for the inputs: norm.features(inputs, dtype) [B, C, grid...]; for a
/// mesh family (family->on_mesh(), bound to its mesh), per-cell features are then averaged
/// to the mesh's points, [B, C, points] (Family::to_points).
torch::Tensor network_input(const Normalisation& norm, const FieldMap& inputs,
                            torch::ScalarType dtype, const Family* family = nullptr);

/// The model's solution [B, (dof,) grid...] (float64, de-normalised, on the inputs' device)
/// for the inputs [B, (c,) grid...]; runs in eval mode without gradients, in batches of
/// `batch`, on the model's device (a model trained with -train_device cuda stays there). Mesh
/// families need `family` (bound to the mesh, see network_input) and a mesh surrogate whose
/// graph is set (Surrogate::set_graph).
torch::Tensor predict(Surrogate& model, const Normalisation& norm, const FieldMap& inputs,
                      int64_t batch = 64, const Family* family = nullptr);

/// The network's output [B, dof, grid...] as a field: [B, grid...] when dof = 1.
torch::Tensor output_field(const torch::Tensor& output);

/// The device -train_device `name` names: "cpu"; "cuda" (LibTorch's current CUDA device),
/// which needs a LibTorch that sees a GPU and pins' Kokkos kernels built for one (the
/// physics loss, and the validation's, run there on the device's memory); "auto": cuda when
/// both hold, else cpu. Throws pins::Error naming what is missing for cuda.
torch::Device training_device(const std::string& name);

/// Sets LibTorch's intra-op thread count: `threads` if positive, else available_cores().
void set_training_threads(int threads);

/// The cores this process may run on (its CPU affinity: taskset, cgroup cpusets, MPI
/// binding), at least 1.
int available_cores();

}  // namespace pins

namespace pins {

/// Summary statistics of per-sample values (e.g. relative L2 errors).
struct Summary {
  double mean = 0, median = 0, p95 = 0, max = 0;
  nlohmann::json to_json() const;
};

/// mean, median, 95th percentile (linear interpolation between order statistics) and max of
/// a 1-D tensor with at least one value.
Summary summarize(const torch::Tensor& values);

}  // namespace pins
