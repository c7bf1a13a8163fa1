#include "pins/petsc/error.hpp"

#include "pins/core/check.hpp"

namespace pins::petsc {

namespace {
// PETSc calls its error handler once where the error happens (PETSC_ERROR_INITIAL) and
// once per level on the way up (PETSC_ERROR_REPEAT): keep the innermost, specific message.
// The state is per thread: PETSc objects belong to the thread that drives them.
thread_local std::string recorded;

PetscErrorCode record_error(MPI_Comm, int, const char*, const char*, PetscErrorCode code,
                            PetscErrorType type, const char* message, void*) {
  if (type == PETSC_ERROR_INITIAL) recorded = message ? message : "";
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

}  // namespace pins::petsc
