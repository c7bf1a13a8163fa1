#include "sample_solver.hpp"

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

SampleSolver::SampleSolver(const ProblemFamily& family, int dof, std::string prefix)
    : family_(family), dof_(dof), prefix_(std::move(prefix)) {
  PINS_CHECK(dof >= 1, "sample solver: dof must be >= 1, got ", dof);
  try {
    PINS_PETSC_CALL(family_.CreateDM(PETSC_COMM_SELF, &da_));
    PINS_PETSC_CALL(DMCreateMatrix(da_, &A_));
    PINS_PETSC_CALL(DMCreateGlobalVector(da_, &b_));
    PINS_PETSC_CALL(VecDuplicate(b_, &x_));
    PINS_PETSC_CALL(VecDuplicate(b_, &r_));
  } catch (...) {
    destroy();
    throw;
  }
}

SampleSolver::~SampleSolver() {
  destroy();
}

void SampleSolver::destroy() {
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
    PINS_PETSC_CALL(SNESCreate(PETSC_COMM_SELF, &snes));
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

SampleResult SampleSolver::solve(const std::vector<const double*>& inputs, double* u,
                                 const double* reference, ConvergenceHistory* history) {
  HistoryMonitor monitor;
  monitor.start = Clock::now();  // assembly is part of the solve's time
  PINS_CHECK(!history == !reference, "sample solver: a history needs a reference solution");
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
  if (family_.nonlinear()) {
    result = solve_nonlinear(inputs);
  } else {
    PINS_PETSC_CALL(family_.AssembleOperator(da_, inputs, A_));
    PINS_PETSC_CALL(family_.AssembleRHS(da_, inputs, b_));
    PINS_PETSC_CALL(VecZeroEntries(x_));

    KSP ksp = nullptr;
    try {
      PINS_PETSC_CALL(KSPCreate(PETSC_COMM_SELF, &ksp));
      PINS_PETSC_CALL(KSPSetOperators(ksp, A_, A_));
      PINS_PETSC_CALL(configure_solver(ksp, prefix_.empty() ? nullptr : prefix_.c_str()));
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
      KSPDestroy(&ksp);
      throw;
    }
    PINS_PETSC_CALL(KSPDestroy(&ksp));
  }

  const PetscScalar* xx;
  PetscInt n;
  PINS_PETSC_CALL(VecGetLocalSize(x_, &n));
  PINS_PETSC_CALL(VecGetArrayRead(x_, &xx));
  // One process: the global vector is the row-major grid with the dof interlaced
  // ([grid...][dof]); datasets store the components one after the other ([dof][grid...]).
  const PetscInt points = n / dof_;
  for (PetscInt p = 0; p < points; ++p)
    for (int c = 0; c < dof_; ++c) u[size_t(c) * size_t(points) + size_t(p)] = xx[p * dof_ + c];
  PINS_PETSC_CALL(VecRestoreArrayRead(x_, &xx));
  return result;
}

}  // namespace pins::petsc::detail
