#include "pins/petsc/verify.hpp"

#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "pins/core/check.hpp"
#include "pins/core/family.hpp"
#include "pins/core/sparse_operator.hpp"
#include "pins/core/trainer.hpp"  // sampler_parameters

namespace pins::petsc {

namespace {
// Samples per kernel launch: bounds the operator's memory ([B,K,ny,nx] for a stencil).
constexpr std::int64_t kBatch = 32;

// The most terms one row of the residual sums (the operator's products and f), for the
// rounding bound: a stencil's points × dof, or a sparse operator's longest row.
double terms_per_row(const Family& family, const FieldMap& inputs) {
  if (!family.on_mesh()) {
    const Stencil stencil = family.stencil();
    return double(stencil.points() * stencil.dof + 1);
  }
  const OperatorPtr A = family.make_operator(inputs);
  const auto* sparse = dynamic_cast<const SparseOperator*>(A.get());
  PINS_CHECK(sparse, "verify: the ", family.name(), " family's operator on a mesh is not sparse");
  const torch::Tensor& row_ptr = sparse->pattern().row_ptr();
  const std::int64_t longest =
      row_ptr.numel() > 1 ? (row_ptr.slice(0, 1) - row_ptr.slice(0, 0, -1)).max().item<std::int64_t>()
                          : 0;
  return double(longest + 1);
}
}  // namespace

VerifyReport verify_dataset(const Dataset& data, double tolerance) {
  // The family set up for the dataset's parameters (e.g. a nonlinear family's k(u)).
  const std::shared_ptr<const Family> family_ptr =
      family_for(data.info.pde, sampler_parameters(data.info), data.info.mesh);
  const Family& family = *family_ptr;
  double row_terms = 0;  // set from the first batch's operator
  const std::int64_t n = data.samples;
  PINS_CHECK(n >= 1, "verify: the dataset holds no samples");
  PINS_CHECK(data.info.labelled,
             "verify: the dataset holds no solutions (inputs only, written "
             "with -inputs_only); there is nothing to verify");
  PINS_CHECK(family.on_mesh() || data.info.dim() == family.dimension(), "verify: the ",
             family.name(), " family is ", family.dimension(), "-D, but the dataset's grid is ",
             data.info.grid_string());
  auto check_array = [&](const DatasetArray& a, const std::vector<std::int64_t>& shape) {
    PINS_CHECK(a.shape == shape && a.values.size() == size_t(n * a.sample_size()),
               "verify: the dataset's array '", a.name, "' does not hold ", n, " samples of the ",
               data.info.grid_string(), " grid");
  };
  // A trajectory stores the inputs without the state (the states are u[:, t]).
  const bool trajectory = family.time_dependent();
  PINS_CHECK(!trajectory || data.info.times >= 2, "verify: the ", family.name(),
             " family is time-dependent, but the dataset holds ", data.info.times,
             " output times (a trajectory needs at least 2)");
  for (const auto& in : family.dataset_inputs())
    check_array(data.input(in.name),
                data.info.input_shape(FieldSpec{in.name, in.components, in.on_cells}));
  check_array(data.u, data.info.solution_shape());
  PINS_CHECK(data.residual.empty() || data.residual.size() == size_t(n),
             "verify: the dataset's residual array does not hold ", n, " values");

  VerifyReport report;
  report.samples = n;
  report.tolerance = tolerance >= 0 ? tolerance : data.info.rtol;
  report.residuals.resize(size_t(n));
  const double eps = std::numeric_limits<double>::epsilon();
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  double sum = 0;
  for (std::int64_t b0 = 0; b0 < n; b0 += kBatch) {
    const std::int64_t b = std::min(kBatch, n - b0);
    // Views of the dataset's memory (no copies); nothing below writes through them.
    auto view = [&](const DatasetArray& a) {
      std::vector<int64_t> shape = {b};
      shape.insert(shape.end(), a.shape.begin(), a.shape.end());
      return torch::from_blob(const_cast<double*>(a.sample(b0)), shape, opts);
    };
    FieldMap inputs;
    for (const auto& in : family.dataset_inputs()) inputs[in.name] = view(data.input(in.name));
    const torch::Tensor u_all = view(data.u);
    torch::NoGradGuard no_grad;
    // Per sample: the relative residual and its rounding allowance, the largest over the
    // steps of a trajectory (step t: state u[:, t], solution u[:, t + 1]).
    std::vector<double> res_of(size_t(b), 0.0), allowance_of(size_t(b), 0.0);
    // The largest residual − allowance over the steps: each step is held to its own bound.
    std::vector<double> excess_of(size_t(b), -std::numeric_limits<double>::infinity());
    const std::int64_t pairs = trajectory ? data.info.times - 1 : 1;
    for (std::int64_t t = 0; t < pairs; ++t) {
      torch::Tensor u = u_all;
      if (trajectory) {
        inputs[family.state_input()] = u_all.select(1, t).contiguous();
        u = u_all.select(1, t + 1).contiguous();
      }
      if (b0 == 0 && t == 0) row_terms = terms_per_row(family, inputs);
      // F(u) (A u − f for a linear family), the size of its terms, and F(0) (−f when linear).
      const torch::Tensor r = family.residual(inputs, u);
      const torch::Tensor magnitude = family.residual_magnitude(inputs, u);
      const torch::Tensor r_norm = r.reshape({b, -1}).norm(2, 1);
      const torch::Tensor f_norm =
          family.residual(inputs, torch::zeros_like(u)).reshape({b, -1}).norm(2, 1);
      const torch::Tensor m_norm = magnitude.reshape({b, -1}).norm(2, 1);
      for (std::int64_t k = 0; k < b; ++k) {
        const double fn = f_norm[k].item<double>();
        const double scale = fn > 0 ? fn : 1.0;  // F(0) = 0: absolute residual, as generated
        const double res = r_norm[k].item<double>() / scale;
        const double allowance = 2 * row_terms * eps * m_norm[k].item<double>() / scale;
        res_of[size_t(k)] = std::max(res_of[size_t(k)], res);
        allowance_of[size_t(k)] = std::max(allowance_of[size_t(k)], allowance);
        // NaN stays NaN: a non-finite step fails below.
        excess_of[size_t(k)] = std::isnan(res - allowance)
                                   ? res - allowance
                                   : std::max(excess_of[size_t(k)], res - allowance);
      }
    }
    for (std::int64_t k = 0; k < b; ++k) {
      const std::int64_t s = b0 + k;
      const double res = res_of[size_t(k)];
      const double allowance = allowance_of[size_t(k)];
      report.residuals[size_t(s)] = res;
      sum += res;
      if (res > report.max_residual || s == 0) {
        report.max_residual = res;
        report.worst_sample = s;
      }
      report.max_allowance = std::max(report.max_allowance, allowance);
      if (!(excess_of[size_t(k)] <= report.tolerance)) {  // res ≤ tolerance + allowance
        ++report.failures;
        if (report.first_failure < 0) report.first_failure = s;
      }
      if (!data.residual.empty())
        report.max_stored_difference =
            std::max(report.max_stored_difference, std::abs(res - data.residual[size_t(s)]));
    }
  }
  report.mean_residual = sum / double(n);
  return report;
}

}  // namespace pins::petsc
