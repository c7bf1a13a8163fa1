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
///  - in the other direction, every function that PETSc calls (PC and KSPGuess methods,
///    monitors, shell-matrix operations) runs through petsc_boundary() or guarded<>, which
///    turn any C++ exception into a PETSc error with the exception's message.
/// Including it also checks that PETSc's scalars are real doubles (pins/petsc/scalar.hpp).

#include <petscsys.h>

#include <exception>
#include <string>
#include <utility>

#include "pins/petsc/scalar.hpp"

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

/// The one-line message of an exception: what(), without the C++ backtrace that LibTorch
/// appends to its c10::Error messages.
std::string exception_message(const std::exception& e);

namespace detail {
/// Raises the exception being handled (call only inside a catch block) as a PETSc error on
/// PETSC_COMM_SELF: "<where>: <message>", PETSC_ERR_MEM for std::bad_alloc, else PETSC_ERR_LIB.
PetscErrorCode raise_current_exception(const char* where) noexcept;
}  // namespace detail

/// Runs `body` (a callable returning PetscErrorCode) so that no C++ exception leaves it:
/// an exception becomes a PETSc error whose message is `where` (the name users know the
/// object by, e.g. "-pc_type surrogate") and the exception's message. Every function that
/// PETSc calls must run its body like this (or be registered through guarded<> below): an
/// exception unwinding through PETSc's C frames terminates the program.
/// \code
///   PetscErrorCode PCApply_Mine(PC pc, Vec x, Vec y) {
///     return pins::petsc::petsc_boundary("-pc_type mine", [&] { return apply_mine(pc, x, y); });
///   }
/// \endcode
/// The error is raised on PETSC_COMM_SELF, by the processes that threw: work that can throw
/// on some processes only (e.g. rank 0's network) must agree on failure first
/// (src/petsc/collective.hpp), or the others wait forever in their next collective call.
template <class Body>
PetscErrorCode petsc_boundary(const char* where, Body&& body) noexcept {
#if defined(PETSC_USE_DEBUG) && !defined(PETSC_CLANG_STATIC_ANALYZER)
  // PetscFunctionBeginUser pushes a frame on PETSc's debug stack that the matching
  // PetscFunctionReturn pops; an exception skips the pops, so they are undone here.
  const int depth = petscstack.currentsize;
#endif
  try {
    return std::forward<Body>(body)();
  } catch (...) {
#if defined(PETSC_USE_DEBUG) && !defined(PETSC_CLANG_STATIC_ANALYZER)
    petscstack.currentsize = depth;
#endif
    return detail::raise_current_exception(where);
  }
}

namespace detail {
template <const char* Where, auto Fn>
struct Guarded;
template <const char* Where, class... Args, PetscErrorCode (*Fn)(Args...)>
struct Guarded<Where, Fn> {
  static PetscErrorCode call(Args... args) noexcept {
    return petsc_boundary(Where, [&] { return Fn(args...); });
  }
};
}  // namespace detail

/// `Fn` (a function returning PetscErrorCode) behind petsc_boundary(Where, ...), with Fn's
/// own signature: for filling PETSc's method tables. `Where` must be a character array with
/// linkage:
/// \code
///   constexpr char kWho[] = "-pc_type mine";
///   pc->ops->apply = pins::petsc::guarded<kWho, PCApply_Mine>;
/// \endcode
template <const char* Where, auto Fn>
inline constexpr auto guarded = &detail::Guarded<Where, Fn>::call;

}  // namespace pins::petsc

/// Calls a PETSc function from C++ and throws pins::Error with PETSc's message on failure.
/// Example: `PINS_PETSC_CALL(KSPSolve(ksp, b, x));`
#define PINS_PETSC_CALL(...)                                                                 \
  do {                                                                                       \
    const PetscErrorCode pins_petsc_ierr_ = (__VA_ARGS__);                                   \
    if (PetscUnlikely(pins_petsc_ierr_)) ::pins::petsc::throw_petsc_error(pins_petsc_ierr_); \
  } while (0)
