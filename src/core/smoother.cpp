// The learned sparse smoother's features, values and loss (pins/core/smoother.hpp).
// Statistics and features never carry gradients (they are functions of the operator alone),
// so they are single loops over the CSR arrays; M's values are LibTorch index arithmetic when
// training differentiates through them and the same formula as a loop otherwise (a PC's
// set-up): at 49^3 inside GAMG the LibTorch form took 0.8 s of a 1.25 s set-up, memory
// traffic of a dozen nnz-sized temporaries.
#include "pins/core/smoother.hpp"

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "pins/core/check.hpp"
#include "pins/core/sparse_operator.hpp"
#include "pins/core/stencil_operator.hpp"
#include "smoother_entry_features.hpp"
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

// Calls f(b, i, k, j, scaled entry) for every entry k = (i, j) of every operator b, with
// ŝ_ij = a_ij / √(a_ii a_jj); a and root_diag contiguous [B, nnz] and [B, cols].
template <typename T, typename F>
void for_each_scaled_entry(const SparsePattern& p, const T* a, const T* root_diag, int64_t batch,
                           F&& f) {
  const int64_t* ptr = p.row_ptr().data_ptr<int64_t>();
  const int32_t* col = p.col_idx().data_ptr<int32_t>();
  const int64_t rows = p.rows(), cols = p.cols(), nnz = p.nnz();
  for (int64_t b = 0; b < batch; ++b) {
    const T* ab = a + b * nnz;
    const T* rb = root_diag + b * cols;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t k = ptr[i]; k < ptr[i + 1]; ++k)
        f(b, i, k, int64_t(col[k]), ab[k] / (rb[i] * rb[col[k]]));
  }
}

// smoother_values without autograd: the same formula, one pass for the off-diagonal sums and
// one for the values.
torch::Tensor smoother_values_loop(const SparsePattern& p, const torch::Tensor& column_diagonal,
                                   const torch::Tensor& network_output) {
  const auto dtype = column_diagonal.scalar_type();
  const torch::Tensor y = network_output.select(1, 0).to(dtype).contiguous();
  const torch::Tensor root = column_diagonal.sqrt().contiguous();
  const int64_t B = y.size(0), nnz = p.nnz(), cols = p.cols();
  torch::Tensor out = torch::empty({B, nnz}, y.options());
  AT_DISPATCH_FLOATING_TYPES(dtype, "smoother_values", [&] {
    for (int64_t b = 0; b < B; ++b)
      detail::smoother_values_from_outputs(p, y.data_ptr<scalar_t>() + b * nnz,
                                           root.data_ptr<scalar_t>() + b * cols,
                                           out.data_ptr<scalar_t>() + b * nnz);
  });
  return out;
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
  const torch::Tensor a = values.contiguous();
  const torch::Tensor root = column_diagonal.to(a.scalar_type()).sqrt().contiguous();
  const int64_t B = a.size(0), n = p.rows();
  torch::Tensor out = torch::zeros({B, kSmootherStatistics, n}, a.options());
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "smoother_row_statistics", [&] {
    scalar_t* o = out.data_ptr<scalar_t>();
    for_each_scaled_entry(p, a.data_ptr<scalar_t>(), root.data_ptr<scalar_t>(), B,
                          [&](int64_t b, int64_t i, int64_t, int64_t j, scalar_t s) {
                            scalar_t* ob = o + b * kSmootherStatistics * n;
                            if (j != i) ob[i] += std::abs(s);  // σ_i: off-diagonal mass
                            ob[n + i] += s;                    // τ_i: row sum
                          });
  });
  return out;
}

bool smoother_model_reads_fields(int in_channels) {
  PINS_CHECK(in_channels == kSmootherFeatures || in_channels == kSmootherFieldFeatures,
             "a smoother model reads ", kSmootherFeatures, " features per matrix entry (",
             kSmootherFieldFeatures, " when trained for several fields, -smoother_dof), got ",
             in_channels, " input channels");
  return in_channels == kSmootherFieldFeatures;
}

torch::Tensor smoother_features(const SparsePattern& p, const torch::Tensor& values,
                                const torch::Tensor& column_diagonal,
                                const torch::Tensor& column_statistics,
                                const torch::Tensor& column_field) {
  torch::NoGradGuard no_grad;
  check_shapes("smoother_features", p, values, column_diagonal);
  PINS_CHECK(column_statistics.dim() == 3 && column_statistics.size(0) == values.size(0) &&
                 column_statistics.size(1) == kSmootherStatistics &&
                 column_statistics.size(2) == p.cols(),
             "smoother_features: the column statistics must be [", values.size(0), ", ",
             kSmootherStatistics, ", ", p.cols(), "], got ", column_statistics.sizes());
  const bool fields = column_field.defined();
  PINS_CHECK(!fields || (column_field.dim() == 1 && column_field.size(0) == p.cols()),
             "smoother_features: the column fields must be [", p.cols(), "], got ",
             column_field.sizes());
  const torch::Tensor field =
      fields ? column_field.to(torch::kInt64).contiguous() : torch::Tensor();
  const int64_t* fd = fields ? field.data_ptr<int64_t>() : nullptr;
  const int channels = fields ? kSmootherFieldFeatures : kSmootherFeatures;
  const torch::Tensor a = values.contiguous();
  const torch::Tensor root = column_diagonal.to(a.scalar_type()).sqrt().contiguous();
  const torch::Tensor stats = column_statistics.to(a.scalar_type()).contiguous();
  const int64_t B = a.size(0), nnz = p.nnz(), cols = p.cols();
  torch::Tensor out = torch::empty({B, channels, nnz}, a.options());
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "smoother_features", [&] {
    scalar_t* o = out.data_ptr<scalar_t>();
    const scalar_t* st = stats.data_ptr<scalar_t>();
    for_each_scaled_entry(p, a.data_ptr<scalar_t>(), root.data_ptr<scalar_t>(), B,
                          [&](int64_t b, int64_t i, int64_t k, int64_t j, scalar_t s) {
                            const scalar_t* sb = st + b * kSmootherStatistics * cols;
                            detail::write_entry_features(
                                o + b * channels * nnz + k, nnz, i == j, s, sb[i], sb[j],
                                sb[cols + i], sb[cols + j], fd ? int(fd[i] == fd[j]) : -1);
                          });
  });
  return out;
}

torch::Tensor smoother_values(const SparsePattern& p, const torch::Tensor& column_diagonal,
                              const torch::Tensor& network_output) {
  PINS_CHECK(network_output.dim() == 3 && network_output.size(1) == 1 &&
                 network_output.size(2) == p.nnz(),
             "smoother_values: the network output must be [B, 1, ", p.nnz(), "], got ",
             network_output.sizes());
  if (!torch::GradMode::is_enabled() || !network_output.requires_grad())
    return smoother_values_loop(p, column_diagonal, network_output);
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
                                   const torch::Tensor& values, const torch::Tensor& field) {
  PINS_CHECK(p.rows() == p.cols(), "smoother_apply_model: needs a square pattern, got ",
             p.describe());
  const bool fields = smoother_model_reads_fields(model.in_channels());
  PINS_CHECK(!fields || field.defined(),
             "smoother_apply_model: a multi-field smoother model needs the field of every row");
  const torch::Tensor d = sparse_diagonal(p, values).detach();
  check_smoother_diagonal("smoother_apply_model", d);
  const torch::Tensor stats = smoother_row_statistics(p, values, d);
  const torch::Tensor x = smoother_features(p, values, d, stats, fields ? field : torch::Tensor());
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
