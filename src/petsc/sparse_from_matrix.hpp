#pragma once
// Private to pins::petsc: the local CSR rows of a batch of PETSc matrices and the state a
// DistributedSparseOperator shares with its autograd nodes (the scatter of ghost values).
#include <petscmat.h>
#include <torch/types.h>

#include <vector>

#include "pins/core/sparse_operator.hpp"
#include "pins/petsc/operator.hpp"

namespace pins::petsc {

/// This process's rows of a batch of matrices with one pattern.
struct LocalRows {
  SparsePattern pattern;         // rows x (n_own + ghosts.size()), owned columns first
  torch::Tensor values;          // [B, nnz] float64
  int64_t n_own = 0;             // rows = owned columns of this process
  int64_t global_size = 0;       // N of the N x N matrices
  std::vector<PetscInt> ghosts;  // global indices of the ghost columns, increasing
};

/// Reads and checks the local rows of `mats` (collective; see operator_from_matrices for the
/// errors, raised on every process with the same message).
PetscErrorCode read_local_rows(const std::vector<Mat>& mats, LocalRows* out);

/// A row of read_local_rows' pattern is [owned columns][ghost columns], each ascending: the
/// layout of PETSc's AIJ storage (the diagonal block's row, then the off-diagonal block's).
/// So for a plain SEQAIJ/MPIAIJ matrix with that pattern, values move straight between its
/// arrays and pins' order, two copies per row (not collective).
///
/// P's values [1, nnz] in the order of `p`, read_local_rows' pattern of P with P's nonzero
/// pattern unchanged since; undefined when P is not plain AIJ with p's row lengths or a value
/// is not finite (read_local_rows then says where).
PetscErrorCode read_aij_values(Mat P, const SparsePattern& p, torch::Tensor* values);
/// Writes v (nnz values in the order of `p`) into M's arrays; *written is false, and nothing
/// is touched, when M is not plain AIJ with p's row lengths.
PetscErrorCode write_aij_values(Mat M, const SparsePattern& p, const double* v, bool* written);

struct DistributedSparseOperator::State {
  MPI_Comm comm = MPI_COMM_NULL;
  SparsePattern pattern;
  int64_t n_own = 0, global_size = 0;
  std::vector<PetscInt> ghosts;
  Vec owned = nullptr;           // the columns' global layout; arrays placed per call
  Vec ghost = nullptr;           // sequential, ghosts.size() entries; arrays placed per call
  VecScatter scatter = nullptr;  // owned (global) -> ghost

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State();

  /// ghost[b] = u[b] at the ghost columns for u [B, n_own] float64 contiguous (forward
  /// scatter, INSERT_VALUES). Throws pins::Error with PETSc's message on failure.
  torch::Tensor gather_ghosts(const torch::Tensor& u) const;
  /// owned[b] += the ghost contributions g[b] [B, ghosts] on their owners (reverse scatter,
  /// ADD_VALUES); owned [B, n_own] float64 contiguous, updated in place.
  void add_ghosts(const torch::Tensor& g, torch::Tensor& owned) const;
};

}  // namespace pins::petsc
