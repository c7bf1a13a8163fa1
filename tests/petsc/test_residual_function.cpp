// pins::petsc::ResidualFunction and TSStepResidual against PETSc's own SNESComputeFunction,
// SNESComputeJacobian + MatMultTranspose and TSComputeIFunction / TSComputeIJacobian, on a
// nonlinear problem written here as a user would (a DMDA with local callbacks), plus
// finite-difference gradient checks, batches, 1 vs 2 processes and the refusals.
//
// The problem: on an nx × ny grid with zero Dirichlet data eliminated (neighbours outside the
// grid are zero), for h = (hx, hy),
//   F(u)_ij = (2u − u_W − u_E) hy/hx + (2u − u_S − u_N) hx/hy
//             + hx hy (c u (u_E − u_W)/(2 hx) − λ e^u − s_ij),
// a Bratu problem with a Burgers-like convection term, so that the Jacobian is not symmetric
// (a backward that applied J instead of Jᵀ would fail the comparisons).

#include "doctest_torch.hpp"  // first: keeps glog's CHECK out of doctest's way

#include <petscdmda.h>
#include <petscsnes.h>
#include <petscts.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/residual_function.hpp"

namespace {

const double kEps = std::numeric_limits<double>::epsilon();

struct Problem {
  PetscReal lambda = 1.0;  // Bratu parameter
  PetscReal convect = 3.0;
};

PetscScalar at(PetscScalar** x, const DMDALocalInfo* info, PetscInt i, PetscInt j) {
  return (i < 0 || j < 0 || i >= info->mx || j >= info->my) ? 0.0 : x[j][i];
}

PetscReal source(const DMDALocalInfo* info, PetscInt i, PetscInt j) {
  const PetscReal x = (i + 1.0) / (info->mx + 1), y = (j + 1.0) / (info->my + 1);
  return 10.0 * x * (1 - x) * y;
}

// The spatial residual S(u) on this process's points.
PetscErrorCode spatial_residual(const DMDALocalInfo* info, PetscScalar** x, PetscScalar** f,
                                const Problem* p) {
  PetscFunctionBeginUser;
  const PetscReal hx = 1.0 / (info->mx + 1), hy = 1.0 / (info->my + 1);
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      const DMDALocalInfo* d = info;
      const PetscScalar u = x[j][i];
      const PetscScalar uw = at(x, d, i - 1, j), ue = at(x, d, i + 1, j);
      const PetscScalar us = at(x, d, i, j - 1), un = at(x, d, i, j + 1);
      f[j][i] =
          (2 * u - uw - ue) * hy / hx + (2 * u - us - un) * hx / hy +
          hx * hy *
              (p->convect * u * (ue - uw) / (2 * hx) - p->lambda * std::exp(u) - source(d, i, j));
    }
  PetscFunctionReturn(0);
}

// dS/du plus `shift` on the diagonal, assembled into J.
PetscErrorCode spatial_jacobian(const DMDALocalInfo* info, PetscScalar** x, PetscReal shift, Mat J,
                                const Problem* p) {
  PetscFunctionBeginUser;
  const PetscReal hx = 1.0 / (info->mx + 1), hy = 1.0 / (info->my + 1);
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      const PetscScalar u = x[j][i];
      const PetscScalar uw = at(x, info, i - 1, j), ue = at(x, info, i + 1, j);
      MatStencil row{}, cols[5]{};
      PetscScalar v[5];
      PetscInt k = 0;
      row.i = i;
      row.j = j;
      cols[k].i = i, cols[k].j = j;
      v[k++] = 2 * hy / hx + 2 * hx / hy + shift +
               hx * hy * (p->convect * (ue - uw) / (2 * hx) - p->lambda * std::exp(u));
      const PetscScalar conv = hx * hy * p->convect * u / (2 * hx);
      if (i > 0) cols[k].i = i - 1, cols[k].j = j, v[k++] = -hy / hx - conv;
      if (i < info->mx - 1) cols[k].i = i + 1, cols[k].j = j, v[k++] = -hy / hx + conv;
      if (j > 0) cols[k].i = i, cols[k].j = j - 1, v[k++] = -hx / hy;
      if (j < info->my - 1) cols[k].i = i, cols[k].j = j + 1, v[k++] = -hx / hy;
      PetscCall(MatSetValuesStencil(J, 1, &row, k, cols, v, INSERT_VALUES));
    }
  PetscCall(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(0);
}

PetscErrorCode snes_function(DMDALocalInfo* info, void* x, void* f, void* ctx) {
  return spatial_residual(info, static_cast<PetscScalar**>(x), static_cast<PetscScalar**>(f),
                          static_cast<const Problem*>(ctx));
}

PetscErrorCode snes_jacobian(DMDALocalInfo* info, void* x, Mat A, Mat, void* ctx) {
  return spatial_jacobian(info, static_cast<PetscScalar**>(x), 0.0, A,
                          static_cast<const Problem*>(ctx));
}

// TS: F(t, u, u_t) = u_t + S(u) + t q_ij with q_ij = i − j (so that t matters).
PetscErrorCode ts_ifunction(DMDALocalInfo* info, PetscReal t, void* x, void* xdot, void* f,
                            void* ctx) {
  PetscFunctionBeginUser;
  auto** F = static_cast<PetscScalar**>(f);
  auto** Xd = static_cast<PetscScalar**>(xdot);
  PetscCall(
      spatial_residual(info, static_cast<PetscScalar**>(x), F, static_cast<const Problem*>(ctx)));
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i)
      F[j][i] += Xd[j][i] + t * PetscReal(i - j);
  PetscFunctionReturn(0);
}

PetscErrorCode ts_ijacobian(DMDALocalInfo* info, PetscReal, void* x, void*, PetscReal shift, Mat A,
                            Mat, void* ctx) {
  return spatial_jacobian(info, static_cast<PetscScalar**>(x), shift, A,
                          static_cast<const Problem*>(ctx));
}

// A DMDA on `comm` (star stencil, width 1, one dof).
DM make_dmda(MPI_Comm comm, PetscInt nx, PetscInt ny) {
  DM da = nullptr;
  PINS_PETSC_CALL(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, nx, ny,
                               PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, &da));
  PINS_PETSC_CALL(DMSetUp(da));
  return da;
}

// The user's SNES: the problem above through DMDA local callbacks.
struct UserSnes {
  Problem problem;
  DM da = nullptr;
  SNES snes = nullptr;
  UserSnes(MPI_Comm comm, PetscInt nx, PetscInt ny, bool with_jacobian = true) {
    da = make_dmda(comm, nx, ny);
    PINS_PETSC_CALL(SNESCreate(comm, &snes));
    PINS_PETSC_CALL(SNESSetDM(snes, da));
    PINS_PETSC_CALL(DMDASNESSetFunctionLocal(da, INSERT_VALUES, snes_function, &problem));
    if (with_jacobian) PINS_PETSC_CALL(DMDASNESSetJacobianLocal(da, snes_jacobian, &problem));
  }
  ~UserSnes() {
    SNESDestroy(&snes);
    DMDestroy(&da);
  }
};

struct UserTS {
  Problem problem;
  DM da = nullptr;
  TS ts = nullptr;
  UserTS(MPI_Comm comm, PetscInt nx, PetscInt ny, bool with_jacobian = true) {
    da = make_dmda(comm, nx, ny);
    PINS_PETSC_CALL(TSCreate(comm, &ts));
    PINS_PETSC_CALL(TSSetDM(ts, da));
    PINS_PETSC_CALL(TSSetType(ts, TSBEULER));
    PINS_PETSC_CALL(DMDATSSetIFunctionLocal(da, INSERT_VALUES, ts_ifunction, &problem));
    if (with_jacobian) PINS_PETSC_CALL(DMDATSSetIJacobianLocal(da, ts_ijacobian, &problem));
  }
  ~UserTS() {
    TSDestroy(&ts);
    DMDestroy(&da);
  }
};

int rank_of(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

// A Vec with the layout of `da` holding `values` (n_local entries).
Vec vec_from(DM da, const torch::Tensor& values) {
  Vec v = nullptr;
  PINS_PETSC_CALL(DMCreateGlobalVector(da, &v));
  PetscScalar* a = nullptr;
  PINS_PETSC_CALL(VecGetArray(v, &a));
  const torch::Tensor c = values.to(torch::kFloat64).contiguous();
  std::copy(c.data_ptr<double>(), c.data_ptr<double>() + c.numel(), a);
  PINS_PETSC_CALL(VecRestoreArray(v, &a));
  return v;
}

torch::Tensor tensor_from(Vec v) {
  PetscInt n = 0;
  PINS_PETSC_CALL(VecGetLocalSize(v, &n));
  const PetscScalar* a = nullptr;
  PINS_PETSC_CALL(VecGetArrayRead(v, &a));
  torch::Tensor t = torch::from_blob(const_cast<PetscScalar*>(a), {n}, torch::kFloat64).clone();
  PINS_PETSC_CALL(VecRestoreArrayRead(v, &a));
  return t;
}

double global_sum(MPI_Comm comm, double local) {
  double global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, comm);
  return global;
}

double global_max(MPI_Comm comm, double local) {
  double global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_MAX, comm);
  return global;
}

// Random fields of a given local size, different on each process.
torch::Tensor random_batch(MPI_Comm comm, std::int64_t B, std::int64_t n, std::uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed * 1000 + rank_of(comm));
  return torch::randn({B, n}, gen, torch::kFloat64);
}

// PETSc's J(u)ᵀ g for the user's SNES, with a Jacobian matrix of its own.
torch::Tensor reference_jt(const UserSnes& s, const torch::Tensor& u, const torch::Tensor& g) {
  Mat J = nullptr;
  PINS_PETSC_CALL(DMCreateMatrix(s.da, &J));
  Vec x = vec_from(s.da, u), gv = vec_from(s.da, g), y = nullptr;
  PINS_PETSC_CALL(VecDuplicate(x, &y));
  PINS_PETSC_CALL(SNESComputeJacobian(s.snes, x, J, J));
  PINS_PETSC_CALL(MatMultTranspose(J, gv, y));
  torch::Tensor r = tensor_from(y);
  VecDestroy(&x);
  VecDestroy(&gv);
  VecDestroy(&y);
  MatDestroy(&J);
  return r;
}

// Central-difference check of the gradient of L(u) = Σ ⟨g, R(u)⟩ (summed over processes)
// along a random direction v: |fd − ⟨grad, v⟩| within a bound from double precision
// (truncation O(ε²) plus rounding O(eps/ε) for ε = eps^(1/3)).
template <class Loss>
void check_directional_derivative(MPI_Comm comm, Loss loss, const torch::Tensor& u,
                                  const torch::Tensor& grad, std::uint64_t seed) {
  const torch::Tensor v = random_batch(comm, u.size(0), u.size(1), seed);
  const double e = std::cbrt(kEps);
  const double fd = (loss(u + e * v) - loss(u - e * v)) / (2 * e);
  const double exact = global_sum(comm, (grad * v).sum().item<double>());
  const double scale = std::max(1.0, std::abs(exact));
  CHECK(std::abs(fd - exact) <= 100 * std::pow(kEps, 2.0 / 3.0) * scale);
}

// The refusal message of `fn`, or "" if it did not throw pins::Error.
template <class Fn>
std::string refusal(Fn&& fn) {
  try {
    fn();
  } catch (const pins::Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("ResidualFunction forward equals SNESComputeFunction for each sample") {
  MPI_Comm comm = PETSC_COMM_WORLD;
  UserSnes s(comm, 13, 9);
  pins::petsc::ResidualFunction F(s.snes);
  const std::int64_t n = F.local_size();
  PetscInt expected = 0;
  {
    Vec v = nullptr;
    PINS_PETSC_CALL(DMCreateGlobalVector(s.da, &v));
    PINS_PETSC_CALL(VecGetLocalSize(v, &expected));
    VecDestroy(&v);
  }
  CHECK(n == expected);

  const std::int64_t B = 3;
  const torch::Tensor u = random_batch(comm, B, n, 1);
  const torch::Tensor r = F(u);
  REQUIRE(r.sizes() == u.sizes());
  CHECK(bool(r.scalar_type() == torch::kFloat64));
  for (std::int64_t b = 0; b < B; ++b) {
    Vec x = vec_from(s.da, u[b]), y = nullptr;
    PINS_PETSC_CALL(VecDuplicate(x, &y));
    PINS_PETSC_CALL(SNESComputeFunction(s.snes, x, y));
    // The same callbacks on the same numbers: equal bit for bit.
    CHECK(torch::equal(tensor_from(y), r[b]));
    VecDestroy(&x);
    VecDestroy(&y);
  }
  // One field [n] gives [n], equal to its row of the batch.
  CHECK(torch::equal(F(u[1]), r[1]));
  // float32 is converted (to float64 and back), not refused.
  const torch::Tensor r32 = F(u.to(torch::kFloat32));
  CHECK(bool(r32.scalar_type() == torch::kFloat32));
  CHECK(torch::equal(r32, F(u.to(torch::kFloat32).to(torch::kFloat64)).to(torch::kFloat32)));
}

TEST_CASE("ResidualFunction backward equals MatMultTranspose of the assembled Jacobian") {
  MPI_Comm comm = PETSC_COMM_WORLD;
  UserSnes s(comm, 11, 14);
  pins::petsc::ResidualFunction F(s.snes);
  const std::int64_t B = 4, n = F.local_size();
  const torch::Tensor u = (0.5 * random_batch(comm, B, n, 2)).requires_grad_(true);
  const torch::Tensor g = random_batch(comm, B, n, 3);
  F(u).backward(g);
  REQUIRE(u.grad().defined());
  double asymmetry = 0;
  for (std::int64_t b = 0; b < B; ++b) {
    const torch::Tensor expected = reference_jt(s, u[b].detach(), g[b]);
    CHECK(torch::equal(u.grad()[b], expected));  // same matrix, same MatMultTranspose
    // J g differs from Jᵀ g here, so the comparison would catch a missing transpose.
    Mat J = nullptr;
    PINS_PETSC_CALL(DMCreateMatrix(s.da, &J));
    Vec x = vec_from(s.da, u[b].detach()), gv = vec_from(s.da, g[b]), y = nullptr;
    PINS_PETSC_CALL(VecDuplicate(x, &y));
    PINS_PETSC_CALL(SNESComputeJacobian(s.snes, x, J, J));
    PINS_PETSC_CALL(MatMult(J, gv, y));
    asymmetry = std::max(asymmetry, (tensor_from(y) - expected).abs().max().item<double>());
    VecDestroy(&x);
    VecDestroy(&gv);
    VecDestroy(&y);
    MatDestroy(&J);
  }
  CHECK(global_max(comm, asymmetry) > 1e-3);
}

TEST_CASE("ResidualFunction gradient passes a finite-difference check, batch and single field") {
  MPI_Comm comm = PETSC_COMM_WORLD;
  UserSnes s(comm, 10, 12);
  pins::petsc::ResidualFunction F(s.snes);
  const std::int64_t B = 3, n = F.local_size();
  const torch::Tensor u0 = 0.5 * random_batch(comm, B, n, 4);
  const torch::Tensor g = random_batch(comm, B, n, 5);
  const torch::Tensor u = u0.clone().requires_grad_(true);
  (F(u) * g).sum().backward();
  auto loss = [&](const torch::Tensor& w) {
    torch::NoGradGuard no_grad;
    return global_sum(comm, (F(w) * g).sum().item<double>());
  };
  check_directional_derivative(comm, loss, u0, u.grad(), 6);

  // A single field [n] gets the gradient of its row.
  const torch::Tensor u1 = u0[2].clone().requires_grad_(true);
  (F(u1) * g[2]).sum().backward();
  CHECK(torch::equal(u1.grad(), u.grad()[2]));

  // A float32 input gets a float32 gradient equal to the float64 one rounded.
  const torch::Tensor u32 = u0.to(torch::kFloat32).requires_grad_(true);
  (F(u32) * g.to(torch::kFloat32)).sum().backward();
  CHECK(bool(u32.grad().scalar_type() == torch::kFloat32));
  const torch::Tensor u64 = u0.to(torch::kFloat32).to(torch::kFloat64).requires_grad_(true);
  F(u64).backward(g.to(torch::kFloat32).to(torch::kFloat64));
  CHECK(torch::allclose(u32.grad().to(torch::kFloat64), u64.grad(), 1e-6, 1e-6));
}

TEST_CASE("ResidualFunction gives the same numbers on 1 and on 2 processes") {
  // Each process builds the whole problem sequentially too; u and g are functions of the
  // global grid index, so the parallel pieces must match the sequential field.
  MPI_Comm comm = PETSC_COMM_WORLD;
  const PetscInt nx = 9, ny = 7;
  UserSnes par(comm, nx, ny), seq(PETSC_COMM_SELF, nx, ny);
  pins::petsc::ResidualFunction Fp(par.snes), Fs(seq.snes);
  const std::int64_t B = 2;
  auto field = [&](double phase, PetscInt i, PetscInt j, std::int64_t b) {
    return 0.7 * std::sin(phase + 0.37 * i + 0.91 * j + 1.3 * b);
  };
  DMDALocalInfo info;
  PINS_PETSC_CALL(DMDAGetLocalInfo(par.da, &info));
  torch::Tensor up = torch::empty({B, Fp.local_size()}, torch::kFloat64),
                gp = torch::empty_like(up);
  torch::Tensor us = torch::empty({B, Fs.local_size()}, torch::kFloat64),
                gs = torch::empty_like(us);
  REQUIRE(Fs.local_size() == nx * ny);
  for (std::int64_t b = 0; b < B; ++b)
    for (PetscInt j = 0; j < ny; ++j)
      for (PetscInt i = 0; i < nx; ++i) {
        us[b][j * nx + i] = field(0, i, j, b);
        gs[b][j * nx + i] = field(2, i, j, b);
        if (i >= info.xs && i < info.xs + info.xm && j >= info.ys && j < info.ys + info.ym) {
          const std::int64_t k = (j - info.ys) * info.xm + (i - info.xs);
          up[b][k] = field(0, i, j, b);
          gp[b][k] = field(2, i, j, b);
        }
      }
  up.requires_grad_(true);
  us.requires_grad_(true);
  const torch::Tensor rp = Fp(up), rs = Fs(us);
  rp.backward(gp);
  rs.backward(gs);
  // The pieces of the sequential results that belong to this process.
  torch::Tensor rs_mine = torch::empty_like(rp), grad_mine = torch::empty_like(rp);
  for (std::int64_t b = 0; b < B; ++b)
    for (PetscInt j = info.ys; j < info.ys + info.ym; ++j)
      for (PetscInt i = info.xs; i < info.xs + info.xm; ++i) {
        const std::int64_t k = (j - info.ys) * info.xm + (i - info.xs);
        rs_mine[b][k] = rs[b][j * nx + i];
        grad_mine[b][k] = us.grad()[b][j * nx + i];
      }
  CHECK(torch::equal(rp.detach(), rs_mine.detach()));  // point-wise arithmetic: bit for bit
  // MatMultTranspose sums a column's terms in another order across processes: a few ulps of
  // the largest term (|J| ≤ 8 here, |g| ≤ 1).
  CHECK((up.grad() - grad_mine).abs().max().item<double>() <= 16 * 8 * kEps);
}

TEST_CASE("TSStepResidual equals TSComputeIFunction and its IJacobian transposed") {
  MPI_Comm comm = PETSC_COMM_WORLD;
  UserTS s(comm, 12, 10);
  pins::petsc::TSStepResidual R(s.ts);
  const std::int64_t B = 3, n = R.local_size();
  const double t = 0.3, dt = 0.05;
  const torch::Tensor u0 = 0.5 * random_batch(comm, B, n, 7);
  const torch::Tensor p0 = 0.5 * random_batch(comm, B, n, 8);
  const torch::Tensor g = random_batch(comm, B, n, 9);
  const torch::Tensor u = u0.clone().requires_grad_(true), p = p0.clone().requires_grad_(true);
  const torch::Tensor r = R(u, p, t, dt);
  REQUIRE(r.sizes() == u.sizes());
  r.backward(g);
  for (std::int64_t b = 0; b < B; ++b) {
    const torch::Tensor udot = (u0[b] - p0[b]) / dt;
    Vec x = vec_from(s.da, u0[b]), xd = vec_from(s.da, udot), gv = vec_from(s.da, g[b]);
    Vec y = nullptr;
    Mat J = nullptr;
    PINS_PETSC_CALL(VecDuplicate(x, &y));
    PINS_PETSC_CALL(TSComputeIFunction(s.ts, t, x, xd, y, PETSC_FALSE));
    CHECK(torch::equal(tensor_from(y), r[b].detach()));
    PINS_PETSC_CALL(DMCreateMatrix(s.da, &J));
    PINS_PETSC_CALL(TSComputeIJacobian(s.ts, t, x, xd, 1.0 / dt, J, J, PETSC_FALSE));
    PINS_PETSC_CALL(MatMultTranspose(J, gv, y));
    CHECK(torch::equal(tensor_from(y), u.grad()[b]));
    // ∂R/∂u_prev = −(1/dt) ∂F/∂u_t = −(1/dt) I here.
    CHECK((p.grad()[b] + g[b] / dt).abs().max().item<double>() <=
          8 * kEps * (g[b].abs().max().item<double>() / dt + 8));
    VecDestroy(&x);
    VecDestroy(&xd);
    VecDestroy(&gv);
    VecDestroy(&y);
    MatDestroy(&J);
  }
  auto loss_u = [&](const torch::Tensor& w) {
    torch::NoGradGuard no_grad;
    return global_sum(comm, (R(w, p0, t, dt) * g).sum().item<double>());
  };
  check_directional_derivative(comm, loss_u, u0, u.grad(), 10);
  auto loss_p = [&](const torch::Tensor& w) {
    torch::NoGradGuard no_grad;
    return global_sum(comm, (R(u0, w, t, dt) * g).sum().item<double>());
  };
  check_directional_derivative(comm, loss_p, p0, p.grad(), 11);

  // Only u requires grad: u_prev gets none and u the same as before.
  const torch::Tensor u2 = u0.clone().requires_grad_(true);
  R(u2, p0, t, dt).backward(g);
  CHECK(torch::equal(u2.grad(), u.grad()));
}

namespace {

// A SNES without a DM: F(x) = x³ − 1 elementwise, Jacobian a MATSHELL applying diag(3x²),
// with or without a MatMultTranspose.
struct ShellSnes {
  Vec r = nullptr, state = nullptr;  // state: the u of the last Jacobian evaluation
  Mat J = nullptr;
  SNES snes = nullptr;

  static PetscErrorCode function(SNES, Vec x, Vec f, void*) {
    PetscFunctionBeginUser;
    PetscCall(VecPointwiseMult(f, x, x));
    PetscCall(VecPointwiseMult(f, f, x));
    PetscCall(VecShift(f, -1.0));
    PetscFunctionReturn(0);
  }
  static PetscErrorCode jacobian(SNES, Vec x, Mat A, Mat, void* ctx) {
    PetscFunctionBeginUser;
    auto* self = static_cast<ShellSnes*>(ctx);
    PetscCall(VecPointwiseMult(self->state, x, x));
    PetscCall(VecScale(self->state, 3.0));
    PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
    PetscFunctionReturn(0);
  }
  static PetscErrorCode mult(Mat A, Vec x, Vec y) {
    PetscFunctionBeginUser;
    ShellSnes* self = nullptr;
    PetscCall(MatShellGetContext(A, &self));
    PetscCall(VecPointwiseMult(y, self->state, x));
    PetscFunctionReturn(0);
  }

  ShellSnes(MPI_Comm comm, PetscInt n_local, bool with_transpose) {
    PINS_PETSC_CALL(VecCreateMPI(comm, n_local, PETSC_DETERMINE, &r));
    PINS_PETSC_CALL(VecDuplicate(r, &state));
    PINS_PETSC_CALL(
        MatCreateShell(comm, n_local, n_local, PETSC_DETERMINE, PETSC_DETERMINE, this, &J));
    PINS_PETSC_CALL(MatShellSetOperation(J, MATOP_MULT, (void (*)(void))mult));
    if (with_transpose)  // diag(3x²) is symmetric: the same function
      PINS_PETSC_CALL(MatShellSetOperation(J, MATOP_MULT_TRANSPOSE, (void (*)(void))mult));
    PINS_PETSC_CALL(SNESCreate(comm, &snes));
    PINS_PETSC_CALL(SNESSetFunction(snes, r, function, this));
    PINS_PETSC_CALL(SNESSetJacobian(snes, J, J, jacobian, this));
  }
  ~ShellSnes() {
    SNESDestroy(&snes);
    MatDestroy(&J);
    VecDestroy(&state);
    VecDestroy(&r);
  }
};

}  // namespace

TEST_CASE("ResidualFunction refuses a SNES without a function or a Jacobian") {
  MPI_Comm comm = PETSC_COMM_WORLD;
  {
    Vec r = nullptr;
    SNES snes = nullptr;
    PINS_PETSC_CALL(VecCreateMPI(comm, 4, PETSC_DETERMINE, &r));
    PINS_PETSC_CALL(SNESCreate(comm, &snes));
    PINS_PETSC_CALL(SNESSetFunction(snes, r, ShellSnes::function, nullptr));
    const std::string m = refusal([&] { pins::petsc::ResidualFunction F(snes); });
    CHECK(contains(m, "no Jacobian"));
    CHECK(contains(m, "SNESSetJacobian"));
    SNESDestroy(&snes);
    VecDestroy(&r);
  }
  {
    // A DMDA SNES with a local function only has PETSc's finite-difference colouring
    // Jacobian (DMDASNESSetFunctionLocal installs it): accepted, with gradients to FD accuracy.
    UserSnes fd(comm, 7, 6, /*with_jacobian=*/false), exact(comm, 7, 6);
    pins::petsc::ResidualFunction Ffd(fd.snes), Fexact(exact.snes);
    const torch::Tensor u = 0.5 * random_batch(comm, 2, Ffd.local_size(), 14);
    const torch::Tensor g = random_batch(comm, 2, Ffd.local_size(), 15);
    const torch::Tensor a = u.clone().requires_grad_(true), b = u.clone().requires_grad_(true);
    Ffd(a).backward(g);
    Fexact(b).backward(g);
    CHECK(global_max(comm, (a.grad() - b.grad()).abs().max().item<double>()) <= 1e-5);
  }
  {
    SNES snes = nullptr;
    PINS_PETSC_CALL(SNESCreate(comm, &snes));
    const std::string m = refusal([&] { pins::petsc::ResidualFunction F(snes); });
    CHECK(contains(m, "no function"));
    SNESDestroy(&snes);
  }
  {
    TS ts = nullptr;
    PINS_PETSC_CALL(TSCreate(comm, &ts));
    const std::string m = refusal([&] { pins::petsc::TSStepResidual R(ts); });
    INFO(m);
    CHECK(contains(m, "no IFunction"));
    TSDestroy(&ts);
    UserTS s(comm, 6, 5, /*with_jacobian=*/false);
    CHECK(contains(refusal([&] { pins::petsc::TSStepResidual R(s.ts); }), "no IJacobian"));
  }
  CHECK(contains(refusal([] { pins::petsc::ResidualFunction F(nullptr); }), "null"));
}

TEST_CASE("ResidualFunction refuses a shell Jacobian without MatMultTranspose, takes one with it") {
  MPI_Comm comm = PETSC_COMM_WORLD;
  {
    ShellSnes s(comm, 5, /*with_transpose=*/false);
    const std::string m = refusal([&] { pins::petsc::ResidualFunction F(s.snes); });
    CHECK(contains(m, "no MatMultTranspose"));
    CHECK(contains(m, "MATOP_MULT_TRANSPOSE"));
    CHECK(contains(m, "shell"));
  }
  ShellSnes s(comm, 5, /*with_transpose=*/true);
  pins::petsc::ResidualFunction F(s.snes);
  const torch::Tensor u = random_batch(comm, 2, 5, 12).requires_grad_(true);
  const torch::Tensor g = random_batch(comm, 2, 5, 13);
  const torch::Tensor r = F(u);
  CHECK(torch::allclose(r, u.detach().pow(3) - 1, 4 * kEps, 0));
  r.backward(g);
  CHECK(torch::allclose(u.grad(), 3 * u.detach().square() * g, 4 * kEps, 0));
}

TEST_CASE("ResidualFunction and TSStepResidual refuse bad tensors on every process") {
  MPI_Comm comm = PETSC_COMM_WORLD;
  UserSnes s(comm, 6, 5);
  pins::petsc::ResidualFunction F(s.snes);
  const std::int64_t n = F.local_size();
  const auto ok = torch::zeros({2, n}, torch::kFloat64);
  CHECK(contains(refusal([&] {
                   F(torch::zeros({2, n + 1}, torch::kFloat64));
                 }),
                 "must be [B, n_local] or [n_local] with n_local = " + std::to_string(n)));
  CHECK(contains(refusal([&] { F(torch::zeros({1, 2, n}, torch::kFloat64)); }), "got [1, 2, "));
  CHECK(contains(refusal([&] { F(torch::zeros({2, n}, torch::kInt32)); }), "floating-point"));
  CHECK(contains(refusal([&] {
                   F(torch::zeros({2, n}, torch::kComplexDouble));
                 }),
                 "floating-point"));
  CHECK(contains(refusal([&] { F(torch::Tensor()); }), "undefined"));
  // A bad shape on one process only: every process throws the same message, none hangs.
  const int rank = rank_of(comm);
  const std::string one = refusal([&] {
    F(rank == 0 ? torch::zeros({2, n + 3}, torch::kFloat64) : ok);
  });
  CHECK(contains(one, "n_local"));
  int size = 1;
  MPI_Comm_size(comm, &size);
  if (size > 1) {
    const std::string m = refusal([&] { F(torch::zeros({2 + rank, n}, torch::kFloat64)); });
    CHECK(contains(m, "batch size differs between processes"));
  }
  CHECK(F(ok).sizes() == ok.sizes());  // still usable after the refusals

  UserTS ts(comm, 6, 5);
  pins::petsc::TSStepResidual R(ts.ts);
  const auto u = torch::zeros({2, R.local_size()}, torch::kFloat64);
  CHECK(contains(refusal([&] { R(u, u, 0.0, 0.0); }), "dt > 0"));
  CHECK(contains(refusal([&] { R(u, u, 0.0, std::nan("")); }), "dt > 0"));
  CHECK(contains(refusal([&] { R(u, u[0], 0.0, 0.1); }), "same shape"));
  CHECK(contains(refusal([&] { R(u, u.to(torch::kFloat32), 0.0, 0.1); }), "same shape and dtype"));
  CHECK(contains(refusal([&] {
                   R(u, torch::zeros({2, 1}, torch::kFloat64), 0.0, 0.1);
                 }),
                 "u_prev must be"));
}
