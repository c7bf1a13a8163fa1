// The learned smoother's blocked, pair-sharing inference (pins/core/smoother_inference.hpp).
#include "pins/core/smoother_inference.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "pins/core/check.hpp"
#include "pins/core/smoother.hpp"
#include "pins/core/sparse_operator.hpp"
#include "smoother_entry_features.hpp"
#include "surrogates/surrogate.hpp"

namespace pins {

namespace {

// Entries per network call: hidden activations of 16384 × 32 floats stay in cache (the block
// entry_mlp itself uses for large inputs).
constexpr int64_t kBlock = 16384;

// Relative difference below which a_ij and a_ji count as equal: far below float32's
// resolution of the network's input (6e-8), so the shared output is the one (j, i) would get,
// while GAMG's Galerkin coarse operators (symmetric up to the rounding of PtAP) still share.
constexpr double kPairTolerance = 1e-10;

// For every entry the entry whose network output it takes, or −1 when the network must run
// on it: (i, j) with j < i, both owned, copies (j, i) when their values agree.
std::vector<int64_t> shared_outputs(const SparsePattern& p, const double* a) {
  const int64_t* ptr = p.row_ptr().data_ptr<int64_t>();
  const int32_t* col = p.col_idx().data_ptr<int32_t>();
  const int64_t* t_ptr = p.transpose_ptr().data_ptr<int64_t>();
  const int32_t* t_row = p.transpose_row().data_ptr<int32_t>();
  const int64_t* t_perm = p.transpose_perm().data_ptr<int64_t>();
  std::vector<int64_t> from(size_t(p.nnz()), -1);
  // Row i's entries scattered by column, so that each (r, i) of column i with r < i finds its
  // partner (i, r) in O(1): O(nnz) in all, whatever the rows' widths.
  std::vector<int64_t> slot(size_t(p.cols()), -1);
  for (int64_t i = 0; i < p.rows(); ++i) {
    for (int64_t k = ptr[i]; k < ptr[i + 1]; ++k) slot[size_t(col[k])] = k;
    for (int64_t t = t_ptr[i]; t < t_ptr[i + 1]; ++t) {
      const int64_t r = t_row[t];
      if (r >= i) continue;
      const int64_t upper = t_perm[t], lower = slot[size_t(r)];  // (r, i) and (i, r)
      if (lower >= 0 && std::abs(a[upper] - a[lower]) <=
                            kPairTolerance * std::max(std::abs(a[upper]), std::abs(a[lower])))
        from[size_t(lower)] = upper;
    }
    for (int64_t k = ptr[i]; k < ptr[i + 1]; ++k) slot[size_t(col[k])] = -1;
  }
  return from;
}

}  // namespace

SmootherInference smoother_infer(Surrogate& model, const SparsePattern& p,
                                 const torch::Tensor& values, const torch::Tensor& column_diagonal,
                                 const torch::Tensor& column_statistics,
                                 const torch::Tensor& column_field, bool keep_outputs) {
  torch::NoGradGuard no_grad;
  PINS_CHECK(values.dim() == 2 && values.size(0) == 1 && values.size(1) == p.nnz() &&
                 values.scalar_type() == torch::kFloat64,
             "smoother_infer: values must be float64 [1, ", p.nnz(), "], got ", values.sizes());
  PINS_CHECK(column_diagonal.dim() == 2 && column_diagonal.size(0) == 1 &&
                 column_diagonal.size(1) == p.cols() && p.cols() >= p.rows(),
             "smoother_infer: the column diagonal must be [1, ", p.cols(), "], got ",
             column_diagonal.sizes());
  PINS_CHECK(column_statistics.dim() == 3 && column_statistics.size(0) == 1 &&
                 column_statistics.size(1) == kSmootherStatistics &&
                 column_statistics.size(2) == p.cols(),
             "smoother_infer: the column statistics must be [1, ", kSmootherStatistics, ", ",
             p.cols(), "], got ", column_statistics.sizes());
  const bool fields = smoother_model_reads_fields(model.in_channels());
  PINS_CHECK(!fields || (column_field.defined() && column_field.dim() == 1 &&
                         column_field.size(0) == p.cols()),
             "smoother_infer: a multi-field model needs the field of every column [", p.cols(),
             "]");
  const torch::Tensor a = values.contiguous();
  const torch::Tensor root = column_diagonal.to(torch::kFloat64).sqrt().contiguous();
  const torch::Tensor stats = column_statistics.to(torch::kFloat64).contiguous();
  const torch::Tensor field =
      fields ? column_field.to(torch::kInt64).contiguous() : torch::Tensor();
  const double* av = a.data_ptr<double>();
  const double* rv = root.data_ptr<double>();
  const double* sigma = stats.data_ptr<double>();
  const double* tau = sigma + p.cols();
  const int64_t* fd = fields ? field.data_ptr<int64_t>() : nullptr;
  const int32_t* col = p.col_idx().data_ptr<int32_t>();
  const int channels = model.in_channels();
  const auto dtype = parameter_dtype(model.module());

  // The network's outputs go straight into M's values, which are then formed in place: at
  // 65³ every nnz-sized temporary is 15 MB of fresh pages.
  const std::vector<int64_t> from = shared_outputs(p, av);
  torch::Tensor m = torch::empty({1, p.nnz()}, torch::kFloat64);
  double* yv = m.data_ptr<double>();
  const int64_t* ptr = p.row_ptr().data_ptr<int64_t>();
  std::vector<int64_t> block;  // the entries of the block being filled
  block.reserve(size_t(kBlock));
  torch::Tensor x = torch::empty({1, channels, kBlock}, torch::kFloat64);
  int64_t evaluated = 0;
  const auto run = [&] {  // the network on the block's features
    const int64_t len = int64_t(block.size());
    const torch::Tensor out = model.forward(x.narrow(2, 0, len).to(dtype))
                                  .reshape({len})
                                  .to(torch::kFloat64)
                                  .contiguous();
    PINS_CHECK(torch::isfinite(out).all().item<bool>(),
               "the network's output contains NaN or Inf (a damaged model file?)");
    const double* ov = out.data_ptr<double>();
    for (int64_t t = 0; t < len; ++t) yv[block[size_t(t)]] = ov[t];
    evaluated += len;
    block.clear();
  };
  double* xv = x.data_ptr<double>();
  for (int64_t i = 0; i < p.rows(); ++i)
    for (int64_t k = ptr[i]; k < ptr[i + 1]; ++k) {
      if (from[size_t(k)] >= 0) continue;
      const int64_t j = col[k], t = int64_t(block.size());
      // Features in float64, then the model's precision: the numbers smoother_features gives.
      detail::write_entry_features(xv + t, kBlock, i == j, av[k] / (rv[i] * rv[j]), sigma[i],
                                   sigma[j], tau[i], tau[j], fd ? int(fd[i] == fd[j]) : -1);
      block.push_back(k);
      if (int64_t(block.size()) == kBlock) run();
    }
  if (!block.empty()) run();
  for (int64_t k = 0; k < p.nnz(); ++k)
    if (from[size_t(k)] >= 0) yv[k] = yv[from[size_t(k)]];
  SmootherInference r;
  if (keep_outputs) r.outputs = m.view({1, 1, p.nnz()}).clone();
  detail::smoother_values_from_outputs(p, yv, rv, yv);
  r.values = m;
  r.evaluated = evaluated;
  return r;
}

}  // namespace pins
