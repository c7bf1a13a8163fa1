// Benchmark: what the user's own PETSc residual costs as a physics loss
// (pins::petsc::ResidualFunction), against the same PETSc calls made directly and against
// pins' Kokkos stencil residual, side by side in one run.
//
//   ./build/bin/bench_residual_function                 # 128² and 256², B = 8, median of 15
//   ./build/bin/bench_residual_function -n 128,256 -B 8 -reps 15 [-clock cpu|wall]
//
// The problem is the 2-D 5-point Darcy operator, F(u) = A(κ) u − f, written as a user would
// write it: a DMDA SNES with a local residual and a Jacobian assembled with
// MatSetValuesStencil, reading the same coefficients [5, ny, nx] that pins' Kokkos kernel
// takes (so the three paths compute the same numbers; the largest difference is printed).
// Rows, per grid, B samples each:
//   PETSc direct            B × SNESComputeFunction; forward+backward adds B ×
//                           (SNESComputeJacobian + MatMultTranspose) on Vecs filled beforehand
//   ResidualFunction        F(u) on a [B, n] tensor; forward+backward F(u).backward(g)
//   ... Jacobian once       the same with the Jacobian assembled once (a linear problem:
//                           SNESSetLagJacobian(snes, -2) for ResidualFunction, no
//                           SNESComputeJacobian in the direct loop)
//   Kokkos stencil_residual pins::stencil_residual(coeffs [B,5,ny,nx], u, f), grad for u only
// and, for the choice made in backward (assemble there, not cache in forward), the cost of B
// Jacobian assemblies and of B MatCopy (what a per-sample cache would add to forward).
//
// One process (the Kokkos path has no halo exchange here), LibTorch on one thread.
#include <petscdmda.h>
#include <petscsnes.h>
#include <torch/torch.h>

#include <algorithm>
#include <random>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pins/core/check.hpp"
#include "pins/core/kokkos_runtime.hpp"
#include "pins/core/stencil.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/residual_function.hpp"

namespace {

// The clock: this thread's CPU time by default (every path runs on the calling thread, one
// process, LibTorch on one thread), so time the scheduler gives to other processes of a
// shared machine is not counted; `-clock wall` for wall-clock time.
bool g_wall = false;
double now_seconds() {
  if (g_wall)
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// Medians of `fns` timed in turns (each round runs every function once, in a shuffled order),
// so that a machine shared with other work slows all of them alike.
std::vector<double> median_seconds(int reps, const std::vector<std::function<void()>>& fns) {
  for (const auto& fn : fns) fn();  // warm-up: first touch, allocator, PETSc's scatters
  std::vector<std::vector<double>> t(fns.size());
  // A fresh (seeded) order every round: a fixed cyclic order always ran each path right after
  // the same other one, whose cache footprint then biased it (ResidualFunction's forward,
  // always run after the direct one, measured 4 % or 13 % over it depending on the list).
  std::vector<size_t> order(fns.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::mt19937 gen(12345);
  for (int r = 0; r < reps; ++r) {
    std::shuffle(order.begin(), order.end(), gen);
    for (const size_t i : order) {
      const double t0 = now_seconds();
      fns[i]();
      t[i].push_back(now_seconds() - t0);
    }
  }
  std::vector<double> med;
  for (auto& v : t) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    med.push_back(v[v.size() / 2]);
  }
  return med;
}

// The user's problem: coefficients c [5][ny][nx] (C, W, E, S, N) and right-hand side f.
struct Darcy {
  const double* c = nullptr;
  const double* f = nullptr;
  PetscInt nx = 0, ny = 0;
  double at(int k, PetscInt i, PetscInt j) const { return c[(k * ny + j) * nx + i]; }
};

PetscErrorCode residual_local(DMDALocalInfo* info, void* xv, void* fv, void* ctx) {
  PetscFunctionBeginUser;
  const auto* p = static_cast<const Darcy*>(ctx);
  auto** x = static_cast<PetscScalar**>(xv);
  auto** f = static_cast<PetscScalar**>(fv);
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      PetscScalar r = p->at(0, i, j) * x[j][i] - p->f[j * p->nx + i];
      if (i > 0) r += p->at(1, i, j) * x[j][i - 1];
      if (i < info->mx - 1) r += p->at(2, i, j) * x[j][i + 1];
      if (j > 0) r += p->at(3, i, j) * x[j - 1][i];
      if (j < info->my - 1) r += p->at(4, i, j) * x[j + 1][i];
      f[j][i] = r;
    }
  PetscFunctionReturn(0);
}

PetscErrorCode jacobian_local(DMDALocalInfo* info, void*, Mat A, Mat, void* ctx) {
  PetscFunctionBeginUser;
  const auto* p = static_cast<const Darcy*>(ctx);
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      MatStencil row{}, col[5]{};
      PetscScalar v[5];
      PetscInt k = 0;
      row.i = i, row.j = j;
      col[k].i = i, col[k].j = j, v[k++] = p->at(0, i, j);
      if (i > 0) col[k].i = i - 1, col[k].j = j, v[k++] = p->at(1, i, j);
      if (i < info->mx - 1) col[k].i = i + 1, col[k].j = j, v[k++] = p->at(2, i, j);
      if (j > 0) col[k].i = i, col[k].j = j - 1, v[k++] = p->at(3, i, j);
      if (j < info->my - 1) col[k].i = i, col[k].j = j + 1, v[k++] = p->at(4, i, j);
      PetscCall(MatSetValuesStencil(A, 1, &row, k, col, v, INSERT_VALUES));
    }
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(0);
}

struct Args {
  std::vector<PetscInt> grids{128, 256};
  int64_t B = 8;
  int reps = 15;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "-n") {
      a.grids.clear();
      std::stringstream s(v);
      for (std::string item; std::getline(s, item, ',');) a.grids.push_back(std::stoi(item));
    } else if (k == "-B") {
      a.B = std::stoll(v);
    } else if (k == "-reps") {
      a.reps = std::stoi(v);
    } else if (k == "-clock" && (v == "wall" || v == "cpu")) {
      g_wall = v == "wall";
    } else {
      std::fprintf(stderr,
                   "bench_residual_function: unknown option %s (expected -n, -B, -reps, "
                   "-clock cpu|wall)\n",
                   k.c_str());
      std::exit(2);
    }
  }
  return a;
}

struct Row {
  std::string path;
  double fwd, fb;
};

void run(PetscInt n, const Args& a) {
  const int64_t B = a.B;
  torch::manual_seed(0);
  // κ: a smooth log-normal-like field; the Darcy coefficients pins' kernels take.
  const auto y = torch::linspace(0, 1, n, torch::kFloat64).view({n, 1});
  const auto x = torch::linspace(0, 1, n, torch::kFloat64).view({1, n});
  const auto kappa = torch::exp(torch::sin(6.28 * x) * torch::cos(6.28 * y)).unsqueeze(0);
  const auto c1 = pins::darcy::stencil_coefficients(kappa).contiguous();  // [1,5,n,n]
  const auto coeffs = c1.expand({B, 5, n, n}).contiguous();
  const auto f = torch::ones({B, n, n}, torch::kFloat64);
  const auto u = torch::randn({B, n * n}, torch::kFloat64);
  const auto g = torch::randn({B, n * n}, torch::kFloat64);

  Darcy problem{c1.data_ptr<double>(), f.data_ptr<double>(), n, n};
  DM da = nullptr;
  SNES snes = nullptr;
  PINS_PETSC_CALL(DMDACreate2d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                               DMDA_STENCIL_STAR, n, n, PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr,
                               nullptr, &da));
  PINS_PETSC_CALL(DMSetUp(da));
  PINS_PETSC_CALL(SNESCreate(PETSC_COMM_WORLD, &snes));
  PINS_PETSC_CALL(SNESSetDM(snes, da));
  PINS_PETSC_CALL(DMDASNESSetFunctionLocal(da, INSERT_VALUES, residual_local, &problem));
  PINS_PETSC_CALL(DMDASNESSetJacobianLocal(da, jacobian_local, &problem));
  pins::petsc::ResidualFunction F(snes);  // SNESSetUp: the Jacobian matrix exists from here
  Mat J = nullptr, Jcopy = nullptr;
  PINS_PETSC_CALL(SNESGetJacobian(snes, &J, nullptr, nullptr, nullptr));
  PINS_PETSC_CALL(MatDuplicate(J, MAT_DO_NOT_COPY_VALUES, &Jcopy));

  // The direct baseline works on Vecs filled beforehand (no tensors involved).
  std::vector<Vec> xs(B), ys(B), gs(B), zs(B);
  for (int64_t b = 0; b < B; ++b) {
    PINS_PETSC_CALL(DMCreateGlobalVector(da, &xs[b]));
    PINS_PETSC_CALL(VecDuplicate(xs[b], &ys[b]));
    PINS_PETSC_CALL(VecDuplicate(xs[b], &gs[b]));
    PINS_PETSC_CALL(VecDuplicate(xs[b], &zs[b]));
    PetscScalar* p = nullptr;
    PINS_PETSC_CALL(VecGetArray(xs[b], &p));
    std::copy(u[b].data_ptr<double>(), u[b].data_ptr<double>() + n * n, p);
    PINS_PETSC_CALL(VecRestoreArray(xs[b], &p));
    PINS_PETSC_CALL(VecGetArray(gs[b], &p));
    std::copy(g[b].data_ptr<double>(), g[b].data_ptr<double>() + n * n, p);
    PINS_PETSC_CALL(VecRestoreArray(gs[b], &p));
  }
  auto direct_fwd = [&] {
    for (int64_t b = 0; b < B; ++b) PINS_PETSC_CALL(SNESComputeFunction(snes, xs[b], ys[b]));
  };
  auto direct_fb = [&](bool assemble) {
    for (int64_t b = 0; b < B; ++b) {
      PINS_PETSC_CALL(SNESComputeFunction(snes, xs[b], ys[b]));
      if (assemble) PINS_PETSC_CALL(SNESComputeJacobian(snes, xs[b], J, J));
      PINS_PETSC_CALL(MatMultTranspose(J, gs[b], zs[b]));
    }
  };
  auto ug = u.clone().requires_grad_(true);
  auto pins_fb = [&] {
    ug.mutable_grad() = torch::Tensor();
    F(ug).backward(g);
  };
  const auto u3 = u.view({B, n, n});
  const auto g3 = g.view({B, n, n});
  auto u3g = u3.clone().requires_grad_(true);

  auto pins_fwd = [&] { F(u); };
  auto kokkos_fwd = [&] { pins::stencil_residual(coeffs, u3, f); };
  auto kokkos_fb = [&] {
    u3g.mutable_grad() = torch::Tensor();
    pins::stencil_residual(coeffs, u3g, f).backward(g3);
  };
  auto jacobians = [&] {
    for (int64_t b = 0; b < B; ++b) PINS_PETSC_CALL(SNESComputeJacobian(snes, xs[b], J, J));
  };
  auto copies = [&] {
    for (int64_t b = 0; b < B; ++b) PINS_PETSC_CALL(MatCopy(J, Jcopy, SAME_NONZERO_PATTERN));
  };
  const auto t = median_seconds(a.reps, {direct_fwd, pins_fwd, [&] { direct_fb(true); }, pins_fb,
                                         kokkos_fwd, kokkos_fb, jacobians, copies});
  // Linear problem: the Jacobian assembled once (lag -2: at the next SNESComputeJacobian).
  PINS_PETSC_CALL(SNESSetLagJacobian(snes, -2));
  const auto t_once = median_seconds(a.reps, {[&] { direct_fb(false); }, pins_fb});
  std::vector<Row> rows;
  rows.push_back(
      {"PETSc direct: SNESComputeFunction (+ SNESComputeJacobian + MatMultTranspose)", t[0], t[2]});
  rows.push_back({"pins::petsc::ResidualFunction", t[1], t[3]});
  rows.push_back({"PETSc direct, Jacobian assembled once: SNESComputeFunction (+ MatMultTranspose)",
                  t[0], t_once[0]});
  rows.push_back({"ResidualFunction, SNESSetLagJacobian(snes, -2)", t[1], t_once[1]});
  rows.push_back({"Kokkos pins::stencil_residual (grad for u)", t[4], t[5]});
  const double t_jac = t[6], t_copy = t[7];

  // The three paths compute the same residual and gradient.
  PINS_PETSC_CALL(SNESSetLagJacobian(snes, 1));
  ug.mutable_grad() = torch::Tensor();
  u3g.mutable_grad() = torch::Tensor();
  const auto r_pins = F(ug);
  r_pins.backward(g);
  const auto r_kokkos = pins::stencil_residual(coeffs, u3g, f);
  r_kokkos.backward(g3);
  const double diff_r =
      (r_pins.detach().view({B, n, n}) - r_kokkos.detach()).abs().max().item<double>();
  const double diff_g = (ug.grad().view({B, n, n}) - u3g.grad()).abs().max().item<double>();

  auto ms = [](double t) { return t * 1e3; };
  for (size_t k = 0; k < rows.size(); ++k) {
    const Row& r = rows[k];
    const Row& base = k == 3 ? rows[2] : rows[0];  // each ResidualFunction row vs its direct row
    const Row& kokkos = rows[4];
    std::printf("| %lld² | %lld | %s | %.2f | %.2f | %.2f | %.2f | %.1f |\n",
                static_cast<long long>(n), static_cast<long long>(B), r.path.c_str(), ms(r.fwd),
                ms(r.fb), r.fwd / base.fwd, r.fb / base.fb, r.fb / kokkos.fb);
  }
  std::printf(
      "| %lld² | %lld | (B × SNESComputeJacobian alone; B × MatCopy, what caching the "
      "Jacobian per sample in forward would add) | %.2f | %.2f | | | |\n",
      static_cast<long long>(n), static_cast<long long>(B), ms(t_jac), ms(t_copy));
  std::fprintf(stderr, "%lld²: max |ResidualFunction − Kokkos| residual %.2e, gradient %.2e\n",
               static_cast<long long>(n), diff_r, diff_g);

  for (int64_t b = 0; b < B; ++b) {
    VecDestroy(&xs[b]);
    VecDestroy(&ys[b]);
    VecDestroy(&gs[b]);
    VecDestroy(&zs[b]);
  }
  MatDestroy(&Jcopy);
  SNESDestroy(&snes);
  DMDestroy(&da);
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  int petsc_argc = 1;
  char* petsc_args[] = {argv[0], nullptr};
  char** petsc_argv = petsc_args;
  if (PetscInitialize(&petsc_argc, &petsc_argv, nullptr, nullptr) != 0) return 1;
  int rc = 0;
  try {
    pins::petsc::ErrorCapture capture;
    int size = 1;
    MPI_Comm_size(PETSC_COMM_WORLD, &size);
    if (size != 1) throw pins::Error("bench_residual_function runs on one process");
    torch::set_num_threads(1);
    pins::ensure_kokkos_initialized();
    std::printf(
        "B = %lld, median of %d in turns (%s), one process, LibTorch threads = 1, Kokkos space = "
        "%s\n\n",
        static_cast<long long>(a.B), a.reps, g_wall ? "wall clock" : "thread CPU time",
        pins::kokkos_execution_space_name().c_str());
    std::printf(
        "| grid | B | path | forward ms | forward+backward ms | forward / direct | "
        "f+b / direct | f+b / Kokkos f+b |\n|---|---|---|---|---|---|---|---|\n");
    for (PetscInt n : a.grids) run(n, a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_residual_function: %s\n", e.what());
    rc = 1;
  }
  PetscFinalize();
  return rc;
}
