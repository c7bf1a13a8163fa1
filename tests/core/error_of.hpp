#pragma once
// error_of(f): the message of the pins::Error that f throws, or "" when it throws none — for
// checking one-line error texts in the core and PETSc doctests (another exception type is
// not caught, so the test case fails on it).
#include <functional>
#include <string>

#include "pins/core/check.hpp"

namespace pins::test {

inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const pins::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace pins::test
