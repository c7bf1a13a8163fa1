// Benchmark: pins' Kokkos CSR kernels (sparse_residual and its backward) against torch.sparse
// (CSR and COO matmul) and PETSc's MatMult + MatMultTranspose on the same matrix, and against
// the copy-bandwidth bound (the bytes a pass must move at least / the bandwidth of a plain
// copy measured in the same run). A DMDA matrix, one process, B = 1 and B = 8 operators with
// one pattern (B matrices for PETSc and torch, one values [B, nnz] for pins).
//
//   ./build/bin/bench_sparse                      # 3-D 27-point box DMDA 34³ (~1e6 nonzeros)
//   ./build/bin/bench_sparse -dim 2 -n 333        # 2-D 9-point box DMDA 333²
//   ./build/bin/bench_sparse -dim 3 -n 64 -star   # 3-D 7-point star DMDA 64³ (PETSc's side of
//                                                 # bench_stencil -stencil 3d7 -n 64)
//   (-dim 2|3, -n points per axis, -star, -reps, -threads LibTorch threads)
//
// Prints a Markdown table; bench/RESULTS.md records a run with the command and machine.
#include <petscdmda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "pins/core/check.hpp"
#include "pins/core/kokkos_runtime.hpp"
#include "pins/core/sparse_operator.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/operator.hpp"

namespace {

double median_seconds(int reps, const std::function<void()>& fn) {
  fn();  // warm-up: first-touch page faults, allocator, Kokkos initialisation
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

// A box-stencil DMDA matrix with random entries (diagonally dominant).
Mat box_matrix(DM da, int dim, bool star, unsigned seed) {
  Mat A;
  PINS_PETSC_CALL(DMCreateMatrix(da, &A));
  PetscInt M, N, P, xs, ys, zs, xm, ym, zm;
  PINS_PETSC_CALL(DMDAGetInfo(da, nullptr, &M, &N, &P, nullptr, nullptr, nullptr, nullptr, nullptr,
                              nullptr, nullptr, nullptr, nullptr));
  PINS_PETSC_CALL(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> uni(-1.0, 0.0);
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
              const PetscInt ii = i + di, jj = j + dj, kk = k + dk;
              if (ii < 0 || jj < 0 || kk < 0 || ii >= M || jj >= N || kk >= P) continue;
              if (star && (di != 0) + (dj != 0) + (dk != 0) > 1) continue;  // axes only
              cols[nc].i = ii, cols[nc].j = jj, cols[nc].k = kk;
              vals[nc] = (di == 0 && dj == 0 && dk == 0) ? 30.0 : uni(gen);
              ++nc;
            }
        PINS_PETSC_CALL(MatSetValuesStencil(A, 1, &row, nc, cols, vals, INSERT_VALUES));
      }
  PINS_PETSC_CALL(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PINS_PETSC_CALL(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  return A;
}

struct Args {
  int dim = 3;
  PetscInt n = 34;
  int reps = 10;
  int threads = 1;
  bool star = false;  // -star: the 5-/7-point star instead of the box
};

void run(const Args& a, DM da, int64_t B) {
  std::vector<Mat> mats;
  for (int64_t b = 0; b < B; ++b) mats.push_back(box_matrix(da, a.dim, a.star, unsigned(17 + b)));
  std::shared_ptr<const pins::SparseOperator> op;
  PINS_PETSC_CALL(pins::petsc::sparse_operator_from_matrices(mats, &op));
  const pins::SparsePattern& p = op->pattern();
  const torch::Tensor& values = op->values();
  const int64_t n = p.rows(), nnz = p.nnz();
  const auto opt = torch::TensorOptions().dtype(torch::kFloat64);
  const auto u = torch::randn({B, n}, opt), f = torch::randn({B, n}, opt),
             g = torch::randn({B, n}, opt);

  // Copy bandwidth: one read + one write of an array as large as one value array.
  auto src = torch::rand({nnz}, opt), dst = torch::empty_like(src);
  const double t_copy = median_seconds(a.reps, [&] { dst.copy_(src); });
  const double bandwidth = 2.0 * 8.0 * double(nnz) / t_copy;
  // Least bytes a pass moves: the CSR indices once (int32 columns, int64 row offsets), per
  // operator its values and fields. Forward reads values, u, f and writes r; backward reads
  // values, g, u and writes grad_u and grad_values.
  const double index_bytes = 4.0 * double(nnz) + 8.0 * double(n + 1);
  const double bound_fwd = (index_bytes + double(B) * (8.0 * nnz + 3 * 8.0 * n)) / bandwidth;
  const double bound_fb =
      bound_fwd + (index_bytes + double(B) * (2 * 8.0 * nnz + 3 * 8.0 * n)) / bandwidth;

  // pins: Kokkos CSR kernels.
  const double t_k_fwd = median_seconds(a.reps, [&] { pins::sparse_residual(p, values, u, f); });
  auto vg = values.clone().requires_grad_(), ug = u.clone().requires_grad_();
  const double t_k_fb = median_seconds(a.reps, [&] {
    vg.mutable_grad() = torch::Tensor();
    ug.mutable_grad() = torch::Tensor();
    pins::sparse_residual(p, vg, ug, f).backward(g);
  });

  // torch.sparse: one CSR (forward) / COO (forward + backward, autograd to values and u)
  // matrix per operator.
  const auto crow = p.row_ptr();
  const auto col = p.col_idx().to(torch::kInt64);
  const auto coo_idx = torch::stack({p.row_indices(), col});
  std::vector<torch::Tensor> csr;
  for (int64_t b = 0; b < B; ++b)
    csr.push_back(torch::sparse_csr_tensor(crow, col, values[b], {n, n}, opt));
  const double t_csr_fwd = median_seconds(a.reps, [&] {
    for (int64_t b = 0; b < B; ++b) (csr[size_t(b)].matmul(u[b].unsqueeze(1)).squeeze(1) - f[b]);
  });
  auto coo_of = [&](const torch::Tensor& v) {
    return torch::sparse_coo_tensor(coo_idx, v, {n, n}, opt)._coalesced_(true);
  };
  const double t_coo_fwd = median_seconds(a.reps, [&] {
    for (int64_t b = 0; b < B; ++b)
      (torch::mm(coo_of(values[b]), u[b].unsqueeze(1)).squeeze(1) - f[b]);
  });
  std::string coo_fb_note;
  double t_coo_fb = -1;
  try {
    t_coo_fb = median_seconds(a.reps, [&] {
      vg.mutable_grad() = torch::Tensor();
      ug.mutable_grad() = torch::Tensor();
      torch::Tensor loss = torch::zeros({}, opt);
      for (int64_t b = 0; b < B; ++b)
        loss =
            loss + ((torch::mm(coo_of(vg[b]), ug[b].unsqueeze(1)).squeeze(1) - f[b]) * g[b]).sum();
      loss.backward();
    });
  } catch (const std::exception& e) {
    coo_fb_note = e.what();
  }
  // Agreement (else the timings compare different things).
  const double diff = (pins::sparse_residual(p, values, u, f)[B - 1] -
                       (csr[size_t(B - 1)].matmul(u[B - 1].unsqueeze(1)).squeeze(1) - f[B - 1]))
                          .abs()
                          .max()
                          .item<double>();

  // PETSc: MatMult (+ VecAXPY for − f) and MatMultTranspose per operator on the same data.
  std::vector<Vec> x(static_cast<size_t>(B)), y(x), fv(x), gv(x), z(x);
  for (int64_t b = 0; b < B; ++b) {
    const size_t i = size_t(b);
    PINS_PETSC_CALL(MatCreateVecs(mats[i], &x[i], &y[i]));
    PINS_PETSC_CALL(VecDuplicate(y[i], &fv[i]));
    PINS_PETSC_CALL(VecDuplicate(y[i], &gv[i]));
    PINS_PETSC_CALL(VecDuplicate(x[i], &z[i]));
    PetscScalar* arr;
    for (auto [vec, t] :
         {std::pair<Vec, const torch::Tensor*>{x[i], &u}, {fv[i], &f}, {gv[i], &g}}) {
      PINS_PETSC_CALL(VecGetArray(vec, &arr));
      std::memcpy(arr, (*t)[b].data_ptr<double>(), sizeof(double) * size_t(n));
      PINS_PETSC_CALL(VecRestoreArray(vec, &arr));
    }
  }
  const double t_p_fwd = median_seconds(a.reps, [&] {
    for (size_t i = 0; i < size_t(B); ++i) {
      PINS_PETSC_CALL(MatMult(mats[i], x[i], y[i]));
      PINS_PETSC_CALL(VecAXPY(y[i], -1.0, fv[i]));
    }
  });
  const double t_p_fb = median_seconds(a.reps, [&] {
    for (size_t i = 0; i < size_t(B); ++i) {
      PINS_PETSC_CALL(MatMult(mats[i], x[i], y[i]));
      PINS_PETSC_CALL(VecAXPY(y[i], -1.0, fv[i]));
      PINS_PETSC_CALL(MatMultTranspose(mats[i], gv[i], z[i]));
    }
  });

  auto ms = [](double t) { return t * 1e3; };
  std::printf(
      "| %lld | forward | %.2f | %.2f (CSR) / %.2f (COO) | %.2f | %.2f | %.1fx | %.2fx | "
      "%.0f%% |\n",
      (long long)B, ms(t_k_fwd), ms(t_csr_fwd), ms(t_coo_fwd), ms(t_p_fwd), ms(bound_fwd),
      std::min(t_csr_fwd, t_coo_fwd) / t_k_fwd, t_k_fwd / t_p_fwd, 100 * bound_fwd / t_k_fwd);
  if (t_coo_fb > 0)
    std::printf(
        "| %lld | forward+backward | %.2f | %.2f (COO) | %.2f | %.2f | %.1fx | %.2fx | "
        "%.0f%% |\n",
        (long long)B, ms(t_k_fb), ms(t_coo_fb), ms(t_p_fb), ms(bound_fb), t_coo_fb / t_k_fb,
        t_k_fb / t_p_fb, 100 * bound_fb / t_k_fb);
  else
    std::printf(
        "| %lld | forward+backward | %.2f | n/a (%s) | %.2f | %.2f | – | %.2fx | %.0f%% |\n",
        (long long)B, ms(t_k_fb), coo_fb_note.substr(0, 60).c_str(), ms(t_p_fb), ms(bound_fb),
        t_k_fb / t_p_fb, 100 * bound_fb / t_k_fb);
  std::fprintf(stderr,
               "B = %lld: %lld rows, %lld nonzeros, copy bandwidth %.1f GB/s, "
               "max |pins - torch CSR| = %.2e\n",
               (long long)B, (long long)n, (long long)nnz, bandwidth / 1e9, diff);
  for (size_t i = 0; i < size_t(B); ++i) {
    VecDestroy(&x[i]);
    VecDestroy(&y[i]);
    VecDestroy(&fv[i]);
    VecDestroy(&gv[i]);
    VecDestroy(&z[i]);
    MatDestroy(&mats[i]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  PetscCall(PetscInitialize(&argc, &argv, nullptr, nullptr));
  int rc = 0;
  try {
    pins::petsc::ErrorCapture capture;
    Args a;
    PetscInt v;
    PetscBool set;
    PINS_PETSC_CALL(PetscOptionsGetInt(nullptr, nullptr, "-dim", &v, &set));
    if (set) a.dim = int(v);
    PINS_PETSC_CALL(PetscOptionsGetInt(nullptr, nullptr, "-n", &v, &set));
    if (set)
      a.n = v;
    else if (a.dim == 2)
      a.n = 333;
    PINS_PETSC_CALL(PetscOptionsGetInt(nullptr, nullptr, "-reps", &v, &set));
    if (set) a.reps = int(v);
    PINS_PETSC_CALL(PetscOptionsGetInt(nullptr, nullptr, "-threads", &v, &set));
    if (set) a.threads = int(v);
    PINS_PETSC_CALL(PetscOptionsHasName(nullptr, nullptr, "-star", &set));
    a.star = set;
    PINS_CHECK(a.dim == 2 || a.dim == 3, "-dim must be 2 or 3, got ", a.dim);
    torch::set_num_threads(a.threads);
    pins::ensure_kokkos_initialized();
    DM da;
    if (a.dim == 2)
      PINS_PETSC_CALL(DMDACreate2d(PETSC_COMM_SELF, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                                   a.star ? DMDA_STENCIL_STAR : DMDA_STENCIL_BOX, a.n, a.n, 1, 1, 1, 1, nullptr, nullptr, &da));
    else
      PINS_PETSC_CALL(DMDACreate3d(PETSC_COMM_SELF, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                                   DM_BOUNDARY_NONE, a.star ? DMDA_STENCIL_STAR : DMDA_STENCIL_BOX, a.n, a.n, a.n, 1, 1, 1, 1, 1,
                                   nullptr, nullptr, nullptr, &da));
    PINS_PETSC_CALL(DMSetUp(da));
    std::printf(
        "%d-D %s-point %s DMDA %lld^%d, float64, one process, LibTorch threads = %d, "
        "Kokkos space = %s, median of %d\n\n",
        a.dim, a.star ? (a.dim == 2 ? "5" : "7") : (a.dim == 2 ? "9" : "27"), a.star ? "star" : "box",
        (long long)a.n, a.dim, a.threads,
        pins::kokkos_execution_space_name().c_str(), a.reps);
    std::printf(
        "| B | pass | pins Kokkos ms | torch.sparse ms | PETSc ms | bandwidth bound ms | "
        "speed-up vs torch.sparse | pins / PETSc | %% of bound |\n"
        "|---|---|---|---|---|---|---|---|---|\n");
    run(a, da, 1);
    run(a, da, 8);
    DMDestroy(&da);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sparse: %s\n", e.what());
    rc = 1;
  }
  PetscFinalize();
  return rc;
}
