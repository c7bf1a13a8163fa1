#pragma once
/// \file
/// Neural preconditioners for 5-point operators: the map G(A, r) ≈ A⁻¹ r, its input
/// features, the cycle it runs in, the residual loss it is trained with, and the sampling of
/// training operators and residuals (no solves needed).
///
/// Everything works on the *diagonally scaled* operator Â = D⁻¹A (D = diag A) and residual
/// r̂ = D⁻¹r, because A z = r ⇔ Â z = r̂. Â does not change when a program scales its rows,
/// chooses another grid spacing, or writes boundary rows as scaled identities, so one model
/// serves any 5-point operator of a kind. The network sees the four neighbour couplings of Â
/// and r̂ / rms(r̂); its output g has an arbitrary scale, and the cycle multiplies it by the
/// α that minimises ‖r̂ − α Â g‖ (one operator application). That makes each network step a
/// residual-minimising correction: it can never increase the residual it is applied to.
///
/// The cycle (what `-pc_type surrogate -pc_surrogate_smooth k` runs and training sees):
///   z₀ = k damped-Jacobi sweeps on Â z = r̂ from 0,
///   z₁ = z₀ + α G(Â, r̂ − Â z₀),
///   z  = k damped-Jacobi sweeps from z₁.
/// The sweeps remove rough error, the network the smooth error a sweep cannot reach.
///
/// Example:
/// \code
///   auto ahat = pins::scaled_stencil(coeffs);                 // [B,5,ny,nx], centre 1
///   auto z = pins::precondition_cycle(*model, ahat, rhat, 2); // [B,ny,nx]
///   auto loss = pins::precondition_loss(ahat, rhat, z);       // mean ‖r̂ − Âz‖²/‖r̂‖²
/// \endcode

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "pins/core/calibration.hpp"
#include "pins/core/options.hpp"

namespace pins {

class ProcessGroup;

class Surrogate;
struct Dataset;

/// Input channels of a preconditioner model: couplings W, E, S, N of Â and r̂ / rms(r̂).
inline constexpr int kPreconditionChannels = 5;
/// Task name recorded in the manifests of preconditioner models.
inline constexpr const char* kPreconditionTask = "precondition";
/// The architecture `pins train -task precondition` uses unless told otherwise.
inline constexpr const char* kDefaultPreconditionSurrogate = "mgnet";
/// Damping of the Jacobi sweeps of the cycle (2/3 smooths best for 5-point Laplacians).
inline constexpr double kJacobiDamping = 2.0 / 3.0;

/// Â = D⁻¹A for 5-point coefficients [B,5,ny,nx] (C, W, E, S, N): centre 1, couplings
/// divided by the centre. Throws pins::Error if a centre coefficient is not positive or a
/// value is not finite, naming the first such grid point.
torch::Tensor scaled_stencil(const torch::Tensor& coeffs);

/// Â for the rows of an operator whatever the sign of its diagonal (−A has the same Â):
/// scaled_stencil of the coefficients divided by their centre. What the surrogate PC feeds
/// its network from an assembled matrix, and what the operator flag is computed on.
torch::Tensor sign_free_scaled_stencil(const torch::Tensor& coeffs);

/// r̂ / rms(r̂) per sample for r̂ [B,ny,nx] (the network's residual channel); the rms of each
/// sample goes to `rms` ([B]; 1 where r̂ = 0, so zero residuals stay zero).
torch::Tensor normalised_residual(const torch::Tensor& rhat, torch::Tensor* rms = nullptr);

/// The network input [B,5,ny,nx] for Â [B,5,ny,nx] and a residual r̂ [B,ny,nx]: the
/// couplings of Â and normalised_residual(r̂); returns also the rms of each r̂.
torch::Tensor precondition_input(const torch::Tensor& scaled_coeffs, const torch::Tensor& rhat,
                                 torch::Tensor* rms = nullptr);

/// The statistics [B, 16] a preconditioner model's operator flag compares: input_statistics
/// (pins/core/calibration.hpp) of the couplings W, E, S, N of Â [B,5,ny,nx] — what the
/// operator looks like to the network, whatever the residual it is applied to.
torch::Tensor operator_statistics(const torch::Tensor& scaled_coeffs);

/// operator_statistics of the operators of a dataset's samples (its family's stencil of each,
/// scaled as the surrogate PC scales the assembled matrix), read 64 samples at a time from
/// `path` (the file `d` describes; labelled or inputs-only). Throws pins::Error naming `path`
/// when the family's operator is not a 2-D 5-point stencil (what preconditioner models take).
torch::Tensor dataset_operator_statistics(const Dataset& d, const std::string& path);

/// Where a preconditioner model keeps its operator flag: metrics[kOperatorFlagKey], an
/// InputFlag (calibration.hpp) fitted at training time on operators drawn like the training
/// ones. The surrogate PC's replace mode and the KSPGuess skip the network for a flagged
/// operator (pins/petsc/surrogate_step.hpp).
inline constexpr const char* kOperatorFlagKey = "operator_flag";
/// What the stored flag's statistics are (its "what").
inline constexpr const char* kOperatorFlagWhat =
    "per coupling channel W, E, S, N of D^-1 A: mean, std, min, max over the grid; score = "
    "max |s - centre| / scale; threshold = the 99 % conformal quantile of the scores of "
    "operators drawn like the training ones";

/// One network correction for Â z = r̂: α G(Â, r̂) with the residual-minimising α, [B,ny,nx].
/// Differentiable in the model's parameters.
torch::Tensor precondition_step(Surrogate& model, const torch::Tensor& scaled_coeffs,
                                const torch::Tensor& rhat);

/// `sweeps` damped-Jacobi sweeps z ← z + ω(r̂ − Âz) (Â has unit diagonal).
torch::Tensor jacobi_sweeps(const torch::Tensor& scaled_coeffs, const torch::Tensor& rhat,
                            torch::Tensor z, int sweeps, double omega = kJacobiDamping);

/// The cycle described above; smooth = 0 is the bare network step.
torch::Tensor precondition_cycle(Surrogate& model, const torch::Tensor& scaled_coeffs,
                                 const torch::Tensor& rhat, int smooth);

/// `iterations` steps of the stationary method z ← z + cycle(r̂ − Â z) from z = 0 (1 is one
/// cycle). Training on several steps weighs the modes a cycle amplifies or barely reduces,
/// which a single step on random residuals hardly sees and a Krylov method pays for.
torch::Tensor precondition_iterate(Surrogate& model, const torch::Tensor& scaled_coeffs,
                                   const torch::Tensor& rhat, int smooth, int iterations);

/// Mean over the batch of ‖r̂ − Â z‖² / ‖r̂‖² (the relative residual left after z).
torch::Tensor precondition_loss(const torch::Tensor& scaled_coeffs, const torch::Tensor& rhat,
                                const torch::Tensor& z);

/// Kinds of training operators (all SPD M-matrices of the Darcy discretisation):
///  darcy: κ ∈ {12, 3} (thresholded field, the FNO setting); lognormal: κ = exp(σg), σ ~ U[0.5, 2];
///  contrast: κ ∈ {1, 10⁴}; anisotropic: log-normal κ with x couplings scaled by a ∈ [0.1, 10].
/// A quarter of the operators of every kind have their outermost ring of grid points written
/// as decoupled Dirichlet rows (identity rows that no other row couples to), the way many
/// PETSc programs write boundary conditions, so a model also sees that convention.
std::vector<std::string> operator_kinds();

/// Settings of preconditioner training (`pins train -task precondition`). It runs the same
/// loop as solution training (pins/core/trainer.hpp): a step whose loss or gradient is not
/// finite never reaches the weights and halves the learning rate, max_bad_steps of them roll
/// back to the state at the end of the last clean interval, and max_rollbacks rollbacks stop
/// training with an error; checkpoints are written atomically and a resumed run reproduces
/// the uninterrupted one bit for bit (CPU, same thread count). Its period is an *interval*
/// of interval() steps: a progress line, a validation, a row of the log, and the points
/// where checkpoints are written and rollbacks return to.
struct PreconditionTrainOptions {
  int grid = 64;                    ///< -grid: cells per side of the training operators
  std::vector<std::string> kinds = operator_kinds();  ///< -precondition_operators a,b,...
  int smooth = 2;                   ///< -precondition_smooth: Jacobi sweeps each side (0 for mgnet)
  int iterations = 1;               ///< -precondition_iterations: cycles per loss (3 for mgnet)
  int steps = 1500;                 ///< -train_steps: optimiser steps (fresh samples each)
  int batch_size = 16;              ///< -train_batch_size
  double lr = 1e-3;                 ///< -train_lr (cosine schedule over the steps to 0)
  std::uint64_t seed = 0;           ///< -train_seed: weights and samples
  int threads = 0;                  ///< -train_threads (0: the cores available)
  /// -train_device auto|cpu|cuda: where the model, the drawn problems and the loss live
  /// (pins::training_device resolves it when training starts; the problems are drawn on the
  /// host and moved there).
  std::string device = "auto";
  int monitor_every = 50;           ///< -train_monitor_every: steps per interval (0: quiet,
                                    ///< intervals of kQuietInterval steps)
  int val_samples = 32;             ///< fixed validation operators/residuals
  std::string log;                  ///< -train_log: history (.json: JSON, else CSV)
  std::string checkpoint;           ///< -train_checkpoint: file (empty: no checkpoints)
  int checkpoint_every = 0;         ///< -train_checkpoint_every: steps, a multiple of
                                    ///< interval() (0: only at the end)
  bool resume = false;              ///< -train_resume: continue from the checkpoint
  bool force = false;               ///< overwrite an existing checkpoint when not resuming
  int max_bad_steps = 5;            ///< -train_max_bad_steps before a rollback
  int max_rollbacks = 3;            ///< -train_max_rollbacks before stopping
  std::ostream* out = nullptr;      ///< progress lines (null: std::cout)
  /// Data-parallel training (pins/core/process_group.hpp): each process draws and scores its
  /// share of every step's problems (-train_batch_size in all, at least one per process)
  /// and the gradients are summed; process 0 writes and reports. Null: this process alone.
  const ProcessGroup* group = nullptr;
  /// Test hook: sees each step's loss (global step, loss) and returns the loss to use, e.g. a
  /// NaN to exercise the guard.
  std::function<torch::Tensor(std::int64_t step, const torch::Tensor& loss)> loss_hook;

  /// Steps per interval when monitor_every is 0.
  static constexpr int kQuietInterval = 50;
  /// Steps per interval: monitor_every, or kQuietInterval when quiet.
  int interval() const { return monitor_every > 0 ? monitor_every : kQuietInterval; }

  /// Reads -grid, -precondition_operators, -precondition_smooth, -precondition_iterations,
  /// -train_steps, -train_batch_size, -train_lr, -train_seed, -train_threads, -train_device,
  /// -train_monitor_every, -train_log, -train_checkpoint, -train_checkpoint_every,
  /// -train_resume, -train_max_bad_steps, -train_max_rollbacks; rejects other -train_* and
  /// -precondition_* names. For `surrogate` "mgnet" (a multigrid cycle that smooths by itself)
  /// -precondition_smooth defaults to 0 and -precondition_iterations to 3.
  static PreconditionTrainOptions from_options(const OptionMap& options,
                                               const std::string& surrogate = "");
  static std::string help();
  /// Checks every field; throws pins::Error naming the first bad option.
  void validate() const;
  /// Reads the -train_* options of the loop (steps … max_rollbacks), which every solve-free
  /// training task (precondition, smoother) shares.
  void read_loop_options(const OptionMap& options);
  /// Checks the loop's fields only (what read_loop_options reads, and val_samples).
  void validate_loop() const;
};

/// A batch of training problems: Â [B,5,n,n] and residuals r̂ [B,n,n] (float64).
struct PreconditionBatch {
  torch::Tensor scaled_coeffs, rhat;
};

/// Draws `count` operators of the given kinds (cycled) and residuals with mixed spectra:
/// white noise, smooth random fields, and residuals Â e of smooth errors e. Deterministic in
/// (seed, first).
PreconditionBatch sample_precondition_batch(const std::vector<std::string>& kinds, int grid,
                                            int count, std::uint64_t seed, std::uint64_t first);

/// The operator flag of a model trained with `opts`: fitted on `count` operators drawn by
/// sample_precondition_batch from opts' kinds, grid and seed, at indices no training step or
/// validation set uses.
InputFlag fit_operator_flag(const PreconditionTrainOptions& opts, int count = 256);

/// One interval of preconditioner training (a row of -train_log).
struct PreconditionRecord {
  std::int64_t step = 0;  ///< steps done at its end
  double loss = 0;        ///< mean training loss of its finite steps (NaN: none)
  double val_loss = 0;    ///< validation relative residual² at its end
  double lr = 0;          ///< learning rate of its last step
  double seconds = 0;     ///< wall time (not part of the resume guarantee)
  int skipped_steps = 0;  ///< steps skipped for a non-finite loss or gradient
};

/// Result of train_preconditioner.
struct PreconditionTrainResult {
  double initial_val_loss = 0, final_val_loss = 0;  ///< relative residual² after one cycle
  double bare_val_loss = 0;   ///< the same with sweeps only (no network): the baseline
  double seconds = 0;         ///< wall time of this run (not of earlier runs resumed from)
  int steps = 0;
  int rollbacks = 0;                        ///< rollbacks of the non-finite guard
  std::vector<PreconditionRecord> history;  ///< one record per interval
};

/// Trains `model` (in_channels 5, out_channels 1) in place to minimise precondition_loss of
/// precondition_cycle on freshly sampled problems (step s draws problems s·B … s·B + B − 1 of
/// the seed). Prints a line every monitor_every steps. Throws pins::Error for bad options, a
/// checkpoint that does not match (resume), or non-finite losses that persist after
/// max_rollbacks rollbacks.
PreconditionTrainResult train_preconditioner(Surrogate& model,
                                             const PreconditionTrainOptions& options);

struct ModelManifest;

/// The manifest of a preconditioner model (task "precondition", family "5-point", training
/// grid, the cycle's sweeps, what it was trained on and how well), as `pins train -task
/// precondition` and `pins.train_preconditioner` write it; `command` records who made it.
ModelManifest precondition_manifest(const PreconditionTrainOptions& options,
                                    const PreconditionTrainResult& result,
                                    const std::string& command);

}  // namespace pins
