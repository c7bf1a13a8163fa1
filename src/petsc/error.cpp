#include "pins/petsc/error.hpp"

#include <c10/util/Exception.h>

#include <new>

#include "pins/core/check.hpp"

namespace pins::petsc {

namespace {
// PETSc calls its error handler once where the error happens (PETSC_ERROR_INITIAL) and
// once per level on the way up (PETSC_ERROR_REPEAT): keep the innermost, specific message.
// The state is per thread: PETSc objects belong to the thread that drives them.
thread_local std::string recorded;

PetscErrorCode record_error(MPI_Comm, int, const char*, const char*, PetscErrorCode code,
                            PetscErrorType type, const char* message, void*) {
  // A PETSc callback: nothing may throw out of it (copying the message can run out of memory).
  if (type == PETSC_ERROR_INITIAL) {
    try {
      recorded = message ? message : "";
    } catch (...) {
      recorded.clear();
    }
  }
  return code;
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}
}  // namespace

ErrorCapture::ErrorCapture() {
  PetscPushErrorHandler(record_error, nullptr);
}
ErrorCapture::~ErrorCapture() {
  PetscPopErrorHandler();
}

std::string take_petsc_error(PetscErrorCode code) {
  std::string message = one_line(recorded);
  recorded.clear();
  if (message.empty()) {
    const char* text = nullptr;
    PetscErrorMessage(code, &text, nullptr);
    message = std::string("PETSc error ") + std::to_string(int(code)) +
              (text ? std::string(": ") + text : std::string());
  }
  return message;
}

void throw_petsc_error(PetscErrorCode code) {
  throw Error(take_petsc_error(code));
}

std::string exception_message(const std::exception& e) {
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&e))
    return torch_error->what_without_backtrace();
  return e.what();
}

namespace detail {

PetscErrorCode raise_current_exception(const char* where) noexcept {
  // Nothing here may throw again: the out-of-memory path allocates nothing, and a message
  // that cannot be copied falls back to what(). PetscError runs inside each handler, while
  // the exception (and the text what() points to) is still alive.
  const auto raise = [&](PetscErrorCode code, const char* message) {
    return PetscError(PETSC_COMM_SELF, __LINE__, where, __FILE__, code, PETSC_ERROR_INITIAL,
                      "%s: %s", where, message);
  };
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return raise(PETSC_ERR_MEM, "out of memory in C++ code (std::bad_alloc)");
  } catch (const std::exception& e) {
    std::string message;
    try {
      message = exception_message(e);
    } catch (...) {
      return raise(PETSC_ERR_LIB, e.what());
    }
    return raise(PETSC_ERR_LIB, message.c_str());
  } catch (...) {
    return raise(PETSC_ERR_LIB, "unknown C++ exception");
  }
}

}  // namespace detail

}  // namespace pins::petsc
