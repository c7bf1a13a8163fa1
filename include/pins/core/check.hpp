#pragma once
/// \file
/// Error handling inside pins' C++ code: PINS_CHECK throws pins::Error with a one-line
/// message built from its arguments, like TORCH_CHECK. PETSc callbacks translate these
/// exceptions into PETSc error codes at the boundary; the CLI prints the message.

#include <sstream>
#include <stdexcept>
#include <string>

namespace pins {

/// The exception pins throws for bad input or a failed invariant. what() is one line that
/// names what was wrong and what was expected.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Input that names a file that does not exist (so Python can map it to FileNotFoundError).
class FileNotFound : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace pins

/// Throw pins::Error(message) unless `cond` holds. The message arguments are streamed
/// together, e.g. PINS_CHECK(n >= 3, "-grid must be at least 3, got ", n).
#define PINS_CHECK(cond, ...)                                      \
  do {                                                             \
    if (!(cond)) throw ::pins::Error(::pins::detail::concat(__VA_ARGS__)); \
  } while (0)
