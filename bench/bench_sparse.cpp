// Benchmark: pins' Kokkos CSR kernels (a SparseOperator's residual and its backward) against
// torch.sparse (CSR and COO matmul) and PETSc's MatMult + MatMultTranspose on the same
// matrix, and against the copy-bandwidth bound (the bytes a pass must move at least / the
// bandwidth of a plain copy measured in the same run). One process, B = 1 and B = 8
// operators with one pattern (B matrices for PETSc and torch, one values [B, nnz] for pins),
// converted with pins::petsc::operator_from_matrices as a user would.
//
//   ./build/bin/bench_sparse                      # 3-D 27-point box DMDA 34³ (~1e6 nonzeros)
//   ./build/bin/bench_sparse -plex                # DMPlex hexahedral box 33³ cells, PetscFE Q1
//                                                 # Laplacian (34³ vertices, ~1e6 nonzeros)
//   ./build/bin/bench_sparse -dim 2 -n 333        # 2-D 9-point box DMDA 333²
//   ./build/bin/bench_sparse -dim 3 -n 64 -star   # 3-D 7-point star DMDA 64³ (PETSc's side of
//                                                 # bench_stencil -stencil 3d7 -n 64)
//   (-dim 2|3, -n points per axis (cells per axis with -plex), -star, -plex, -reps,
//    -threads LibTorch threads, -wall: wall-clock time instead of the thread's CPU time)
//
// All timings of one B are taken in turns (each round runs every variant once), so a machine
// shared with other work slows them alike; the medians are printed. Prints a Markdown table
// (and a breakdown of pins' backward pass on stderr); bench/RESULTS.md records runs with the
// command and machine.
#include <petscdmda.h>
#include <petscdmplex.h>
#include <petscds.h>
#include <petscfe.h>
#include <petscsnes.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
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

// The clock: this thread's CPU time by default (every variant runs on the calling thread:
// Kokkos Serial, LibTorch on one thread, PETSc on one process), so that time the scheduler
// gives to other processes of a shared machine is not counted; -wall for wall-clock time.
bool g_wall = false;
struct Clock {
  using time_point = double;
  static double now() {
    if (g_wall)
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
  }
};
double since(double t0) { return Clock::now() - t0; }

// Medians of `fns` timed in turns (each round runs every function once, starting at a
// different one). Each function returns the seconds of the part it measures.
std::vector<double> median_seconds(int reps, const std::vector<std::function<double()>>& fns) {
  for (const auto& fn : fns) fn();  // warm-up: first touch, allocator, Kokkos initialisation
  std::vector<std::vector<double>> t(fns.size());
  for (int r = 0; r < reps; ++r)
    for (size_t k = 0; k < fns.size(); ++k) {
      const size_t i = (k + size_t(r)) % fns.size();
      t[i].push_back(fns[i]());
    }
  std::vector<double> med;
  for (auto& v : t) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    med.push_back(v[v.size() / 2]);
  }
  return med;
}

// Wraps a function as one that returns its own duration.
std::function<double()> timed(std::function<void()> fn) {
  return [fn = std::move(fn)] {
    const auto t0 = Clock::now();
    fn();
    return since(t0);
  };
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

// The Q1 Laplacian −∇·(κ ∇u) with κ(x) = 1 + ½ sin(2π (x + y + z) + phase), the phase in
// the PetscDS constants (a different operator per sample); the standard g3 pointwise
// Jacobian of PETSc's FE examples.
void g3_kappa(PetscInt dim, PetscInt, PetscInt, const PetscInt[], const PetscInt[],
              const PetscScalar[], const PetscScalar[], const PetscScalar[], const PetscInt[],
              const PetscInt[], const PetscScalar[], const PetscScalar[], const PetscScalar[],
              PetscReal, PetscReal, const PetscReal x[], PetscInt nc, const PetscScalar c[],
              PetscScalar g3[]) {
  PetscReal s = 0;
  for (PetscInt d = 0; d < dim; ++d) s += x[d];
  const PetscReal kappa = 1.0 + 0.5 * std::sin(2.0 * M_PI * s + (nc > 0 ? c[0] : 0.0));
  for (PetscInt d = 0; d < dim; ++d) g3[d * dim + d] = kappa;
}

// A hexahedral DMPlex box mesh of n³ cells with a Q1 PetscFE field and the Laplacian's
// Jacobian in its PetscDS.
DM plex_q1(PetscInt n) {
  DM dm;
  const PetscInt faces[3] = {n, n, n};
  PINS_PETSC_CALL(DMPlexCreateBoxMesh(PETSC_COMM_SELF, 3, PETSC_FALSE, faces, nullptr, nullptr,
                                      nullptr, PETSC_TRUE, &dm));
  PetscFE fe;
  PINS_PETSC_CALL(PetscFECreateLagrange(PETSC_COMM_SELF, 3, 1, PETSC_FALSE, 1, PETSC_DETERMINE, &fe));
  PINS_PETSC_CALL(DMSetField(dm, 0, nullptr, (PetscObject)fe));
  PINS_PETSC_CALL(PetscFEDestroy(&fe));
  PINS_PETSC_CALL(DMCreateDS(dm));
  PetscDS ds;
  PINS_PETSC_CALL(DMGetDS(dm, &ds));
  PINS_PETSC_CALL(PetscDSSetJacobian(ds, 0, 0, nullptr, nullptr, nullptr, g3_kappa));
  return dm;
}

// Sample b's Q1 matrix (assembled by DMPlexSNESComputeJacobianFEM, the FE Jacobian a SNES
// on this DM computes).
Mat plex_matrix(DM dm, unsigned seed) {
  PetscDS ds;
  PINS_PETSC_CALL(DMGetDS(dm, &ds));
  PetscScalar phase = 0.7 * seed;
  PINS_PETSC_CALL(PetscDSSetConstants(ds, 1, &phase));
  Mat A;
  Vec X;
  PINS_PETSC_CALL(DMCreateMatrix(dm, &A));
  PINS_PETSC_CALL(DMCreateGlobalVector(dm, &X));
  PINS_PETSC_CALL(VecSet(X, 0.0));
  PINS_PETSC_CALL(DMPlexSNESComputeJacobianFEM(dm, X, A, A, nullptr));
  PINS_PETSC_CALL(VecDestroy(&X));
  return A;
}

struct Args {
  int dim = 3;
  PetscInt n = 34;
  int reps = 10;
  int threads = 1;
  bool star = false;  // -star: the 5-/7-point star instead of the box
  bool plex = false;  // -plex: the DMPlex Q1 Laplacian
};

void run(const Args& a, DM dm, int64_t B) {
  std::vector<Mat> mats;
  for (int64_t b = 0; b < B; ++b)
    mats.push_back(a.plex ? plex_matrix(dm, unsigned(17 + b))
                          : box_matrix(dm, a.dim, a.star, unsigned(17 + b)));
  // As a user converts: the generic entry point, then the operator's own interface.
  pins::OperatorPtr op;
  PINS_PETSC_CALL(pins::petsc::operator_from_matrices(mats, &op));
  const auto* sop = dynamic_cast<const pins::SparseOperator*>(op.get());
  PINS_CHECK(sop != nullptr, "bench_sparse: expected a SparseOperator on one process");
  const pins::SparsePattern& p = sop->pattern();
  const torch::Tensor& values = op->values();
  const int64_t n = p.rows(), nnz = p.nnz();
  const auto opt = torch::TensorOptions().dtype(torch::kFloat64);
  const auto u = torch::randn({B, n}, opt), f = torch::randn({B, n}, opt),
             g = torch::randn({B, n}, opt);

  // Copy bandwidth: one read + one write of an array as large as one value array.
  auto src = torch::rand({nnz}, opt), dst = torch::empty_like(src);
  // Least bytes a pass moves: the CSR indices once (int32 columns, int64 row offsets), per
  // operator its values and fields. Forward reads values, u, f and writes r; backward reads
  // values, g, u and writes grad_u and grad_values.
  const double index_bytes = 4.0 * double(nnz) + 8.0 * double(n + 1);
  const double bytes_fwd = index_bytes + double(B) * (8.0 * nnz + 3 * 8.0 * n);
  const double bytes_fb = bytes_fwd + index_bytes + double(B) * (2 * 8.0 * nnz + 3 * 8.0 * n);

  // pins: Kokkos CSR kernels through the operator (what a physics loss calls).
  auto vg = values.clone().requires_grad_(), ug = u.clone().requires_grad_();
  const auto opg = op->with_values(vg);
  double t_k_bwd_only = 0;
  auto pins_fb = [&](bool record_backward) {
    vg.mutable_grad() = torch::Tensor();
    ug.mutable_grad() = torch::Tensor();
    const auto t0 = Clock::now();
    const torch::Tensor r = opg->residual(ug, f);
    const auto t1 = Clock::now();
    r.backward(g);
    if (record_backward) t_k_bwd_only = since(t1);
    return since(t0);
  };

  // torch.sparse: one CSR (forward) / COO (forward + backward, autograd to values and u)
  // matrix per operator.
  const auto crow = p.row_ptr();
  const auto col = p.col_idx().to(torch::kInt64);
  const auto coo_idx = torch::stack({p.row_indices(), col});
  std::vector<torch::Tensor> csr;
  for (int64_t b = 0; b < B; ++b)
    csr.push_back(torch::sparse_csr_tensor(crow, col, values[b], {n, n}, opt));
  auto coo_of = [&](const torch::Tensor& v) {
    return torch::sparse_coo_tensor(coo_idx, v, {n, n}, opt)._coalesced_(true);
  };
  std::string coo_fb_note;
  bool coo_fb_ok = true;
  try {
    torch::mm(coo_of(vg[0]), ug[0].unsqueeze(1)).sum().backward();
  } catch (const std::exception& e) {
    coo_fb_ok = false;
    coo_fb_note = e.what();
  }

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
  auto petsc_fwd = [&] {
    for (size_t i = 0; i < size_t(B); ++i) {
      PINS_PETSC_CALL(MatMult(mats[i], x[i], y[i]));
      PINS_PETSC_CALL(VecAXPY(y[i], -1.0, fv[i]));
    }
  };

  std::vector<std::function<double()>> fns = {
      timed([&] { dst.copy_(src); }),
      timed([&] { op->residual(u, f); }),
      [&] { return pins_fb(true); },
      timed(petsc_fwd),
      timed([&] {
        petsc_fwd();
        for (size_t i = 0; i < size_t(B); ++i)
          PINS_PETSC_CALL(MatMultTranspose(mats[i], gv[i], z[i]));
      }),
      timed([&] {
        for (int64_t b = 0; b < B; ++b)
          (csr[size_t(b)].matmul(u[b].unsqueeze(1)).squeeze(1) - f[b]);
      }),
      timed([&] {
        for (int64_t b = 0; b < B; ++b)
          (torch::mm(coo_of(values[b]), u[b].unsqueeze(1)).squeeze(1) - f[b]);
      }),
  };
  if (coo_fb_ok)
    fns.push_back(timed([&] {
      vg.mutable_grad() = torch::Tensor();
      ug.mutable_grad() = torch::Tensor();
      torch::Tensor loss = torch::zeros({}, opt);
      for (int64_t b = 0; b < B; ++b)
        loss =
            loss + ((torch::mm(coo_of(vg[b]), ug[b].unsqueeze(1)).squeeze(1) - f[b]) * g[b]).sum();
      loss.backward();
    }));
  // pins' backward alone (the forward of the same call excluded), and the same gradients
  // from two separate calls (sparse_apply_transpose, sparse_values_gradient).
  fns.push_back(timed([&] {
    pins::sparse_apply_transpose(p, values, g);
    pins::sparse_values_gradient(p, g, u);
  }));
  fns.push_back([&] {
    pins_fb(true);
    return t_k_bwd_only;
  });
  const std::vector<double> t = median_seconds(a.reps, fns);
  const double t_copy = t[0], t_k_fwd = t[1], t_k_fb = t[2], t_p_fwd = t[3], t_p_fb = t[4],
               t_csr_fwd = t[5], t_coo_fwd = t[6], t_coo_fb = coo_fb_ok ? t[7] : -1,
               t_k_gather = t[t.size() - 2], t_k_bwd = t.back();
  const double bandwidth = 2.0 * 8.0 * double(nnz) / t_copy;
  const double bound_fwd = bytes_fwd / bandwidth, bound_fb = bytes_fb / bandwidth;

  // Agreement (else the timings compare different things).
  const double diff = (op->residual(u, f)[B - 1] -
                       (csr[size_t(B - 1)].matmul(u[B - 1].unsqueeze(1)).squeeze(1) - f[B - 1]))
                          .abs()
                          .max()
                          .item<double>();

  auto ms = [](double s) { return s * 1e3; };
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
  std::fflush(stdout);
  std::fprintf(stderr,
               "B = %lld: %lld rows, %lld nonzeros, copy bandwidth %.1f GB/s, "
               "max |pins - torch CSR| = %.2e; pins backward alone %.2f ms (as two calls "
               "%.2f ms; PETSc MatMultTranspose ~ %.2f ms)\n",
               (long long)B, (long long)n, (long long)nnz, bandwidth / 1e9, diff, ms(t_k_bwd),
               ms(t_k_gather), ms(t_p_fb - t_p_fwd));
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
    PINS_PETSC_CALL(PetscOptionsHasName(nullptr, nullptr, "-plex", &set));
    a.plex = set;
    PINS_PETSC_CALL(PetscOptionsGetInt(nullptr, nullptr, "-dim", &v, &set));
    if (set) a.dim = int(v);
    PINS_PETSC_CALL(PetscOptionsGetInt(nullptr, nullptr, "-n", &v, &set));
    if (set)
      a.n = v;
    else if (a.plex)
      a.n = 33;
    else if (a.dim == 2)
      a.n = 333;
    PINS_PETSC_CALL(PetscOptionsGetInt(nullptr, nullptr, "-reps", &v, &set));
    if (set) a.reps = int(v);
    PINS_PETSC_CALL(PetscOptionsGetInt(nullptr, nullptr, "-threads", &v, &set));
    if (set) a.threads = int(v);
    PINS_PETSC_CALL(PetscOptionsHasName(nullptr, nullptr, "-star", &set));
    a.star = set;
    PINS_PETSC_CALL(PetscOptionsHasName(nullptr, nullptr, "-wall", &set));
    g_wall = set || a.threads > 1;  // CPU time of one thread only measures one-thread runs
    PINS_CHECK(a.dim == 2 || a.dim == 3, "-dim must be 2 or 3, got ", a.dim);
    PINS_CHECK(!a.plex || (a.dim == 3 && !a.star), "-plex is the 3-D Q1 hexahedral mesh");
    torch::set_num_threads(a.threads);
    pins::ensure_kokkos_initialized();
    DM dm;
    if (a.plex)
      dm = plex_q1(a.n);
    else if (a.dim == 2)
      PINS_PETSC_CALL(DMDACreate2d(PETSC_COMM_SELF, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                                   a.star ? DMDA_STENCIL_STAR : DMDA_STENCIL_BOX, a.n, a.n, 1, 1,
                                   1, 1, nullptr, nullptr, &dm));
    else
      PINS_PETSC_CALL(DMDACreate3d(PETSC_COMM_SELF, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                                   DM_BOUNDARY_NONE, a.star ? DMDA_STENCIL_STAR : DMDA_STENCIL_BOX,
                                   a.n, a.n, a.n, 1, 1, 1, 1, 1, nullptr, nullptr, nullptr, &dm));
    if (!a.plex) PINS_PETSC_CALL(DMSetUp(dm));
    if (a.plex)
      std::printf(
          "DMPlex hexahedral box %lld^3 cells, PetscFE Q1 Laplacian (%lld^3 vertices), float64, "
          "one process, LibTorch threads = %d, Kokkos space = %s, median of %d in turns, %s\n\n",
          (long long)a.n, (long long)(a.n + 1), a.threads,
          pins::kokkos_execution_space_name().c_str(), a.reps, g_wall ? "wall clock" : "thread CPU time");
    else
      std::printf(
          "%d-D %s-point %s DMDA %lld^%d, float64, one process, LibTorch threads = %d, "
          "Kokkos space = %s, median of %d in turns, %s\n\n",
          a.dim, a.star ? (a.dim == 2 ? "5" : "7") : (a.dim == 2 ? "9" : "27"),
          a.star ? "star" : "box", (long long)a.n, a.dim, a.threads,
          pins::kokkos_execution_space_name().c_str(), a.reps,
          g_wall ? "wall clock" : "thread CPU time");
    std::printf(
        "| B | pass | pins Kokkos ms | torch.sparse ms | PETSc ms | bandwidth bound ms | "
        "speed-up vs torch.sparse | pins / PETSc | %% of bound |\n"
        "|---|---|---|---|---|---|---|---|---|\n");
    std::fflush(stdout);
    run(a, dm, 1);
    run(a, dm, 8);
    DMDestroy(&dm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sparse: %s\n", e.what());
    rc = 1;
  }
  PetscFinalize();
  return rc;
}
