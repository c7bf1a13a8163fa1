// Split conformal error bounds and Spearman's correlation (pins/core/calibration.hpp).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "error_of.hpp"
#include "pins/core/calibration.hpp"

using pins::test::error_of;

TEST_CASE("the conformal quantile is the ceil((n+1) level)-th smallest ratio") {
  // Ratios error / residual = 1..10 (shuffled): level 0.9 with n = 10 takes the 10th.
  const std::vector<double> residual = {1, 2, 1, 4, 1, 1, 2, 1, 1, 1};
  const std::vector<double> ratio = {3, 7, 1, 10, 2, 5, 4, 9, 6, 8};
  std::vector<double> error(ratio.size());
  for (size_t i = 0; i < ratio.size(); ++i) error[i] = ratio[i] * residual[i];
  const pins::ErrorCalibration c = pins::calibrate_error_bound(error, residual, 0.9);
  CHECK(c.quantile == doctest::Approx(10));
  CHECK(c.samples == 10);
  CHECK(pins::calibrate_error_bound(error, residual, 0.5).quantile == doctest::Approx(6));
  CHECK(c.bound(0.25) == doctest::Approx(2.5));
  // Round trip through the manifest's JSON.
  const pins::ErrorCalibration back = pins::ErrorCalibration::from_json(c.to_json());
  CHECK(back.quantile == c.quantile);
  CHECK(back.level == c.level);
}

TEST_CASE("the bound covers new exchangeable samples at the asked level") {
  // Error = ratio x residual with a random ratio: the coverage on fresh samples averages to
  // at least the level (and at most level + 1/(n+1)).
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> ratio(0.0, 0.5), residual(-3.0, 1.0);
  auto draw = [&](size_t n, std::vector<double>& e, std::vector<double>& r) {
    e.resize(n);
    r.resize(n);
    for (size_t i = 0; i < n; ++i) {
      r[i] = residual(rng);
      e[i] = ratio(rng) * r[i];
    }
  };
  double covered = 0, total = 0;
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> e, r, te, tr;
    draw(99, e, r);
    const pins::ErrorCalibration c = pins::calibrate_error_bound(e, r, 0.9);
    draw(100, te, tr);
    for (size_t i = 0; i < te.size(); ++i) covered += te[i] <= c.bound(tr[i]);
    total += double(te.size());
  }
  CHECK(covered / total >= 0.89);
  CHECK(covered / total <= 0.92);
}

TEST_CASE("calibration refuses what cannot give a bound, in one line") {
  CHECK(error_of([] { pins::calibrate_error_bound({1, 2}, {1, 1}, 1.0); })
            .find("level must be in (0, 1)") != std::string::npos);
  CHECK(error_of([] { pins::calibrate_error_bound({1, 2, 3}, {1, 1, 1}, 0.9); })
            .find("needs at least 9 samples, got 3") != std::string::npos);
  CHECK(error_of([] { pins::calibrate_error_bound({1, NAN}, {1, 1}, 0.5); })
            .find("calibration sample 1") != std::string::npos);
  CHECK(error_of([] { pins::calibrate_error_bound({1}, {1, 1}, 0.5); }).find("1 errors but 2") !=
        std::string::npos);
  CHECK(error_of([] { pins::ErrorCalibration::from_json({{"level", 2}, {"quantile", 1},
                                                         {"samples", 3}}); })
            .find("'level' must be in (0, 1)") != std::string::npos);
}

TEST_CASE("Spearman's correlation: ranks, ties and degenerate inputs") {
  CHECK(pins::spearman({1, 2, 3, 4}, {10, 20, 30, 40}) == doctest::Approx(1));
  CHECK(pins::spearman({1, 2, 3, 4}, {4, 3, 2, 1}) == doctest::Approx(-1));
  CHECK(pins::spearman({1, 2, 3, 4}, {1, 4, 9, 1e6}) == doctest::Approx(1));  // monotone
  // Ties share their mean rank: ranks (1.5, 1.5, 3) against (1, 2, 3).
  CHECK(pins::spearman({5, 5, 7}, {1, 2, 3}) == doctest::Approx(0.8660254).epsilon(1e-6));
  CHECK(std::isnan(pins::spearman({1, 1, 1}, {1, 2, 3})));
  CHECK(std::isnan(pins::spearman({1}, {2})));
}

TEST_CASE("AUROC: separated, reversed, tied and chance scores") {
  CHECK(pins::auroc({1, 2, 3}, {4, 5}) == doctest::Approx(1));
  CHECK(pins::auroc({4, 5}, {1, 2, 3}) == doctest::Approx(0));
  CHECK(pins::auroc({1, 1}, {1, 1, 1}) == doctest::Approx(0.5));  // all tied
  // Pairs (p, n): 2>1, 2<3, 4>1, 4>3 → 3 of 4 ordered.
  CHECK(pins::auroc({1, 3}, {2, 4}) == doctest::Approx(0.75));
  // One tie among 4 pairs counts a half: (3 vs 3).
  CHECK(pins::auroc({1, 3}, {3, 4}) == doctest::Approx(0.875));
  CHECK(std::isnan(pins::auroc({}, {1})));
  CHECK_THROWS_AS(pins::auroc({1, std::nan("")}, {2}), pins::Error);
}

TEST_CASE("the out-of-distribution threshold is the calibration residuals' 99 % quantile") {
  std::vector<double> e(199), r(199);
  for (size_t i = 0; i < r.size(); ++i) {
    r[i] = double(i + 1);  // 1..199: ceil(200 x 0.99) = 198th smallest is 198
    e[i] = 0.1 * r[i];
  }
  const pins::ErrorCalibration c = pins::calibrate_error_bound(e, r, 0.9);
  CHECK(c.residual_threshold == doctest::Approx(198));
  CHECK(c.ood_score(396) == doctest::Approx(2));
  // Fewer than 99 samples: the largest residual.
  const pins::ErrorCalibration few =
      pins::calibrate_error_bound({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 5}, 0.9);
  CHECK(few.residual_threshold == doctest::Approx(5));
  CHECK(pins::ErrorCalibration::from_json(c.to_json()).residual_threshold == doctest::Approx(198));
}
