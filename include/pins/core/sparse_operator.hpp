#pragma once
/// \file
/// General sparse operators: one CSR pattern shared by a batch of value arrays (what a PDE
/// code's assembly gives for many samples: DMPlex finite elements, any AIJ matrix).
///
/// - pins::SparsePattern: rows, cols and the CSR arrays, validated once on construction, plus
///   the transpose pattern (so Aᵀ g is a gather per column on parallel backends: no atomics,
///   deterministic; on one host thread it is a scatter in row order, fused with the values
///   gradient in backward, which adds the same terms in the same order: the same bits);
/// - free functions on a pattern and values [B, nnz]: sparse_apply, sparse_residual (fused
///   A u − f), sparse_apply_transpose and sparse_values_gradient. Kokkos kernels on the
///   tensors' own memory (no copies), float32/float64, LibTorch autograd operations
///   (backward: Aᵀ g for u, g[row]·u[col] for the values, −g for f);
/// - pins::SparseOperator: the pins::Operator over a square pattern.
///
/// Values [1, nnz] broadcast over a batch of fields [B, cols] (one matrix, many fields); the
/// gradient of such values sums over the batch.
///
/// Example:
/// \code
///   auto rp = torch::tensor({0, 2, 4}, torch::kInt64);     // [[2, -1], [-1, 2]]
///   auto ci = torch::tensor({0, 1, 0, 1}, torch::kInt32);
///   pins::SparsePattern p(2, 2, rp, ci);
///   auto A = std::make_shared<pins::SparseOperator>(
///       p, torch::tensor({{2.0, -1.0, -1.0, 2.0}}, torch::kFloat64));
///   auto r = A->residual(u, f);                           // u, f [1, 2]
/// \endcode

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "pins/core/operator.hpp"

namespace pins {

namespace detail {
struct SparsePatternAccess;  // rebuilds a validated pattern from its saved tensors (autograd)
}

/// A CSR nonzero pattern shared by a batch of matrices.
///
/// Index types: row_ptr is int64 (a process may hold more than 2³¹ nonzeros), col_idx is
/// int32: column indices are the bulk of the index traffic of every kernel, and a process's
/// columns (its own plus its ghosts) stay far below 2³¹ (checked).
///
/// Rules (checked on construction, pins::Error naming the first violation): rows, cols ≥ 0;
/// row_ptr has rows + 1 entries, starts at 0, never decreases, ends at nnz = len(col_idx);
/// within each row the column indices lie in [0, cols) and are strictly increasing (sorted,
/// no duplicates: what PETSc's AIJ rows are; it makes the entry (i, j) unique, so the
/// diagonal and pattern comparisons are well defined). The tensors must be on Kokkos' memory
/// space (the CPU for host builds); integer tensors of other dtypes are converted.
///
/// Copies are cheap: they share the index tensors.
class SparsePattern {
 public:
  /// An empty 0 × 0 pattern.
  SparsePattern();
  /// Validates the CSR arrays (see the class comment) and builds the transpose pattern.
  SparsePattern(int64_t rows, int64_t cols, torch::Tensor row_ptr, torch::Tensor col_idx);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t nnz() const { return col_idx_.numel(); }
  /// [rows + 1] int64.
  const torch::Tensor& row_ptr() const { return row_ptr_; }
  /// [nnz] int32.
  const torch::Tensor& col_idx() const { return col_idx_; }
  /// The transpose as a gather: column c's entries are t in [t_ptr[c], t_ptr[c+1]), each in
  /// row t_row[t] at value index t_perm[t]. [cols + 1] int64, [nnz] int32, [nnz] int64.
  const torch::Tensor& transpose_ptr() const { return t_ptr_; }
  const torch::Tensor& transpose_row() const { return t_row_; }
  const torch::Tensor& transpose_perm() const { return t_perm_; }
  /// [rows] int64: the value index of entry (i, i), or −1 where it is not stored (and for
  /// i ≥ cols).
  const torch::Tensor& diagonal_index() const { return diag_; }

  /// Same rows, cols and entries (index arrays equal).
  bool operator==(const SparsePattern& o) const;
  bool operator!=(const SparsePattern& o) const { return !(*this == o); }
  /// "rows x cols, nnz nonzeros"
  std::string describe() const;

  /// The row of every entry, [nnz] int64 (for COO conversions and tests).
  torch::Tensor row_indices() const;

  /// The same pattern with its index tensors on `device` (no validation again).
  SparsePattern to(torch::Device device) const;

 private:
  friend struct detail::SparsePatternAccess;
  int64_t rows_ = 0, cols_ = 0;
  torch::Tensor row_ptr_, col_idx_, t_ptr_, t_row_, t_perm_, diag_;
};

/// A u for values [B or 1, nnz] and u [B, cols]; returns [B, rows]. Differentiable in values
/// and u.
torch::Tensor sparse_apply(const SparsePattern& p, const torch::Tensor& values,
                           const torch::Tensor& u);

/// A u − f in one kernel pass, f [B, rows]; differentiable in values, u and f.
torch::Tensor sparse_residual(const SparsePattern& p, const torch::Tensor& values,
                              const torch::Tensor& u, const torch::Tensor& f);

/// Aᵀ v for v [B, rows]; returns [B, cols]. Not differentiable itself.
torch::Tensor sparse_apply_transpose(const SparsePattern& p, const torch::Tensor& values,
                                     const torch::Tensor& v);

/// ∂⟨g, A u⟩/∂values = g[b, row(k)] · u[b, col(k)] for g [B, rows], u [B, cols]: [B, nnz], or
/// [1, nnz] summed over the batch when `broadcast_values` (the gradient of values [1, nnz]).
torch::Tensor sparse_values_gradient(const SparsePattern& p, const torch::Tensor& g,
                                     const torch::Tensor& u, bool broadcast_values = false);

/// The stored entries (i, i) for i < min(rows, cols): [B, min(rows, cols)], 0 where the
/// pattern has no diagonal entry. Differentiable in values (a gather).
torch::Tensor sparse_diagonal(const SparsePattern& p, const torch::Tensor& values);

/// Throws pins::Error unless values [B or 1, nnz] and the fields u [B, cols], f [B, rows]
/// (undefined ones skipped) are contiguous, of one dtype (float32/float64), on Kokkos' device.
void check_sparse_inputs(const char* caller, const SparsePattern& p, const torch::Tensor& values,
                         const torch::Tensor& u, const torch::Tensor& f = {});

/// Throws pins::Error naming the first non-finite value (batch index, row, column).
void check_sparse_finite(const char* caller, const SparsePattern& p, const torch::Tensor& values);

/// A batch of sparse operators on a square pattern: fields are [B, n].
///
/// The constructor checks shapes, dtype and device but does not scan the values (it sits on
/// training's hot path, e.g. inside a family's operator_for); call check_finite() where the
/// values come from outside. The PETSc conversion (pins/petsc/operator.hpp) checks them.
class SparseOperator final : public Operator {
 public:
  /// values [B, nnz], contiguous float32/float64; held, not copied.
  SparseOperator(SparsePattern pattern, torch::Tensor values);

  const SparsePattern& pattern() const { return pattern_; }
  /// Throws pins::Error naming the first NaN/Inf entry (batch index, row, column).
  void check_finite() const;

  std::string kind() const override { return "sparse"; }
  std::string describe() const override;
  int64_t batch() const override { return values_.size(0); }
  std::vector<int64_t> field_shape() const override { return {pattern_.rows()}; }
  const torch::Tensor& values() const override { return values_; }
  torch::Tensor apply(const torch::Tensor& u) const override;
  torch::Tensor residual(const torch::Tensor& u, const torch::Tensor& f) const override;
  torch::Tensor apply_transpose(const torch::Tensor& v) const override;
  /// [B, n]: the stored diagonal entries, 0 for rows without one.
  torch::Tensor diagonal() const override;
  /// The same pattern with values [B', nnz] (checked like the constructor's).
  std::shared_ptr<const Operator> with_values(torch::Tensor values) const override;
  std::shared_ptr<const Operator> to(torch::Device device) const override;

 private:
  SparsePattern pattern_;
  torch::Tensor values_;
};

}  // namespace pins
