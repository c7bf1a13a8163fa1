#include "pins/core/losses.hpp"

#include "pins/core/check.hpp"
#include "pins/core/stencil.hpp"

namespace pins {

torch::Tensor residual_loss(const torch::Tensor& coeffs, const torch::Tensor& u,
                            const torch::Tensor& f, ResidualScaling scaling) {
  torch::Tensor r = stencil_residual(coeffs, u, f);
  if (scaling == ResidualScaling::kDiagonal) r = r / coeffs.select(1, kCentre);
  return r.square().mean();
}

torch::Tensor energy_loss(const torch::Tensor& coeffs, const torch::Tensor& u,
                          const torch::Tensor& f) {
  PINS_CHECK(f.defined(), "pins::energy_loss: f is an undefined tensor");
  check_stencil_inputs("pins::energy_loss", coeffs, u, f);
  const torch::Tensor Au = stencil_apply(coeffs, u);
  const torch::Tensor per_sample = (0.5 * (u * Au) - f * u).sum({1, 2});
  return per_sample.mean();
}

}  // namespace pins
