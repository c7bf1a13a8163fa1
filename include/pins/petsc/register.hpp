#pragma once
/// \file
/// Makes pins' solver components known to PETSc:
///  - PC type "surrogate" (-pc_type surrogate -pc_surrogate_model model.pins), a trained
///    network as preconditioner, or as a certified replacement of the solve
///    (-pc_surrogate_mode replace) with a fallback;
///  - KSPGuess type "surrogate" (-ksp_guess_type surrogate -ksp_guess_surrogate_model
///    model.pins), the network's answer as the Krylov method's initial guess;
///  - the SNES option -snes_surrogate_guess model.pins (an options checker): a solution
///    model's prediction as Newton's initial guess (pins/petsc/snes_guess.hpp).
///
/// Programs that link pins call register_all() once after PetscInitialize(). Programs that
/// have never heard of pins get the same through PETSc's dynamic loading:
/// \code
///   ./my_petsc_program -dll_append /path/to/libpins_petsc.so -ksp_type fgmres
///       -pc_type surrogate -pc_surrogate_model pc.pins
/// \endcode
/// (PETSc then calls PetscDLLibraryRegister_pins_petsc(), which calls register_all()).

#include <petscsys.h>

namespace pins::petsc {

/// Registers the PC and KSPGuess types and the SNES options checker; safe to call more than
/// once.
PetscErrorCode register_all();

}  // namespace pins::petsc

/// What PETSc calls when it loads libpins_petsc (-dll_append / -dll_prepend).
extern "C" PetscErrorCode PetscDLLibraryRegister_pins_petsc(void);
