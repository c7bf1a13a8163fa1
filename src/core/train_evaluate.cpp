// Evaluation metrics: summaries of per-sample errors and the true relative residual.
#include <torch/torch.h>

#include <cmath>

#include "pins/core/check.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/trainer.hpp"

namespace pins {

nlohmann::json Summary::to_json() const {
  return {{"mean", mean}, {"median", median}, {"p95", p95}, {"max", max}};
}

Summary summarize(const torch::Tensor& values) {
  const torch::Tensor v = std::get<0>(values.to(torch::kFloat64).flatten().sort());
  const int64_t n = v.numel();
  PINS_CHECK(n >= 1, "summarize: no values");
  auto quantile = [&](double q) {
    const double pos = q * double(n - 1);
    const int64_t lo = int64_t(std::floor(pos)), hi = std::min(n - 1, lo + 1);
    const double w = pos - double(lo);
    return (1 - w) * v[lo].item<double>() + w * v[hi].item<double>();
  };
  Summary s;
  s.mean = v.mean().item<double>();
  s.median = quantile(0.5);
  s.p95 = quantile(0.95);
  s.max = v[n - 1].item<double>();
  return s;
}

}  // namespace pins
