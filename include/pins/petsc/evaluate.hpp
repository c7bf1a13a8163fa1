#pragma once
/// \file
/// Measuring a solution model against PETSc on a dataset: what `pins evaluate` reports and
/// `pins.evaluate` returns. Relative L2 errors, the relative residual ‖f − A û‖/‖f‖ of the
/// predictions by the problem's own operator, and time per sample of the surrogate (one at a
/// time and batched) against PETSc re-solving samples with the dataset's own solver settings;
/// optionally, test-time refinement: the predictions improved by k multigrid V-cycles
/// (pins::MultigridCycle) against PETSc's time to reach the same error.

#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pins/core/calibration.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/convergence_history.hpp"

namespace pins {
class Surrogate;
}

namespace pins::petsc {

/// What a solution model must be to run on `info`'s samples (family, task, channels; the
/// training grid too unless the architecture's traits say it is grid-independent: FNO, MLP).
ModelRequirements evaluation_requirements(const std::string& architecture, const DatasetInfo& info);

/// The predictions refined by k steps u ← u + V(f − A u) of a multigrid V-cycle V on the
/// family's operator (pins::MultigridCycle), against PETSc: one entry of report.json's
/// "refine" array.
struct Refinement {
  int k = 0;                  ///< V-cycles
  torch::Tensor relative_l2;  ///< [N] of the refined predictions
  Summary error, residual;  ///< relative L2 and relative residual ‖f − A u_k‖/‖f‖, all samples
  /// Wall time per sample of everything from the inputs to the refined answer, in batches of
  /// 32 over the whole dataset: features and network, and for k > 0 the operator's
  /// coefficients and right-hand side, the multigrid hierarchy and the k cycles; the best of
  /// 3 runs (so are PETSc's solves below).
  double seconds_per_sample = 0;
  /// Mean over the re-solved samples i of PETSc's time (ConvergenceHistory::seconds, so
  /// assembly and set-up included) to its first iterate whose error is at most the refined
  /// error of sample i; over the samples where it got there (petsc_reached of them), 0 if none.
  double petsc_seconds_to_same_error = 0;
  int petsc_reached = 0;
};

/// Nonlinear families: Newton from the surrogate's guess against Newton from zero, per
/// re-solved sample (report.json's "newton").
struct NewtonComparison {
  double rtol = 0;  ///< both stop at ‖F(u)‖ ≤ rtol ‖F(0)‖
  /// Newton solves per sample: 1, or a time-dependent family's steps per trajectory (PETSc
  /// TS re-solving it; "zero" is then TS's own predictor, each step's Newton starting from
  /// the previous state, and the iterations and times are per trajectory).
  int steps = 1;
  std::vector<int> iterations_zero, iterations_guess;
  /// Wall time of each whole solve (SNES set-up, Newton, and for the guess its inference:
  /// inputs, network, scatter), the best of 3 runs; and of the inference alone.
  std::vector<double> seconds_zero, seconds_guess, seconds_inference;
  double mean_iterations_zero = 0, mean_iterations_guess = 0;
  double mean_seconds_zero = 0, mean_seconds_guess = 0, mean_seconds_inference = 0;
};

/// Solves the first `count` samples of a nonlinear family's dataset `d` with the dataset's
/// SNES settings (under `solver_prefix`) to ‖F(u)‖ ≤ rtol ‖F(0)‖ (rtol ≤ 0: the dataset's),
/// from zero and from the prediction of the solution model in `model_path`, installed with
/// pins::petsc::snes_set_surrogate_guess (the inputs given as vectors, LibTorch's current
/// thread count). A time-dependent family's trajectories are re-solved with PETSc TS, once
/// with TS's own predictor and once with the one-step model as every step's initial guess
/// (NewtonComparison::steps). Throws pins::Error if a solve fails.
NewtonComparison compare_newton_guess(const Dataset& d, const std::string& model_path, int count,
                                      double rtol, const std::string& solver_prefix);

/// Time-dependent families: the one-step surrogate rolled out from every sample's initial
/// state over the whole trajectory (report.json's "rollout"), against PETSc TS.
struct RolloutComparison {
  int steps = 0;     ///< T − 1
  double dt = 0;     ///< time between stored states (sampler.dt)
  /// Relative L2 error at each step 1 … T − 1 over the samples: mean, 95th percentile.
  std::vector<double> error_mean, error_p95;
  Summary final_error;  ///< at the last step, over the samples
  /// Wall time per rollout of the surrogate, all samples batched and one at a time; PETSc
  /// TS's time per trajectory (Evaluation::seconds_petsc, the same re-solves).
  double seconds_batched = 0, seconds_single = 0, seconds_petsc = 0;
  torch::Tensor rollout, truth;  ///< [N, T, grid...] float64
};

/// The measurements; `report` holds them as report.json's fields.
struct Evaluation {
  nlohmann::json report;
  torch::Tensor prediction;   ///< [N, ny, nx] float64 (streamed: the first block's rows)
  torch::Tensor relative_l2;  ///< [N]
  /// [N] each answer's certificate: its relative residual ‖F(û)‖/‖F(0)‖ (‖f − A û‖/‖f‖).
  torch::Tensor relative_residual;
  /// [N] the calibrated error bound of each answer (pins calibrate: the model's quantile ×
  /// relative_residual), undefined when the model is not calibrated; report["error_bound"]
  /// then holds its coverage and its Spearman correlation with the true errors.
  torch::Tensor bound;
  /// Whether `bound` scales the error estimates (a model calibrated with the error_estimate
  /// score) rather than the certificates: an answer then also pays for its estimate.
  bool bound_uses_estimate = false;
  /// [N] each answer's a-posteriori error estimate (pins::estimated_relative_error), undefined
  /// when the family offers none (report["error_estimate"] then says why).
  torch::Tensor error_estimate;
  /// [N, 4C] each input's summary statistics (pins::input_statistics of its features): what
  /// the calibration's input flag compares.
  torch::Tensor input_statistics;
  /// [N] the calibrated out-of-distribution score (ErrorCalibration::ood_scores; > 1:
  /// flagged), undefined when the model is not calibrated.
  torch::Tensor ood_score;
  TrainingData data;          ///< the dataset's tensors (κ, f, u) (streamed: the first block's)
  Summary error, residual, petsc_residual;
  /// Wall time per sample of the surrogate one sample at a time (up to 16 samples, the best
  /// of 3 passes), in batches of 32 (one pass), and of PETSc re-solving (one pass, after a
  /// warm-up solve).
  double seconds_single = 0, seconds_batched = 0, seconds_petsc = 0;
  /// Wall time per answer of its evidence (batched, one pass): the certificate and the input
  /// statistics; the error estimate (0 without one).
  double seconds_certificate = 0, seconds_estimate = 0;
  int petsc_samples = 0;
  std::vector<Refinement> refine;  ///< one per requested k, in increasing k
  /// Per re-solved sample, when refining: the fastest of 3 monitored solves.
  std::vector<ConvergenceHistory> petsc_history;
  /// Nonlinear families: Newton from the guess against from zero (samples: petsc_samples).
  std::optional<NewtonComparison> newton;
  /// Time-dependent families: prediction, relative_l2, error and residual above are those of
  /// single steps from the stored states (teacher forcing); this is the rollout.
  std::optional<RolloutComparison> rollout;
};

/// Evaluates `model` (with `manifest`, already checked) on dataset `d`, re-solving
/// min(N, solve_samples) samples with PETSc under the options prefix `solver_prefix` (0: no
/// re-solve and no Newton comparison — the answers and their evidence only; the report's
/// PETSc times are then null).
/// With `refine` (cycle counts ≥ 0; duplicates are measured once), also the refined
/// predictions for each count, and the re-solved samples' PETSc convergence histories
/// (report["refine"], Evaluation::refine and petsc_history). The paths only label the
/// report and error messages. Throws pins::Error, also for an inputs-only dataset (no
/// solutions to compare with: pins::require_labelled), a negative count or a family
/// whose operator MultigridCycle does not support (MultigridCycle::unsupported's reason),
/// before any timing. For a nonlinear family, also compare_newton_guess on the re-solved
/// samples to `newton_rtol` (≤ 0: the dataset's rtol): Evaluation::newton, report["newton"].
///
/// A dataset `d` given by its attributes only (pins::read_training_datasets for a file larger
/// than the memory budget) is streamed from `data_path`: read and scored in blocks of about
/// block_bytes / 4 of values (a multiple of 32 samples); Evaluation::prediction and ::data
/// then hold the first block only, and refinement and trajectory rollouts (which need every
/// sample at once) are refused.
Evaluation evaluate_model(Surrogate& model, const ModelManifest& manifest,
                          const std::string& model_path, const Dataset& d,
                          const std::string& data_path, int solve_samples,
                          const std::string& solver_prefix, const std::vector<int>& refine = {},
                          double newton_rtol = 0, std::int64_t block_bytes = 256 << 20);

/// Calibrates `model`'s error bound at `level` and its out-of-distribution flag on the
/// held-out labelled dataset `d` (what `pins calibrate` and `pins.calibrate` do): every
/// answer's error and certificate (evaluate_model, without PETSc re-solves) give
/// the split conformal quantile (calibrate_error_bound), and the inputs' feature statistics
/// the input flag (ErrorCalibration::fit_inputs). The bound's score: "residual" (the
/// certificate), "error_estimate" (pins::estimated_relative_error; refused in one line when
/// the family has none) or "auto" (the estimate where the family offers one, else the
/// residual). `data_path` labels the result (and streams `d` when it holds attributes only).
/// Throws pins::Error naming `data_path` (too few samples for the level, an inputs-only
/// dataset, a non-solution model) or naming a bad score.
ErrorCalibration calibrate_model(Surrogate& model, const ModelManifest& manifest,
                                 const std::string& model_path, const Dataset& d,
                                 const std::string& data_path, double level,
                                 const std::string& score,
                                 std::int64_t block_bytes = 256 << 20,
                                 Evaluation* answers = nullptr);

}  // namespace pins::petsc
