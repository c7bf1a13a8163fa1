// Split conformal error bounds from the certificate (pins/core/calibration.hpp).
#include "pins/core/calibration.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "pins/core/check.hpp"

namespace pins {

namespace {

constexpr const char* kMethod =
    "split conformal prediction on the ratio relative L2 error / relative residual of the "
    "answer (the certificate); bound = quantile x relative residual; P(error <= bound) >= "
    "level for samples exchangeable with the calibration set";

// Ranks 1..n of v, ties sharing their mean rank.
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double mean = 0.5 * double(i + j) + 1.0;
    for (size_t k = i; k <= j; ++k) r[order[k]] = mean;
    i = j + 1;
  }
  return r;
}

// The ⌈(n + 1) · 0.99⌉-th smallest of v (the largest when n < 99): the 99 % conformal
// quantile the out-of-distribution thresholds use.
double quantile_99(std::vector<double> v) {
  const std::int64_t n = std::int64_t(v.size());
  const std::int64_t k =
      std::min<std::int64_t>(n, std::int64_t(std::ceil(double(n + 1) * 0.99 - 1e-12)));
  std::nth_element(v.begin(), v.begin() + (k - 1), v.end());
  return v[size_t(k - 1)];
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

torch::Tensor input_statistics(const torch::Tensor& features) {
  PINS_CHECK(features.dim() >= 3, "input statistics: features must be [B, C, grid...], got ",
             features.sizes());
  const torch::Tensor x = features.detach().to(torch::kFloat64).flatten(2);  // [B, C, points]
  const torch::Tensor s = torch::stack({x.mean(2), x.std(2, /*unbiased=*/false),
                                        std::get<0>(x.min(2)), std::get<0>(x.max(2))},
                                       2);  // [B, C, 4]
  return s.flatten(1).contiguous();
}

void ErrorCalibration::fit_inputs(const torch::Tensor& statistics) {
  PINS_CHECK(statistics.dim() == 2 && statistics.size(0) >= 2,
             "calibration: input statistics must be [n >= 2, S], got ", statistics.sizes());
  const torch::Tensor s = statistics.to(torch::kFloat64);
  PINS_CHECK(torch::isfinite(s).all().item<bool>(), "calibration: an input statistic is not "
             "finite (a NaN or Inf in the calibration inputs)");
  const torch::Tensor centre = s.mean(0);
  // A statistic constant over the calibration set (e.g. the mean of a constant f) gets a
  // scale relative to its size, so that rounding does not flag, and a real change does.
  const torch::Tensor scale =
      torch::maximum(s.std(0, /*unbiased=*/true), 1e-6 * (centre.abs() + 1));
  input_centre = to_vector(centre);
  input_scale = to_vector(scale);
  input_threshold = 0;  // input_scores of the calibration samples themselves, not yet fitted
  const std::vector<double> scores = to_vector(((s - centre) / scale).abs().amax(1));
  input_threshold = quantile_99(scores);
  // All calibration inputs alike (a threshold of 0) would flag every other input.
  input_threshold = std::max(input_threshold, 1e-12);
}

torch::Tensor ErrorCalibration::input_scores(const torch::Tensor& statistics) const {
  const int64_t n = statistics.size(0);
  if (input_centre.empty()) return torch::zeros({n}, torch::kFloat64);
  PINS_CHECK(statistics.dim() == 2 && statistics.size(1) == int64_t(input_centre.size()),
             "the inputs have ", statistics.dim() == 2 ? statistics.size(1) : -1,
             " statistics, the calibration ", input_centre.size(),
             " (another number of input channels)");
  const torch::Tensor centre = torch::tensor(input_centre, torch::kFloat64);
  const torch::Tensor scale = torch::tensor(input_scale, torch::kFloat64);
  // A NaN statistic (a NaN input) is out of distribution by any measure.
  return torch::nan_to_num(((statistics.to(torch::kFloat64) - centre) / scale).abs().amax(1),
                           std::numeric_limits<double>::infinity());
}

torch::Tensor ErrorCalibration::ood_scores(const torch::Tensor& residuals,
                                           const torch::Tensor& statistics) const {
  torch::Tensor score = torch::zeros({residuals.size(0)}, torch::kFloat64);
  if (residual_threshold > 0)
    score = torch::maximum(score, torch::nan_to_num(residuals.to(torch::kFloat64) / residual_threshold,
                                                    std::numeric_limits<double>::infinity()));
  if (input_threshold > 0)
    score = torch::maximum(score, input_scores(statistics) / input_threshold);
  return score;
}

nlohmann::json ErrorCalibration::to_json() const {
  nlohmann::json j = {
      {"method", kMethod},      {"level", level}, {"quantile", quantile},
      {"samples", samples},     {"data", data},   {"residual_threshold", residual_threshold},
      {"ood", "an answer whose relative residual exceeds residual_threshold (the 99 % "
              "conformal quantile of the calibration residuals), or whose input score exceeds "
              "input_statistics.threshold, is flagged as out of distribution"}};
  if (input_threshold > 0)
    j["input_statistics"] = {
        {"what", "per input feature channel: mean, std, min, max over the grid; score = max "
                 "|s - centre| / scale; threshold = the calibration scores' 99 % conformal "
                 "quantile"},
        {"centre", input_centre},
        {"scale", input_scale},
        {"threshold", input_threshold}};
  return j;
}

ErrorCalibration ErrorCalibration::from_json(const nlohmann::json& j) {
  auto number = [&](const char* key) {
    PINS_CHECK(j.is_object() && j.contains(key) && j.at(key).is_number(),
               "calibration field '", key, "' is missing or not a number");
    return j.at(key).get<double>();
  };
  ErrorCalibration c;
  c.level = number("level");
  c.quantile = number("quantile");
  c.samples = std::int64_t(number("samples"));
  PINS_CHECK(c.level > 0 && c.level < 1, "calibration field 'level' must be in (0, 1), got ",
             c.level);
  PINS_CHECK(std::isfinite(c.quantile) && c.quantile >= 0,
             "calibration field 'quantile' must be finite and >= 0, got ", c.quantile);
  if (j.contains("data") && j.at("data").is_string()) c.data = j.at("data").get<std::string>();
  if (j.contains("residual_threshold")) c.residual_threshold = number("residual_threshold");
  if (j.contains("input_statistics")) {
    const nlohmann::json& in = j.at("input_statistics");
    auto list = [&](const char* key) {
      PINS_CHECK(in.is_object() && in.contains(key) && in.at(key).is_array(),
                 "calibration field 'input_statistics.", key, "' is missing or not a list");
      std::vector<double> v;
      for (const auto& x : in.at(key)) {
        PINS_CHECK(x.is_number() && std::isfinite(x.get<double>()),
                   "calibration field 'input_statistics.", key, "' holds a non-number");
        v.push_back(x.get<double>());
      }
      return v;
    };
    c.input_centre = list("centre");
    c.input_scale = list("scale");
    PINS_CHECK(c.input_centre.size() == c.input_scale.size() && !c.input_centre.empty(),
               "calibration fields 'input_statistics.centre' and '.scale' differ in length");
    for (double v : c.input_scale)
      PINS_CHECK(v > 0, "calibration field 'input_statistics.scale' must be > 0, got ", v);
    PINS_CHECK(in.contains("threshold") && in.at("threshold").is_number() &&
                   in.at("threshold").get<double>() > 0,
               "calibration field 'input_statistics.threshold' is missing or not > 0");
    c.input_threshold = in.at("threshold").get<double>();
  }
  return c;
}

ErrorCalibration calibrate_error_bound(const std::vector<double>& errors,
                                       const std::vector<double>& residuals, double level) {
  PINS_CHECK(level > 0 && level < 1, "the calibration level must be in (0, 1), got ", level);
  PINS_CHECK(errors.size() == residuals.size(), "calibration: ", errors.size(), " errors but ",
             residuals.size(), " residuals");
  const std::int64_t n = std::int64_t(errors.size());
  const std::int64_t k = std::int64_t(std::ceil(double(n + 1) * level - 1e-12));
  PINS_CHECK(k <= n, "calibration at level ", level, " needs at least ",
             std::int64_t(std::ceil(level / (1 - level) - 1e-12)), " samples, got ", n);
  std::vector<double> scores(errors.size());
  for (size_t i = 0; i < errors.size(); ++i) {
    PINS_CHECK(std::isfinite(errors[i]) && errors[i] >= 0 && std::isfinite(residuals[i]) &&
                   residuals[i] >= 0,
               "calibration sample ", i, ": error ", errors[i], " and residual ", residuals[i],
               " must be finite and >= 0");
    scores[i] = errors[i] / std::max(residuals[i], 1e-300);
  }
  std::nth_element(scores.begin(), scores.begin() + (k - 1), scores.end());
  ErrorCalibration c;
  c.level = level;
  c.quantile = scores[size_t(k - 1)];
  c.samples = n;
  c.residual_threshold = quantile_99(residuals);
  return c;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  PINS_CHECK(a.size() == b.size(), "spearman: ", a.size(), " and ", b.size(), " values");
  if (a.size() < 2) return std::nan("");
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double mean = 0.5 * double(a.size() + 1);
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : std::nan("");
}

double auroc(const std::vector<double>& negatives, const std::vector<double>& positives) {
  if (negatives.empty() || positives.empty()) return std::nan("");
  std::vector<double> all = negatives;
  all.insert(all.end(), positives.begin(), positives.end());
  for (double v : all) PINS_CHECK(!std::isnan(v), "auroc: a score is NaN");
  // By ranks over both sets (ties: mean rank): the positives' rank sum minus its minimum.
  const std::vector<double> r = ranks(all);
  double positive_ranks = 0;
  for (size_t i = negatives.size(); i < all.size(); ++i) positive_ranks += r[i];
  const double np = double(positives.size()), nn = double(negatives.size());
  return (positive_ranks - np * (np + 1) / 2) / (np * nn);
}

}  // namespace pins
