// The neural preconditioner's features, network step, cycle and loss (precondition.hpp).
#include "pins/core/precondition.hpp"

#include <torch/torch.h>

#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/family.hpp"
#include "pins/core/trainer.hpp"
#include "pins/core/stencil.hpp"
#include "surrogates/surrogate.hpp"

namespace pins {

namespace {

// Per-sample sum over the grid of [B, ny, nx].
torch::Tensor grid_sum(const torch::Tensor& t) { return t.sum({1, 2}); }

}  // namespace

torch::Tensor scaled_stencil(const torch::Tensor& coeffs) {
  PINS_CHECK(coeffs.dim() == 4 && coeffs.size(1) == kStencilPoints,
             "stencil coefficients must be [B, 5, ny, nx], got ", coeffs.sizes());
  const torch::Tensor centre = coeffs.select(1, 0);
  const torch::Tensor bad = torch::logical_or(torch::logical_not(torch::isfinite(coeffs)).any(1),
                                              centre <= 0);
  if (bad.any().item<bool>()) {
    const auto at = bad.nonzero()[0];
    PINS_CHECK(false, "stencil coefficients at sample ", at[0].item<int64_t>(), ", row ",
               at[1].item<int64_t>(), ", column ", at[2].item<int64_t>(),
               ": the centre must be positive and every coefficient finite (centre ",
               centre.index({at[0], at[1], at[2]}).item<double>(), ")");
  }
  torch::Tensor s = coeffs / centre.unsqueeze(1);
  // Couplings that point out of the grid do not exist (the operator ignores them); zero
  // them so the features do not depend on what a program left there.
  s.select(1, 1).select(2, 0).zero_();                       // west of column 0
  s.select(1, 2).select(2, s.size(3) - 1).zero_();           // east of the last column
  s.select(1, 3).select(1, 0).zero_();                       // south of row 0
  s.select(1, 4).select(1, s.size(2) - 1).zero_();           // north of the last row
  return s.contiguous();
}

torch::Tensor normalised_residual(const torch::Tensor& rhat, torch::Tensor* rms_out) {
  const torch::Tensor rms = rhat.detach().square().mean({1, 2}).sqrt();
  const torch::Tensor safe = torch::where(rms > 0, rms, torch::ones_like(rms));
  if (rms_out) *rms_out = safe;
  return rhat / safe.view({-1, 1, 1});
}

torch::Tensor precondition_input(const torch::Tensor& scaled_coeffs, const torch::Tensor& rhat,
                                 torch::Tensor* rms_out) {
  PINS_CHECK(rhat.dim() == 3 && scaled_coeffs.dim() == 4 &&
                 rhat.size(0) == scaled_coeffs.size(0) && rhat.size(1) == scaled_coeffs.size(2) &&
                 rhat.size(2) == scaled_coeffs.size(3),
             "residual must be [B, ny, nx] matching the coefficients ", scaled_coeffs.sizes(),
             ", got ", rhat.sizes());
  return torch::cat({scaled_coeffs.narrow(1, 1, 4), normalised_residual(rhat, rms_out).unsqueeze(1)},
                    1);
}

torch::Tensor operator_statistics(const torch::Tensor& scaled_coeffs) {
  PINS_CHECK(scaled_coeffs.dim() == 4 && scaled_coeffs.size(1) == 5,
             "operator statistics: coefficients must be [B, 5, ny, nx], got ",
             scaled_coeffs.sizes());
  return input_statistics(scaled_coeffs.narrow(1, 1, 4));
}

torch::Tensor sign_free_scaled_stencil(const torch::Tensor& coeffs) {
  PINS_CHECK(coeffs.dim() == 4 && coeffs.size(1) == kStencilPoints,
             "stencil coefficients must be [B, 5, ny, nx], got ", coeffs.sizes());
  return scaled_stencil(coeffs / coeffs.select(1, 0).unsqueeze(1));
}

torch::Tensor dataset_operator_statistics(const Dataset& d, const std::string& path) {
  torch::NoGradGuard no_grad;
  const std::shared_ptr<const Family> family =
      family_for(d.info.pde, sampler_parameters(d.info), d.info.mesh);
  std::vector<torch::Tensor> parts;
  constexpr std::int64_t kBlock = 64;
  for (std::int64_t first = 0; first < d.samples; first += kBlock) {
    const Dataset part = read_dataset(path, first, std::min(kBlock, d.samples - first));
    const torch::Tensor c = family->make_operator(training_data(part).inputs)->values();
    PINS_CHECK(c.dim() == 4 && c.size(1) == 5, path, ": the ", d.info.pde,
               " operator is not a 2-D 5-point stencil; preconditioner models take those only");
    parts.push_back(operator_statistics(sign_free_scaled_stencil(c)));
  }
  PINS_CHECK(!parts.empty(), path, " holds no samples");
  return torch::cat(parts);
}

torch::Tensor precondition_step(Surrogate& model, const torch::Tensor& scaled_coeffs,
                                const torch::Tensor& rhat) {
  const torch::ScalarType dtype = parameter_dtype(model.module());
  torch::Tensor rms;
  const torch::Tensor x = precondition_input(scaled_coeffs, rhat, &rms).to(dtype);
  const torch::Tensor g = model.forward(x).select(1, 0).to(rhat.scalar_type());
  const torch::Tensor ag = stencil_apply(scaled_coeffs, g.contiguous());
  // α = (r̂·Âg) / (Âg·Âg): the multiple of g that leaves the smallest residual.
  const torch::Tensor den = grid_sum(ag * ag);
  const torch::Tensor alpha =
      grid_sum(rhat * ag) / torch::where(den > 0, den, torch::ones_like(den));
  return alpha.view({-1, 1, 1}) * g;
}

torch::Tensor jacobi_sweeps(const torch::Tensor& scaled_coeffs, const torch::Tensor& rhat,
                            torch::Tensor z, int sweeps, double omega) {
  for (int k = 0; k < sweeps; ++k)
    z = z - omega * stencil_residual(scaled_coeffs, z.contiguous(), rhat);
  return z;
}

torch::Tensor precondition_cycle(Surrogate& model, const torch::Tensor& scaled_coeffs,
                                 const torch::Tensor& rhat, int smooth) {
  torch::Tensor z = jacobi_sweeps(scaled_coeffs, rhat, torch::zeros_like(rhat), smooth);
  const torch::Tensor r1 = smooth > 0 ? rhat - stencil_apply(scaled_coeffs, z.contiguous()) : rhat;
  z = z + precondition_step(model, scaled_coeffs, r1.contiguous());
  return jacobi_sweeps(scaled_coeffs, rhat, z, smooth);
}

torch::Tensor precondition_iterate(Surrogate& model, const torch::Tensor& scaled_coeffs,
                                   const torch::Tensor& rhat, int smooth, int iterations) {
  torch::Tensor z = precondition_cycle(model, scaled_coeffs, rhat, smooth);
  for (int k = 1; k < iterations; ++k) {
    // stencil_residual is Âz − r̂; the cycle wants what is left to solve, r̂ − Âz.
    const torch::Tensor left = -stencil_residual(scaled_coeffs, z.contiguous(), rhat);
    z = z + precondition_cycle(model, scaled_coeffs, left.contiguous(), smooth);
  }
  return z;
}

torch::Tensor precondition_loss(const torch::Tensor& scaled_coeffs, const torch::Tensor& rhat,
                                const torch::Tensor& z) {
  const torch::Tensor r = stencil_residual(scaled_coeffs, z.contiguous(), rhat);
  return (grid_sum(r * r) / grid_sum(rhat * rhat).clamp_min(1e-300)).mean();
}

}  // namespace pins
