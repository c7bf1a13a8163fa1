#include "sample_solver.hpp"

#include <petscdmda.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"

namespace pins::petsc::detail {

namespace {
// CG's recursively updated residual can drift from the true one by rounding; when the
// true residual misses the tolerance, the solve restarts from its own iterate (at most
// this many times) before the sample is declared a failure.
constexpr int kMaxRestarts = 3;

std::string format_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

using Clock = std::chrono::steady_clock;

// What the history monitor needs: the clock's origin, the time it has spent itself so far
// (kept out of the recorded times), and the reference solution in the KSP's ordering.
struct HistoryMonitor {
  Clock::time_point start;
  double recording = 0;
  Vec reference = nullptr, work = nullptr;
  PetscReal reference_norm = 1, bnorm = 1;
  ConvergenceHistory* out = nullptr;
};

PetscErrorCode record_iterate(KSP ksp, PetscInt, PetscReal rnorm, void* ctx) {
  // The time stamp first: what follows is measurement, not solving.
  const Clock::time_point stamp = Clock::now();
  auto& m = *static_cast<HistoryMonitor*>(ctx);
  PetscFunctionBeginUser;
  Vec x = nullptr;
  PetscCall(KSPBuildSolution(ksp, m.work, &x));
  if (x != m.work) PetscCall(VecCopy(x, m.work));  // never modify the KSP's own iterate
  PetscCall(VecAXPY(m.work, -1.0, m.reference));
  PetscReal diff;
  PetscCall(VecNorm(m.work, NORM_2, &diff));
  m.out->seconds.push_back(std::chrono::duration<double>(stamp - m.start).count() - m.recording);
  m.out->error.push_back(m.reference_norm > 0 ? diff / m.reference_norm : diff);
  m.out->residual.push_back(m.bnorm > 0 ? rnorm / m.bnorm : rnorm);
  m.recording += std::chrono::duration<double>(Clock::now() - stamp).count();
  PetscFunctionReturn(0);
}
}  // namespace

PetscErrorCode configure_solver(KSP ksp, const char* prefix) {
  PC pc;
  PetscFunctionBeginUser;
  PetscCall(KSPSetOptionsPrefix(ksp, prefix));
  PetscCall(KSPSetType(ksp, KSPCG));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCGAMG));
  PetscCall(KSPSetTolerances(ksp, 1e-10, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT));
  // ‖b − A x‖ rather than the preconditioned norm: then -ksp_rtol bounds the true residual.
  PetscCall(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED));
  PetscCall(KSPSetFromOptions(ksp));
  PetscFunctionReturn(0);
}

PetscErrorCode configure_nonlinear_solver(SNES snes, const char* prefix) {
  SNESLineSearch linesearch;
  KSP ksp;
  PC pc;
  PetscFunctionBeginUser;
  PetscCall(SNESSetOptionsPrefix(snes, prefix));
  PetscCall(SNESSetType(snes, SNESNEWTONLS));
  PetscCall(SNESGetLineSearch(snes, &linesearch));
  PetscCall(SNESLineSearchSetType(linesearch, SNESLINESEARCHBT));
  // rtol relative to ‖F(u0)‖ = ‖F(0)‖; stol 0: converged means the residual test passed.
  PetscCall(SNESSetTolerances(snes, PETSC_DEFAULT, 1e-10, 0.0, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(SNESGetKSP(snes, &ksp));
  PetscCall(KSPSetType(ksp, KSPGMRES));  // the Jacobian is not symmetric
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCGAMG));
  PetscCall(KSPSetTolerances(ksp, 1e-8, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(SNESSetFromOptions(snes));
  PetscFunctionReturn(0);
}

PetscErrorCode configure_time_stepper(TS ts, const char* prefix, double dt, int steps) {
  TSAdapt adapt;
  SNES snes;
  TSType type;
  TSAdaptType adapt_type;
  PetscReal ts_dt;
  PetscInt max_steps;
  PetscFunctionBeginUser;
  PetscCall(TSSetOptionsPrefix(ts, prefix));
  PetscCall(TSSetProblemType(ts, TS_NONLINEAR));
  PetscCall(TSSetType(ts, TSBEULER));
  PetscCall(TSSetTimeStep(ts, dt));
  PetscCall(TSSetMaxSteps(ts, steps));
  // The step count ends the run, and every step must be dt: with MATCHSTEP, TSAdapt
  // shortens the steps that would come within two steps of the final time (measured: a
  // final time of (steps + ½)·dt made the last two steps 0.75 dt), so it lies far beyond.
  PetscCall(TSSetMaxTime(ts, 2.0 * (steps + 2) * dt));
  PetscCall(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP));
  // A failed step ends the trajectory (no retry with a smaller step), reported by the
  // caller naming the step rather than by TSSolve's own error.
  PetscCall(TSSetMaxSNESFailures(ts, 1));
  PetscCall(TSSetErrorIfStepFails(ts, PETSC_FALSE));
  PetscCall(TSGetAdapt(ts, &adapt));
  PetscCall(TSAdaptSetType(adapt, TSADAPTNONE));
  PetscCall(TSGetSNES(ts, &snes));
  PetscCall(configure_nonlinear_solver(snes, prefix));
  PetscCall(TSSetFromOptions(ts));
  PetscCall(TSGetType(ts, &type));
  PetscCall(TSGetAdapt(ts, &adapt));
  PetscCall(TSAdaptGetType(adapt, &adapt_type));
  PetscCall(TSGetTimeStep(ts, &ts_dt));
  PetscCall(TSGetMaxSteps(ts, &max_steps));
  const std::string p = prefix ? prefix : "";
  PetscCheck(type && std::string(type) == TSBEULER, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "-%sts_type %s: trajectories are made with backward Euler (-ts_type beuler), the "
             "step the family's residual and physics loss use",
             p.c_str(), type ? type : "?");
  PetscCheck(adapt_type && std::string(adapt_type) == TSADAPTNONE, PETSC_COMM_SELF,
             PETSC_ERR_ARG_WRONG,
             "-%sts_adapt_type %s: trajectories are stored at fixed steps of -dt; step "
             "adaptivity is not supported",
             p.c_str(), adapt_type ? adapt_type : "?");
  PetscCheck(ts_dt == dt, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "-%sts_dt %g differs from the family's step %g: set the step with -dt", p.c_str(),
             (double)ts_dt, dt);
  PetscCheck(max_steps == steps, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "-%sts_max_steps %d differs from the family's %d steps: set them with -steps",
             p.c_str(), (int)max_steps, steps);
  PetscFunctionReturn(0);
}

namespace {
// The Krylov solver's type, preconditioner and norm into d; returns its rtol through *rtol and
// its iteration limit through *max_it (either may be null). Shared by the linear description
// and the nonlinear one (the KSP inside the SNES).
void describe_ksp(KSP ksp, SolverDescription* d, PetscReal* rtol, PetscInt* max_it) {
  KSPType type;
  PC pc;
  PCType pc_type;
  KSPNormType norm;
  PINS_PETSC_CALL(KSPGetType(ksp, &type));
  PINS_PETSC_CALL(KSPGetPC(ksp, &pc));
  PINS_PETSC_CALL(PCGetType(pc, &pc_type));
  PINS_PETSC_CALL(KSPGetNormType(ksp, &norm));
  PINS_PETSC_CALL(KSPGetTolerances(ksp, rtol, nullptr, nullptr, max_it));
  d->ksp_type = type ? type : "";
  d->pc_type = pc_type ? pc_type : "";
  d->norm_type = KSPNormTypes[norm];
}

SolverDescription describe_nonlinear_solver(MPI_Comm comm, const std::string& prefix) {
  SNES snes = nullptr;
  SolverDescription d;
  d.nonlinear = true;
  try {
    PINS_PETSC_CALL(SNESCreate(comm, &snes));
    PINS_PETSC_CALL(configure_nonlinear_solver(snes, prefix.empty() ? nullptr : prefix.c_str()));
    SNESType type;
    SNESLineSearch linesearch;
    SNESLineSearchType ls_type;
    KSP ksp;
    PetscReal atol, rtol, ksp_rtol;
    PetscInt max_it;
    PINS_PETSC_CALL(SNESGetType(snes, &type));
    PINS_PETSC_CALL(SNESGetLineSearch(snes, &linesearch));
    PINS_PETSC_CALL(SNESLineSearchGetType(linesearch, &ls_type));
    PINS_PETSC_CALL(SNESGetTolerances(snes, &atol, &rtol, nullptr, &max_it, nullptr));
    PINS_PETSC_CALL(SNESGetKSP(snes, &ksp));
    describe_ksp(ksp, &d, &ksp_rtol, nullptr);
    d.snes_type = type ? type : "";
    d.linesearch_type = ls_type ? ls_type : "";
    d.rtol = rtol;
    d.atol = atol;
    d.ksp_rtol = ksp_rtol;
    d.max_it = int(max_it);
  } catch (...) {
    SNESDestroy(&snes);
    throw;
  }
  SNESDestroy(&snes);
  return d;
}
}  // namespace

SolverDescription describe_time_stepper(MPI_Comm comm, const std::string& prefix,
                                        const ProblemFamily& family) {
  DM dm = nullptr;
  TS ts = nullptr;
  SolverDescription d;
  d.nonlinear = true;
  try {
    PINS_PETSC_CALL(family.CreateDM(comm, &dm));
    PINS_PETSC_CALL(TSCreate(comm, &ts));
    PINS_PETSC_CALL(TSSetDM(ts, dm));
    PINS_PETSC_CALL(configure_time_stepper(ts, prefix.empty() ? nullptr : prefix.c_str(),
                                           family.time_step(), family.steps()));
    TSType ts_type;
    SNES snes;
    SNESType type;
    SNESLineSearch linesearch;
    SNESLineSearchType ls_type;
    KSP ksp;
    PetscReal rtol, ksp_rtol;
    PetscInt max_it;
    PINS_PETSC_CALL(TSGetType(ts, &ts_type));
    PINS_PETSC_CALL(TSGetSNES(ts, &snes));
    PINS_PETSC_CALL(SNESGetType(snes, &type));
    PINS_PETSC_CALL(SNESGetLineSearch(snes, &linesearch));
    PINS_PETSC_CALL(SNESLineSearchGetType(linesearch, &ls_type));
    PINS_PETSC_CALL(SNESGetTolerances(snes, nullptr, &rtol, nullptr, &max_it, nullptr));
    PINS_PETSC_CALL(SNESGetKSP(snes, &ksp));
    describe_ksp(ksp, &d, &ksp_rtol, nullptr);
    d.ts_type = ts_type ? ts_type : "";
    d.dt = family.time_step();
    d.steps = family.steps();
    d.snes_type = type ? type : "";
    d.linesearch_type = ls_type ? ls_type : "";
    d.rtol = rtol;
    d.ksp_rtol = ksp_rtol;
    d.max_it = int(max_it);
  } catch (...) {
    TSDestroy(&ts);
    DMDestroy(&dm);
    throw;
  }
  TSDestroy(&ts);
  DMDestroy(&dm);
  return d;
}

SolverDescription describe_solver(MPI_Comm comm, const std::string& prefix, bool nonlinear) {
  if (nonlinear) return describe_nonlinear_solver(comm, prefix);
  KSP ksp = nullptr;
  SolverDescription d;
  try {
    PINS_PETSC_CALL(KSPCreate(comm, &ksp));
    PINS_PETSC_CALL(configure_solver(ksp, prefix.empty() ? nullptr : prefix.c_str()));
    PetscReal rtol;
    PetscInt max_it;
    describe_ksp(ksp, &d, &rtol, &max_it);
    d.rtol = rtol;
    d.max_it = int(max_it);
  } catch (...) {
    KSPDestroy(&ksp);
    throw;
  }
  KSPDestroy(&ksp);
  return d;
}

SampleSolver::SampleSolver(const ProblemFamily& family, int dof, std::string prefix, MPI_Comm comm)
    : family_(family), dof_(dof), prefix_(std::move(prefix)), comm_(comm) {
  PINS_CHECK(dof >= 1, "sample solver: dof must be >= 1, got ", dof);
  MPI_Comm_size(comm_, &comm_size_);
  MPI_Comm_rank(comm_, &comm_rank_);
  try {
    PINS_PETSC_CALL(family_.CreateDM(comm_, &da_));
    if (comm_size_ > 1) {
      // The sample's fields are whole-grid arrays in the natural (row-major) order; moving
      // them into and out of a distributed DM is what DMDA's natural ordering does.
      PetscBool is_da = PETSC_FALSE;
      DMType type = nullptr;
      PINS_PETSC_CALL(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(da_), DMDA, &is_da));
      PINS_PETSC_CALL(DMGetType(da_, &type));
      PINS_CHECK(is_da, "-pde ", family_.name(), " solves on a DM of type ", type ? type : "?",
                 "; only families on a DMDA solve one sample on several processes (use "
                 "-generate_procs_per_sample 1)");
      PINS_PETSC_CALL(DMDACreateNaturalVector(da_, &natural_));
      PINS_PETSC_CALL(VecScatterCreateToZero(natural_, &to_zero_, &gathered_));
    }
    PINS_PETSC_CALL(DMCreateMatrix(da_, &A_));
    PINS_PETSC_CALL(DMCreateGlobalVector(da_, &b_));
    PINS_PETSC_CALL(VecDuplicate(b_, &x_));
    PINS_PETSC_CALL(VecDuplicate(b_, &r_));
    if (family_.time_dependent()) {
      PINS_PETSC_CALL(VecDuplicate(b_, &state_));
      PINS_PETSC_CALL(VecDuplicate(b_, &rate_));
    }
  } catch (...) {
    destroy();
    throw;
  }
}

void SampleSolver::store(Vec x, double* u) const {
  const PetscScalar* xx;
  PetscInt n;
  Vec whole = x;
  if (comm_size_ > 1) {
    PINS_PETSC_CALL(DMDAGlobalToNaturalBegin(da_, x, INSERT_VALUES, natural_));
    PINS_PETSC_CALL(DMDAGlobalToNaturalEnd(da_, x, INSERT_VALUES, natural_));
    PINS_PETSC_CALL(VecScatterBegin(to_zero_, natural_, gathered_, INSERT_VALUES, SCATTER_FORWARD));
    PINS_PETSC_CALL(VecScatterEnd(to_zero_, natural_, gathered_, INSERT_VALUES, SCATTER_FORWARD));
    if (comm_rank_ != 0) return;
    whole = gathered_;
  }
  // One process (or the gathered natural vector): the row-major grid with the dof
  // interlaced ([grid...][dof]); datasets store the components one after the other
  // ([dof][grid...]).
  PINS_PETSC_CALL(VecGetLocalSize(whole, &n));
  PINS_PETSC_CALL(VecGetArrayRead(whole, &xx));
  const PetscInt points = n / dof_;
  for (PetscInt p = 0; p < points; ++p)
    for (int c = 0; c < dof_; ++c) u[size_t(c) * size_t(points) + size_t(p)] = xx[p * dof_ + c];
  PINS_PETSC_CALL(VecRestoreArrayRead(whole, &xx));
}

void SampleSolver::load(const double* u, Vec x) const {
  PetscScalar* xx;
  PINS_PETSC_CALL(VecGetArrayWrite(x, &xx));
  if (comm_size_ == 1) {
    PetscInt n;
    PINS_PETSC_CALL(VecGetLocalSize(x, &n));
    const PetscInt points = n / dof_;
    for (PetscInt p = 0; p < points; ++p)
      for (int c = 0; c < dof_; ++c) xx[p * dof_ + c] = u[size_t(c) * size_t(points) + size_t(p)];
  } else {
    // Every process holds the whole grid: each copies its own box of the DMDA.
    PetscInt xs, ys, zs, xm, ym, zm, mx, my, mz;
    PINS_PETSC_CALL(DMDAGetCorners(da_, &xs, &ys, &zs, &xm, &ym, &zm));
    PINS_PETSC_CALL(DMDAGetInfo(da_, nullptr, &mx, &my, &mz, nullptr, nullptr, nullptr, nullptr,
                                nullptr, nullptr, nullptr, nullptr, nullptr));
    const size_t points = size_t(mx) * size_t(my) * size_t(mz);
    size_t l = 0;
    for (PetscInt k = zs; k < zs + zm; ++k)
      for (PetscInt j = ys; j < ys + ym; ++j)
        for (PetscInt i = xs; i < xs + xm; ++i, ++l) {
          const size_t p = (size_t(k) * size_t(my) + size_t(j)) * size_t(mx) + size_t(i);
          for (int c = 0; c < dof_; ++c) xx[l * size_t(dof_) + size_t(c)] = u[size_t(c) * points + p];
        }
  }
  PINS_PETSC_CALL(VecRestoreArrayWrite(x, &xx));
}

SampleSolver::~SampleSolver() {
  destroy();
}

void SampleSolver::destroy() {
  KSPDestroy(&kept_ksp_);
  VecScatterDestroy(&to_zero_);
  VecDestroy(&gathered_);
  VecDestroy(&natural_);
  VecDestroy(&rate_);
  VecDestroy(&state_);
  VecDestroy(&work_);
  VecDestroy(&reference_);
  VecDestroy(&r_);
  VecDestroy(&x_);
  VecDestroy(&b_);
  MatDestroy(&A_);
  DMDestroy(&da_);
}

SampleResult SampleSolver::solve(const std::vector<const double*>& inputs, double* u) {
  return solve(inputs, u, nullptr, nullptr);
}

SampleResult SampleSolver::solve_nonlinear(const std::vector<const double*>& inputs) {
  SampleResult result;
  PINS_PETSC_CALL(family_.SetSNESFunctions(da_, inputs));
  SNES snes = nullptr;
  try {
    PINS_PETSC_CALL(SNESCreate(comm_, &snes));
    PINS_PETSC_CALL(SNESSetDM(snes, da_));
    // The Jacobian goes into the matrix this object keeps (DMCreateMatrix's pattern).
    PINS_PETSC_CALL(SNESSetJacobian(snes, A_, A_, nullptr, nullptr));
    PINS_PETSC_CALL(configure_nonlinear_solver(snes, prefix_.empty() ? nullptr : prefix_.c_str()));
    PetscReal rtol, norm0, rnorm;
    PetscInt max_it;
    PINS_PETSC_CALL(SNESGetTolerances(snes, nullptr, &rtol, nullptr, &max_it, nullptr));
    // ‖F(0)‖: the scale of the relative residual (the solve starts from u = 0).
    PINS_PETSC_CALL(VecZeroEntries(x_));
    PINS_PETSC_CALL(SNESComputeFunction(snes, x_, r_));
    PINS_PETSC_CALL(VecNorm(r_, NORM_2, &norm0));
    if (before_solve_) before_solve_(snes);
    PINS_PETSC_CALL(SNESSolve(snes, nullptr, x_));
    if (after_solve_) after_solve_(snes);
    SNESConvergedReason reason;
    PetscInt its;
    PINS_PETSC_CALL(SNESGetConvergedReason(snes, &reason));
    PINS_PETSC_CALL(SNESGetIterationNumber(snes, &its));
    result.iterations = int(its);
    // The certificate: the true residual F(u), recomputed.
    PINS_PETSC_CALL(SNESComputeFunction(snes, x_, r_));
    PINS_PETSC_CALL(VecNorm(r_, NORM_2, &rnorm));
    result.residual = norm0 > 0 ? rnorm / norm0 : rnorm;
    if (reason < 0) {
      result.failure = std::string("SNES did not converge: ") + SNESConvergedReasons[reason] +
                       " after " + std::to_string(result.iterations) +
                       " Newton iterations (-snes_max_it " + std::to_string(max_it) +
                       "), ||F(u)||/||F(0)|| = " + format_g(result.residual);
    } else if (!(result.residual <= rtol)) {
      result.failure = std::string("SNES stopped with ") + SNESConvergedReasons[reason] +
                       " but ||F(u)||/||F(0)|| = " + format_g(result.residual) +
                       " exceeds -snes_rtol " + format_g(rtol) + " after " +
                       std::to_string(result.iterations) + " Newton iterations";
    }
  } catch (...) {
    SNESDestroy(&snes);
    throw;
  }
  PINS_PETSC_CALL(SNESDestroy(&snes));
  return result;
}

namespace {
// What the trajectory monitor needs: the stored states, the step, the tolerance, the state
// u^t of the step under way and its norm, and what it has found so far.
struct TrajectoryMonitor {
  double* u = nullptr;  // [steps + 1][dof][points] (written on the solver's rank 0)
  size_t state_size = 0;  // dof x points, the whole grid
  std::function<void(Vec, double*)> store;  // SampleSolver::store
  double dt = 0, rtol = 0;
  Vec state = nullptr, rate = nullptr, residual = nullptr;
  double max_residual = 0;
  PetscInt bad_step = -1;  // the first step above rtol, or -1
  double bad_residual = 0;
};

// Called by TSSolve with the initial state (step 0) and after every step: certifies step
// `step` by the family's residual G = dt · F(u, (u − u^t)/dt) relative to ‖u^t‖, stores the
// new state, and sets the next step's SNES stopping test to ‖G‖ ≤ rtol ‖u^{t+1}‖.
PetscErrorCode monitor_trajectory(TS ts, PetscInt step, PetscReal time, Vec x, void* ctx) {
  auto& m = *static_cast<TrajectoryMonitor*>(ctx);
  PetscReal state_norm, norm;
  SNES snes;
  PetscReal ts_dt;
  PetscFunctionBeginUser;
  // Every step is dt (configure_time_stepper); a TS that changed it would store states
  // at other times than t·dt.
  PetscCall(TSGetTimeStep(ts, &ts_dt));
  PetscCheck(ts_dt == m.dt, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "the TS changed its step from %g to %g at step %d", m.dt, (double)ts_dt, (int)step);
  if (step > 0) {
    PetscCall(VecNorm(m.state, NORM_2, &state_norm));
    PetscCall(VecWAXPY(m.rate, -1.0, m.state, x));
    PetscCall(VecScale(m.rate, 1.0 / m.dt));
    PetscCall(TSComputeIFunction(ts, time, x, m.rate, m.residual, PETSC_FALSE));
    PetscCall(VecNorm(m.residual, NORM_2, &norm));
    // ‖G(u)‖/‖G(0)‖ with G(0) = −u^t, as pins::Family::relative_residual computes it.
    const double relative = m.dt * norm / std::max(double(state_norm), 1e-300);
    m.max_residual = std::max(m.max_residual, relative);
    if (!(relative <= m.rtol) && m.bad_step < 0) {
      m.bad_step = step;
      m.bad_residual = relative;
    }
    PetscCallCXX(m.store(x, m.u + size_t(step) * m.state_size));
  }
  PetscCall(VecCopy(x, m.state));
  PetscCall(VecNorm(m.state, NORM_2, &state_norm));
  PetscCall(TSGetSNES(ts, &snes));
  PetscCall(SNESSetTolerances(snes, m.rtol * state_norm / m.dt, 0.0, 0.0, PETSC_DEFAULT,
                              PETSC_DEFAULT));
  PetscFunctionReturn(0);
}
}  // namespace

SampleResult SampleSolver::solve_trajectory(const std::vector<const double*>& inputs, double* u) {
  SampleResult result;
  const int steps = family_.steps();
  const double dt = family_.time_step();
  // A fresh copy of the DM for every trajectory: a TS leaves itself in its DM as the context
  // of the SNES function, and a second TS on the same DM would call the destroyed first one.
  DM dm = nullptr;
  TS ts = nullptr;
  try {
    PINS_PETSC_CALL(DMClone(da_, &dm));
    PINS_PETSC_CALL(family_.SetTSFunctions(dm, inputs));
    PINS_PETSC_CALL(TSCreate(comm_, &ts));
    PINS_PETSC_CALL(TSSetDM(ts, dm));
    // The Jacobian goes into the matrix this object keeps (DMCreateMatrix's pattern).
    PINS_PETSC_CALL(TSSetIJacobian(ts, A_, A_, nullptr, nullptr));
    PINS_PETSC_CALL(
        configure_time_stepper(ts, prefix_.empty() ? nullptr : prefix_.c_str(), dt, steps));
    SNES snes;
    PetscReal rtol;
    PetscInt max_it, n;
    PINS_PETSC_CALL(TSGetSNES(ts, &snes));
    PINS_PETSC_CALL(SNESGetTolerances(snes, nullptr, &rtol, nullptr, &max_it, nullptr));
    PINS_PETSC_CALL(VecGetSize(x_, &n));
    TrajectoryMonitor m;
    m.u = u;
    m.state_size = size_t(n);
    m.store = [this](Vec x, double* out) { store(x, out); };
    m.dt = dt;
    m.rtol = rtol;
    m.state = state_;
    m.rate = rate_;
    m.residual = r_;
    load(u, x_);  // the initial state u[0] into the TS's vector ([dof][grid] → interlaced)
    PINS_PETSC_CALL(TSMonitorSet(ts, monitor_trajectory, &m, nullptr));
    PINS_PETSC_CALL(TSSetTime(ts, 0.0));
    PINS_PETSC_CALL(TSSetStepNumber(ts, 0));
    if (before_solve_) before_solve_(snes);  // e.g. the surrogate as every step's predictor
    PINS_PETSC_CALL(TSSolve(ts, x_));
    if (after_solve_) after_solve_(snes);
    TSConvergedReason reason;
    PetscInt done, its;
    PINS_PETSC_CALL(TSGetConvergedReason(ts, &reason));
    PINS_PETSC_CALL(TSGetStepNumber(ts, &done));
    PINS_PETSC_CALL(TSGetSNESIterations(ts, &its));
    result.iterations = int(its);
    result.residual = m.max_residual;
    if (reason < 0) {
      SNESConvergedReason snes_reason;
      PetscInt snes_its;
      PINS_PETSC_CALL(SNESGetConvergedReason(snes, &snes_reason));
      PINS_PETSC_CALL(SNESGetIterationNumber(snes, &snes_its));
      result.failure = "step " + std::to_string(done + 1) + " of " + std::to_string(steps) +
                       " (t = " + format_g((done + 1) * dt) + "): " +
                       (reason == TS_DIVERGED_NONLINEAR_SOLVE
                            ? std::string("SNES did not converge: ") +
                                  SNESConvergedReasons[snes_reason] + " after " +
                                  std::to_string(snes_its) + " Newton iterations (-snes_max_it " +
                                  std::to_string(max_it) + ")"
                            : std::string("TS failed: ") + TSConvergedReasons[reason]);
    } else if (done != steps) {
      result.failure = "the TS stopped after " + std::to_string(done) + " of " +
                       std::to_string(steps) + " steps (" + TSConvergedReasons[reason] + ")";
    } else if (m.bad_step >= 0) {
      result.failure = "step " + std::to_string(m.bad_step) + " of " + std::to_string(steps) +
                       " (t = " + format_g(m.bad_step * dt) + "): ||G(u)||/||u_prev|| = " +
                       format_g(m.bad_residual) + " exceeds -snes_rtol " + format_g(rtol);
    }
  } catch (...) {
    TSDestroy(&ts);
    DMDestroy(&dm);
    throw;
  }
  PINS_PETSC_CALL(TSDestroy(&ts));
  PINS_PETSC_CALL(DMDestroy(&dm));
  return result;
}

SampleResult SampleSolver::solve(const std::vector<const double*>& inputs, double* u,
                                 const double* reference, ConvergenceHistory* history) {
  HistoryMonitor monitor;
  monitor.start = Clock::now();  // assembly is part of the solve's time
  PINS_CHECK(!history == !reference, "sample solver: a history needs a reference solution");
  PINS_CHECK(!history || comm_size_ == 1,
             "sample solver: convergence histories are recorded on one process only");
  PINS_CHECK(!history || !family_.nonlinear(),
             "sample solver: convergence histories are "
             "recorded for linear families only; ",
             family_.name(), " is nonlinear");
  if (history) {
    *history = {};
    monitor.out = history;
    if (!reference_) {
      PINS_PETSC_CALL(VecDuplicate(b_, &reference_));
      PINS_PETSC_CALL(VecDuplicate(b_, &work_));
    }
    // The reference is stored [dof][grid...]; the vector interlaces the dof. Copying it is
    // part of the measurement, so it is taken out of the clock like the monitor's work.
    const Clock::time_point copy_start = Clock::now();
    PetscScalar* rr;
    PetscInt n;
    PINS_PETSC_CALL(VecGetLocalSize(reference_, &n));
    PINS_PETSC_CALL(VecGetArrayWrite(reference_, &rr));
    const PetscInt points = n / dof_;
    for (PetscInt p = 0; p < points; ++p)
      for (int c = 0; c < dof_; ++c)
        rr[p * dof_ + c] = reference[size_t(c) * size_t(points) + size_t(p)];
    PINS_PETSC_CALL(VecRestoreArrayWrite(reference_, &rr));
    PINS_PETSC_CALL(VecNorm(reference_, NORM_2, &monitor.reference_norm));
    monitor.reference = reference_;
    monitor.work = work_;
    monitor.recording = std::chrono::duration<double>(Clock::now() - copy_start).count();
  }
  SampleResult result;
  if (family_.time_dependent()) {
    PINS_CHECK(!history, "sample solver: convergence histories are not recorded for "
               "time-dependent families");
    return solve_trajectory(inputs, u);  // it stores every state itself
  } else if (family_.nonlinear()) {
    result = solve_nonlinear(inputs);
  } else {
    PINS_PETSC_CALL(family_.AssembleOperator(da_, inputs, A_));
    PINS_PETSC_CALL(family_.AssembleRHS(da_, inputs, b_));
    PINS_PETSC_CALL(VecZeroEntries(x_));

    PINS_CHECK(!history || !keep_solver_,
               "sample solver: convergence histories are recorded with a fresh KSP per sample");
    KSP ksp = keep_solver_ ? kept_ksp_ : nullptr;
    try {
      if (!ksp) {
        PINS_PETSC_CALL(KSPCreate(comm_, &ksp));
        PINS_PETSC_CALL(KSPSetOperators(ksp, A_, A_));
        PINS_PETSC_CALL(configure_solver(ksp, prefix_.empty() ? nullptr : prefix_.c_str()));
      } else {
        // The same matrix with new values: the PC sees its state change and sets up again.
        PINS_PETSC_CALL(KSPSetOperators(ksp, A_, A_));
        PINS_PETSC_CALL(KSPSetInitialGuessNonzero(ksp, PETSC_FALSE));  // a restart's setting
      }
      PetscReal rtol, bnorm, rnorm;
      PetscInt max_it;
      PINS_PETSC_CALL(KSPGetTolerances(ksp, &rtol, nullptr, nullptr, &max_it));
      PINS_PETSC_CALL(VecNorm(b_, NORM_2, &bnorm));
      if (history) {
        monitor.bnorm = bnorm;
        PINS_PETSC_CALL(KSPMonitorSet(ksp, record_iterate, &monitor, nullptr));
      }
      for (int attempt = 0;; ++attempt) {
        PINS_PETSC_CALL(KSPSolve(ksp, b_, x_));
        KSPConvergedReason reason;
        PetscInt its;
        PINS_PETSC_CALL(KSPGetConvergedReason(ksp, &reason));
        PINS_PETSC_CALL(KSPGetIterationNumber(ksp, &its));
        result.iterations += int(its);
        if (reason < 0) {
          const char* why = nullptr;
          KSPGetConvergedReasonString(ksp, &why);
          result.failure = std::string("the solver did not converge: ") + (why ? why : "?") +
                           " after " + std::to_string(result.iterations) +
                           " iterations (-ksp_max_it " + std::to_string(max_it) + ")";
          break;
        }
        // The certificate: the true residual, recomputed with the assembled matrix.
        PINS_PETSC_CALL(MatMult(A_, x_, r_));
        PINS_PETSC_CALL(VecAYPX(r_, -1.0, b_));
        PINS_PETSC_CALL(VecNorm(r_, NORM_2, &rnorm));
        result.residual = bnorm > 0 ? rnorm / bnorm : rnorm;
        if (result.residual <= rtol) break;
        if (attempt == kMaxRestarts) {
          result.failure = "true relative residual " + format_g(result.residual) +
                           " exceeds -ksp_rtol " + format_g(rtol) + " after " +
                           std::to_string(result.iterations) + " iterations and " +
                           std::to_string(kMaxRestarts) + " restarts";
          break;
        }
        PINS_PETSC_CALL(KSPSetInitialGuessNonzero(ksp, PETSC_TRUE));
      }
    } catch (...) {
      if (ksp == kept_ksp_) kept_ksp_ = nullptr;
      KSPDestroy(&ksp);
      throw;
    }
    if (keep_solver_)
      kept_ksp_ = ksp;
    else
      PINS_PETSC_CALL(KSPDestroy(&ksp));
  }

  store(x_, u);
  return result;
}

}  // namespace pins::petsc::detail
