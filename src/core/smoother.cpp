// The learned sparse smoother's features, values and loss (pins/core/smoother.hpp). All of
// it is index arithmetic on the CSR arrays in LibTorch: one pass per quantity, O(nnz).
#include "pins/core/smoother.hpp"

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "pins/core/check.hpp"
#include "pins/core/sparse_operator.hpp"
#include "pins/core/stencil_operator.hpp"
#include "surrogates/surrogate.hpp"

namespace pins {

namespace {

struct Entries {
  torch::Tensor row, col;  // [nnz] int64
  torch::Tensor off;       // [nnz] bool: off the diagonal
};

Entries entries_of(const SparsePattern& p) {
  Entries e;
  e.row = p.row_indices();
  e.col = p.col_idx().to(torch::kInt64);
  e.off = e.row != e.col;
  return e;
}

void check_shapes(const char* who, const SparsePattern& p, const torch::Tensor& values,
                  const torch::Tensor& column_diagonal) {
  PINS_CHECK(p.cols() >= p.rows(), who, ": the pattern has ", p.rows(), " rows but ", p.cols(),
             " columns; its own columns must come first, so columns >= rows");
  PINS_CHECK(values.dim() == 2 && values.size(1) == p.nnz(), who, ": values must be [B, ",
             p.nnz(), "], got ", values.sizes());
  PINS_CHECK(column_diagonal.dim() == 2 && column_diagonal.size(0) == values.size(0) &&
                 column_diagonal.size(1) == p.cols(),
             who, ": the column diagonal must be [", values.size(0), ", ", p.cols(), "], got ",
             column_diagonal.sizes());
}

// ŝ_ij = a_ij / √(a_ii a_jj) for every entry, [B, nnz].
torch::Tensor scaled_entries(const Entries& e, const torch::Tensor& values,
                             const torch::Tensor& column_diagonal) {
  const torch::Tensor root = column_diagonal.sqrt();
  return values / (root.index_select(1, e.row) * root.index_select(1, e.col));
}

}  // namespace

void check_smoother_diagonal(const char* who, const torch::Tensor& column_diagonal) {
  const torch::Tensor bad = ~(column_diagonal > 0) | ~torch::isfinite(column_diagonal);
  if (!bad.any().item<bool>()) return;
  const torch::Tensor first = bad.nonzero()[0];
  const int64_t b = first[0].item<int64_t>(), k = first[1].item<int64_t>();
  PINS_CHECK(false, who, ": the diagonal entry of row ", k,
             (column_diagonal.size(0) > 1 ? " of operator " + std::to_string(b) : std::string()),
             " is ", column_diagonal[b][k].item<double>(),
             "; the smoother reads D^-1/2 A D^-1/2 and needs a positive diagonal (SPD-like "
             "operators)");
}

torch::Tensor smoother_row_statistics(const SparsePattern& p, const torch::Tensor& values,
                                      const torch::Tensor& column_diagonal) {
  torch::NoGradGuard no_grad;
  check_shapes("smoother_row_statistics", p, values, column_diagonal);
  const Entries e = entries_of(p);
  const torch::Tensor s = scaled_entries(e, values, column_diagonal);
  const torch::Tensor zeros = torch::zeros({values.size(0), p.rows()}, values.options());
  const torch::Tensor sigma = zeros.index_add(1, e.row, s.abs() * e.off.to(s.dtype()));
  const torch::Tensor tau = zeros.index_add(1, e.row, s);
  return torch::stack({sigma, tau}, 1);
}

torch::Tensor smoother_features(const SparsePattern& p, const torch::Tensor& values,
                                const torch::Tensor& column_diagonal,
                                const torch::Tensor& column_statistics) {
  torch::NoGradGuard no_grad;
  check_shapes("smoother_features", p, values, column_diagonal);
  PINS_CHECK(column_statistics.dim() == 3 && column_statistics.size(0) == values.size(0) &&
                 column_statistics.size(1) == kSmootherStatistics &&
                 column_statistics.size(2) == p.cols(),
             "smoother_features: the column statistics must be [", values.size(0), ", ",
             kSmootherStatistics, ", ", p.cols(), "], got ", column_statistics.sizes());
  const Entries e = entries_of(p);
  const torch::Tensor s = scaled_entries(e, values, column_diagonal);
  const torch::Tensor si = column_statistics.index_select(2, e.row);
  const torch::Tensor sj = column_statistics.index_select(2, e.col);
  const torch::Tensor diag = (~e.off).to(s.dtype()).expand_as(s);
  const torch::Tensor mean = (si + sj) / 2, gap = (si - sj).abs();
  return torch::stack({s, diag, mean.select(1, 0), gap.select(1, 0), mean.select(1, 1),
                       gap.select(1, 1)},
                      1);
}

torch::Tensor smoother_values(const SparsePattern& p, const torch::Tensor& column_diagonal,
                              const torch::Tensor& network_output) {
  PINS_CHECK(network_output.dim() == 3 && network_output.size(1) == 1 &&
                 network_output.size(2) == p.nnz(),
             "smoother_values: the network output must be [B, 1, ", p.nnz(), "], got ",
             network_output.sizes());
  const Entries e = entries_of(p);
  const torch::Tensor y = network_output.select(1, 0).to(column_diagonal.scalar_type());
  const torch::Tensor off = e.off.to(y.dtype());
  const torch::Tensor m_off = y * off;
  const torch::Tensor row_abs =
      torch::zeros({y.size(0), p.rows()}, y.options()).index_add(1, e.row, m_off.abs());
  const torch::Tensor m_diag = torch::softplus(y) + row_abs.index_select(1, e.row);
  const torch::Tensor m_hat = m_off + (1 - off) * m_diag;
  const torch::Tensor root = column_diagonal.sqrt();
  return (m_hat / (root.index_select(1, e.row) * root.index_select(1, e.col))).contiguous();
}

torch::Tensor smoother_apply_model(Surrogate& model, const SparsePattern& p,
                                   const torch::Tensor& values) {
  PINS_CHECK(p.rows() == p.cols(), "smoother_apply_model: needs a square pattern, got ",
             p.describe());
  const torch::Tensor d = sparse_diagonal(p, values).detach();
  check_smoother_diagonal("smoother_apply_model", d);
  const torch::Tensor stats = smoother_row_statistics(p, values, d);
  const torch::Tensor x = smoother_features(p, values, d, stats);
  const auto dtype = model.module().parameters().empty()
                         ? x.scalar_type()
                         : model.module().parameters().front().scalar_type();
  return smoother_values(p, d, model.forward(x.to(dtype)));
}

torch::Tensor smoother_loss(const SparsePattern& p, const torch::Tensor& a_values,
                            const torch::Tensor& m_values, const torch::Tensor& z) {
  PINS_CHECK(p.rows() == p.cols(), "smoother_loss: needs a square pattern, got ", p.describe());
  const torch::Tensor az = sparse_apply(p, a_values, z.contiguous());
  const torch::Tensor w = sparse_apply(p, m_values, az);  // M A z
  const torch::Tensor aw = sparse_apply(p, a_values, w);
  const torch::Tensor zz = (z * az).sum(1), wz = (w * az).sum(1), ww = (w * aw).sum(1);
  return (1 - wz.square() / (zz * ww).clamp_min(1e-300)).mean();
}

std::pair<SparsePattern, torch::Tensor> stencil_to_csr(const StencilOperator& A) {
  torch::NoGradGuard no_grad;
  const Stencil& s = A.stencil();
  const auto grid = A.grid();  // (nz, ny, nx)
  const int64_t points = grid[0] * grid[1] * grid[2], n = points * s.dof;
  const torch::Tensor coeffs = A.values().reshape({A.batch(), s.channels(), points});
  const auto idx = torch::TensorOptions().dtype(torch::kInt64);
  // Grid coordinates of every point, slowest first, as the fields are laid out.
  const torch::Tensor flat = torch::arange(points, idx);
  const torch::Tensor z = flat.div(grid[1] * grid[2], "floor"),
                      y = flat.div(grid[2], "floor").remainder(grid[1]), x = flat.remainder(grid[2]);
  std::vector<torch::Tensor> rows, cols, vals;
  const auto offsets = s.offsets();
  for (int p = 0; p < s.points(); ++p) {
    const auto& o = offsets[size_t(p)];  // (dz, dy, dx)
    const torch::Tensor zz = z + o[0], yy = y + o[1], xx = x + o[2];
    const torch::Tensor inside = (zz >= 0) & (zz < grid[0]) & (yy >= 0) & (yy < grid[1]) &
                                 (xx >= 0) & (xx < grid[2]);
    const torch::Tensor at = inside.nonzero().squeeze(1);
    const torch::Tensor to = (zz * grid[1] + yy).mul(grid[2]).add(xx).index_select(0, at);
    for (int r = 0; r < s.dof; ++r)
      for (int c = 0; c < s.dof; ++c) {
        rows.push_back(at + r * points);
        cols.push_back(to + c * points);
        vals.push_back(coeffs.select(1, s.channel(p, r, c)).index_select(1, at));
      }
  }
  const torch::Tensor row = torch::cat(rows), col = torch::cat(cols);
  const torch::Tensor order = (row * n + col).argsort();
  const torch::Tensor sorted_row = row.index_select(0, order);
  const torch::Tensor counts = torch::zeros({n}, idx).index_add(0, sorted_row, torch::ones_like(sorted_row));
  const torch::Tensor row_ptr = torch::cat({torch::zeros({1}, idx), counts.cumsum(0)});
  SparsePattern pattern(n, n, row_ptr, col.index_select(0, order));
  return {pattern, torch::cat(vals, 1).index_select(1, order).contiguous()};
}

}  // namespace pins
