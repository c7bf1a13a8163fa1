// pins sparse operators out of assembled PETSc matrices (pins/petsc/operator.hpp): reading
// each process's rows, checking that a batch shares one pattern and holds finite values, and
// building the ghost-column scatter; values moved straight between pins' order and AIJ arrays.
#include "sparse_from_matrix.hpp"

#include <petsc/private/petscimpl.h>  // PetscObjectStateIncrease, after writing M's arrays
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "pins/core/check.hpp"
// Values are copied into float64 tensors and ghosts scattered through Vecs placed on tensor
// memory: PetscScalar must be a real double (checked there).
#include "pins/petsc/scalar.hpp"

namespace pins::petsc {

namespace {

constexpr PetscInt kNone = PETSC_MAX_INT;

// The lexicographically first of the processes' (a, b, c) triples; kNone where a process
// found nothing. Every process gets the same answer.
PetscErrorCode first_over_processes(MPI_Comm comm, std::array<PetscInt, 3>* t) {
  PetscFunctionBeginUser;
  std::array<PetscInt, 3> mine = *t;
  for (int i = 0; i < 3; ++i) {
    PetscInt best = 0;
    PetscCallMPI(MPI_Allreduce(&mine[size_t(i)], &best, 1, MPIU_INT, MPI_MIN, comm));
    // Processes whose prefix is not the minimum drop out of the later components.
    if (mine[size_t(i)] != best)
      for (int j = i + 1; j < 3; ++j) mine[size_t(j)] = kNone;
    (*t)[size_t(i)] = best;
  }
  PetscFunctionReturn(0);
}

// Whether any process has `flag` set.
PetscErrorCode any_process(MPI_Comm comm, bool flag, bool* any) {
  PetscFunctionBeginUser;
  PetscInt mine = flag ? 1 : 0, all = 0;
  PetscCallMPI(MPI_Allreduce(&mine, &all, 1, MPIU_INT, MPI_MAX, comm));
  *any = all != 0;
  PetscFunctionReturn(0);
}

PetscErrorCode check_matrix(Mat A, size_t k, size_t count, Mat first) {
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)A);
  MatType type;
  PetscCall(MatGetType(A, &type));
  PetscBool has_getrow = PETSC_FALSE;
  PetscCall(MatHasOperation(A, MATOP_GET_ROW, &has_getrow));
  PetscCheck(has_getrow, comm, PETSC_ERR_SUP,
             "pins sparse operator: matrix %zu of %zu has type %s, which gives no row access "
             "(MatGetRow); pins needs an assembled AIJ matrix (MATSEQAIJ, MATMPIAIJ, "
             "DMCreateMatrix)",
             k, count, type);
  // SBAIJ has MatGetRow but refuses it (it stores only the upper triangle): say so in pins'
  // words before PETSc's own error deep inside the row reading.
  PetscBool upper_only = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompareAny((PetscObject)A, &upper_only, MATSEQSBAIJ, MATMPISBAIJ, ""));
  PetscCheck(!upper_only, comm, PETSC_ERR_SUP,
             "pins sparse operator: matrix %zu of %zu has type %s, which stores only the upper "
             "triangle; pins reads whole rows: assemble an AIJ or BAIJ matrix (e.g. "
             "-dm_mat_type aij)",
             k, count, type);
  PetscBool assembled = PETSC_FALSE;
  PetscCall(MatAssembled(A, &assembled));
  PetscCheck(assembled, comm, PETSC_ERR_ARG_WRONGSTATE,
             "pins sparse operator: matrix %zu of %zu is not assembled; call MatAssemblyBegin/End "
             "first",
             k, count);
  PetscInt M, N;
  PetscCall(MatGetSize(A, &M, &N));
  PetscCheck(M == N, comm, PETSC_ERR_ARG_SIZ,
             "pins sparse operator: matrix %zu of %zu is %" PetscInt_FMT " x %" PetscInt_FMT
             "; an operator on fields must be square",
             k, count, M, N);
  PetscInt rs, re, cs, ce;
  PetscCall(MatGetOwnershipRange(A, &rs, &re));
  PetscCall(MatGetOwnershipRangeColumn(A, &cs, &ce));
  bool bad_layout = false;
  PetscCall(any_process(comm, rs != cs || re != ce, &bad_layout));
  PetscCheck(!bad_layout, comm, PETSC_ERR_ARG_INCOMP,
             "pins sparse operator: matrix %zu of %zu has different row and column layouts; "
             "each process must own the same rows as columns (as DMCreateMatrix gives)",
             k, count);
  if (k > 0) {
    PetscInt M0, N0, rs0, re0;
    PetscCall(MatGetSize(first, &M0, &N0));
    PetscCheck(M == M0 && N == N0, comm, PETSC_ERR_ARG_SIZ,
               "pins sparse operator: matrix %zu of %zu is %" PetscInt_FMT " x %" PetscInt_FMT
               " but matrix 0 is %" PetscInt_FMT " x %" PetscInt_FMT
               "; a batch needs one size and pattern",
               k, count, M, N, M0, N0);
    PetscCall(MatGetOwnershipRange(first, &rs0, &re0));
    bool moved = false;
    PetscCall(any_process(comm, rs != rs0 || re != re0, &moved));
    PetscCheck(!moved, comm, PETSC_ERR_ARG_INCOMP,
               "pins sparse operator: matrix %zu of %zu is distributed over the processes "
               "differently from matrix 0; a batch needs one layout",
               k, count);
    PetscMPIInt same = MPI_UNEQUAL;
    PetscCallMPI(MPI_Comm_compare(comm, PetscObjectComm((PetscObject)first), &same));
    PetscCheck(same == MPI_IDENT || same == MPI_CONGRUENT, comm, PETSC_ERR_ARG_NOTSAMECOMM,
               "pins sparse operator: matrix %zu of %zu lives on another communicator than "
               "matrix 0",
               k, count);
  }
  PetscFunctionReturn(0);
}

// The blocks of a plain SEQAIJ (count 1) or MPIAIJ (count 2: diagonal block with local
// columns, off-diagonal block with columns compressed to `garray`, its ghosts in increasing
// global order) and their row arrays; `count` 0 for any other type.
struct AijBlocks {
  Mat blocks[2] = {nullptr, nullptr};
  const PetscInt* ia[2] = {nullptr, nullptr};
  const PetscInt* ja[2] = {nullptr, nullptr};
  const PetscInt* garray = nullptr;
  PetscInt ghosts = 0;  // columns of the off-diagonal block
  PetscInt rows = 0;    // local rows
  int count = 0;
};

PetscErrorCode get_aij_blocks(Mat M, AijBlocks* a) {
  PetscFunctionBeginUser;
  *a = AijBlocks{};
  PetscBool seq, mpi;
  PetscCall(PetscObjectTypeCompare((PetscObject)M, MATSEQAIJ, &seq));
  PetscCall(PetscObjectTypeCompare((PetscObject)M, MATMPIAIJ, &mpi));
  if (!seq && !mpi) PetscFunctionReturn(0);
  a->blocks[0] = M;
  if (mpi) PetscCall(MatMPIAIJGetSeqAIJ(M, &a->blocks[0], &a->blocks[1], &a->garray));
  const int count = mpi ? 2 : 1;
  PetscInt rows[2] = {0, 0};
  PetscBool done[2] = {PETSC_FALSE, PETSC_FALSE};
  int got = 0;
  for (int b = 0; b < count; ++b, ++got) {
    PetscCall(MatGetRowIJ(a->blocks[b], 0, PETSC_FALSE, PETSC_FALSE, &rows[b], &a->ia[b],
                          &a->ja[b], &done[b]));
    if (!done[b]) break;
  }
  if (mpi) PetscCall(MatGetSize(a->blocks[1], nullptr, &a->ghosts));
  a->rows = rows[0];
  a->count = got == count && (count == 1 || rows[1] == rows[0]) ? count : 0;
  if (!a->count) {  // hand back what was taken
    for (int b = 0; b < got; ++b)
      PetscCall(MatRestoreRowIJ(a->blocks[b], 0, PETSC_FALSE, PETSC_FALSE, &rows[b], &a->ia[b],
                                &a->ja[b], &done[b]));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode restore_aij_blocks(AijBlocks* a) {
  PetscFunctionBeginUser;
  for (int b = 0; b < a->count; ++b) {
    PetscInt rows;
    PetscBool done;
    PetscCall(MatRestoreRowIJ(a->blocks[b], 0, PETSC_FALSE, PETSC_FALSE, &rows, &a->ia[b],
                              &a->ja[b], &done));
  }
  a->count = 0;
  PetscFunctionReturn(0);
}

// Calls f(blocks, ia, count) with the blocks of a plain SEQAIJ (count 1) or MPIAIJ (count 2:
// diagonal, off-diagonal) matrix and their row pointers, when every local row has the length
// p gives it (read_aij_values/write_aij_values in the header say why that is enough);
// *matched says whether it did.
template <class F>
PetscErrorCode with_aij_rows(Mat M, const SparsePattern& p, bool* matched, F&& f) {
  PetscFunctionBeginUser;
  *matched = false;
  AijBlocks a;
  PetscCall(get_aij_blocks(M, &a));
  const int64_t n = p.rows();
  const int64_t* ptr = p.row_ptr().data_ptr<int64_t>();
  bool fits = a.count > 0 && a.rows == n;
  for (int64_t i = 0; fits && i < n; ++i) {
    PetscInt len = a.ia[0][i + 1] - a.ia[0][i];
    if (a.count == 2) len += a.ia[1][i + 1] - a.ia[1][i];
    fits = len == ptr[i + 1] - ptr[i];
  }
  PetscErrorCode ierr = fits ? f(a.blocks, a.ia, a.count) : PetscErrorCode(0);
  PetscCall(restore_aij_blocks(&a));
  PetscCall(ierr);
  *matched = fits;
  PetscFunctionReturn(0);
}

// The two checks every reading ends with, reported on every process alike (one process's
// bad row must not leave the others waiting): the first row with unsorted or repeated
// columns, (0, global row, 0); the first NaN or Inf, (matrix, global row, global column).
PetscErrorCode check_sorted(MPI_Comm comm, std::array<PetscInt, 3> unsorted) {
  PetscFunctionBeginUser;
  PetscCall(first_over_processes(comm, &unsorted));
  PetscCheck(unsorted[0] == kNone, comm, PETSC_ERR_ARG_WRONG,
             "pins sparse operator: row %" PetscInt_FMT
             " of matrix 0 has unsorted or repeated columns; pins needs an assembled AIJ "
             "matrix (sorted rows)",
             unsorted[1]);
  PetscFunctionReturn(0);
}

PetscErrorCode check_finite(MPI_Comm comm, std::array<PetscInt, 3> nonfinite, size_t count) {
  PetscFunctionBeginUser;
  PetscCall(first_over_processes(comm, &nonfinite));
  PetscCheck(nonfinite[0] == kNone, comm, PETSC_ERR_FP,
             "pins sparse operator: matrix %" PetscInt_FMT
             " of %zu has a NaN or Inf entry at "
             "row %" PetscInt_FMT ", column %" PetscInt_FMT "; the operator must be finite",
             nonfinite[0], count, nonfinite[1], nonfinite[2]);
  PetscFunctionReturn(0);
}

// Whether b has a's structure exactly (the same row arrays and ghosts).
bool same_structure(const AijBlocks& a, const AijBlocks& b, PetscInt n) {
  if (a.count == 0 || a.count != b.count || a.ghosts != b.ghosts) return false;
  if (a.ghosts && !std::equal(a.garray, a.garray + a.ghosts, b.garray)) return false;
  for (int k = 0; k < a.count; ++k) {
    if (!std::equal(a.ia[k], a.ia[k] + n + 1, b.ia[k])) return false;
    if (!std::equal(a.ja[k], a.ja[k] + a.ia[k][n], b.ja[k])) return false;
  }
  return true;
}

// read_local_rows for a batch of plain AIJ matrices of one structure, straight from their
// arrays: the AIJ layout already is pins' local one (a row's owned columns, then its ghosts,
// each ascending; the ghosts numbered by the off-diagonal block's compressed columns, which
// are the sorted off-process columns of these rows). The row-by-row MatGetRow reading below
// does the same for any matrix type at several times the cost (a third of a learned level
// smoother's set-up at 65³ was spent there). Collective, like read_local_rows, and taken by
// all processes or none.
// `rstart`, `n`, `N`: matrix 0's first local row, local rows and global size.
PetscErrorCode read_aij_rows(const std::vector<Mat>& mats, const std::vector<AijBlocks>& aij,
                             PetscInt rstart, PetscInt n, PetscInt N, LocalRows* out) {
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)mats[0]);
  const AijBlocks& a = aij[0];
  const bool two = a.count == 2;
  const int64_t nnz = int64_t(a.ia[0][n]) + (two ? int64_t(a.ia[1][n]) : 0);
  torch::Tensor row_tensor, col_tensor;
  PetscCallCXX(row_tensor = torch::empty({int64_t(n) + 1}, torch::kInt64));
  PetscCallCXX(col_tensor = torch::empty({nnz}, torch::kInt64));
  int64_t* row_ptr = row_tensor.data_ptr<int64_t>();
  int64_t* col_idx = col_tensor.data_ptr<int64_t>();
  std::array<PetscInt, 3> unsorted{kNone, kNone, kNone};
  row_ptr[0] = 0;
  for (PetscInt i = 0; i < n; ++i) {
    int64_t k = row_ptr[i];
    for (int b = 0; b < a.count; ++b) {
      const int64_t shift = b == 0 ? 0 : int64_t(n);
      const int64_t first = k;
      for (PetscInt j = a.ia[b][i]; j < a.ia[b][i + 1]; ++j, ++k) {
        col_idx[k] = shift + a.ja[b][j];
        if (k > first && col_idx[k] <= col_idx[k - 1] && unsorted[0] == kNone)
          unsorted = {0, rstart + i, 0};
      }
    }
    row_ptr[i + 1] = k;
  }
  PetscCall(check_sorted(comm, unsorted));

  const int64_t B = static_cast<int64_t>(mats.size());
  torch::Tensor values;
  PetscCallCXX(values = torch::empty({B, nnz}, torch::kFloat64));
  double* v = values.data_ptr<double>();
  std::array<PetscInt, 3> nonfinite{kNone, kNone, kNone};
  for (int64_t b = 0; b < B; ++b) {
    const AijBlocks& m = aij[size_t(b)];
    const PetscScalar* arr[2] = {nullptr, nullptr};
    for (int k = 0; k < m.count; ++k) PetscCall(MatSeqAIJGetArrayRead(m.blocks[k], &arr[k]));
    double* vb = v + b * nnz;
    for (PetscInt i = 0; i < n; ++i) {
      double* row = vb + row_ptr[i];
      for (int k = 0; k < m.count; ++k) {
        const PetscInt j0 = m.ia[k][i], j1 = m.ia[k][i + 1];
        std::copy(arr[k] + j0, arr[k] + j1, row);
        for (PetscInt j = j0; j < j1 && nonfinite[0] == kNone; ++j)
          if (!std::isfinite(arr[k][j]))
            nonfinite = {PetscInt(b), rstart + i,
                         k == 0 ? rstart + m.ja[0][j] : m.garray[m.ja[1][j]]};
        row += j1 - j0;
      }
    }
    for (int k = 0; k < m.count; ++k) PetscCall(MatSeqAIJRestoreArrayRead(m.blocks[k], &arr[k]));
  }
  PetscCall(check_finite(comm, nonfinite, mats.size()));

  PetscCallCXX(out->pattern = SparsePattern(n, int64_t(n) + int64_t(a.ghosts), row_tensor,
                                            col_tensor));
  out->values = values;
  out->n_own = n;
  out->global_size = N;
  PetscCallCXX(out->ghosts.assign(a.garray, a.garray + a.ghosts));
  PetscFunctionReturn(0);
}

}  // namespace

PetscErrorCode read_local_rows(const std::vector<Mat>& mats, LocalRows* out) {
  PetscFunctionBeginUser;
  PetscCheck(!mats.empty(), PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ,
             "pins sparse operator: no matrices given; expected at least one");
  for (size_t k = 0; k < mats.size(); ++k) {
    PetscCheck(mats[k], PETSC_COMM_SELF, PETSC_ERR_ARG_NULL,
               "pins sparse operator: matrix %zu of %zu is NULL", k, mats.size());
    PetscCall(check_matrix(mats[k], k, mats.size(), mats[0]));
  }
  Mat A = mats[0];
  MPI_Comm comm = PetscObjectComm((PetscObject)A);
  PetscInt rstart, rend, N;
  PetscCall(MatGetOwnershipRange(A, &rstart, &rend));
  PetscCall(MatGetSize(A, &N, nullptr));
  const PetscInt n = rend - rstart;
  {
    // The AIJ arrays when every matrix on every process is plain AIJ of matrix 0's structure
    // (an MPIAIJ with ghosts needs its garray to name them).
    std::vector<AijBlocks> aij(mats.size());
    bool fast = true;
    for (size_t k = 0; k < mats.size(); ++k) {
      PetscCall(get_aij_blocks(mats[k], &aij[k]));
      fast = fast && aij[k].count > 0 && (aij[k].ghosts == 0 || aij[k].garray) &&
             (k == 0 || same_structure(aij[0], aij[k], n));
    }
    PetscInt all = fast ? 1 : 0;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &all, 1, MPIU_INT, MPI_MIN, comm));
    PetscErrorCode ierr = all ? read_aij_rows(mats, aij, rstart, n, N, out) : PetscErrorCode(0);
    for (auto& a : aij) PetscCall(restore_aij_blocks(&a));
    PetscCall(ierr);
    if (all) PetscFunctionReturn(0);
  }

  // Matrix 0 fixes the pattern: global columns per row (as PETSc stores them, sorted).
  std::vector<int64_t> row_ptr{0};
  std::vector<PetscInt> gcols;
  for (PetscInt r = rstart; r < rend; ++r) {
    PetscInt nc;
    const PetscInt* cols;
    PetscCall(MatGetRow(A, r, &nc, &cols, nullptr));
    PetscCallCXX(gcols.insert(gcols.end(), cols, cols + nc));
    PetscCall(MatRestoreRow(A, r, &nc, &cols, nullptr));
    PetscCallCXX(row_ptr.push_back(static_cast<int64_t>(gcols.size())));
  }
  // Ghost columns: the off-process ones, increasing; local index n + position.
  std::vector<PetscInt> ghosts;
  for (PetscInt c : gcols)
    if (c < rstart || c >= rend) PetscCallCXX(ghosts.push_back(c));
  std::sort(ghosts.begin(), ghosts.end());
  ghosts.erase(std::unique(ghosts.begin(), ghosts.end()), ghosts.end());
  auto local_of = [&](PetscInt c) -> int64_t {
    if (c >= rstart && c < rend) return c - rstart;
    return n + (std::lower_bound(ghosts.begin(), ghosts.end(), c) - ghosts.begin());
  };
  // Within a row the local indices must increase. PETSc's columns are sorted, so a row reads
  // [ghosts below rstart][owned][ghosts at or above rend], while local numbering puts the
  // low ghosts after the owned columns: the k-th local entry of a row with `low` low ghosts
  // and `owned` owned columns is its PETSc entry source(k) — a rotation, no sort, no
  // per-entry permutation array (this runs at every set-up of a PC, on every level).
  std::vector<int32_t> low(size_t(n), 0), owned_count(size_t(n), 0);
  const auto source = [&](PetscInt i, int64_t k) -> int64_t {  // k: position within the row
    const int64_t lo = low[size_t(i)], ow = owned_count[size_t(i)];
    return k < ow ? lo + k : (k < ow + lo ? k - ow : k);
  };
  const size_t nnz = gcols.size();
  torch::Tensor col_tensor;
  PetscCallCXX(col_tensor = torch::empty({static_cast<int64_t>(nnz)}, torch::kInt64));
  int64_t* col_idx = col_tensor.data_ptr<int64_t>();
  std::array<PetscInt, 3> unsorted{kNone, kNone, kNone};  // the first such row, as (0, row, 0)
  for (PetscInt i = 0; i < n && unsorted[0] == kNone; ++i) {
    const int64_t k0 = row_ptr[size_t(i)], k1 = row_ptr[size_t(i) + 1];
    int32_t lo = 0, ow = 0;
    for (int64_t k = k0; k < k1; ++k) {
      lo += gcols[size_t(k)] < rstart;
      ow += gcols[size_t(k)] >= rstart && gcols[size_t(k)] < rend;
    }
    low[size_t(i)] = lo;
    owned_count[size_t(i)] = ow;
    for (int64_t k = 0; k < k1 - k0; ++k) {
      col_idx[k0 + k] = local_of(gcols[size_t(k0 + source(i, k))]);
      if (k > 0 && col_idx[k0 + k] <= col_idx[k0 + k - 1]) unsorted = {0, rstart + i, 0};
    }
  }
  PetscCall(check_sorted(comm, unsorted));

  // Values of every matrix in local order; the first pattern difference and the first
  // non-finite entry are reported as (matrix, global row, global column).
  const int64_t B = static_cast<int64_t>(mats.size());
  torch::Tensor values;
  PetscCallCXX(values = torch::empty({B, static_cast<int64_t>(nnz)}, torch::kFloat64));
  double* v = values.data_ptr<double>();
  std::array<PetscInt, 3> mismatch{kNone, kNone, kNone}, nonfinite{kNone, kNone, kNone};
  for (int64_t b = 0; b < B && mismatch[0] == kNone; ++b) {
    for (PetscInt i = 0; i < n && mismatch[0] == kNone; ++i) {
      const PetscInt r = rstart + i;
      const int64_t k0 = row_ptr[size_t(i)], k1 = row_ptr[size_t(i) + 1];
      PetscInt nc;
      const PetscInt* cols;
      const PetscScalar* vals;
      PetscCall(MatGetRow(mats[size_t(b)], r, &nc, &cols, &vals));
      bool same = nc == k1 - k0;
      for (PetscInt k = 0; same && k < nc; ++k) same = cols[k] == gcols[size_t(k0 + k)];
      if (!same) {
        mismatch = {PetscInt(b), r, 0};
      } else {
        for (int64_t k = 0; k < k1 - k0; ++k) {
          const int64_t from = source(i, k);
          const double x = vals[from];
          v[b * int64_t(nnz) + k0 + k] = x;
          if (!std::isfinite(x) && nonfinite[0] == kNone)
            nonfinite = {PetscInt(b), r, gcols[size_t(k0 + from)]};
        }
      }
      PetscCall(MatRestoreRow(mats[size_t(b)], r, &nc, &cols, &vals));
    }
  }
  PetscCall(first_over_processes(comm, &mismatch));
  PetscCheck(mismatch[0] == kNone, comm, PETSC_ERR_ARG_INCOMP,
             "pins sparse operator: matrix %" PetscInt_FMT
             " of %zu has a different nonzero "
             "pattern from matrix 0 (first difference in global row %" PetscInt_FMT
             "); a batch needs one pattern",
             mismatch[0], mats.size(), mismatch[1]);
  PetscCall(check_finite(comm, nonfinite, mats.size()));

  const int64_t cols_local = n + static_cast<int64_t>(ghosts.size());
  PetscCallCXX(out->pattern = SparsePattern(n, cols_local, torch::tensor(row_ptr, torch::kInt64),
                                            col_tensor));
  out->values = values;
  out->n_own = n;
  out->global_size = N;
  out->ghosts = std::move(ghosts);
  PetscFunctionReturn(0);
}

PetscErrorCode write_aij_values(Mat M, const SparsePattern& p, const double* v, bool* written) {
  PetscFunctionBeginUser;
  const int64_t* ptr = p.row_ptr().data_ptr<int64_t>();
  PetscCall(with_aij_rows(M, p, written, [&](Mat* blocks, const PetscInt** ia, int count) {
    PetscFunctionBeginUser;
    PetscScalar* a[2] = {nullptr, nullptr};
    for (int b = 0; b < count; ++b) PetscCall(MatSeqAIJGetArrayWrite(blocks[b], &a[b]));
    for (int64_t i = 0; i < p.rows(); ++i) {
      const PetscInt own = ia[0][i + 1] - ia[0][i];
      std::copy(v + ptr[i], v + ptr[i] + own, a[0] + ia[0][i]);
      if (count == 2) std::copy(v + ptr[i] + own, v + ptr[i + 1], a[1] + ia[1][i]);
    }
    for (int b = 0; b < count; ++b) PetscCall(MatSeqAIJRestoreArrayWrite(blocks[b], &a[b]));
    PetscFunctionReturn(0);
  }));
  // The blocks' states moved with their arrays; M's own must too (MatMult caches by it).
  if (*written) PetscCall(PetscObjectStateIncrease((PetscObject)M));
  PetscFunctionReturn(0);
}

PetscErrorCode read_aij_values(Mat P, const SparsePattern& p, torch::Tensor* values) {
  PetscFunctionBeginUser;
  *values = torch::Tensor();
  torch::Tensor v;
  PetscCallCXX(v = torch::empty({1, p.nnz()}, torch::kFloat64));
  double* out = v.data_ptr<double>();
  const int64_t* ptr = p.row_ptr().data_ptr<int64_t>();
  bool read = false;
  PetscCall(with_aij_rows(P, p, &read, [&](Mat* blocks, const PetscInt** ia, int count) {
    PetscFunctionBeginUser;
    const PetscScalar* a[2] = {nullptr, nullptr};
    for (int b = 0; b < count; ++b) PetscCall(MatSeqAIJGetArrayRead(blocks[b], &a[b]));
    for (int64_t i = 0; i < p.rows(); ++i) {
      const PetscInt own = ia[0][i + 1] - ia[0][i];
      std::copy(a[0] + ia[0][i], a[0] + ia[0][i + 1], out + ptr[i]);
      if (count == 2) std::copy(a[1] + ia[1][i], a[1] + ia[1][i + 1], out + ptr[i] + own);
    }
    for (int b = 0; b < count; ++b) PetscCall(MatSeqAIJRestoreArrayRead(blocks[b], &a[b]));
    PetscFunctionReturn(0);
  }));
  if (read && std::all_of(out, out + p.nnz(), [](double x) { return std::isfinite(x); }))
    *values = v;
  PetscFunctionReturn(0);
}

PetscErrorCode sparse_operator_from_matrices(const std::vector<Mat>& mats,
                                             std::shared_ptr<const SparseOperator>* op) {
  PetscFunctionBeginUser;
  if (!mats.empty() && mats[0]) {
    PetscMPIInt size;
    MPI_Comm comm = PetscObjectComm((PetscObject)mats[0]);
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCheck(size == 1, comm, PETSC_ERR_ARG_WRONG,
               "pins::petsc::sparse_operator_from_matrices needs matrices on one process, got "
               "%d; use distributed_operator_from_matrices (or operator_from_matrices)",
               size);
  }
  LocalRows rows;
  PetscCall(read_local_rows(mats, &rows));
  PetscCallCXX(*op = std::make_shared<const SparseOperator>(rows.pattern, rows.values));
  PetscFunctionReturn(0);
}

PetscErrorCode distributed_operator_from_matrices(
    const std::vector<Mat>& mats, std::shared_ptr<const DistributedSparseOperator>* op) {
  PetscFunctionBeginUser;
  LocalRows rows;
  PetscCall(read_local_rows(mats, &rows));
  auto state = std::make_shared<DistributedSparseOperator::State>();
  state->comm = PetscObjectComm((PetscObject)mats[0]);
  state->pattern = rows.pattern;
  state->n_own = rows.n_own;
  state->global_size = rows.global_size;
  state->ghosts = rows.ghosts;
  // Vectors without arrays of their own: each call places tensor memory in them.
  PetscCall(
      VecCreateMPIWithArray(state->comm, 1, rows.n_own, rows.global_size, nullptr, &state->owned));
  const PetscInt ng = static_cast<PetscInt>(rows.ghosts.size());
  PetscCall(VecCreateSeqWithArray(PETSC_COMM_SELF, 1, ng, nullptr, &state->ghost));
  IS is;
  PetscCall(ISCreateGeneral(PETSC_COMM_SELF, ng, rows.ghosts.data(), PETSC_COPY_VALUES, &is));
  PetscCall(VecScatterCreate(state->owned, is, state->ghost, nullptr, &state->scatter));
  PetscCall(ISDestroy(&is));
  PetscCallCXX(*op = std::make_shared<const DistributedSparseOperator>(state, rows.values));
  PetscFunctionReturn(0);
}

PetscErrorCode operator_from_matrices(const std::vector<Mat>& mats, OperatorPtr* op) {
  PetscFunctionBeginUser;
  PetscMPIInt size = 1;
  if (!mats.empty() && mats[0])
    PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject)mats[0]), &size));
  if (size == 1) {
    std::shared_ptr<const SparseOperator> s;
    PetscCall(sparse_operator_from_matrices(mats, &s));
    *op = s;
  } else {
    std::shared_ptr<const DistributedSparseOperator> d;
    PetscCall(distributed_operator_from_matrices(mats, &d));
    *op = d;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode operator_from_matrix(Mat A, OperatorPtr* op) {
  PetscFunctionBeginUser;
  PetscCall(operator_from_matrices(std::vector<Mat>{A}, op));
  PetscFunctionReturn(0);
}

}  // namespace pins::petsc
