// Split conformal error bounds from the certificate (pins/core/calibration.hpp).
#include "pins/core/calibration.hpp"

#include <algorithm>
#include <cmath>
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

}  // namespace

nlohmann::json ErrorCalibration::to_json() const {
  return {{"method", kMethod},      {"level", level}, {"quantile", quantile},
          {"samples", samples},     {"data", data},   {"residual_threshold", residual_threshold},
          {"ood", "an answer whose relative residual exceeds residual_threshold (the 99 % "
                  "conformal quantile of the calibration residuals) is flagged as out of "
                  "distribution"}};
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
  std::vector<double> r = residuals;
  const std::int64_t kr = std::min<std::int64_t>(n, std::int64_t(std::ceil(double(n + 1) * 0.99 - 1e-12)));
  std::nth_element(r.begin(), r.begin() + (kr - 1), r.end());
  c.residual_threshold = r[size_t(kr - 1)];
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
