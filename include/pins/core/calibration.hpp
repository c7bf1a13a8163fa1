#pragma once
/// \file
/// A calibrated error bound for every answer of a solution model, from its certificate.
///
/// The certificate of an answer û is its relative residual r = ‖f − A û‖ / ‖f‖ by the
/// family's own operator (‖F(û)‖ / ‖F(0)‖ for a nonlinear family): computable for any input,
/// without a solution. The bound is e ≤ q · r, with q fitted by split conformal prediction on
/// held-out labelled samples (`pins calibrate`): the score of a calibration sample is its
/// error-to-certificate ratio s = e / r, and q is the ⌈(n + 1) · level⌉-th smallest of the n
/// scores. For a new sample exchangeable with the calibration samples (drawn from the same
/// distribution), P(e ≤ q · r) ≥ level — whatever the model, with no assumption on it; the
/// coverage exceeds the level by at most 1 / (n + 1) when the scores are distinct. Inputs
/// unlike the calibration data void the guarantee.
///
/// Example:
/// \code
///   pins::ErrorCalibration c = pins::calibrate_error_bound(errors, residuals, 0.9);
///   double bound = c.bound(residual_of_new_answer);        // 90 % bound on its error
/// \endcode

#include <torch/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pins {

struct ErrorCalibration {
  double level = 0.9;          ///< the coverage asked for, in (0, 1)
  double quantile = 0;         ///< q: the bound is q · relative residual
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

  /// Out-of-distribution flag on the inputs, before any answer: every input is summarised by
  /// input_statistics (per feature channel: mean, standard deviation, minimum and maximum over
  /// the grid); its input score is max_k |s_k − centre_k| / scale_k over those statistics, with
  /// centre and scale their mean and standard deviation over the calibration samples; an
  /// input whose score exceeds input_threshold (the calibration scores' 99 % conformal
  /// quantile, as for the residual) is flagged. It catches inputs whose values the network
  /// never saw even when the answer's residual looks ordinary (a smooth, wrong answer).
  /// Empty / 0: not fitted (a model calibrated before this existed).
  std::vector<double> input_centre, input_scale;
  double input_threshold = 0;
  /// Fits the input flag from the calibration samples' statistics [n, S] (input_statistics).
  void fit_inputs(const torch::Tensor& statistics);
  /// The input scores [B] of statistics [B, S]; zeros when the input flag is not fitted.
  /// Throws pins::Error when S differs from the calibration's.
  torch::Tensor input_scores(const torch::Tensor& statistics) const;
  /// The combined out-of-distribution score [B]: max(residual / residual_threshold,
  /// input score / input_threshold) over the parts that are fitted (> 1: flagged; at most
  /// about 2 % of in-distribution answers are).
  torch::Tensor ood_scores(const torch::Tensor& residuals, const torch::Tensor& statistics) const;
  /// The relative L2 error bound of an answer whose relative residual is `residual`.
  double bound(double residual) const { return quantile * residual; }
  /// As stored in a model manifest's metrics["calibration"].
  nlohmann::json to_json() const;
  /// Reads to_json's form; throws pins::Error naming a missing or bad field.
  static ErrorCalibration from_json(const nlohmann::json& json);
};

/// Fits q from per-sample relative errors and relative residuals (same length n): the split
/// conformal quantile of the ratios error / residual. Throws pins::Error for a level outside
/// (0, 1), lengths that differ, a non-finite or negative value, or too few samples for the
/// level (⌈(n + 1) · level⌉ > n: e.g. 0.9 needs at least 9).
ErrorCalibration calibrate_error_bound(const std::vector<double>& errors,
                                       const std::vector<double>& residuals, double level);

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
