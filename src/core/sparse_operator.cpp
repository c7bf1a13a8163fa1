// SparsePattern (validation, transpose pattern, diagonal index) and SparseOperator.
#include "pins/core/sparse_operator.hpp"

#include <torch/torch.h>

#include <limits>
#include <sstream>

#include "pins/core/check.hpp"

namespace pins {

namespace {

// The index arrays are validated and transposed on the host, then live where the caller's
// tensors were (Kokkos' memory space).
torch::Tensor host_index(const torch::Tensor& t, const char* name) {
  PINS_CHECK(t.defined(), "SparsePattern: ", name, " is an undefined tensor");
  PINS_CHECK(t.dim() == 1, "SparsePattern: ", name, " must be one-dimensional, got shape ",
             t.sizes());
  PINS_CHECK(!torch::isFloatingType(t.scalar_type()) && !torch::isComplexType(t.scalar_type()) &&
                 t.scalar_type() != torch::kBool,
             "SparsePattern: ", name, " must be an integer tensor, got ", t.scalar_type());
  return t.to(torch::kCPU, torch::kInt64).contiguous();
}

}  // namespace

SparsePattern::SparsePattern()
    : row_ptr_(torch::zeros({1}, torch::kInt64)),
      col_idx_(torch::empty({0}, torch::kInt32)),
      t_ptr_(torch::zeros({1}, torch::kInt64)),
      t_row_(torch::empty({0}, torch::kInt32)),
      t_perm_(torch::empty({0}, torch::kInt64)),
      diag_(torch::empty({0}, torch::kInt64)) {}

SparsePattern::SparsePattern(int64_t rows, int64_t cols, torch::Tensor row_ptr,
                             torch::Tensor col_idx)
    : rows_(rows), cols_(cols) {
  PINS_CHECK(rows >= 0 && cols >= 0, "SparsePattern: rows and cols must be >= 0, got ", rows, " x ",
             cols);
  PINS_CHECK(
      cols <= std::numeric_limits<int32_t>::max() && rows <= std::numeric_limits<int32_t>::max(),
      "SparsePattern: at most 2^31-1 rows and columns per process (int32 indices), got ", rows,
      " x ", cols);
  const torch::Device device = row_ptr.defined() ? row_ptr.device() : torch::Device(torch::kCPU);
  const torch::Tensor rp = host_index(row_ptr, "row_ptr");
  const torch::Tensor ci = host_index(col_idx, "col_idx");
  PINS_CHECK(rp.numel() == rows + 1, "SparsePattern: row_ptr must have rows + 1 = ", rows + 1,
             " entries, got ", rp.numel());
  const int64_t nnz = ci.numel();
  const int64_t* r = rp.data_ptr<int64_t>();
  const int64_t* c = ci.data_ptr<int64_t>();
  PINS_CHECK(r[0] == 0, "SparsePattern: row_ptr[0] must be 0, got ", r[0]);
  PINS_CHECK(r[rows] == nnz, "SparsePattern: row_ptr[rows] = ", r[rows],
             " must equal the number of column indices, ", nnz);
  for (int64_t i = 0; i < rows; ++i) {
    PINS_CHECK(r[i + 1] >= r[i], "SparsePattern: row_ptr must not decrease, but row_ptr[", i + 1,
               "] = ", r[i + 1], " < row_ptr[", i, "] = ", r[i]);
    for (int64_t k = r[i]; k < r[i + 1]; ++k) {
      PINS_CHECK(c[k] >= 0 && c[k] < cols, "SparsePattern: row ", i, " has column index ", c[k],
                 " outside [0, ", cols, ")");
      PINS_CHECK(k == r[i] || c[k] > c[k - 1], "SparsePattern: the column indices of row ", i,
                 " must be strictly increasing (sorted, no duplicates), got ", c[k - 1], " then ",
                 c[k]);
    }
  }

  // Transpose as a gather: count per column, prefix sum, then fill in row order, so each
  // column's entries are sorted by row.
  std::vector<int64_t> t_ptr(size_t(cols) + 1, 0);
  for (int64_t k = 0; k < nnz; ++k) ++t_ptr[size_t(c[k]) + 1];
  for (int64_t j = 0; j < cols; ++j) t_ptr[size_t(j) + 1] += t_ptr[size_t(j)];
  torch::Tensor t_row = torch::empty({nnz}, torch::kInt32);
  torch::Tensor t_perm = torch::empty({nnz}, torch::kInt64);
  torch::Tensor diag = torch::full({rows}, -1, torch::kInt64);
  {
    std::vector<int64_t> next(t_ptr.begin(), t_ptr.end() - 1);
    int32_t* tr = t_row.data_ptr<int32_t>();
    int64_t* tp = t_perm.data_ptr<int64_t>();
    int64_t* d = diag.data_ptr<int64_t>();
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t k = r[i]; k < r[i + 1]; ++k) {
        const int64_t slot = next[size_t(c[k])]++;
        tr[slot] = static_cast<int32_t>(i);
        tp[slot] = k;
        if (c[k] == i) d[i] = k;
      }
  }
  row_ptr_ = rp.to(device);
  col_idx_ = ci.to(torch::kInt32).to(device);
  t_ptr_ = torch::tensor(t_ptr, torch::kInt64).to(device);
  t_row_ = t_row.to(device);
  t_perm_ = t_perm.to(device);
  diag_ = diag.to(device);
}

bool SparsePattern::operator==(const SparsePattern& o) const {
  if (rows_ != o.rows_ || cols_ != o.cols_ || nnz() != o.nnz()) return false;
  if (row_ptr_.data_ptr() == o.row_ptr_.data_ptr() && col_idx_.data_ptr() == o.col_idx_.data_ptr())
    return true;  // copies of one pattern
  return torch::equal(row_ptr_, o.row_ptr_) && torch::equal(col_idx_, o.col_idx_);
}

std::string SparsePattern::describe() const {
  std::ostringstream os;
  os << rows_ << " x " << cols_ << ", " << nnz() << " nonzeros";
  return os.str();
}

torch::Tensor SparsePattern::row_indices() const {
  const torch::Tensor counts = row_ptr_.slice(0, 1) - row_ptr_.slice(0, 0, rows_);
  return torch::repeat_interleave(torch::arange(rows_, row_ptr_.options()), counts);
}

SparsePattern SparsePattern::to(torch::Device device) const {
  SparsePattern p = *this;
  for (torch::Tensor* t : {&p.row_ptr_, &p.col_idx_, &p.t_ptr_, &p.t_row_, &p.t_perm_, &p.diag_})
    *t = t->to(device);
  return p;
}

torch::Tensor sparse_diagonal(const SparsePattern& p, const torch::Tensor& values) {
  check_sparse_inputs("pins::sparse_diagonal", p, values, {});
  const int64_t n = std::min(p.rows(), p.cols());
  const torch::Tensor idx = p.diagonal_index().slice(0, 0, n);
  const torch::Tensor present = idx >= 0;
  // A gather (differentiable in values); rows without a stored diagonal read entry 0 and
  // are masked to 0 (an empty pattern has no entry to read: all zeros then).
  if (p.nnz() == 0) return torch::zeros({values.size(0), n}, values.options());
  const torch::Tensor picked = values.index_select(1, idx.clamp_min(0));
  return picked * present.to(values.scalar_type());
}

void check_sparse_finite(const char* caller, const SparsePattern& p, const torch::Tensor& values) {
  check_sparse_inputs(caller, p, values, {});
  const torch::Tensor bad = torch::logical_not(torch::isfinite(values.detach()));
  if (!bad.any().item<bool>()) return;
  const int64_t flat = bad.flatten().nonzero().index({0, 0}).item<int64_t>();
  const int64_t b = flat / p.nnz(), k = flat % p.nnz();
  const int64_t row = p.row_indices().index({k}).item<int64_t>();
  const int64_t col = p.col_idx().index({k}).item<int64_t>();
  const double v = values.detach().flatten().index({flat}).item<double>();
  PINS_CHECK(false, caller, ": values must be finite, but operator ", b, " has ", v, " at row ",
             row, ", column ", col);
}

SparseOperator::SparseOperator(SparsePattern pattern, torch::Tensor values)
    : pattern_(std::move(pattern)), values_(std::move(values)) {
  PINS_CHECK(pattern_.rows() == pattern_.cols(),
             "SparseOperator: the pattern must be square (fields live on its rows), got ",
             pattern_.describe());
  check_sparse_inputs("SparseOperator", pattern_, values_, {});
}

void SparseOperator::check_finite() const {
  check_sparse_finite("SparseOperator", pattern_, values_);
}

std::string SparseOperator::describe() const {
  std::ostringstream os;
  os << "sparse " << pattern_.describe() << ", batch " << batch() << ", " << values_.scalar_type();
  return os.str();
}

torch::Tensor SparseOperator::apply(const torch::Tensor& u) const {
  return sparse_apply(pattern_, values_, u);
}

torch::Tensor SparseOperator::residual(const torch::Tensor& u, const torch::Tensor& f) const {
  return sparse_residual(pattern_, values_, u, f);
}

torch::Tensor SparseOperator::apply_transpose(const torch::Tensor& v) const {
  return sparse_apply_transpose(pattern_, values_, v);
}

torch::Tensor SparseOperator::diagonal() const {
  return sparse_diagonal(pattern_, values_);
}

std::shared_ptr<const Operator> SparseOperator::with_values(torch::Tensor values) const {
  return std::make_shared<const SparseOperator>(pattern_, std::move(values));
}

std::shared_ptr<const Operator> SparseOperator::to(torch::Device device) const {
  return std::make_shared<const SparseOperator>(pattern_.to(device), values_.to(device));
}

}  // namespace pins
