// Uses the installed pins: the Darcy operator's residual of u = 0 is −f.
#include <torch/torch.h>

#include <cstdio>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/version.hpp"

int main() {
  auto kappa = torch::ones({1, 8, 8}, torch::kFloat64);
  auto coeffs = pins::darcy::stencil_coefficients(kappa);
  auto f = torch::ones({1, 8, 8}, torch::kFloat64);
  auto r = pins::stencil_residual(coeffs, torch::zeros_like(f), f);
  const bool ok = torch::equal(r, -f);
  std::printf("pins %s consumer: residual check %s\n", PINS_VERSION_STRING, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
