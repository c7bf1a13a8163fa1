#pragma once
// Argument conversions shared by the bindings that take tensors (tensors.cpp, operators.cpp).

#include <torch/types.h>

#include <string>

#include "pins/core/check.hpp"
#include "pins/core/losses.hpp"

namespace pins::python {

/// The kernels need contiguous memory; a strided view from Python (a transpose, a slice) is
/// made contiguous here, a copy that autograd differentiates through. None is refused.
inline torch::Tensor dense(const torch::Tensor& t, const char* caller, const char* name) {
  PINS_CHECK(t.defined(), caller, ": ", name, " is None; expected a tensor");
  return t.is_contiguous() ? t : t.contiguous();
}

/// residual_loss's `scaling` argument: "none" or "diagonal".
inline ResidualScaling scaling_from(const std::string& s) {
  if (s == "none") return ResidualScaling::kNone;
  if (s == "diagonal") return ResidualScaling::kDiagonal;
  throw Error("residual_loss: scaling must be 'none' or 'diagonal', got '" + s + "'");
}

}  // namespace pins::python
