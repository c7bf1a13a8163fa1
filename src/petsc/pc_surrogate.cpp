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
//    only if ‖r − A z‖ ≤ certify_rtol ‖r‖; otherwise a fallback KSP (prefix
//    -pc_surrogate_fallback_, default CG + the fallback PC) solves from z, and the reason is
//    printed once. Meant for -ksp_type preonly.
// Safety: NaN/Inf from the network, or a Krylov residual that falls by less than a factor
// -pc_surrogate_stall over -pc_surrogate_window iterations (watched by a KSP monitor the PC
// adds in its pre-solve hook), switches to the fallback PC (-pc_surrogate_fallback, default
// jacobi) for the rest of the solve; so does a non-flexible KSP in precondition mode. Every
// switch is printed once and shown by -ksp_view. The rule watches the outer residual, not
// each network step: inside FGMRES the PC is applied to Arnoldi vectors, on which even a
// good preconditioner can leave almost all of the vector while the solve converges fast.
#include <petsc/private/pcimpl.h>
#include <petscksp.h>

#include <memory>
#include <string>
#include <vector>

#include "cycle_refiner.hpp"
#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/register.hpp"
#include "stencil_from_matrix.hpp"
#include "surrogate_step.hpp"

namespace pins::petsc {

namespace {

constexpr char kWho[] = "-pc_type surrogate";

struct PCSurrogate {
  // Options.
  std::string model_path;
  std::string mode = "precondition";
  PetscInt smooth = -1;  // -1: what the model was trained with
  PetscReal certify_rtol = 1e-6;
  char fallback_type[64] = "jacobi";
  PetscInt window = 20;
  PetscReal stall = 0.99;
  PetscBool allow_nonflexible = PETSC_FALSE;
  PetscInt threads = 0;  // LibTorch threads; 0: the cores per MPI process on the node
  PetscInt refine = 0;   // replace mode: multigrid V-cycles on the answer before certifying
  // State.
  std::unique_ptr<SurrogateStep> step;
  std::unique_ptr<CycleRefiner> refiner;  // when refine > 0
  PC fallback = nullptr;                  // the safety PC
  KSP fallback_ksp = nullptr;             // replace mode's solver
  Vec r1 = nullptr, g = nullptr;
  std::string fallback_reason;  // non-empty: the network is switched off
  PetscInt applies = 0, network_applies = 0, certified = 0, uncertified = 0;
  KSP watched = nullptr;             // the KSP whose residuals the stall monitor sees
  std::vector<PetscReal> residuals;  // its residual norms in the current solve
  PetscReal last_ratio = -1, last_certificate = -1;
  bool reported_uncertified = false;
};

PCSurrogate* ctx_of(PC pc) {
  return static_cast<PCSurrogate*>(pc->data);
}

PetscInt effective_smooth(const PCSurrogate& s) {
  return s.smooth >= 0 ? s.smooth : (s.step ? s.step->trained_smooth() : 0);
}

PetscErrorCode switch_to_fallback(PC pc, const std::string& why) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  if (!s.fallback_reason.empty()) PetscFunctionReturn(0);
  s.fallback_reason = why;
  PetscCall(PetscPrintf(PetscObjectComm((PetscObject)pc),
                        "pins: -pc_type surrogate switched to the fallback PC %s: %s\n",
                        s.fallback_type, why.c_str()));
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
    PetscCall(MatMult(pc->pmat, z, s.r1));
    PetscCall(VecAYPX(s.r1, -1.0, r));  // r1 = r − A z
    rin = s.r1;
  }
  PetscReal ratio;
  PetscBool finite;
  PetscCall(s.step->apply(rin, s.g, &ratio, &finite));
  ++s.network_applies;
  *network_ok = finite;
  if (!finite) PetscFunctionReturn(0);
  s.last_ratio = ratio;
  PetscCall(VecAXPY(z, 1.0, s.g));
  if (k > 0) PetscCall(s.step->jacobi(r, z, k));
  PetscFunctionReturn(0);
}

PetscErrorCode PCApply_Surrogate(PC pc, Vec r, Vec z) {
  PCSurrogate& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  ++s.applies;
  if (!s.fallback_reason.empty()) {
    PetscCall(PCApply(s.fallback, r, z));
    PetscFunctionReturn(0);
  }
  PetscBool ok;
  PetscCall(run_cycle(pc, r, z, &ok));
  if (!ok) {
    PetscCall(switch_to_fallback(pc, "the network's output contains NaN or Inf"));
    PetscCall(PCApply(s.fallback, r, z));
    PetscFunctionReturn(0);
  }
  if (s.mode == "replace") {
    if (s.refiner) PetscCall(s.refiner->refine(r, z, s.refine));
    // The certificate: the true relative residual of the (refined) surrogate's answer.
    Vec w = s.r1;
    PetscReal rn, wn;
    PetscCall(MatMult(pc->pmat, z, w));
    PetscCall(VecAYPX(w, -1.0, r));
    PetscCall(VecNorm(w, NORM_2, &wn));
    PetscCall(VecNorm(r, NORM_2, &rn));
    s.last_certificate = rn > 0 ? wn / rn : 0;
    if (s.last_certificate <= s.certify_rtol) {
      ++s.certified;
      PetscFunctionReturn(0);
    }
    ++s.uncertified;
    KSPType kt;
    PCType pt;
    PC fpc;
    PetscCall(KSPGetType(s.fallback_ksp, &kt));
    PetscCall(KSPGetPC(s.fallback_ksp, &fpc));
    PetscCall(PCGetType(fpc, &pt));
    if (!s.reported_uncertified) {
      s.reported_uncertified = true;
      PetscCall(PetscPrintf(PetscObjectComm((PetscObject)pc),
                            "pins: surrogate answer not certified (relative residual %.3g > "
                            "-pc_surrogate_certify_rtol %.3g); solving with %s + %s from it\n",
                            (double)s.last_certificate, (double)s.certify_rtol, kt, pt));
    }
    // Converge to certify_rtol relative to ‖r‖, whatever the fallback measures against.
    PetscReal rtol, abstol, dtol;
    PetscInt maxit;
    PetscCall(KSPGetTolerances(s.fallback_ksp, &rtol, &abstol, &dtol, &maxit));
    PetscCall(
        KSPSetTolerances(s.fallback_ksp, rtol, PetscMax(abstol, s.certify_rtol * rn), dtol, maxit));
    PetscCall(KSPSetInitialGuessNonzero(s.fallback_ksp, PETSC_TRUE));
    PetscCall(KSPSolve(s.fallback_ksp, r, z));
    PetscFunctionReturn(0);
  }
  PetscFunctionReturn(0);
}

// The stall rule, as a monitor on the KSP that applies this PC: if the residual norm of
// iteration it is above stall × the norm window iterations earlier, the network is not
// helping and the fallback takes over from the next application on.
PetscErrorCode StallMonitor_Surrogate(KSP, PetscInt it, PetscReal rnorm, void* ctx) {
  PC pc = static_cast<PC>(ctx);
  PetscFunctionBeginUser;
  if (pc->ops->apply != guarded<kWho, PCApply_Surrogate> || !pc->data)  // retyped
    PetscFunctionReturn(0);
  PCSurrogate& s = *ctx_of(pc);
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

// The monitor holds a reference to the PC, so it can outlive neither the PC nor see freed data.
PetscErrorCode StallMonitorDestroy_Surrogate(void** ctx) {
  PetscFunctionBeginUser;
  PC pc = static_cast<PC>(*ctx);
  PetscCall(PCDestroy(&pc));
  PetscFunctionReturn(0);
}

PetscErrorCode PCSetUp_Surrogate(PC pc) {
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
  PetscCall(find_grid(pc->dm, pc->pmat, kWho, &da));
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
  if (!s.fallback) {
    PetscCall(PCCreate(comm, &s.fallback));
    PetscCall(PCSetType(s.fallback, s.fallback_type));
  }
  PetscCall(PCSetOperators(s.fallback, pc->mat, pc->pmat));
  PetscCall(PCSetUp(s.fallback));
  if (s.mode == "replace" && !s.fallback_ksp) {
    PC fpc;
    const char* prefix;
    PetscCall(KSPCreate(comm, &s.fallback_ksp));
    PetscCall(PCGetOptionsPrefix(pc, &prefix));
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
  if (s.watched != ksp) {
    PetscCall(PetscObjectReference((PetscObject)pc));
    PetscCall(KSPMonitorSet(ksp, guarded<kWho, StallMonitor_Surrogate>, pc,
                            guarded<kWho, StallMonitorDestroy_Surrogate>));
    s.watched = ksp;
  }
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
  PetscCall(PetscOptionsString("-pc_surrogate_fallback", "PC used when the network fails or stalls",
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
                            "LibTorch threads for the network (0: the "
                            "cores per MPI process on the node)",
                            "PCSURROGATE", s.threads, &s.threads, nullptr));
  PetscCall(PetscOptionsInt("-pc_surrogate_refine",
                            "Replace mode: multigrid V-cycles on the network's answer before "
                            "its certificate is checked",
                            "PCSURROGATE", s.refine, &s.refine, nullptr));
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
  PetscCheck(s.window >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_window must be at least 1, got %" PetscInt_FMT, s.window);
  PetscCheck(s.stall > 0 && s.stall <= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_stall must be in (0, 1], got %g", (double)s.stall);
  PetscCheck(
      std::string(s.fallback_type) != "surrogate", comm, PETSC_ERR_ARG_WRONG,
      "-pc_surrogate_fallback surrogate would fall back to itself; use jacobi, sor, gamg, ...");
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
  }
  PetscCall(PetscViewerASCIIPrintf(viewer,
                                   "    applications %" PetscInt_FMT
                                   ", network steps %" PetscInt_FMT
                                   ", last network residual ratio %.4g\n",
                                   s.applies, s.network_applies, (double)s.last_ratio));
  if (s.mode == "replace" && s.refine > 0)
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "    refined by %" PetscInt_FMT " multigrid V-cycles before the certificate\n",
        s.refine));
  if (s.mode == "replace")
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "    certify rtol %g: certified %" PetscInt_FMT
                                     ", fell back %" PetscInt_FMT " (last certificate %.3g)\n",
                                     (double)s.certify_rtol, s.certified, s.uncertified,
                                     (double)s.last_certificate));
  if (s.fallback_reason.empty())
    PetscCall(PetscViewerASCIIPrintf(viewer, "    fallback PC %s (not used)\n", s.fallback_type));
  else
    PetscCall(PetscViewerASCIIPrintf(viewer, "    FALLBACK ACTIVE (PC %s): %s\n", s.fallback_type,
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
  PetscFunctionReturn(0);
}

PetscErrorCode PCDestroy_Surrogate(PC pc) {
  PetscFunctionBeginUser;
  PetscCall(PCReset_Surrogate(pc));
  delete ctx_of(pc);
  pc->data = nullptr;
  PetscFunctionReturn(0);
}

}  // namespace

}  // namespace pins::petsc

/// The constructor PETSc calls for -pc_type surrogate.
extern "C" PetscErrorCode PCCreate_Surrogate(PC pc) {
  using namespace pins::petsc;
  PetscFunctionBeginUser;
  PetscCallCXX(pc->data = new PCSurrogate());
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
