// Registration of pins' PC and KSPGuess types (pins/petsc/register.hpp).
#include "pins/petsc/register.hpp"

#include <petscksp.h>
#include <petscsnes.h>

#include "pins/petsc/snes_guess.hpp"

extern "C" PetscErrorCode PCCreate_Surrogate(PC);
extern "C" PetscErrorCode PCCreate_SurrogateSmoother(PC);
extern "C" PetscErrorCode KSPGuessCreate_Surrogate(KSPGuess);

namespace pins::petsc {

PetscErrorCode register_all() {
  static bool done = false;
  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(0);
  PetscCall(PCRegister("surrogate", PCCreate_Surrogate));
  PetscCall(PCRegister("surrogate_smoother", PCCreate_SurrogateSmoother));
  PetscCall(KSPGuessRegister("surrogate", KSPGuessCreate_Surrogate));
  // -snes_surrogate_guess: checked in every SNESSetFromOptions of the program.
  PetscCall(SNESAddOptionsChecker(snes_surrogate_guess_from_options));
  done = true;
  PetscFunctionReturn(0);
}

}  // namespace pins::petsc

extern "C" PetscErrorCode PetscDLLibraryRegister_pins_petsc(void) {
  return pins::petsc::register_all();
}
