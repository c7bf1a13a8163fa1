// Galerkin coarse operators PᵀAP on a structured grid (pins/core/galerkin_coarsening.hpp).
#include "pins/core/galerkin_coarsening.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "pins/core/check.hpp"

namespace pins {

namespace {

// One row of P per fine point: the coarse points it interpolates from, and their weights.
struct InterpolationRow {
  int64_t coarse[8];
  double weight[8];
  int count = 0;
};

// The rows of P for a `side`^dim fine grid (C order, the last axis fastest), coarse side c.
std::vector<InterpolationRow> interpolation(int dim, int64_t side, int64_t c) {
  // Along one axis: fine f = 2I + 1 is coarse I; an even f lies between I = f/2 − 1 and f/2,
  // each present only inside [0, c).
  std::vector<std::vector<std::pair<int64_t, double>>> axis(static_cast<size_t>(side));
  for (int64_t f = 0; f < side; ++f) {
    if (f % 2 == 1) {
      axis[size_t(f)].push_back({f / 2, 1.0});
    } else {
      if (f / 2 - 1 >= 0) axis[size_t(f)].push_back({f / 2 - 1, 0.5});
      if (f / 2 < c) axis[size_t(f)].push_back({f / 2, 0.5});
    }
  }
  int64_t points = 1;
  for (int k = 0; k < dim; ++k) points *= side;
  std::vector<InterpolationRow> rows(static_cast<size_t>(points));
  for (int64_t p = 0; p < points; ++p) {
    int64_t idx[3] = {0, 0, 0}, rest = p;
    for (int k = dim - 1; k >= 0; --k) idx[k] = rest % side, rest /= side;
    InterpolationRow& row = rows[size_t(p)];
    // The tensor product of the axes' entries.
    row.coarse[0] = 0;
    row.weight[0] = 1.0;
    row.count = 1;
    for (int k = 0; k < dim; ++k) {
      const auto& entries = axis[size_t(idx[k])];
      InterpolationRow next;
      for (int a = 0; a < row.count; ++a)
        for (const auto& [I, w] : entries) {
          next.coarse[next.count] = row.coarse[a] * c + I;
          next.weight[next.count] = row.weight[a] * w;
          ++next.count;
        }
      row = next;
    }
  }
  return rows;
}

}  // namespace

CoarseOperators galerkin_coarsen(const SparsePattern& pattern, const torch::Tensor& values, int dim,
                                 int side) {
  PINS_CHECK(dim == 2 || dim == 3, "galerkin_coarsen: dimension must be 2 or 3, got ", dim);
  PINS_CHECK(side >= 3 && side % 2 == 1,
             "galerkin_coarsen: the fine grid needs an odd number of points per side, at least "
             "3 (2c + 1 for c coarse points), got ",
             side);
  int64_t points = 1;
  for (int k = 0; k < dim; ++k) points *= side;
  PINS_CHECK(pattern.rows() == points && pattern.cols() == points, "galerkin_coarsen: a ", side,
             "^", dim, " grid has ", points, " points, but the pattern is ", pattern.describe());
  PINS_CHECK(values.dim() == 2 && values.size(1) == pattern.nnz() &&
                 values.scalar_type() == torch::kFloat64,
             "galerkin_coarsen: values must be float64 [B, ", pattern.nnz(), "], got ",
             values.sizes(), " ", values.scalar_type());
  const int64_t c = (side - 1) / 2;
  int64_t coarse_points = 1;
  for (int k = 0; k < dim; ++k) coarse_points *= c;
  const std::vector<InterpolationRow> P = interpolation(dim, side, c);
  // Every (coarse row a, coarse column b, fine value k, weight) of Σ P[i,a] A[i,j] P[j,b].
  const torch::Tensor row_ptr = pattern.row_ptr().contiguous(), col = pattern.col_idx().contiguous();
  const int64_t* rp = row_ptr.data_ptr<int64_t>();
  const int32_t* ci = col.data_ptr<int32_t>();
  std::vector<int64_t> key, source;
  std::vector<double> weight;
  for (int64_t i = 0; i < points; ++i) {
    const InterpolationRow& pi = P[size_t(i)];
    for (int64_t k = rp[i]; k < rp[i + 1]; ++k) {
      const InterpolationRow& pj = P[size_t(ci[k])];
      for (int a = 0; a < pi.count; ++a)
        for (int b = 0; b < pj.count; ++b) {
          key.push_back(pi.coarse[a] * coarse_points + pj.coarse[b]);
          source.push_back(k);
          weight.push_back(pi.weight[a] * pj.weight[b]);
        }
    }
  }
  // The coarse entries in row-major order: the pattern, and each contribution's entry.
  const torch::Tensor keys = torch::tensor(key, torch::kInt64);
  const auto [unique, entry] = torch::_unique(keys, /*sorted=*/true, /*return_inverse=*/true);
  const torch::Tensor rows = unique.div(coarse_points, "floor"), cols = unique.remainder(coarse_points);
  torch::Tensor coarse_row_ptr = torch::zeros({coarse_points + 1}, torch::kInt64);
  coarse_row_ptr.index_add_(0, rows + 1, torch::ones_like(rows));
  coarse_row_ptr = coarse_row_ptr.cumsum(0);
  CoarseOperators out;
  out.pattern = SparsePattern(coarse_points, coarse_points, coarse_row_ptr, cols.to(torch::kInt32));
  out.side = int(c);
  // values Wᵀ with W [coarse nnz, fine nnz] the weights.
  const torch::Tensor W = torch::sparse_coo_tensor(
      torch::stack({entry, torch::tensor(source, torch::kInt64)}),
      torch::tensor(weight, torch::kFloat64), {unique.numel(), pattern.nnz()}).coalesce();
  out.values = torch::mm(W, values.t().contiguous()).t().contiguous();
  return out;
}

}  // namespace pins
