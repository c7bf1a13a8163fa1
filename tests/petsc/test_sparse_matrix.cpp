// pins sparse operators out of PETSc matrices (pins/petsc/operator.hpp) against PETSc's own
// MatMult/MatMultTranspose: a 2-D DMDA (star and box), a 3-D 7-point DMDA, a DMPlex Q1
// finite-element pattern and a hand-assembled matrix with a random pattern. On 1 and 2
// processes (petsc_unit_tests_mpi2 runs the *SparseFromMatrix* cases), the distributed result
// is also compared with the same matrix assembled on one process. Entries are a function of
// the (natural) global row and column, so every process count assembles the same operator.

#include "doctest_torch.hpp"  // first: keeps glog's CHECK out of doctest's way

#include <petscdmda.h>
#include <petscdmplex.h>
#include <petscfe.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "pins/core/sparse_operator.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/operator.hpp"

namespace {

using pins::petsc::DistributedSparseOperator;
constexpr double kEps = std::numeric_limits<double>::epsilon();

bool throws_with(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
  } catch (const std::exception& e) {
    const bool found = std::string(e.what()).find(needle) != std::string::npos;
    if (!found) MESSAGE("message was: ", e.what());
    return found;
  }
  return false;
}

// A deterministic entry for (row, col) in natural numbering: diagonally dominant, unsymmetric.
double entry(PetscInt row, PetscInt col, double scale = 1.0) {
  if (row == col) return scale * (12.0 + 0.25 * std::sin(0.7 * double(row)));
  return scale * (-0.5 + 0.4 * std::sin(1.3 * double(row) + 0.37 * double(col) + 0.11));
}
double field(PetscInt i, int which) {
  return std::cos(0.9 * double(i) + 1.7 * which) + 0.1 * which;
}

int comm_size(MPI_Comm comm) {
  int s;
  MPI_Comm_size(comm, &s);
  return s;
}

// A matrix plus its natural numbering of the local rows (for DMDAs) and the DM it came from.
struct Problem {
  Mat A = nullptr;
  DM dm = nullptr;
  std::vector<PetscInt> natural;  // natural index of each local row
  ~Problem() {
    MatDestroy(&A);
    DMDestroy(&dm);
  }
};

// Natural indices of the local rows of a DMDA (one dof).
void dmda_natural(Problem& p) {
  AO ao;
  PetscInt rs, re;
  PINS_PETSC_CALL(MatGetOwnershipRange(p.A, &rs, &re));
  p.natural.resize(size_t(re - rs));
  for (PetscInt i = rs; i < re; ++i) p.natural[size_t(i - rs)] = i;
  PINS_PETSC_CALL(DMDAGetAO(p.dm, &ao));
  PINS_PETSC_CALL(AOPetscToApplication(ao, re - rs, p.natural.data()));
}

// DMDA matrix filled through MatSetValuesStencil: every stored coupling gets entry(natural).
void make_dmda(MPI_Comm comm, int dim, DMDAStencilType st, PetscInt n, Problem& p,
               double scale = 1.0) {
  if (dim == 2)
    PINS_PETSC_CALL(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, st, n, n + 3,
                                 PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, &p.dm));
  else
    PINS_PETSC_CALL(DMDACreate3d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, st, n,
                                 n + 1, n + 2, PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, 1, 1,
                                 nullptr, nullptr, nullptr, &p.dm));
  PINS_PETSC_CALL(DMSetUp(p.dm));
  PINS_PETSC_CALL(DMCreateMatrix(p.dm, &p.A));
  PetscInt M, N, P, xs, ys, zs, xm, ym, zm;
  PINS_PETSC_CALL(DMDAGetInfo(p.dm, nullptr, &M, &N, &P, nullptr, nullptr, nullptr, nullptr,
                              nullptr, nullptr, nullptr, nullptr, nullptr));
  PINS_PETSC_CALL(DMDAGetCorners(p.dm, &xs, &ys, &zs, &xm, &ym, &zm));
  auto nat = [&](PetscInt i, PetscInt j, PetscInt k) { return (k * N + j) * M + i; };
  for (PetscInt k = zs; k < zs + zm; ++k)
    for (PetscInt j = ys; j < ys + ym; ++j)
      for (PetscInt i = xs; i < xs + xm; ++i) {
        MatStencil row{}, cols[27];
        PetscScalar vals[27];
        row.i = i, row.j = j, row.k = k;
        int nc = 0;
        for (int dk = (dim == 3 ? -1 : 0); dk <= (dim == 3 ? 1 : 0); ++dk)
          for (int dj = -1; dj <= 1; ++dj)
            for (int di = -1; di <= 1; ++di) {
              const int off = std::abs(di) + std::abs(dj) + std::abs(dk);
              if (st == DMDA_STENCIL_STAR && off > 1) continue;
              const PetscInt ii = i + di, jj = j + dj, kk = k + dk;
              if (ii < 0 || jj < 0 || kk < 0 || ii >= M || jj >= N || kk >= P) continue;
              cols[nc].i = ii, cols[nc].j = jj, cols[nc].k = kk;
              vals[nc] = entry(nat(i, j, k), nat(ii, jj, kk), scale);
              ++nc;
            }
        PINS_PETSC_CALL(MatSetValuesStencil(p.A, 1, &row, nc, cols, vals, INSERT_VALUES));
      }
  PINS_PETSC_CALL(MatAssemblyBegin(p.A, MAT_FINAL_ASSEMBLY));
  PINS_PETSC_CALL(MatAssemblyEnd(p.A, MAT_FINAL_ASSEMBLY));
  dmda_natural(p);
}

// A hand-assembled AIJ matrix: row i couples to i and a few columns spread over the whole
// range (a random-looking pattern with off-process columns below and above the rows).
void make_random(MPI_Comm comm, PetscInt n, Problem& p, double scale = 1.0,
                 bool extra_entry = false) {
  PINS_PETSC_CALL(
      MatCreateAIJ(comm, PETSC_DECIDE, PETSC_DECIDE, n, n, 8, nullptr, 8, nullptr, &p.A));
  PetscInt rs, re;
  PINS_PETSC_CALL(MatGetOwnershipRange(p.A, &rs, &re));
  for (PetscInt i = rs; i < re; ++i) {
    std::vector<PetscInt> cols{i};
    for (PetscInt t = 1; t <= (i * 7) % 5; ++t) {
      const PetscInt c = (i * 37 + t * 101 + (i * i) % 13) % n;
      if (std::find(cols.begin(), cols.end(), c) == cols.end()) cols.push_back(c);
    }
    if (extra_entry && i == n - 2 && std::find(cols.begin(), cols.end(), 0) == cols.end())
      cols.push_back(0);
    std::vector<PetscScalar> vals;
    for (PetscInt c : cols) vals.push_back(entry(i, c, scale));
    PINS_PETSC_CALL(
        MatSetValues(p.A, 1, &i, PetscInt(cols.size()), cols.data(), vals.data(), INSERT_VALUES));
    p.natural.push_back(i);
  }
  PINS_PETSC_CALL(MatAssemblyBegin(p.A, MAT_FINAL_ASSEMBLY));
  PINS_PETSC_CALL(MatAssemblyEnd(p.A, MAT_FINAL_ASSEMBLY));
}

// A DMPlex Q1 finite-element matrix pattern on a quadrilateral mesh of the square (DMCreateMatrix with a
// Lagrange PetscFE), entries filled from the global row/column numbers.
void make_plex(MPI_Comm comm, Problem& p) {
  const PetscInt faces[2] = {6, 5};
  DM serial = nullptr, dist = nullptr;
  PINS_PETSC_CALL(DMPlexCreateBoxMesh(comm, 2, PETSC_FALSE, faces, nullptr, nullptr, nullptr,
                                      PETSC_TRUE, &serial));
  PINS_PETSC_CALL(DMPlexDistribute(serial, 0, nullptr, &dist));
  if (dist) {
    PINS_PETSC_CALL(DMDestroy(&serial));
    serial = dist;
  }
  p.dm = serial;
  PetscFE fe;
  PINS_PETSC_CALL(PetscFECreateLagrange(comm, 2, 1, PETSC_FALSE, 1, PETSC_DETERMINE, &fe));
  PINS_PETSC_CALL(DMSetField(p.dm, 0, nullptr, (PetscObject)fe));
  PINS_PETSC_CALL(PetscFEDestroy(&fe));
  PINS_PETSC_CALL(DMCreateDS(p.dm));
  PINS_PETSC_CALL(DMCreateMatrix(p.dm, &p.A));
  PetscInt rs, re;
  PINS_PETSC_CALL(MatGetOwnershipRange(p.A, &rs, &re));
  // Read the preallocated pattern (DMCreateMatrix fills it with zeros), then set the entries.
  std::vector<std::vector<PetscInt>> rows;
  for (PetscInt i = rs; i < re; ++i) {
    PetscInt nc;
    const PetscInt* cols;
    PINS_PETSC_CALL(MatGetRow(p.A, i, &nc, &cols, nullptr));
    rows.emplace_back(cols, cols + nc);
    PINS_PETSC_CALL(MatRestoreRow(p.A, i, &nc, &cols, nullptr));
  }
  for (PetscInt i = rs; i < re; ++i) {
    const auto& cols = rows[size_t(i - rs)];
    std::vector<PetscScalar> vals;
    for (PetscInt c : cols) vals.push_back(entry(i, c));
    PINS_PETSC_CALL(
        MatSetValues(p.A, 1, &i, PetscInt(cols.size()), cols.data(), vals.data(), INSERT_VALUES));
    p.natural.push_back(i);
  }
  PINS_PETSC_CALL(MatAssemblyBegin(p.A, MAT_FINAL_ASSEMBLY));
  PINS_PETSC_CALL(MatAssemblyEnd(p.A, MAT_FINAL_ASSEMBLY));
}

// [B, n_local] tensor of field(natural, which + b).
torch::Tensor local_field(const Problem& p, int64_t B, int which) {
  auto t = torch::empty({B, int64_t(p.natural.size())}, torch::kFloat64);
  for (int64_t b = 0; b < B; ++b)
    for (size_t i = 0; i < p.natural.size(); ++i)
      t[b][int64_t(i)] = field(p.natural[i], which + int(b));
  return t;
}

// y = A x (or Aᵀ x) with PETSc for the local part x [n_local] of a vector.
torch::Tensor petsc_mult(Mat A, const torch::Tensor& x, bool transpose) {
  Vec vx, vy;
  PINS_PETSC_CALL(MatCreateVecs(A, &vx, &vy));
  PetscScalar* a;
  PINS_PETSC_CALL(VecGetArray(vx, &a));
  std::memcpy(a, x.data_ptr<double>(), sizeof(double) * size_t(x.numel()));
  PINS_PETSC_CALL(VecRestoreArray(vx, &a));
  if (transpose)
    PINS_PETSC_CALL(MatMultTranspose(A, vx, vy));
  else
    PINS_PETSC_CALL(MatMult(A, vx, vy));
  auto out = torch::empty_like(x);
  const PetscScalar* y;
  PINS_PETSC_CALL(VecGetArrayRead(vy, &y));
  std::memcpy(out.data_ptr<double>(), y, sizeof(double) * size_t(x.numel()));
  PINS_PETSC_CALL(VecRestoreArrayRead(vy, &y));
  VecDestroy(&vx);
  VecDestroy(&vy);
  return out;
}

double global_max(MPI_Comm comm, double x) {
  double m;
  MPI_Allreduce(&x, &m, 1, MPI_DOUBLE, MPI_MAX, comm);
  return m;
}
double global_sum(MPI_Comm comm, double x) {
  double m;
  MPI_Allreduce(&x, &m, 1, MPI_DOUBLE, MPI_SUM, comm);
  return m;
}

// Gathers a distributed [n_local] result into natural order on every process.
std::vector<double> gather_natural(MPI_Comm comm, const Problem& p, const torch::Tensor& x,
                                   PetscInt N) {
  std::vector<double> mine(size_t(N), 0.0), all(size_t(N), 0.0);
  for (size_t i = 0; i < p.natural.size(); ++i)
    mine[size_t(p.natural[i])] = x[int64_t(i)].item<double>();
  MPI_Allreduce(mine.data(), all.data(), int(N), MPI_DOUBLE, MPI_SUM, comm);
  return all;
}

// The checks every matrix goes through (collective on A's communicator).
void check_against_petsc(const std::function<void(MPI_Comm, Problem&)>& make, const char* name) {
  const std::string case_name = name;
  CAPTURE(case_name);
  Problem p;
  make(PETSC_COMM_WORLD, p);
  MPI_Comm comm = PetscObjectComm((PetscObject)p.A);
  std::shared_ptr<const DistributedSparseOperator> op;
  PINS_PETSC_CALL(pins::petsc::distributed_operator_from_matrices({p.A}, &op));
  PetscInt N, rs, re;
  PINS_PETSC_CALL(MatGetSize(p.A, &N, nullptr));
  PINS_PETSC_CALL(MatGetOwnershipRange(p.A, &rs, &re));
  CHECK(op->local_size() == re - rs);
  CHECK(op->global_size() == N);
  CHECK(op->kind() == "sparse");
  CHECK(op->batch() == 1);
  if (comm_size(comm) > 1) CHECK(global_sum(comm, double(op->ghost_size())) > 0);

  // Entries equal: every stored entry of every local row, in PETSc's global numbering.
  const auto& pat = op->local_pattern();
  const auto rp = pat.row_ptr();
  const auto ci = pat.col_idx();
  const auto vals = op->values();
  int64_t mismatched = 0, kmax = 0;
  for (PetscInt i = rs; i < re; ++i) {
    PetscInt nc;
    const PetscInt* cols;
    const PetscScalar* v;
    PINS_PETSC_CALL(MatGetRow(p.A, i, &nc, &cols, &v));
    const int64_t k0 = rp[i - rs].item<int64_t>(), k1 = rp[i - rs + 1].item<int64_t>();
    kmax = std::max(kmax, k1 - k0);
    if (k1 - k0 != nc) ++mismatched;
    for (int64_t k = k0; k < k1 && k1 - k0 == nc; ++k) {
      const int64_t c = ci[k].item<int64_t>();
      const PetscInt g = c < op->local_size() ? rs + PetscInt(c)
                                              : op->ghost_columns()[size_t(c - op->local_size())];
      const PetscInt* at = std::find(cols, cols + nc, g);
      if (at == cols + nc || v[at - cols] != vals[0][k].item<double>()) ++mismatched;
    }
    PINS_PETSC_CALL(MatRestoreRow(p.A, i, &nc, &cols, &v));
  }
  CHECK(mismatched == 0);

  // Plain AIJ is read straight from its arrays; any other type row by row (MatGetRow). The
  // same matrix as BAIJ takes the second path: the same pattern, ghosts and values.
  {
    Mat baij;
    PINS_PETSC_CALL(MatConvert(p.A, MATBAIJ, MAT_INITIAL_MATRIX, &baij));
    std::shared_ptr<const DistributedSparseOperator> by_rows;
    PINS_PETSC_CALL(pins::petsc::distributed_operator_from_matrices({baij}, &by_rows));
    CHECK(torch::equal(by_rows->local_pattern().row_ptr(), pat.row_ptr()));
    CHECK(torch::equal(by_rows->local_pattern().col_idx(), pat.col_idx()));
    CHECK(by_rows->local_pattern().cols() == pat.cols());
    CHECK(by_rows->ghost_columns() == op->ghost_columns());
    CHECK(torch::equal(by_rows->values(), op->values()));
    PINS_PETSC_CALL(MatDestroy(&baij));
  }

  // A u and Aᵀ v agree with MatMult / MatMultTranspose to the rounding of a k-term sum.
  const auto u = local_field(p, 1, 0);
  const auto v = local_field(p, 1, 5);
  const double amax = global_max(comm, vals.abs().max().item<double>());
  // Terms per row, and per column (each process holds part of a column): k bounds both.
  const auto tp = pat.transpose_ptr();
  const int64_t kcol =
      pat.cols() ? (tp.slice(0, 1) - tp.slice(0, 0, pat.cols())).max().item<int64_t>() : 0;
  const int64_t k = int64_t(global_max(comm, double(std::max(kmax, kcol)))) * comm_size(comm);
  // A k-term sum is off by at most k eps Σ|a||x|, here ≤ k eps · k amax · 2 (|fields| < 2),
  // for pins and for PETSc.
  const double bound = 2.0 * double(k + 2) * kEps * amax * double(k) * 2.0;
  const auto Au = op->apply(u);
  const double err_apply =
      global_max(comm, (Au[0] - petsc_mult(p.A, u[0], false)).abs().max().item<double>());
  CHECK(err_apply <= bound);
  const auto Atv = op->apply_transpose(v);
  const double err_t =
      global_max(comm, (Atv[0] - petsc_mult(p.A, v[0], true)).abs().max().item<double>());
  CHECK(err_t <= bound);
  // The fused residual A u − f.
  const auto f = local_field(p, 1, 9);
  CHECK(global_max(comm, (op->residual(u, f) - (Au - f)).abs().max().item<double>()) <=
        2 * kEps * (bound + 2.0));

  // The same matrix on one process: the same numbers (to rounding: the distributed rows sum
  // their owned entries before their ghosts). DMPlex numbering depends on the partition.
  if (std::string(name) != "dmplex Q1") {
    Problem q;
    make(PETSC_COMM_SELF, q);
    pins::OperatorPtr seq;
    PINS_PETSC_CALL(pins::petsc::operator_from_matrix(q.A, &seq));
    CHECK(std::dynamic_pointer_cast<const pins::SparseOperator>(seq) != nullptr);
    const auto uq = local_field(q, 1, 0);
    const auto Aq = seq->apply(uq);
    const auto Atq = seq->apply_transpose(local_field(q, 1, 5));
    const auto whole = gather_natural(comm, p, Au[0], N);
    const auto whole_t = gather_natural(comm, p, Atv[0], N);
    double d = 0, dt = 0;
    for (size_t i = 0; i < q.natural.size(); ++i) {
      d = std::max(d, std::abs(whole[size_t(q.natural[i])] - Aq[0][int64_t(i)].item<double>()));
      dt =
          std::max(dt, std::abs(whole_t[size_t(q.natural[i])] - Atq[0][int64_t(i)].item<double>()));
    }
    CHECK(d <= bound);
    CHECK(dt <= bound);
    if (comm_size(comm) == 1) {
      CHECK(torch::equal(Aq, Au));  // one process: the same kernel on the same rows
    }
  }
}

}  // namespace

TEST_CASE("SparseFromMatrix: A u and Aᵀ v equal PETSc's MatMult and MatMultTranspose") {
  check_against_petsc([](MPI_Comm c, Problem& p) { make_dmda(c, 2, DMDA_STENCIL_STAR, 9, p); },
                      "dmda 2-D 5-point");
  check_against_petsc([](MPI_Comm c, Problem& p) { make_dmda(c, 2, DMDA_STENCIL_BOX, 8, p); },
                      "dmda 2-D 9-point");
  check_against_petsc([](MPI_Comm c, Problem& p) { make_dmda(c, 3, DMDA_STENCIL_STAR, 5, p); },
                      "dmda 3-D 7-point");
  check_against_petsc([](MPI_Comm c, Problem& p) { make_random(c, 41, p); }, "random pattern");
  check_against_petsc([](MPI_Comm c, Problem& p) { make_plex(c, p); }, "dmplex Q1");
}

TEST_CASE("SparseFromMatrix: a batch of matrices with one pattern is one operator") {
  Problem p[3];
  for (int b = 0; b < 3; ++b) make_random(PETSC_COMM_WORLD, 37, p[b], 1.0 + b);
  pins::OperatorPtr op;
  PINS_PETSC_CALL(pins::petsc::operator_from_matrices({p[0].A, p[1].A, p[2].A}, &op));
  CHECK(op->batch() == 3);
  const auto u = local_field(p[0], 3, 2);
  const auto Au = op->apply(u);
  const auto Atu = op->apply_transpose(u);
  for (int b = 0; b < 3; ++b) {
    const double bound = 64 * kEps * 20.0 * (1.0 + b);
    CHECK((Au[b] - petsc_mult(p[b].A, u[b], false)).abs().max().item<double>() <= bound);
    CHECK((Atu[b] - petsc_mult(p[b].A, u[b], true)).abs().max().item<double>() <= bound);
  }
  // The diagonal: each row's stored (i, i) entry.
  const auto d = op->diagonal();
  PetscInt rs, re;
  PINS_PETSC_CALL(MatGetOwnershipRange(p[1].A, &rs, &re));
  for (PetscInt i = rs; i < re; ++i) CHECK(d[1][i - rs].item<double>() == entry(i, i, 2.0));
}

TEST_CASE("SparseFromMatrix: gradients through the distributed autograd function") {
  // L = Σ_processes Σ w ⊙ (A u − f)²: quadratic in u, so a central difference is exact up
  // to rounding, ~ eps |L| / h.
  Problem p;
  make_random(PETSC_COMM_WORLD, 23, p);
  MPI_Comm comm = PETSC_COMM_WORLD;
  std::shared_ptr<const DistributedSparseOperator> op;
  PINS_PETSC_CALL(pins::petsc::distributed_operator_from_matrices({p.A, p.A}, &op));
  const auto u = local_field(p, 2, 1).requires_grad_();
  const auto f = local_field(p, 2, 4);
  // Values [2, nnz]: the same matrix twice, so each batch entry has its own values.
  const auto w = local_field(p, 2, 7).abs();
  auto loss = [&] {
    return global_sum(comm, (w * op->residual(u, f).square()).sum().item<double>());
  };
  (w * op->residual(u, f).square()).sum().backward();
  const auto grad = u.grad().clone();
  PetscInt rs, re, N;
  PINS_PETSC_CALL(MatGetOwnershipRange(p.A, &rs, &re));
  PINS_PETSC_CALL(MatGetSize(p.A, &N, nullptr));
  const double h = 1e-3;
  torch::NoGradGuard no_grad;
  const double tol = 64 * kEps * (std::abs(loss()) + 1.0) / h;
  auto data = u.detach();
  double worst = 0;
  for (int64_t b = 0; b < 2; ++b)
    for (PetscInt g = 0; g < N; ++g) {  // every global entry, perturbed on its owner
      const bool mine = g >= rs && g < re;
      double x0 = 0;
      if (mine) x0 = data[b][g - rs].item<double>();
      if (mine) data[b][g - rs] = x0 + h;
      const double lp = loss();
      if (mine) data[b][g - rs] = x0 - h;
      const double lm = loss();
      if (mine) data[b][g - rs] = x0;
      if (mine)
        worst = std::max(worst, std::abs((lp - lm) / (2 * h) - grad[b][g - rs].item<double>()));
    }
  CHECK(global_max(comm, worst) <= tol);

  // Values: the gradient of each local entry, perturbed by one process at a time.
  const torch::Tensor& values = op->values();
  values.requires_grad_(true);
  {
    torch::AutoGradMode enable(true);
    (w * op->residual(u.detach(), f).square()).sum().backward();
  }
  const auto gv = values.grad().clone();
  values.requires_grad_(false);
  auto vdata = values.detach();
  int rank;
  MPI_Comm_rank(comm, &rank);
  worst = 0;
  for (int owner = 0; owner < comm_size(comm); ++owner)
    for (int64_t k = 0; k < 8; ++k) {
      const bool mine = rank == owner && k < vdata.size(1);
      double x0 = 0;
      if (mine) x0 = vdata[1][k].item<double>();
      if (mine) vdata[1][k] = x0 + h;
      const double lp = loss();
      if (mine) vdata[1][k] = x0 - h;
      const double lm = loss();
      if (mine) vdata[1][k] = x0;
      if (mine) worst = std::max(worst, std::abs((lp - lm) / (2 * h) - gv[1][k].item<double>()));
    }
  CHECK(global_max(comm, worst) <= tol);
}

TEST_CASE("SparseFromMatrix: bad matrices and inputs are refused") {
  MPI_Comm comm = PETSC_COMM_WORLD;
  pins::OperatorPtr op;
  // A shell matrix has no rows to read.
  Mat shell;
  PINS_PETSC_CALL(MatCreateShell(comm, 4, 4, PETSC_DETERMINE, PETSC_DETERMINE, nullptr, &shell));
  CHECK(throws_with([&] { PINS_PETSC_CALL(pins::petsc::operator_from_matrix(shell, &op)); },
                    "matrix 0 of 1 has type shell, which gives no row access (MatGetRow)"));
  MatDestroy(&shell);
  CHECK(throws_with([&] { PINS_PETSC_CALL(pins::petsc::operator_from_matrices({}, &op)); },
                    "no matrices given"));

  // Pattern mismatch names the matrix; size mismatch too.
  Problem a, b, c;
  make_random(comm, 29, a);
  make_random(comm, 29, b, 2.0, /*extra_entry=*/true);
  make_random(comm, 31, c);
  CHECK(throws_with(
      [&] {
        PINS_PETSC_CALL(pins::petsc::operator_from_matrices({a.A, a.A, b.A}, &op));
      },
      "matrix 2 of 3 has a different nonzero pattern from matrix 0 (first difference in global "
      "row 27)"));
  CHECK(throws_with(
      [&] {
        PINS_PETSC_CALL(pins::petsc::operator_from_matrices({a.A, c.A}, &op));
      },
      "matrix 1 of 2 is 31 x 31 but matrix 0 is 29 x 29"));

  // NaN and Inf entries name matrix, row and column.
  Problem nan;
  make_random(comm, 29, nan);
  PINS_PETSC_CALL(
      MatSetValue(nan.A, 5, 5, std::numeric_limits<double>::quiet_NaN(), INSERT_VALUES));
  PINS_PETSC_CALL(MatAssemblyBegin(nan.A, MAT_FINAL_ASSEMBLY));
  PINS_PETSC_CALL(MatAssemblyEnd(nan.A, MAT_FINAL_ASSEMBLY));
  CHECK(throws_with(
      [&] {
        PINS_PETSC_CALL(pins::petsc::operator_from_matrices({a.A, nan.A}, &op));
      },
      "matrix 1 of 2 has a NaN or Inf entry at row 5, column 5"));

  // Non-square.
  Mat rect;
  PINS_PETSC_CALL(
      MatCreateAIJ(comm, PETSC_DECIDE, PETSC_DECIDE, 6, 4, 2, nullptr, 2, nullptr, &rect));
  PINS_PETSC_CALL(MatAssemblyBegin(rect, MAT_FINAL_ASSEMBLY));
  PINS_PETSC_CALL(MatAssemblyEnd(rect, MAT_FINAL_ASSEMBLY));
  CHECK(throws_with([&] { PINS_PETSC_CALL(pins::petsc::operator_from_matrix(rect, &op)); },
                    "matrix 0 of 1 is 6 x 4; an operator on fields must be square"));
  MatDestroy(&rect);

  // Fields of the wrong local shape or dtype.
  std::shared_ptr<const DistributedSparseOperator> d;
  PINS_PETSC_CALL(pins::petsc::distributed_operator_from_matrices({a.A}, &d));
  const int64_t n = d->local_size();
  CHECK(throws_with(
      [&] {
        d->apply(torch::zeros({1, n + 1}, torch::kFloat64));
      },
      "u must have shape [B, n_local] = [B, " + std::to_string(n) + "]"));
  CHECK(throws_with(
      [&] {
        d->apply(torch::zeros({1, n}, torch::kFloat32));
      },
      "u has dtype Float but values have Double"));
  CHECK(throws_with(
      [&] {
        d->residual(torch::zeros({1, n}, torch::kFloat64), torch::zeros({2, n}, torch::kFloat64));
      },
      "f has a batch of 2 but u has 1"));
  if (comm_size(comm) > 1) {
    std::shared_ptr<const pins::SparseOperator> s;
    CHECK(
        throws_with([&] { PINS_PETSC_CALL(pins::petsc::sparse_operator_from_matrices({a.A}, &s)); },
                    "needs matrices on one process"));
  }
}
