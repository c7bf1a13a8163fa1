#pragma once
/* The surrogate as Newton's initial guess, for C programs (pins/petsc/snes_guess.hpp has the
   C++ API and the details). Link libpins_petsc, or load it with -dll_append and look the
   function up with PetscDLLibrarySym. */
#include <petscsnes.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Makes every SNESSolve of `snes` start from the prediction of the solution model in the
    pins model file `model` (a nonlinear_darcy model from `pins train`) instead of the vector
    passed in. `inputs` are the family's input fields in its order (kappa, f) as global
    vectors of the SNES's 2-D DMDA, or n_inputs = 0 to read them from the program's own
    equation (f = -F(0), kappa from the Jacobian at u = 0; the same as the option
    -snes_surrogate_guess <model>). The vectors are referenced, not copied: change their
    values and the next solve's guess follows. Errors (missing file, another family's or
    task's model, wrong number of inputs) are PETSc errors naming -snes_surrogate_guess.

    Example:
      PetscCall(PinsSNESSetSurrogateGuess(snes, "nl.pins", 2, (Vec[]){kappa, f}));
      PetscCall(SNESSolve(snes, NULL, u)); */
PetscErrorCode PinsSNESSetSurrogateGuess(SNES snes, const char model[], PetscInt n_inputs,
                                         const Vec inputs[]);

#ifdef __cplusplus
}
#endif
