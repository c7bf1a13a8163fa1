#pragma once
/// \file
/// pins operators out of assembled PETSc matrices: any matrix with row access (MATSEQAIJ,
/// MATMPIAIJ, what DMCreateMatrix gives for a DMDA or a DMPlex, hand assembly), one matrix or
/// a batch of matrices with one nonzero pattern (the user's assembly run for many samples).
///
/// - On one process: a pins::SparseOperator (pins/core/sparse_operator.hpp), values [B, nnz].
/// - On several: a pins::petsc::DistributedSparseOperator. Each process holds its own rows;
///   its fields are its part of the PETSc vector, [B, n_local]. Its local CSR pattern has the
///   process's owned columns first, then its ghost columns (the off-process columns its rows
///   touch, in increasing global order); ghost values of u arrive through a PETSc VecScatter.
///
/// Every stored entry is kept, explicit zeros included (DMDA preallocation leaves them), so
/// matrices from one assembly code share one pattern. Values must be finite: the conversion
/// reads every entry anyway and refuses NaN/Inf, naming the matrix, row and column.
///
/// Example:
/// \code
///   pins::OperatorPtr A;
///   PetscCall(pins::petsc::operator_from_matrices({J0, J1, J2}, &A));  // values [3, nnz]
///   auto r = A->residual(u, f);            // u, f [3, n_local]; collective on several processes
/// \endcode

#include <petscmat.h>
#include <petscvec.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "pins/core/operator.hpp"
#include "pins/core/sparse_operator.hpp"

namespace pins::petsc {

/// A batch of square sparse operators distributed by rows as PETSc distributes the matrices.
///
/// apply, residual, apply_transpose and backward passes are collective on the matrices'
/// communicator (they scatter ghost values): every process must call them in the same order,
/// and one object must not be used from two threads at once. Forward: a forward VecScatter
/// (INSERT_VALUES) of the ghost values, then the local CSR kernel on [u_local, u_ghost];
/// backward: the local transpose kernel, then a reverse VecScatter with ADD_VALUES of the
/// ghost part. A LibTorch autograd operation, differentiable in u, f and values().
class DistributedSparseOperator final : public Operator {
 public:
  struct State;  // the local pattern, the scatter and its work vectors (shared with autograd)
  explicit DistributedSparseOperator(std::shared_ptr<State> state, torch::Tensor values);

  /// The communicator of the matrices.
  MPI_Comm comm() const;
  /// Rows x (owned + ghost columns) of this process.
  const SparsePattern& local_pattern() const;
  /// Number of rows (= owned columns) of this process.
  int64_t local_size() const;
  /// Number of ghost columns of this process.
  int64_t ghost_size() const;
  /// The global matrix size.
  int64_t global_size() const;
  /// Global indices of this process's ghost columns, increasing.
  const std::vector<PetscInt>& ghost_columns() const;
  /// The ghost values of u [B, n_local]: [B, ghost_size()] (a forward scatter; collective;
  /// not differentiable). The kernels apply the local pattern to cat(u, ghost_values(u)).
  torch::Tensor ghost_values(const torch::Tensor& u) const;
  /// Throws pins::Error naming the first NaN/Inf entry of this process's values.
  void check_finite() const;

  std::string kind() const override { return "sparse"; }
  /// "sparse distributed N x N on P processes, batch B, local rows x cols, nnz nonzeros"
  std::string describe() const override;
  int64_t batch() const override { return values_.size(0); }
  std::vector<int64_t> field_shape() const override { return {local_size()}; }
  const torch::Tensor& values() const override { return values_; }
  torch::Tensor apply(const torch::Tensor& u) const override;
  torch::Tensor residual(const torch::Tensor& u, const torch::Tensor& f) const override;
  torch::Tensor apply_transpose(const torch::Tensor& v) const override;
  torch::Tensor diagonal() const override;
  /// The same rows and scatter with values [B', nnz_local].
  std::shared_ptr<const Operator> with_values(torch::Tensor values) const override;
  /// Itself on the CPU; any other device is refused (its ghost exchanges are PETSc
  /// VecScatters on host memory).
  std::shared_ptr<const Operator> to(torch::Device device) const override;

 private:
  std::shared_ptr<State> state_;
  torch::Tensor values_;
};

/// One operator for a batch of matrices with the same nonzero pattern (values [B, nnz]):
/// a pins::SparseOperator on a one-process communicator, a DistributedSparseOperator on
/// more. Collective. Errors (PETSc error codes with a one-line message): an empty list, a
/// matrix type without row access (e.g. MATSHELL), an unassembled or non-square matrix,
/// matrices of different sizes, layouts or patterns (naming the matrix and the first
/// differing global row), NaN/Inf entries (naming matrix, row and column).
PetscErrorCode operator_from_matrices(const std::vector<Mat>& mats, OperatorPtr* op);

/// operator_from_matrices for one matrix (B = 1).
PetscErrorCode operator_from_matrix(Mat A, OperatorPtr* op);

/// The one-process form: refuses a communicator with more than one process.
PetscErrorCode sparse_operator_from_matrices(const std::vector<Mat>& mats,
                                             std::shared_ptr<const SparseOperator>* op);

/// The distributed form, on any number of processes (no ghosts on one).
PetscErrorCode distributed_operator_from_matrices(
    const std::vector<Mat>& mats, std::shared_ptr<const DistributedSparseOperator>* op);

}  // namespace pins::petsc
