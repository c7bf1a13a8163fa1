// PC type "surrogate": a trained network inside the user's Krylov solve, written like
// PETSc's own PCs (a private context, SetUp / Apply / SetFromOptions / View / Reset /
// Destroy, PCCreate_Surrogate), registered by pins::petsc::register_all() and when PETSc
// loads libpins_petsc through -dll_append.
//
// Modes (-pc_surrogate_mode):
//  precondition: z = k Jacobi sweeps, + α G(r − A z), + k sweeps (a HINTS-like two-stage
//    cycle; nonlinear, so for flexible methods: FGMRES, GCR);
//  replace: z = the same cycle, then -pc_surrogate_refine k multigrid V-cycles on it
//    (z ← z + V(r − A z), pins::MultigridCycle built from the matrix; default k = 0), returned
//    only if ‖r − Amat z‖ ≤ certify_rtol ‖r‖ (the operator pc->mat, not the preconditioning
//    matrix: they differ when a program passes Amat ≠ Pmat); otherwise a fallback KSP
//    (prefix -pc_surrogate_fallback_, default CG + the fallback PC) solves from z, and the
//    reason is printed once. Meant for -ksp_type preonly. An operator that the model's
//    operator flag marks as unlike its training operators (pins/core/precondition.hpp) goes
//    to the fallback KSP from zero without the network (-pc_surrogate_operator_check 0: try
//    the network all the same).
// Safety: NaN/Inf from the network, or a Krylov residual that falls by less than a factor
// -pc_surrogate_stall over -pc_surrogate_window iterations, switches to the fallback PC
// (-pc_surrogate_fallback, default gamg: it converges where Jacobi may not, and it is in
// every PETSc) for the rest of the PC's life; so does a Krylov pass that fails with the
// network (CG under -pc_surrogate_allow_nonflexible on an indefinite application), and a
// non-flexible KSP in precondition mode. A switch in the middle of a solve restarts the
// Krylov method from the current iterate: the space built with the network is not reused
// with the fallback, and the restarted method has its full restart length and the rest of
// -ksp_max_it. The PC watches the residuals and restarts the method through two hooks it
// adds to the KSP before each solve (PCPreSolve): a convergence test in front of the user's,
// which ends a pass at a switch, and a wrapper around the KSP type's solve, which runs the
// next pass (so -ksp_converged_reason, -ksp_view and KSPGetIterationNumber see the whole
// solve). Every switch is printed once and shown by -ksp_view. The rule watches the outer
// residual, not each network step: inside FGMRES the PC is applied to Arnoldi vectors, on
// which even a good preconditioner can leave almost all of the vector while the solve
// converges fast.
// A pass that stops on the Krylov method's residual estimate is checked against the true
// residual ‖b − A x‖ too, and continued from its iterate while that misses the tolerance
// (-pc_surrogate_true_residual_passes, one MatMult per solve).
// -log_view shows the PC's set-up, network inference and application as PinsSurrSetUp,
// PinsSurrInfer and PinsSurrApply.
#include <petsc/private/kspimpl.h>
#include <petsc/private/pcimpl.h>
#include <petscksp.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "cycle_refiner.hpp"
#include "model_task_hint.hpp"
#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/register.hpp"
#include "stencil_from_matrix.hpp"
#include "surrogate_step.hpp"

namespace pins::petsc {

namespace {

constexpr char kWho[] = "-pc_type surrogate";
// Where the wrapper keeps the KSP type's own solve (PetscObjectComposeFunction on the KSP).
constexpr char kKrylovSolve[] = "PinsSurrogateKrylovSolve_C";

// The PetscLogEvents of -log_view, looked up by name when a PC is created (so they are
// registered once per PETSc session, and again after a second PetscInitialize).
struct LogEvents {
  PetscLogEvent setup = 0, infer = 0, apply = 0;
};

struct PCSurrogate {
  // Options.
  std::string model_path;
  std::string mode = "precondition";
  PetscInt smooth = -1;  // -1: what the model was trained with
  PetscReal certify_rtol = 1e-6;
  char fallback_type[64] = "gamg";
  PetscInt window = 20;
  PetscReal stall = 0.99;
  PetscBool allow_nonflexible = PETSC_FALSE;
  PetscInt threads = 0;  // LibTorch threads; 0: the cores bound to this process (shared)
  PetscInt refine = 0;   // replace mode: multigrid V-cycles on the answer before certifying
  PetscBool operator_check = PETSC_TRUE;  // replace mode: skip the network if flagged
  PetscInt cycle = 0;  // index into kCycles: where the network's applications run
  PetscBool matrices_reuse = PETSC_TRUE;  // same Jacobian pattern: new values only
  PetscInt network_lag = 1;               // ... and the network at every L-th of those
  PetscInt galerkin = 0;  // index into kGalerkin: the matrices' coarse operators
  // State.
  std::unique_ptr<SurrogateStep> step;
  std::unique_ptr<CycleRefiner> refiner;  // when refine > 0
  PC fallback = nullptr;                  // the safety PC (set up when first used)
  KSP fallback_ksp = nullptr;             // replace mode's solver
  Vec r1 = nullptr, g = nullptr;
  std::string fallback_reason;  // non-empty: the network is switched off
  PetscInt applies = 0, network_applies = 0, certified = 0, uncertified = 0, skipped = 0;
  std::vector<PetscReal> residuals;  // the watched KSP's residual norms in this pass
  PetscReal last_ratio = -1, last_certificate = -1;
  bool reported_uncertified = false, reported_flagged = false;
  // The restart on a switch.
  bool solving = false;          // inside the first pass of a KSP solve (the solve wrapper)
  bool restart_pending = false;  // switched in that pass: end it, restart with the fallback
  PetscInt iteration = 0;        // the watched KSP's latest iteration in this pass
  PetscInt switch_iteration = -1, restarts = 0;
  // The true-residual check at the end of a solve (KSPSolve_Surrogate).
  PetscInt true_residual_passes = 3;  // -pc_surrogate_true_residual_passes
  PetscInt true_residual_restarts = 0;
  LogEvents events;
};

// -pc_surrogate_cycle: auto (MgNet as distributed matrices on several processes, and on one
// with A's own hierarchy; the network otherwise: on rank 0, or an FNO on every process's
// part), network, matrices (SurrogateStep::Cycle, in that order).
const char* const kCycles[] = {"auto", "network", "matrices"};
// -pc_surrogate_galerkin: the coarse operators of the cycle as matrices, from the network's
// row-scaled D⁻¹A (scaled, as trained) or from A itself (symmetric; MgNetMatrices::build);
// auto: symmetric unless -pc_surrogate_cycle network (SurrogateStep::Hierarchy, in order).
const char* const kGalerkin[] = {"auto", "scaled", "symmetric"};

PCSurrogate* ctx_of(PC pc) {
  return static_cast<PCSurrogate*>(pc->data);
}

PetscInt effective_smooth(const PCSurrogate& s) {
  return s.smooth >= 0 ? s.smooth : (s.step ? s.step->trained_smooth() : 0);
}

// `failed_pass`: the Krylov method has already stopped with a failure the network caused, so
// the method restarts even at iteration 0.
PetscErrorCode switch_to_fallback(PC pc, const std::string& why, bool failed_pass = false) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  if (!s.fallback_reason.empty()) PetscFunctionReturn(0);
  s.fallback_reason = why;
  s.switch_iteration = s.solving ? s.iteration : 0;
  // Mid-solve, the Krylov space holds directions the network made: restart without them.
  s.restart_pending = s.solving && (s.iteration > 0 || failed_pass);
  PetscCall(PetscPrintf(
      PetscObjectComm((PetscObject)pc),
      "pins: -pc_type surrogate switched to the fallback PC %s after %" PetscInt_FMT
      " Krylov iterations%s: %s\n",
      s.fallback_type, s.switch_iteration,
      s.restart_pending ? " (the Krylov method restarts from there)" : "", why.c_str()));
  PetscFunctionReturn(0);
}

// The cycle: z = S^k 0, z += α G(r − A z), z = S^k z. Returns false if the network failed.
PetscErrorCode run_cycle(PC pc, Vec r, Vec z, PetscBool* network_ok) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  const PetscInt k = effective_smooth(s);
  PetscCall(VecZeroEntries(z));
  Vec rin = r;
  if (k > 0) {
    PetscCall(s.step->jacobi(r, z, k));
    PetscCall(MatResidual(pc->pmat, r, z, s.r1));  // r1 = r − A z
    rin = s.r1;
  }
  PetscReal ratio;
  PetscBool finite;
  PetscCall(PetscLogEventBegin(s.events.infer, pc, rin, s.g, 0));
  PetscCall(s.step->apply(rin, s.g, &ratio, &finite));
  PetscCall(PetscLogEventEnd(s.events.infer, pc, rin, s.g, 0));
  ++s.network_applies;
  *network_ok = finite;
  if (!finite) PetscFunctionReturn(0);
  s.last_ratio = ratio;
  PetscCall(VecAXPY(z, 1.0, s.g));
  if (k > 0) PetscCall(s.step->jacobi(r, z, k));
  PetscFunctionReturn(0);
}

// Replace mode's fallback: solve A z = r to certify_rtol ‖r‖ with the fallback KSP, from z
// (the network's answer) or from zero.
PetscErrorCode solve_with_fallback(PC pc, Vec r, Vec z, PetscBool from_z) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  PetscReal rn, rtol, abstol, dtol;
  PetscInt maxit;
  PetscCall(VecNorm(r, NORM_2, &rn));
  // Converge to certify_rtol relative to ‖r‖, whatever the fallback measures against.
  PetscCall(KSPGetTolerances(s.fallback_ksp, &rtol, &abstol, &dtol, &maxit));
  PetscCall(
      KSPSetTolerances(s.fallback_ksp, rtol, PetscMax(abstol, s.certify_rtol * rn), dtol, maxit));
  if (!from_z) PetscCall(VecZeroEntries(z));
  PetscCall(KSPSetInitialGuessNonzero(s.fallback_ksp, from_z));
  PetscCall(KSPSolve(s.fallback_ksp, r, z));
  PetscFunctionReturn(0);
}

// Replace mode's certificate: the true relative residual of z against the operator Amat.
PetscErrorCode certify(PC pc, Vec r, Vec z, PetscBool* accepted) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  Vec w = s.r1;
  PetscReal rn, wn;
  PetscCall(MatResidual(pc->mat, r, z, w));
  PetscCall(VecNorm(w, NORM_2, &wn));
  PetscCall(VecNorm(r, NORM_2, &rn));
  s.last_certificate = rn > 0 ? wn / rn : 0;
  *accepted = s.last_certificate <= s.certify_rtol ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

// "<KSP type> + <PC type>" of replace mode's fallback solver, for its messages.
PetscErrorCode fallback_solver_name(const PCSurrogate& s, std::string* name) {
  PetscFunctionBeginUser;
  KSPType kt;
  PCType pt;
  PC fpc;
  PetscCall(KSPGetType(s.fallback_ksp, &kt));
  PetscCall(KSPGetPC(s.fallback_ksp, &fpc));
  PetscCall(PCGetType(fpc, &pt));
  *name = std::string(kt) + " + " + pt;
  PetscFunctionReturn(0);
}

PetscErrorCode report_uncertified(PC pc) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  if (s.reported_uncertified) PetscFunctionReturn(0);
  s.reported_uncertified = true;
  std::string solver;
  PetscCall(fallback_solver_name(s, &solver));
  PetscCall(PetscPrintf(PetscObjectComm((PetscObject)pc),
                        "pins: surrogate answer not certified (relative residual %.3g > "
                        "-pc_surrogate_certify_rtol %.3g); solving with %s from it\n",
                        (double)s.last_certificate, (double)s.certify_rtol, solver.c_str()));
  PetscFunctionReturn(0);
}

// Once switched: the fallback PC in precondition mode; in replace mode a whole solve, since
// preonly applies the PC once and one application of a PC is not an answer.
PetscErrorCode apply_fallback(PC pc, Vec r, Vec z) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  if (s.mode == "replace")
    PetscCall(solve_with_fallback(pc, r, z, PETSC_FALSE));
  else
    PetscCall(PCApply(s.fallback, r, z));
  PetscFunctionReturn(0);
}

// Replace mode, for an operator unlike the model's training operators: the fallback solves
// from zero and the network is not tried (its answer would rarely be certified and would cost
// its inference); said once.
PetscErrorCode solve_flagged_operator(PC pc, Vec r, Vec z) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  ++s.skipped;
  if (!s.reported_flagged) {
    s.reported_flagged = true;
    std::string solver;
    PetscCall(fallback_solver_name(s, &solver));
    PetscCall(PetscPrintf(PetscObjectComm((PetscObject)pc),
                          "pins: the operator is unlike those the surrogate was trained on "
                          "(operator score %.3g > 1); solving with %s without the network\n",
                          s.step->operator_score(), solver.c_str()));
  }
  PetscCall(solve_with_fallback(pc, r, z, PETSC_FALSE));
  PetscFunctionReturn(0);
}

PetscErrorCode apply_network(PC pc, Vec r, Vec z) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  if (s.mode == "replace" && s.operator_check && s.step->operator_flagged()) {
    PetscCall(solve_flagged_operator(pc, r, z));
    PetscFunctionReturn(0);
  }
  PetscBool ok = PETSC_FALSE;
  PetscCall(run_cycle(pc, r, z, &ok));
  if (!ok) {
    PetscCall(switch_to_fallback(pc, "the network's output contains NaN or Inf"));
    PetscCall(apply_fallback(pc, r, z));
    PetscFunctionReturn(0);
  }
  if (s.mode != "replace") PetscFunctionReturn(0);
  if (s.refiner) PetscCall(s.refiner->refine(r, z, s.refine));
  PetscBool accepted = PETSC_FALSE;
  PetscCall(certify(pc, r, z, &accepted));
  if (accepted) {
    ++s.certified;
    PetscFunctionReturn(0);
  }
  ++s.uncertified;
  PetscCall(report_uncertified(pc));
  PetscCall(solve_with_fallback(pc, r, z, PETSC_TRUE));
  PetscFunctionReturn(0);
}

PetscErrorCode PCApply_Surrogate(PC pc, Vec r, Vec z) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(s.events.apply, pc, r, z, 0));
  ++s.applies;
  if (s.fallback_reason.empty())
    PetscCall(apply_network(pc, r, z));
  else
    PetscCall(apply_fallback(pc, r, z));
  PetscCall(PetscLogEventEnd(s.events.apply, pc, r, z, 0));
  PetscFunctionReturn(0);
}

bool is_surrogate(PC pc) {
  return pc && pc->ops->apply == guarded<kWho, PCApply_Surrogate> && pc->data;
}

// The stall rule: if the residual norm of iteration it is above stall × the norm window
// iterations earlier, the network is not helping and the fallback takes over.
PetscErrorCode watch_stall(PC pc, PetscInt it, PetscReal rnorm) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  if (it == 0) s.residuals.clear();
  s.residuals.push_back(rnorm);
  const std::size_t n = s.residuals.size(), w = std::size_t(s.window);
  if (s.mode != "precondition" || !s.fallback_reason.empty() || n <= w) PetscFunctionReturn(0);
  const PetscReal before = s.residuals[n - 1 - w];
  if (rnorm > s.stall * before) {
    char why[256];
    PetscCall(PetscSNPrintf(
        why, sizeof why,
        "the Krylov residual went from %.4g to %.4g over the last %" PetscInt_FMT
        " iterations, a ratio %.3g above -pc_surrogate_stall %g",
        (double)before, (double)rnorm, s.window, (double)(rnorm / before), (double)s.stall));
    PetscCall(switch_to_fallback(pc, why));
  }
  PetscFunctionReturn(0);
}

// The convergence test the PC puts in front of the KSP's own (whose function, context and
// destructor it takes over): the user's test decides first; then the stall rule; and a
// switch in this pass ends the pass (the solve wrapper restarts the method).
struct WatchedTest {
  PC pc = nullptr;  // a reference: the test can outlive neither the PC nor see freed data
  PetscErrorCode (*test)(KSP, PetscInt, PetscReal, KSPConvergedReason*, void*) = nullptr;
  void* ctx = nullptr;
  PetscErrorCode (*destroy)(void*) = nullptr;
};

PetscErrorCode KSPConverged_Surrogate(KSP ksp, PetscInt it, PetscReal rnorm,
                                      KSPConvergedReason* reason, void* ctx) {
  WatchedTest& t = *static_cast<WatchedTest*>(ctx);
  PetscFunctionBeginUser;
  *reason = KSP_CONVERGED_ITERATING;
  if (t.test) PetscCall(t.test(ksp, it, rnorm, reason, t.ctx));
  if (*reason != KSP_CONVERGED_ITERATING || !is_surrogate(t.pc)) PetscFunctionReturn(0);
  PCSurrogate& s = *ctx_of(t.pc);
  if (!s.solving) PetscFunctionReturn(0);  // not our solve (a KSP that shares the PC)
  s.iteration = it;
  PetscCall(watch_stall(t.pc, it, rnorm));
  // Any reason ends the pass; the solve wrapper clears it before the restart.
  if (s.restart_pending) *reason = KSP_DIVERGED_PC_FAILED;
  PetscFunctionReturn(0);
}

PetscErrorCode KSPConvergedDestroy_Surrogate(void* ctx) {
  auto* t = static_cast<WatchedTest*>(ctx);
  PetscFunctionBeginUser;
  if (t->destroy) PetscCall(t->destroy(t->ctx));
  PetscCall(PCDestroy(&t->pc));
  delete t;
  PetscFunctionReturn(0);
}

// Whether a pass that ended converged has a true residual above the tolerance it converged
// to. A Krylov method measuring the unpreconditioned norm (FGMRES, GCR, CG with
// -ksp_norm_type unpreconditioned) tracks it by a recurrence, and with the network's
// directions the recurrence can drift from ‖b − A x‖ on badly conditioned operators
// (measured: 1024², contrast 1:10⁴, FGMRES's estimate 4.5e-9 of ‖b‖ where ‖b − A x‖ is
// 1.8e-5 of it; with GAMG under the same FGMRES the two agree). One MatMult per solve.
PetscErrorCode true_residual_above(KSP ksp, PCSurrogate& s, bool* above) {
  PetscFunctionBeginUser;
  *above = false;
  const bool converged =
      ksp->reason == KSP_CONVERGED_RTOL || ksp->reason == KSP_CONVERGED_ATOL;
  if (!converged || ksp->normtype != KSP_NORM_UNPRECONDITIONED || ksp->transpose_solve ||
      !s.r1)
    PetscFunctionReturn(0);
  Mat A;
  PetscCall(KSPGetOperators(ksp, &A, nullptr));
  PetscCall(MatResidual(A, ksp->vec_rhs, ksp->vec_sol, s.r1));
  PetscReal true_norm;
  PetscCall(VecNorm(s.r1, NORM_2, &true_norm));
  // The default test's tolerance (max(rtol ‖b‖, atol)); a user's own test may leave it unset,
  // and then the residual it accepted is the bar.
  const PetscReal bar = ksp->ttol > 0 ? ksp->ttol : ksp->rnorm;
  *above = true_norm > bar;
  if (*above)
    PetscCall(PetscInfo(ksp->pc,
                        "true residual %g above the tolerance %g the Krylov method converged to "
                        "by its estimate %g: another pass from the iterate\n",
                        (double)true_norm, (double)bar, (double)ksp->rnorm));
  PetscFunctionReturn(0);
}

// A pass the Krylov method ended with a failure while the network preconditioned it (CG
// under -pc_surrogate_allow_nonflexible meeting an indefinite application, a breakdown, a
// diverging residual, NaN/Inf) would fail a system the fallback can solve: switch and restart
// (from zero if the iterate is not finite). Running out of -ksp_max_it is not such a failure.
PetscErrorCode catch_failed_pass(KSP ksp, PCSurrogate& s) {
  PetscFunctionBeginUser;
  if (ksp->reason >= 0 || ksp->reason == KSP_DIVERGED_ITS || !s.fallback_reason.empty() ||
      s.mode != "precondition")
    PetscFunctionReturn(0);
  PetscCall(switch_to_fallback(ksp->pc,
                               std::string("the Krylov method stopped with ") +
                                   KSPConvergedReasons[ksp->reason] + " with the network",
                               true));
  PetscReal xn;
  PetscCall(VecNorm(ksp->vec_sol, NORM_2, &xn));
  if (!std::isfinite(xn)) PetscCall(VecZeroEntries(ksp->vec_sol));
  PetscFunctionReturn(0);
}

// The KSP type's solve, in passes from the current iterate: a second pass if the PC switched
// to its fallback during a pass (the space built with the network is dropped); another if a
// pass stopped on a residual estimate the true residual does not meet
// (-pc_surrogate_true_residual_passes of those at most). The iterations of all passes count
// against -ksp_max_it and in KSPGetIterationNumber.
PetscErrorCode KSPSolve_Surrogate(KSP ksp) {
  PetscFunctionBeginUser;
  PetscErrorCode (*krylov)(KSP) = nullptr;
  PetscCall(PetscObjectQueryFunction((PetscObject)ksp, kKrylovSolve, &krylov));
  PetscCheck(krylov, PetscObjectComm((PetscObject)ksp), PETSC_ERR_PLIB,
             "%s: the KSP lost its own solve method", kWho);
  if (!is_surrogate(ksp->pc)) {
    PetscCall(krylov(ksp));
    PetscFunctionReturn(0);
  }
  PCSurrogate& s = *ctx_of(ksp->pc);
  const PetscInt max_it = ksp->max_it;
  PetscInt before = 0, checks = 0;
  for (;;) {
    s.solving = true;
    s.restart_pending = false;
    s.iteration = 0;
    const PetscErrorCode pass = krylov(ksp);
    if (!pass) PetscCall(catch_failed_pass(ksp, s));
    s.solving = false;
    ksp->max_it = max_it;
    ksp->its += before;
    PetscCall(pass);
    bool again = s.restart_pending;
    if (again) {
      s.restart_pending = false;
      ++s.restarts;
    } else if (s.mode == "precondition" && checks < s.true_residual_passes && ksp->its < max_it) {
      PetscCall(true_residual_above(ksp, s, &again));
      if (again) ++checks, ++s.true_residual_restarts;
    }
    if (!again) break;
    before = ksp->its;
    ksp->reason = KSP_CONVERGED_ITERATING;
    ksp->guess_zero = PETSC_FALSE;  // KSPSolve restores the user's setting afterwards
    ksp->max_it = PetscMax(max_it - before, 1);
  }
  PetscFunctionReturn(0);
}

// Puts the convergence test and the solve wrapper on `ksp`, once per KSP and again after
// the user replaced either (KSPSetConvergenceTest, KSPSetType).
PetscErrorCode watch(PC pc, KSP ksp) {
  PetscFunctionBeginUser;
  if (ksp->converged != guarded<kWho, KSPConverged_Surrogate>) {
    auto* t = new WatchedTest();
    PetscCall(KSPGetAndClearConvergenceTest(ksp, &t->test, &t->ctx, &t->destroy));
    PetscCall(PetscObjectReference((PetscObject)pc));
    t->pc = pc;
    PetscCall(KSPSetConvergenceTest(ksp, guarded<kWho, KSPConverged_Surrogate>, t,
                                    guarded<kWho, KSPConvergedDestroy_Surrogate>));
  }
  if (ksp->ops->solve != guarded<kWho, KSPSolve_Surrogate>) {
    PetscCall(PetscObjectComposeFunction((PetscObject)ksp, kKrylovSolve, ksp->ops->solve));
    ksp->ops->solve = guarded<kWho, KSPSolve_Surrogate>;
  }
  PetscFunctionReturn(0);
}

// The safety PC and replace mode's solver, on Amat and Pmat; set up when first used (an AMG
// set-up costs about as much as a few network applications, and a good network never
// needs it). The fallback PC reads options under -pc_surrogate_fallback_ (e.g.
// -pc_surrogate_fallback_pc_gamg_threshold).
PetscErrorCode set_up_fallbacks(PC pc) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)pc);
  const char* prefix;
  PetscCall(PCGetOptionsPrefix(pc, &prefix));
  if (!s.fallback) {
    PetscCall(PCCreate(comm, &s.fallback));
    PetscCall(PCSetOptionsPrefix(s.fallback, prefix));
    PetscCall(PCAppendOptionsPrefix(s.fallback, "pc_surrogate_fallback_"));
    PetscCall(PCSetType(s.fallback, s.fallback_type));
    PetscCall(PCSetFromOptions(s.fallback));
  }
  PetscCall(PCSetOperators(s.fallback, pc->mat, pc->pmat));
  if (s.mode == "replace" && !s.fallback_ksp) {
    PC fpc;
    PetscCall(KSPCreate(comm, &s.fallback_ksp));
    PetscCall(KSPSetOptionsPrefix(s.fallback_ksp, prefix));
    PetscCall(KSPAppendOptionsPrefix(s.fallback_ksp, "pc_surrogate_fallback_"));
    PetscCall(KSPSetType(s.fallback_ksp, KSPCG));
    PetscCall(KSPGetPC(s.fallback_ksp, &fpc));
    PetscCall(PCSetType(fpc, s.fallback_type));
    PetscCall(
        KSPSetTolerances(s.fallback_ksp, s.certify_rtol, PETSC_DEFAULT, PETSC_DEFAULT, 10000));
    // The certificate is about the true residual, so the fallback measures that one too.
    PetscCall(KSPSetNormType(s.fallback_ksp, KSP_NORM_UNPRECONDITIONED));
    PetscCall(KSPSetFromOptions(s.fallback_ksp));
  }
  if (s.fallback_ksp) PetscCall(KSPSetOperators(s.fallback_ksp, pc->mat, pc->pmat));
  PetscFunctionReturn(0);
}

PetscErrorCode set_up_network(PC pc) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)pc);
  PetscCheck(!s.model_path.empty(), comm, PETSC_ERR_ARG_NULL,
             "-pc_type surrogate needs a model: -pc_surrogate_model <file.pins> (train one with "
             "pins train -task precondition)");
  if (!s.step || s.step->path() != s.model_path) {
    PetscCall(SurrogateStep::load(comm, s.model_path, "-pc_surrogate_model", &s.step, s.threads));
  }
  DM da;
  PetscCall(find_grid(pc->dm, pc->pmat, kWho, &da, kAnyOperatorHint));
  s.step->set_cycle(static_cast<SurrogateStep::Cycle>(s.cycle));
  s.step->set_matrices_reuse(s.matrices_reuse == PETSC_TRUE);
  s.step->set_network_lag(int(s.network_lag));
  s.step->set_hierarchy(static_cast<SurrogateStep::Hierarchy>(s.galerkin));
  PetscCall(s.step->set_operator(pc->pmat, da, kWho));
  PetscCheck(s.refine == 0 || s.mode == "replace", comm, PETSC_ERR_ARG_INCOMP,
             "-pc_surrogate_refine works in -pc_surrogate_mode replace (it refines the answer "
             "before the certificate); this PC is in mode %s",
             s.mode.c_str());
  if (s.refine > 0) {
    if (!s.refiner) s.refiner = std::make_unique<CycleRefiner>();
    PetscCall(s.refiner->set_operator(pc->pmat, da, "-pc_surrogate_refine"));
  } else {
    s.refiner.reset();
  }
  if (!s.r1) PetscCall(MatCreateVecs(pc->pmat, &s.r1, &s.g));
  PetscFunctionReturn(0);
}

PetscErrorCode PCSetUp_Surrogate(PC pc) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(s.events.setup, pc, 0, 0, 0));
  PetscCall(set_up_network(pc));
  PetscCall(set_up_fallbacks(pc));
  PetscCall(PetscLogEventEnd(s.events.setup, pc, 0, 0, 0));
  PetscFunctionReturn(0);
}

bool is_flexible(KSP ksp) {
  const char* flexible[] = {KSPFGMRES,  KSPGCR,    KSPFCG,     KSPPIPEFGMRES, KSPPIPEGCR,
                            KSPPIPEFCG, KSPFBCGSR, KSPPREONLY, KSPRICHARDSON};
  for (const char* t : flexible) {
    PetscBool same = PETSC_FALSE;
    PetscObjectTypeCompare((PetscObject)ksp, t, &same);
    if (same) return true;
  }
  return false;
}

PetscErrorCode PCPreSolve_Surrogate(PC pc, KSP ksp, Vec, Vec) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  s.residuals.clear();
  PetscCall(watch(pc, ksp));
  KSPType kt;
  PetscCall(KSPGetType(ksp, &kt));
  if (s.mode == "precondition" && !is_flexible(ksp) && !s.allow_nonflexible) {
    char why[256];
    PetscCall(PetscSNPrintf(why, sizeof why,
                            "-ksp_type %s is not a flexible method and the network is a nonlinear "
                            "preconditioner (use -ksp_type fgmres or gcr, or "
                            "-pc_surrogate_allow_nonflexible)",
                            kt));
    PetscCall(switch_to_fallback(pc, why));
  }
  if (s.mode == "replace") {
    PetscBool preonly;
    PetscCall(PetscObjectTypeCompare((PetscObject)ksp, KSPPREONLY, &preonly));
    if (!preonly)
      PetscCall(PetscInfo(pc,
                          "replace mode inside -ksp_type %s: every iteration solves; "
                          "-ksp_type preonly is the intended use\n",
                          kt));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode PCSetFromOptions_Surrogate(PC pc, PetscOptionItems* PetscOptionsObject) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  char path[PETSC_MAX_PATH_LEN];
  PetscCall(PetscStrncpy(path, s.model_path.c_str(), sizeof path));
  const char* modes[] = {"precondition", "replace"};
  PetscInt mode = s.mode == "replace" ? 1 : 0;
  PetscOptionsHeadBegin(PetscOptionsObject, "Surrogate (pins) preconditioner options");
  PetscCall(PetscOptionsString("-pc_surrogate_model",
                               "Model file from pins train -task precondition", "PCSURROGATE", path,
                               path, sizeof path, nullptr));
  PetscCall(PetscOptionsEList("-pc_surrogate_mode",
                              "precondition (inside FGMRES/GCR) or replace "
                              "(certified answer, else fallback solve)",
                              "PCSURROGATE", modes, 2, modes[mode], &mode, nullptr));
  PetscCall(PetscOptionsInt("-pc_surrogate_smooth",
                            "Jacobi sweeps before and after the network "
                            "(-1: as trained)",
                            "PCSURROGATE", s.smooth, &s.smooth, nullptr));
  PetscCall(PetscOptionsReal("-pc_surrogate_certify_rtol",
                             "Replace mode: largest accepted relative "
                             "residual",
                             "PCSURROGATE", s.certify_rtol, &s.certify_rtol, nullptr));
  PetscCall(PetscOptionsString("-pc_surrogate_fallback",
                               "PC used when the network fails or stalls (options under "
                               "-pc_surrogate_fallback_)",
                               "PCSURROGATE", s.fallback_type, s.fallback_type,
                               sizeof s.fallback_type, nullptr));
  PetscCall(PetscOptionsInt("-pc_surrogate_window",
                            "Krylov iterations over which the residual "
                            "must fall below -pc_surrogate_stall times its value",
                            "PCSURROGATE", s.window, &s.window, nullptr));
  PetscCall(PetscOptionsReal("-pc_surrogate_stall",
                             "Largest residual ratio over the window "
                             "before the fallback PC takes over",
                             "PCSURROGATE", s.stall, &s.stall, nullptr));
  PetscCall(PetscOptionsInt("-pc_surrogate_threads",
                            "LibTorch threads for the network (0: the cores bound to this "
                            "process, divided among the processes on the node that share them)",
                            "PCSURROGATE", s.threads, &s.threads, nullptr));
  PetscCall(PetscOptionsInt("-pc_surrogate_refine",
                            "Replace mode: multigrid V-cycles on the network's answer before "
                            "its certificate is checked",
                            "PCSURROGATE", s.refine, &s.refine, nullptr));
  PetscCall(PetscOptionsBool("-pc_surrogate_operator_check",
                             "Replace mode: solve without the network when the model's operator "
                             "flag marks the operator as unlike its training operators",
                             "PCSURROGATE", s.operator_check, &s.operator_check, nullptr));
  PetscCall(PetscOptionsEList("-pc_surrogate_cycle",
                              "Where the network's applications run: auto (an MgNet as "
                              "distributed matrices on several processes, and on one with A's "
                              "own hierarchy, the default), network (on rank 0 "
                              "on the whole grid; an FNO on several processes: each on its own "
                              "part), matrices (MgNet only)",
                              "PCSURROGATE", kCycles, 3, kCycles[s.cycle], &s.cycle, nullptr));
  PetscCall(PetscOptionsBool("-pc_surrogate_matrices_reuse",
                             "Cycle as matrices: a new set-up for the same matrix with the same "
                             "nonzero pattern (a Newton or TS Jacobian) changes values only",
                             "PCSURROGATE", s.matrices_reuse, &s.matrices_reuse, nullptr));
  PetscCall(PetscOptionsInt("-pc_surrogate_network_lag",
                            "Cycle as matrices: run the network at every L-th values-only set-up "
                            "only; in between keep its smoothers and prolongation and take the "
                            "new operator's values (coarse operators, scalings, coarse inverse)",
                            "PCSURROGATE", s.network_lag, &s.network_lag, nullptr));
  PetscCall(PetscOptionsEList("-pc_surrogate_galerkin",
                              "MgNet cycle: coarse operators from the network's D^-1 A (scaled) "
                              "or from A itself (symmetric; as distributed matrices, on one "
                              "process too); auto: symmetric unless -pc_surrogate_cycle network",
                              "PCSURROGATE", kGalerkin, 3, kGalerkin[s.galerkin], &s.galerkin,
                              nullptr));
  PetscCall(PetscOptionsInt("-pc_surrogate_true_residual_passes",
                            "Precondition mode: when the Krylov method stops as converged on its "
                            "residual estimate, check the true residual and, if it is above the "
                            "tolerance, go on from the iterate; at most this many times (0: off)",
                            "PCSURROGATE", s.true_residual_passes, &s.true_residual_passes,
                            nullptr));
  PetscCall(PetscOptionsBool("-pc_surrogate_allow_nonflexible",
                             "Keep the network inside a "
                             "non-flexible KSP (CG, GMRES) instead of switching to the fallback",
                             "PCSURROGATE", s.allow_nonflexible, &s.allow_nonflexible, nullptr));
  PetscOptionsHeadEnd();
  MPI_Comm comm = PetscObjectComm((PetscObject)pc);
  PetscCheck(s.smooth >= -1 && s.smooth <= 100, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_smooth must be in [-1, 100], got %" PetscInt_FMT, s.smooth);
  PetscCheck(s.certify_rtol > 0 && s.certify_rtol < 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_certify_rtol must be in (0, 1), got %g", (double)s.certify_rtol);
  PetscCheck(s.threads >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_threads must be >= 0 (0: automatic), got %" PetscInt_FMT, s.threads);
  PetscCheck(s.refine >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_refine must be >= 0 (multigrid cycles), got %" PetscInt_FMT, s.refine);
  PetscCheck(s.network_lag >= 1 && s.network_lag <= 1000000, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_network_lag must be at least 1 (1: the network at every set-up) "
             "and at most 1000000, got %" PetscInt_FMT,
             s.network_lag);
  PetscCheck(s.true_residual_passes >= 0 && s.true_residual_passes <= 100, comm,
             PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_true_residual_passes must be in [0, 100] (0: no check), got %" PetscInt_FMT,
             s.true_residual_passes);
  PetscCheck(s.window >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_window must be at least 1, got %" PetscInt_FMT, s.window);
  PetscCheck(s.stall > 0 && s.stall <= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_stall must be in (0, 1], got %g", (double)s.stall);
  PetscCheck(
      std::string(s.fallback_type) != "surrogate", comm, PETSC_ERR_ARG_WRONG,
      "-pc_surrogate_fallback surrogate would fall back to itself; use gamg, hypre, sor, ...");
  if (s.model_path != path) {
    s.model_path = path;
    pc->setupcalled = 0;
  }
  s.mode = modes[mode];
  if (s.fallback) PetscCall(PCSetType(s.fallback, s.fallback_type));
  PetscFunctionReturn(0);
}

PetscErrorCode PCView_Surrogate(PC pc, PetscViewer viewer) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  PetscBool ascii;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer, "  pins surrogate: model %s, mode %s\n",
                                   s.model_path.empty() ? "(none)" : s.model_path.c_str(),
                                   s.mode.c_str()));
  if (s.step) {
    const ModelManifest& m = s.step->manifest();
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "    network %s trained on %d x %d, applied on %" PetscInt_FMT
                                     " x %" PetscInt_FMT "; %" PetscInt_FMT
                                     " Jacobi sweeps each side\n",
                                     m.architecture.c_str(), m.grid_nx, m.grid_ny, s.step->nx(),
                                     s.step->ny(), effective_smooth(s)));
    if (s.step->uses_matrices())
      PetscCall(PetscViewerASCIIPrintf(viewer,
                                       "    applied as distributed matrices: %d levels "
                                       "(coarse operators from %s), MatMults on every process; "
                                       "%d set-up(s), %d of them values only%s, %d without the "
                                       "network (lag %" PetscInt_FMT ")\n",
                                       s.step->matrix_levels(),
                                       s.step->symmetric_hierarchy() ? "A" : "D^-1 A",
                                       s.step->matrix_builds(),
                                       s.step->matrix_reuses(),
                                       s.matrices_reuse ? "" : " (reuse off)",
                                       s.step->matrix_lags(), s.network_lag));
    else if (s.step->uses_pieces())
      PetscCall(PetscViewerASCIIPrintf(viewer, "    applied by the network on every process, "
                                               "each on its own part of the grid (no gather)\n"));
    else
      PetscCall(PetscViewerASCIIPrintf(viewer, "    applied by the network on rank 0 (whole grid)\n"));
    if (s.step->operator_flag_fitted())
      PetscCall(PetscViewerASCIIPrintf(
          viewer, "    operator score %.6g (> 1: unlike the training operators)%s\n",
          s.step->operator_score(),
          s.mode != "replace" ? "" : s.operator_check ? "; replace mode skips the network then"
                                                      : "; check off"));
    else
      PetscCall(PetscViewerASCIIPrintf(viewer, "    no operator flag in the model\n"));
  }
  PetscCall(PetscViewerASCIIPrintf(viewer,
                                   "    applications %" PetscInt_FMT
                                   ", network steps %" PetscInt_FMT
                                   ", last network residual ratio %.4g\n",
                                   s.applies, s.network_applies, (double)s.last_ratio));
  if (s.mode == "precondition")
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "    true-residual check: %" PetscInt_FMT
                                     " more pass(es) after an estimate the true residual did not "
                                     "meet (at most %" PetscInt_FMT " per solve)\n",
                                     s.true_residual_restarts, s.true_residual_passes));
  if (s.mode == "replace" && s.refine > 0)
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "    refined by %" PetscInt_FMT " multigrid V-cycles before the certificate\n",
        s.refine));
  if (s.mode == "replace")
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "    certify rtol %g: certified %" PetscInt_FMT
                                     ", fell back %" PetscInt_FMT " (last certificate %.3g), "
                                     "solved without the network %" PetscInt_FMT
                                     " (flagged operator)\n",
                                     (double)s.certify_rtol, s.certified, s.uncertified,
                                     (double)s.last_certificate, s.skipped));
  if (s.fallback_reason.empty())
    PetscCall(PetscViewerASCIIPrintf(viewer, "    fallback PC %s (not used)\n", s.fallback_type));
  else
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "    FALLBACK ACTIVE (PC %s) after %" PetscInt_FMT
                                     " Krylov iterations, %" PetscInt_FMT " restarts: %s\n",
                                     s.fallback_type, s.switch_iteration, s.restarts,
                                     s.fallback_reason.c_str()));
  if (s.fallback_ksp) {
    PetscCall(PetscViewerASCIIPushTab(viewer));
    PetscCall(KSPView(s.fallback_ksp, viewer));
    PetscCall(PetscViewerASCIIPopTab(viewer));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode PCReset_Surrogate(PC pc) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  PetscCall(PCDestroy(&s.fallback));
  PetscCall(KSPDestroy(&s.fallback_ksp));
  PetscCall(VecDestroy(&s.r1));
  PetscCall(VecDestroy(&s.g));
  s.step.reset();
  s.refiner.reset();
  s.fallback_reason.clear();
  s.applies = s.network_applies = s.certified = s.uncertified = 0;
  s.residuals.clear();
  s.reported_uncertified = false;
  s.solving = s.restart_pending = false;
  s.iteration = s.restarts = 0;
  s.switch_iteration = -1;
  s.true_residual_restarts = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode PCDestroy_Surrogate(PC pc) {
  PetscFunctionBeginUser;
  PetscCall(PCReset_Surrogate(pc));
  delete ctx_of(pc);
  pc->data = nullptr;
  PetscFunctionReturn(0);
}

PetscErrorCode log_event(const char* name, PetscLogEvent* event) {
  PetscFunctionBeginUser;
  *event = -1;
  PetscCall(PetscLogEventGetId(name, event));
  if (*event < 0) PetscCall(PetscLogEventRegister(name, PC_CLASSID, event));
  PetscFunctionReturn(0);
}

PetscErrorCode log_events(LogEvents* events) {
  PetscFunctionBeginUser;
  PetscCall(log_event("PinsSurrSetUp", &events->setup));
  PetscCall(log_event("PinsSurrInfer", &events->infer));
  PetscCall(log_event("PinsSurrApply", &events->apply));
  PetscFunctionReturn(0);
}

}  // namespace

}  // namespace pins::petsc

/// The constructor PETSc calls for -pc_type surrogate.
extern "C" PetscErrorCode PCCreate_Surrogate(PC pc) {
  using namespace pins::petsc;
  PetscFunctionBeginUser;
  PetscCallCXX(pc->data = new PCSurrogate());
  PetscCall(log_events(&static_cast<PCSurrogate*>(pc->data)->events));
  // Every method runs behind pins' error boundary: a C++ exception becomes a PETSc error.
  pc->ops->setup = guarded<kWho, PCSetUp_Surrogate>;
  pc->ops->apply = guarded<kWho, PCApply_Surrogate>;
  pc->ops->setfromoptions = guarded<kWho, PCSetFromOptions_Surrogate>;
  pc->ops->presolve = guarded<kWho, PCPreSolve_Surrogate>;
  pc->ops->view = guarded<kWho, PCView_Surrogate>;
  pc->ops->reset = guarded<kWho, PCReset_Surrogate>;
  pc->ops->destroy = guarded<kWho, PCDestroy_Surrogate>;
  PetscFunctionReturn(0);
}
