// KSPGuess type "surrogate": the network's answer as the initial guess of a Krylov solve
// (-ksp_guess_type surrogate -ksp_guess_surrogate_model model.pins). The guess is α G(b) with
// the residual-minimising α, so it is never worse than the zero guess in the residual norm;
// if the network produces NaN/Inf the guess is zero and a message says so once. An operator
// that the model's operator flag marks as unlike its training operators (score > 1,
// pins/core/precondition.hpp) gets the zero guess without running the network, said once
// (-ksp_guess_surrogate_operator_check 0 turns the check off).
#include <petsc/private/kspimpl.h>

#include <memory>
#include <string>

#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"
#include "stencil_from_matrix.hpp"
#include "surrogate_step.hpp"

namespace pins::petsc {

namespace {

constexpr char kWho[] = "-ksp_guess_type surrogate";

struct GuessSurrogate {
  std::string model_path;
  std::unique_ptr<SurrogateStep> step;
  PetscObjectState operator_state = -1;
  PetscInt guesses = 0, skipped = 0;
  PetscReal last_ratio = -1;
  PetscBool operator_check = PETSC_TRUE;
  bool reported_nonfinite = false, reported_flagged = false;
};

GuessSurrogate* ctx_of(KSPGuess g) {
  return static_cast<GuessSurrogate*>(g->data);
}

PetscErrorCode KSPGuessSetUp_Surrogate(KSPGuess guess) {
  GuessSurrogate& s = *ctx_of(guess);
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)guess);
  PetscCheck(!s.model_path.empty(), comm, PETSC_ERR_ARG_NULL,
             "-ksp_guess_type surrogate needs a model: -ksp_guess_surrogate_model <file.pins>");
  PetscCheck(guess->A, comm, PETSC_ERR_ORDER,
             "-ksp_guess_type surrogate: the KSP has no operator yet");
  if (!s.step || s.step->path() != s.model_path) {
    PetscCall(SurrogateStep::load(comm, s.model_path, "-ksp_guess_surrogate_model", &s.step));
    s.operator_state = -1;
  }
  PetscObjectState state;
  PetscCall(PetscObjectStateGet((PetscObject)guess->A, &state));
  if (state != s.operator_state) {
    DM ksp_dm = nullptr;
    if (guess->ksp) PetscCall(KSPGetDM(guess->ksp, &ksp_dm));
    DM da;
    PetscCall(find_grid(ksp_dm, guess->A, kWho, &da));
    PetscCall(s.step->set_operator(guess->A, da, kWho));
    s.operator_state = state;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode KSPGuessFormGuess_Surrogate(KSPGuess guess, Vec b, Vec x) {
  GuessSurrogate& s = *ctx_of(guess);
  PetscFunctionBeginUser;
  if (!s.step) PetscCall(KSPGuessSetUp_Surrogate(guess));
  if (s.operator_check && s.step->operator_flagged()) {
    // Unlike anything the network was trained on: its guess would be a guess indeed.
    PetscCall(VecZeroEntries(x));
    ++s.skipped;
    s.last_ratio = 1;
    if (!s.reported_flagged) {
      s.reported_flagged = true;
      PetscCall(PetscPrintf(PetscObjectComm((PetscObject)guess),
                            "pins: -ksp_guess_type surrogate: the operator is unlike those the "
                            "model was trained on (operator score %.3g > 1); starting from zero "
                            "without the network\n",
                            s.step->operator_score()));
    }
    PetscFunctionReturn(0);
  }
  PetscReal ratio;
  PetscBool finite;
  PetscCall(s.step->apply(b, x, &ratio, &finite));
  ++s.guesses;
  s.last_ratio = ratio;
  if (!finite && !s.reported_nonfinite) {
    s.reported_nonfinite = true;
    PetscCall(PetscPrintf(PetscObjectComm((PetscObject)guess),
                          "pins: -ksp_guess_type surrogate: the network's output contains NaN or "
                          "Inf; starting from zero instead\n"));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode KSPGuessUpdate_Surrogate(KSPGuess, Vec, Vec) {
  return 0;
}

PetscErrorCode KSPGuessSetFromOptions_Surrogate(KSPGuess guess) {
  GuessSurrogate& s = *ctx_of(guess);
  PetscFunctionBeginUser;
  char path[PETSC_MAX_PATH_LEN];
  PetscCall(PetscStrncpy(path, s.model_path.c_str(), sizeof path));
  PetscOptionsBegin(PetscObjectComm((PetscObject)guess), ((PetscObject)guess)->prefix,
                    "Surrogate (pins) initial guess options", "KSPGuess");
  PetscCall(PetscOptionsString("-ksp_guess_surrogate_model",
                               "Model file from pins train -task "
                               "precondition",
                               "KSPGUESSSURROGATE", path, path, sizeof path, nullptr));
  PetscCall(PetscOptionsBool("-ksp_guess_surrogate_operator_check",
                             "Start from zero without the network for an operator the model's "
                             "operator flag marks as unlike its training operators",
                             "KSPGUESSSURROGATE", s.operator_check, &s.operator_check, nullptr));
  PetscOptionsEnd();
  s.model_path = path;
  PetscFunctionReturn(0);
}

PetscErrorCode KSPGuessView_Surrogate(KSPGuess guess, PetscViewer viewer) {
  GuessSurrogate& s = *ctx_of(guess);
  PetscFunctionBeginUser;
  PetscBool ascii;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer,
                                   "pins surrogate guess: model %s, %" PetscInt_FMT
                                   " guesses, last ‖b − A x0‖/‖b‖ %.4g%s\n",
                                   s.model_path.c_str(), s.guesses, (double)s.last_ratio,
                                   s.reported_nonfinite ? " (network produced NaN/Inf)" : ""));
  if (s.step && s.step->operator_flag_fitted())
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "  operator score %.3g (> 1: unlike the training operators)"
                                     ", %" PetscInt_FMT " zero guesses instead of the network%s\n",
                                     s.step->operator_score(), s.skipped,
                                     s.operator_check ? "" : " (check off)"));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPGuessReset_Surrogate(KSPGuess guess) {
  GuessSurrogate& s = *ctx_of(guess);
  s.operator_state = -1;
  return 0;
}

PetscErrorCode KSPGuessDestroy_Surrogate(KSPGuess guess) {
  delete ctx_of(guess);
  guess->data = nullptr;
  return 0;
}

}  // namespace

}  // namespace pins::petsc

extern "C" PetscErrorCode KSPGuessCreate_Surrogate(KSPGuess guess) {
  using namespace pins::petsc;
  PetscFunctionBeginUser;
  PetscCallCXX(guess->data = new GuessSurrogate());
  // Every method runs behind pins' error boundary: a C++ exception becomes a PETSc error.
  guess->ops->formguess = guarded<kWho, KSPGuessFormGuess_Surrogate>;
  guess->ops->update = guarded<kWho, KSPGuessUpdate_Surrogate>;
  guess->ops->setfromoptions = guarded<kWho, KSPGuessSetFromOptions_Surrogate>;
  guess->ops->setup = guarded<kWho, KSPGuessSetUp_Surrogate>;
  guess->ops->view = guarded<kWho, KSPGuessView_Surrogate>;
  guess->ops->reset = guarded<kWho, KSPGuessReset_Surrogate>;
  guess->ops->destroy = guarded<kWho, KSPGuessDestroy_Surrogate>;
  PetscFunctionReturn(0);
}
