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

std::string method_of(const std::string& score) {
  const std::string what = score == "error_estimate"
                               ? "the answer's error estimate (||B F(u)|| / ||u - B F(u)||, B: multigrid "
                                 "V-cycles of the linearised operator)"
                               : "the answer's relative residual (the certificate)";
  return "split conformal prediction on the ratio relative L2 error / score, the score being " +
         what + "; bound = quantile x score; P(error <= bound) >= level for samples "
         "exchangeable with the calibration set";
}

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

void InputFlag::fit(const torch::Tensor& statistics) {
  PINS_CHECK(statistics.dim() == 2 && statistics.size(0) >= 2,
             "input flag: statistics must be [n >= 2, S], got ", statistics.sizes());
  const torch::Tensor s = statistics.to(torch::kFloat64);
  PINS_CHECK(torch::isfinite(s).all().item<bool>(), "input flag: a statistic is not finite "
             "(a NaN or Inf in the reference inputs)");
  const torch::Tensor mean = s.mean(0);
  // A statistic constant over the reference set (e.g. the mean of a constant f) gets a
  // scale relative to its size, so that rounding does not flag, and a real change does.
  const torch::Tensor spread =
      torch::maximum(s.std(0, /*unbiased=*/true), 1e-6 * (mean.abs() + 1));
  centre = to_vector(mean);
  scale = to_vector(spread);
  samples = s.size(0);
  threshold = 0;  // scores of the reference inputs themselves, not yet fitted
  const std::vector<double> reference = to_vector(((s - mean) / spread).abs().amax(1));
  // All reference inputs alike (a threshold of 0) would flag every other input.
  threshold = std::max(quantile_99(reference), 1e-12);
}

torch::Tensor InputFlag::scores(const torch::Tensor& statistics) const {
  const int64_t n = statistics.size(0);
  if (!fitted()) return torch::zeros({n}, torch::kFloat64);
  PINS_CHECK(statistics.dim() == 2 && statistics.size(1) == int64_t(centre.size()),
             "the inputs have ", statistics.dim() == 2 ? statistics.size(1) : -1,
             " statistics, the input flag ", centre.size(),
             " (another number of input channels)");
  const torch::Tensor c = torch::tensor(centre, torch::kFloat64);
  const torch::Tensor w = torch::tensor(scale, torch::kFloat64);
  // A NaN statistic (a NaN input) is out of distribution by any measure.
  return torch::nan_to_num(((statistics.to(torch::kFloat64) - c) / w).abs().amax(1),
                           std::numeric_limits<double>::infinity());
}

torch::Tensor InputFlag::relative_scores(const torch::Tensor& statistics) const {
  return fitted() ? scores(statistics) / threshold
                  : torch::zeros({statistics.size(0)}, torch::kFloat64);
}

nlohmann::json InputFlag::to_json(const std::string& what) const {
  return {{"what", what},      {"centre", centre},   {"scale", scale},
          {"threshold", threshold}, {"samples", samples}};
}

InputFlag InputFlag::from_json(const nlohmann::json& in, const std::string& field) {
  auto list = [&](const char* key) {
    PINS_CHECK(in.is_object() && in.contains(key) && in.at(key).is_array(), "field '", field,
               ".", key, "' is missing or not a list");
    std::vector<double> v;
    for (const auto& x : in.at(key)) {
      PINS_CHECK(x.is_number() && std::isfinite(x.get<double>()), "field '", field, ".", key,
                 "' holds a non-number");
      v.push_back(x.get<double>());
    }
    return v;
  };
  InputFlag f;
  f.centre = list("centre");
  f.scale = list("scale");
  PINS_CHECK(f.centre.size() == f.scale.size() && !f.centre.empty(), "fields '", field,
             ".centre' and '.scale' differ in length");
  for (double v : f.scale) PINS_CHECK(v > 0, "field '", field, ".scale' must be > 0, got ", v);
  PINS_CHECK(in.contains("threshold") && in.at("threshold").is_number() &&
                 in.at("threshold").get<double>() > 0,
             "field '", field, ".threshold' is missing or not > 0");
  f.threshold = in.at("threshold").get<double>();
  if (in.contains("samples") && in.at("samples").is_number_integer())
    f.samples = in.at("samples").get<std::int64_t>();
  return f;
}

torch::Tensor ErrorCalibration::ood_scores(const torch::Tensor& residuals,
                                           const torch::Tensor& statistics) const {
  torch::Tensor score = torch::zeros({residuals.size(0)}, torch::kFloat64);
  if (residual_threshold > 0)
    score = torch::maximum(score, torch::nan_to_num(residuals.to(torch::kFloat64) / residual_threshold,
                                                    std::numeric_limits<double>::infinity()));
  if (inputs.fitted()) score = torch::maximum(score, inputs.relative_scores(statistics));
  return score;
}

nlohmann::json ErrorCalibration::to_json() const {
  nlohmann::json j = {
      {"method", method_of(score)}, {"score", score}, {"level", level}, {"quantile", quantile},
      {"samples", samples},     {"data", data},   {"residual_threshold", residual_threshold},
      {"ood", "an answer whose relative residual exceeds residual_threshold (the 99 % "
              "conformal quantile of the calibration residuals), or whose input score exceeds "
              "input_statistics.threshold, is flagged as out of distribution"}};
  if (inputs.fitted())
    j["input_statistics"] = inputs.to_json(
        "per input feature channel: mean, std, min, max over the grid; score = max "
        "|s - centre| / scale; threshold = the calibration scores' 99 % conformal quantile");
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
  if (j.contains("score")) {  // absent in models calibrated before scores had a choice
    PINS_CHECK(j.at("score").is_string() &&
                   (j.at("score") == "residual" || j.at("score") == "error_estimate"),
               "calibration field 'score' must be \"residual\" or \"error_estimate\", got ",
               j.at("score").dump());
    c.score = j.at("score").get<std::string>();
  }
  if (j.contains("residual_threshold")) c.residual_threshold = number("residual_threshold");
  if (j.contains("input_statistics"))
    c.inputs = InputFlag::from_json(j.at("input_statistics"), "calibration.input_statistics");
  return c;
}

ErrorCalibration calibrate_error_bound(const std::vector<double>& errors,
                                       const std::vector<double>& residuals, double level,
                                       const std::vector<double>* estimates) {
  PINS_CHECK(level > 0 && level < 1, "the calibration level must be in (0, 1), got ", level);
  PINS_CHECK(errors.size() == residuals.size(), "calibration: ", errors.size(), " errors but ",
             residuals.size(), " residuals");
  const std::int64_t n = std::int64_t(errors.size());
  const std::int64_t k = std::int64_t(std::ceil(double(n + 1) * level - 1e-12));
  PINS_CHECK(k <= n, "calibration at level ", level, " needs at least ",
             std::int64_t(std::ceil(level / (1 - level) - 1e-12)), " samples, got ", n);
  PINS_CHECK(!estimates || estimates->size() == errors.size(), "calibration: ", errors.size(),
             " errors but ", estimates ? estimates->size() : 0, " error estimates");
  std::vector<double> scores(errors.size());
  for (size_t i = 0; i < errors.size(); ++i) {
    PINS_CHECK(std::isfinite(errors[i]) && errors[i] >= 0 && std::isfinite(residuals[i]) &&
                   residuals[i] >= 0,
               "calibration sample ", i, ": error ", errors[i], " and residual ", residuals[i],
               " must be finite and >= 0");
    const double s = estimates ? (*estimates)[i] : residuals[i];
    PINS_CHECK(std::isfinite(s) && s >= 0, "calibration sample ", i, ": error estimate ", s,
               " must be finite and >= 0");
    scores[i] = errors[i] / std::max(s, 1e-300);
  }
  std::nth_element(scores.begin(), scores.begin() + (k - 1), scores.end());
  ErrorCalibration c;
  c.level = level;
  c.quantile = scores[size_t(k - 1)];
  c.samples = n;
  if (estimates) c.score = "error_estimate";
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
