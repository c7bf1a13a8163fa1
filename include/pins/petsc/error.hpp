#pragma once
/// \file
/// The error boundary between PETSc and pins' C++ code.
///
/// PETSc reports errors by return codes and, by default, prints a multi-line traceback.
/// pins wants one-line messages and C++ exceptions inside, so:
///  - ErrorCapture installs a PETSc error handler that records the first (innermost)
///    message instead of printing it;
///  - PINS_PETSC_CALL(call) turns a non-zero PetscErrorCode into pins::Error carrying that
///    message (use it in C++ code that calls PETSc);
///  - in the other direction, functions that PETSc calls (or that return PetscErrorCode)
///    wrap C++ with PetscCallCXX(...), which turns an exception into a PETSc error.

#include <petscsys.h>

#include <string>

namespace pins::petsc {

/// While alive, PETSc errors are recorded (see last_petsc_error()) rather than printed.
/// Nesting is allowed; the previous handler comes back on destruction.
class ErrorCapture {
 public:
  ErrorCapture();
  ~ErrorCapture();
  ErrorCapture(const ErrorCapture&) = delete;
  ErrorCapture& operator=(const ErrorCapture&) = delete;
};

/// The message of the most recent PETSc error recorded under ErrorCapture, on one line
/// (PETSc's generic text for `code` if no specific message was recorded). Clears it.
std::string take_petsc_error(PetscErrorCode code);

/// Throws pins::Error(take_petsc_error(code)).
[[noreturn]] void throw_petsc_error(PetscErrorCode code);

}  // namespace pins::petsc

/// Calls a PETSc function from C++ and throws pins::Error with PETSc's message on failure.
/// Example: `PINS_PETSC_CALL(KSPSolve(ksp, b, x));`
#define PINS_PETSC_CALL(...)                                                                 \
  do {                                                                                       \
    const PetscErrorCode pins_petsc_ierr_ = (__VA_ARGS__);                                   \
    if (PetscUnlikely(pins_petsc_ierr_)) ::pins::petsc::throw_petsc_error(pins_petsc_ierr_); \
  } while (0)
