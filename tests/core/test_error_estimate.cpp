// The a-posteriori error estimate (pins/core/error_estimate.hpp): on answers u* + e with a
// known solution u*, it recovers ‖e‖/‖u*‖ for smooth and rough errors alike, where the
// certificate (the relative residual) sees the rough error hundreds of times larger than an
// equally large smooth one; nonlinear Darcy's Picard linearisation comes close; families
// without an estimate say why; the calibration keeps which score it was fitted on.
#include "doctest_torch.hpp"

#include <torch/torch.h>

#include <cmath>

#include "pins/core/calibration.hpp"
#include "pins/core/check.hpp"
#include "pins/core/error_estimate.hpp"
#include "pins/core/family.hpp"
#include "pins/core/sparse_operator.hpp"
#include "test_helpers.hpp"

using pins::test::opts;

namespace {

constexpr int64_t kBatch = 3, kN = 32;

// κ: two phases 12/3 on a kN² grid; u*: smooth fields of different sizes per sample.
pins::FieldMap darcy_inputs(uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor kappa =
      torch::where(torch::rand({kBatch, kN, kN}, torch::kFloat64) > 0.5, 12.0, 3.0).to(opts());
  return {{"kappa", kappa}, {"f", torch::zeros({kBatch, kN, kN}, opts())}};
}

torch::Tensor smooth_solution() {
  const torch::Tensor x = (torch::arange(kN, opts()) + 1) / double(kN + 1);
  const torch::Tensor s = torch::sin(M_PI * x);
  const torch::Tensor amplitude = torch::tensor({0.2, 1.0, 3.0}, opts()).view({kBatch, 1, 1});
  return amplitude * s.view({1, kN, 1}) * s.view({1, 1, kN}) * (1 + 0.3 * x.view({1, 1, kN}));
}

// Per sample ‖a‖ / ‖b‖.
torch::Tensor ratio(const torch::Tensor& a, const torch::Tensor& b) {
  return a.square().flatten(1).sum(1).sqrt() / b.square().flatten(1).sum(1).sqrt();
}

}  // namespace

TEST_CASE("error estimate: recovers smooth and rough errors of a linear family; the "
          "certificate does not") {
  const pins::Family& darcy = pins::find_family("darcy");
  pins::FieldMap in = darcy_inputs(7);
  const torch::Tensor u_star = smooth_solution();
  in["f"] = darcy.make_operator(in)->apply(u_star);  // u* solves A u = f exactly
  CHECK(pins::error_estimate_unsupported(darcy, in, u_star).empty());
  // Errors of 1 % of u*: a smooth bump and a grid-scale random field.
  torch::manual_seed(11);
  const torch::Tensor x = (torch::arange(kN, opts()) + 1) / double(kN + 1);
  const torch::Tensor bump = torch::sin(2 * M_PI * x).view({1, kN, 1}) *
                             torch::sin(M_PI * x).view({1, 1, kN}).expand({kBatch, kN, kN});
  const torch::Tensor noise = torch::randn({kBatch, kN, kN}, opts());
  const torch::Tensor norm_u = u_star.square().flatten(1).sum(1).sqrt().view({kBatch, 1, 1});
  auto scaled = [&](const torch::Tensor& e) {
    return 0.01 * e * norm_u / e.square().flatten(1).sum(1).sqrt().view({kBatch, 1, 1});
  };
  const torch::Tensor e_smooth = scaled(bump), e_rough = scaled(noise);
  for (const torch::Tensor& e : {e_smooth, e_rough}) {
    const torch::Tensor u = u_star + e;
    const torch::Tensor truth = ratio(e, u_star);
    const torch::Tensor estimate = pins::estimated_relative_error(darcy, in, u);
    CHECK(estimate.sizes() == torch::IntArrayRef{kBatch});
    // Two 2-D black-box V-cycles reduce the error of L⁻¹ r to about 1 %; ‖u‖ vs ‖u*‖ 1 %.
    CHECK(((estimate - truth).abs() / truth).max().item<double>() < 0.05);
  }
  // The same error size: the certificate puts the rough one far above the smooth one.
  const torch::Tensor c_smooth = darcy.relative_residual(in, u_star + e_smooth);
  const torch::Tensor c_rough = darcy.relative_residual(in, u_star + e_rough);
  CHECK((c_rough / c_smooth).min().item<double>() > 20);
  // The exact answer has (almost) no estimated error.
  CHECK(pins::estimated_relative_error(darcy, in, u_star).max().item<double>() < 1e-12);
}

TEST_CASE("error estimate: nonlinear Darcy's Picard linearisation is close; families without "
          "one say why") {
  const std::shared_ptr<const pins::Family> nonlinear =
      pins::find_family("nonlinear_darcy").with_parameters({{"nonlinearity", "quadratic"}});
  const pins::Family& fam = nonlinear ? *nonlinear : pins::find_family("nonlinear_darcy");
  pins::FieldMap in = darcy_inputs(3);
  const torch::Tensor u_star = smooth_solution();
  in["f"] = fam.residual(in, u_star);  // F(u*; f) = N(u*) − f = 0
  CHECK(fam.residual(in, u_star).abs().max().item<double>() < 1e-12);
  torch::manual_seed(5);
  const torch::Tensor e = 0.01 * torch::randn({kBatch, kN, kN}, opts()) *
                          u_star.abs().amax({1, 2}, true);
  const torch::Tensor truth = ratio(e, u_star);
  const torch::Tensor estimate = pins::estimated_relative_error(fam, in, u_star + e);
  // k(u) = 1 + u² reaches 10 at the largest sample: the frozen-k operator leaves out the
  // k'(u) ∇u term; within 30 % all the same.
  CHECK(((estimate - truth).abs() / truth).max().item<double>() < 0.3);

  const pins::Family& allen_cahn = pins::find_family("allen_cahn");
  pins::FieldMap ac;
  for (const auto& field : allen_cahn.inputs())
    ac[field.name] = torch::zeros({1, 8, 8}, opts());
  const std::string why = pins::error_estimate_unsupported(allen_cahn, ac,
                                                           torch::zeros({1, 8, 8}, opts()));
  CHECK(why.find("offers no linearisation") != std::string::npos);
  CHECK_THROWS_WITH_AS(pins::estimated_relative_error(allen_cahn, ac,
                                                      torch::zeros({1, 8, 8}, opts())),
                       doctest::Contains("no error estimate: the allen_cahn family"),
                       pins::Error);
}

TEST_CASE("calibration on error estimates: the score is kept, the threshold stays the "
          "certificate's") {
  const std::vector<double> errors{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  const std::vector<double> residuals{1, 1, 1, 1, 1, 1, 1, 1, 1, 2};
  const std::vector<double> estimates{0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5};
  const pins::ErrorCalibration c = pins::calibrate_error_bound(errors, residuals, 0.5, &estimates);
  CHECK(c.score == "error_estimate");
  CHECK(c.uses_estimate());
  CHECK(c.quantile == doctest::Approx(2.0));  // every ratio error / estimate is 2
  CHECK(c.residual_threshold == 2);
  const pins::ErrorCalibration back = pins::ErrorCalibration::from_json(c.to_json());
  CHECK(back.score == "error_estimate");
  nlohmann::json old = c.to_json();
  old.erase("score");  // a model calibrated before scores had a choice
  CHECK(pins::ErrorCalibration::from_json(old).score == "residual");
  old["score"] = "learned";
  CHECK_THROWS_WITH_AS(pins::ErrorCalibration::from_json(old),
                       doctest::Contains("'score' must be \"residual\" or \"error_estimate\""),
                       pins::Error);
  const std::vector<double> short_list{0.1};
  CHECK_THROWS_WITH_AS(pins::calibrate_error_bound(errors, residuals, 0.5, &short_list),
                       doctest::Contains("10 errors but 1 error estimates"), pins::Error);
}

namespace {

// A family on a 1-D chain of n points as a sparse matrix (what MultigridCycle cannot
// coarsen): −(k u')' = f with face conductivities k from "kappa" [B, n + 1], plus a
// convection c u' that makes it unsymmetric when c ≠ 0.
class Chain final : public pins::Family {
 public:
  explicit Chain(double c) : c_(c) {}
  std::string name() const override { return c_ == 0 ? "test_chain" : "test_convection"; }
  std::string summary() const override { return "a 1-D chain"; }
  pins::Stencil stencil() const override { return {2, pins::StencilShape::kStar, 1, 1}; }
  std::vector<pins::InputField> inputs() const override {
    return {{"kappa", pins::FieldTransform::kLogStandardise, "face conductivity"},
            {"f", pins::FieldTransform::kScale, "source"}};
  }
  pins::OperatorPtr make_operator(const pins::FieldMap& in) const override {
    const torch::Tensor k = in.at("kappa");
    const int64_t b = k.size(0), n = k.size(1) - 1;
    std::vector<int64_t> row_ptr{0}, cols;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = std::max<int64_t>(0, i - 1); j <= std::min(n - 1, i + 1); ++j)
        cols.push_back(j);
      row_ptr.push_back(int64_t(cols.size()));
    }
    pins::SparsePattern pattern(n, n, torch::tensor(row_ptr, torch::kInt64),
                                torch::tensor(cols, torch::kInt64));
    std::vector<torch::Tensor> per_row;
    for (int64_t i = 0; i < n; ++i) {
      const torch::Tensor kw = k.select(1, i), ke = k.select(1, i + 1);
      if (i > 0) per_row.push_back(-kw - c_);
      per_row.push_back(kw + ke);
      if (i < n - 1) per_row.push_back(-ke + c_);
    }
    return std::make_shared<pins::SparseOperator>(pattern,
                                                  torch::stack(per_row, 1).reshape({b, -1}).contiguous());
  }
  torch::Tensor rhs(const pins::FieldMap& in) const override { return in.at("f"); }

 private:
  double c_;
};

}  // namespace

TEST_CASE("error estimate: conjugate gradients where multigrid cannot coarsen; refused for an "
          "unsymmetric operator") {
  constexpr int64_t n = 60;
  torch::manual_seed(4);
  const Chain chain(0.0);
  pins::FieldMap in{{"kappa", 1 + 9 * torch::rand({kBatch, n + 1}, opts())},
                    {"f", torch::zeros({kBatch, n}, opts())}};
  const torch::Tensor x = (torch::arange(n, opts()) + 1) / double(n + 1);
  const torch::Tensor u_star = torch::sin(M_PI * x).unsqueeze(0).repeat({kBatch, 1}) *
                               torch::tensor({1.0, 2.0, 5.0}, opts()).unsqueeze(1);
  in["f"] = chain.make_operator(in)->apply(u_star);
  CHECK(pins::error_estimate_unsupported(chain, in, u_star).empty());
  for (const torch::Tensor& shape : {torch::sin(3 * M_PI * x), torch::randn({n}, opts())}) {
    const torch::Tensor e =
        0.01 * u_star.norm(2, 1, true) * shape.unsqueeze(0) / shape.norm();
    const torch::Tensor truth = ratio(e, u_star);
    const torch::Tensor estimate = pins::estimated_relative_error(chain, in, u_star + e);
    CHECK(((estimate - truth).abs() / truth).max().item<double>() < 0.1);
  }
  const Chain convection(0.5);
  const std::string why = pins::error_estimate_unsupported(convection, in, u_star);
  CHECK(why.find("nor symmetric with a positive diagonal") != std::string::npos);
}
