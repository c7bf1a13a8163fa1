#pragma once
/// \file
/// A calibrated error bound for every answer of a solution model, from its certificate or
/// from an a-posteriori error estimate.
///
/// The certificate of an answer û is its relative residual r = ‖f − A û‖ / ‖f‖ by the
/// family's own operator (‖F(û)‖ / ‖F(0)‖ for a nonlinear family): computable for any input,
/// without a solution. Where the family offers one, the error estimate ε̂ = ‖B F(û)‖ / ‖û‖
/// (B a few multigrid cycles of the linearised operator, pins/core/error_estimate.hpp) is a
/// better score: it weighs the error evenly over the grid frequencies, as the true error
/// does, where the residual weighs it by the operator's spectrum. The bound is e ≤ q · s with
/// s the score (ErrorCalibration::score says which), q fitted by split conformal prediction
/// on held-out labelled samples (`pins calibrate`): the score of a calibration sample is its
/// ratio e / s, and q is the ⌈(n + 1) · level⌉-th smallest of the n ratios. For a new sample
/// exchangeable with the calibration samples (drawn from the same distribution),
/// P(e ≤ q · s) ≥ level — whatever the model and whichever score, with no assumption on
/// them; the coverage exceeds the level by at most 1 / (n + 1) when the ratios are distinct.
/// A better score only makes the bound tighter and better ranked (Spearman's correlation with
/// the error), never less valid. Inputs unlike the calibration data void the guarantee.
///
/// Example:
/// \code
///   pins::ErrorCalibration c = pins::calibrate_error_bound(errors, residuals, 0.9);
///   double bound = c.bound(residual_of_new_answer);        // 90 % bound on its error
///   // or with error estimates ε̂ (error_estimate.hpp) as the score:
///   pins::ErrorCalibration e = pins::calibrate_error_bound(errors, residuals, 0.9, &estimates);
///   double bound2 = e.bound(estimate_of_new_answer);
/// \endcode

#include <torch/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pins {

/// An out-of-distribution flag on inputs, before any answer: every input is summarised by
/// statistics (input_statistics: per channel the mean, standard deviation, minimum and maximum
/// over the grid); its score is max_k |s_k − centre_k| / scale_k, with centre and scale the
/// statistics' mean and standard deviation over n reference inputs (calibration samples, or
/// the operators a preconditioner was trained on); an input whose score exceeds `threshold`
/// (the reference scores' ⌈(n + 1) · 0.99⌉-th smallest, so about 1 % of inputs like the
/// reference ones are flagged) is flagged. It catches inputs whose values a network never saw
/// even when its answer's residual looks ordinary (a smooth, wrong answer), and it costs no
/// answer: a caller can skip the network for a flagged input.
struct InputFlag {
  std::vector<double> centre, scale;
  double threshold = 0;      ///< 0: not fitted
  std::int64_t samples = 0;  ///< n reference inputs
  bool fitted() const { return threshold > 0; }
  /// Fits from the reference inputs' statistics [n ≥ 2, S]. Throws pins::Error for fewer
  /// than 2 or a non-finite statistic.
  void fit(const torch::Tensor& statistics);
  /// The scores [B] of statistics [B, S] (NaN statistics score +inf); zeros when not fitted.
  /// Throws pins::Error when S differs from the fitted one.
  torch::Tensor scores(const torch::Tensor& statistics) const;
  /// scores / threshold [B]: > 1 is flagged; zeros when not fitted.
  torch::Tensor relative_scores(const torch::Tensor& statistics) const;
  /// {"what", "centre", "scale", "threshold", "samples"}; `what` says which statistics.
  nlohmann::json to_json(const std::string& what) const;
  /// Reads to_json's form; throws pins::Error naming `field` and a missing or bad entry.
  static InputFlag from_json(const nlohmann::json& json, const std::string& field);
};

struct ErrorCalibration {
  double level = 0.9;          ///< the coverage asked for, in (0, 1)
  double quantile = 0;         ///< q: the bound is q · score
  /// The score q multiplies: "residual" (the certificate) or "error_estimate"
  /// (estimated_relative_error, pins/core/error_estimate.hpp).
  std::string score = "residual";
  bool uses_estimate() const { return score == "error_estimate"; }
  std::int64_t samples = 0;    ///< n calibration samples
  std::string data;            ///< the calibration dataset (its path)
  /// Out-of-distribution flag: an answer whose certificate (relative residual) exceeds this
  /// is flagged. The ⌈(n + 1) · 0.99⌉-th smallest calibration residual (the largest when
  /// n < 99): at most about 1 % of in-distribution answers are flagged. 0: not fitted.
  double residual_threshold = 0;
  /// The out-of-distribution score of an answer from its certificate alone:
  /// residual / residual_threshold (> 1: flagged).
  double ood_score(double residual) const {
    return residual_threshold > 0 ? residual / residual_threshold : 0.0;
  }

  /// Out-of-distribution flag on the inputs (InputFlag), fitted on the calibration inputs'
  /// feature statistics. Not fitted in a model calibrated before it existed.
  InputFlag inputs;
  /// The combined out-of-distribution score [B]: max(residual / residual_threshold,
  /// input score / input_threshold) over the parts that are fitted (> 1: flagged; at most
  /// about 2 % of in-distribution answers are).
  torch::Tensor ood_scores(const torch::Tensor& residuals, const torch::Tensor& statistics) const;
  /// The relative L2 error bound of an answer whose score (its relative residual, or its
  /// error estimate when uses_estimate()) is `score_value`.
  double bound(double score_value) const { return quantile * score_value; }
  /// As stored in a model manifest's metrics["calibration"].
  nlohmann::json to_json() const;
  /// Reads to_json's form; throws pins::Error naming a missing or bad field.
  static ErrorCalibration from_json(const nlohmann::json& json);
};

/// Fits q from per-sample relative errors and relative residuals (same length n): the split
/// conformal quantile of the ratios error / residual, or error / estimate when `estimates`
/// (error estimates of the same answers) are given (score "error_estimate"); the residual
/// threshold comes from the residuals either way. Throws pins::Error for a level outside
/// (0, 1), lengths that differ, a non-finite or negative value, or too few samples for the
/// level (⌈(n + 1) · level⌉ > n: e.g. 0.9 needs at least 9).
ErrorCalibration calibrate_error_bound(const std::vector<double>& errors,
                                       const std::vector<double>& residuals, double level,
                                       const std::vector<double>* estimates = nullptr);

/// Whether `name` is a score calibration accepts: "auto" (the error estimate where the family
/// offers one, else the certificate), "residual" or "error_estimate".
inline bool is_calibration_score(const std::string& name) {
  return name == "auto" || name == "residual" || name == "error_estimate";
}

/// Per-sample summaries of network features [B, C, grid...]: for every channel c, the mean,
/// standard deviation, minimum and maximum over the grid, as [B, 4C] float64 (columns 4c …
/// 4c + 3). What ErrorCalibration's input flag compares.
torch::Tensor input_statistics(const torch::Tensor& features);

/// Spearman's rank correlation of a and b (ties get their mean rank); NaN for fewer than 2
/// values or a constant vector.
double spearman(const std::vector<double>& a, const std::vector<double>& b);

/// The area under the ROC curve of a score that should be larger on `positives` (e.g.
/// out-of-distribution answers) than on `negatives` (in-distribution ones): the probability
/// that a random positive scores above a random negative, ties counting one half (the
/// Mann-Whitney statistic). 1: perfectly separated, 0.5: no better than chance. NaN if
/// either set is empty; throws pins::Error for a NaN score.
double auroc(const std::vector<double>& negatives, const std::vector<double>& positives);

}  // namespace pins
