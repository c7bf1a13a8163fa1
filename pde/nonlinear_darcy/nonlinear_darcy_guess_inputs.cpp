// κ from the Jacobian at u = 0 (nonlinear_darcy_guess_inputs.hpp).
#include "pde/nonlinear_darcy/nonlinear_darcy_guess_inputs.hpp"

#include <torch/torch.h>

#include <cmath>

#include "pde/darcy/darcy_stencil.hpp"
#include "pins/core/check.hpp"

namespace pins::nonlinear_darcy {

namespace {
// Relative agreement required between the matrix's diagonal and the one κ rebuilds: the
// recovery itself is exact up to a few roundings per cell, so anything larger means another
// equation.
constexpr double kTolerance = 1e-8;
}  // namespace

torch::Tensor kappa_from_jacobian_at_zero(const torch::Tensor& coeffs) {
  PINS_CHECK(coeffs.dim() == 4 && coeffs.size(0) == 1 && coeffs.size(1) == 5,
             "nonlinear_darcy: expected 5-point coefficients [1, 5, ny, nx]");
  const torch::Tensor c = coeffs.to(torch::kFloat64).contiguous();
  const int64_t ny = c.size(2), nx = c.size(3);
  PINS_CHECK(nx >= 2 && ny >= 2, "nonlinear_darcy needs at least 2 x 2 cells, got ", nx, " x ", ny);
  const auto a = c.accessor<double, 4>();
  const double hx = double(nx) * double(nx), hy = double(ny) * double(ny);
  torch::Tensor kappa = torch::empty({ny, nx}, torch::kFloat64);
  auto k = kappa.accessor<double, 2>();
  auto fail = [&](int64_t i, int64_t j, const char* what) {
    throw Error(
        "the Jacobian at u = 0 is not nonlinear_darcy's linear Darcy operator A(kappa) "
        "(cell-centred finite volumes, harmonic face means, rows not scaled) at grid "
        "point (" +
        std::to_string(i) + ", " + std::to_string(j) + "): " + what +
        "; give kappa and f explicitly (PinsSNESSetSurrogateGuess)");
  };
  for (int64_t j = 0; j < ny; ++j) {
    // Cell (0, j) touches the west wall: its wall faces are the diagonal minus its interior
    // faces (the off-diagonal entries are their negatives).
    double walls = 0;
    for (int s = 0; s < 5; ++s) walls += a[0][s][j][0];
    const double weight = 2.0 * (hx + hy * ((j == 0) + (j == ny - 1)));
    k[j][0] = walls / weight;
    if (!(k[j][0] > 0) || !std::isfinite(k[j][0])) fail(0, j, "no positive wall coefficient");
    for (int64_t i = 1; i < nx; ++i) {
      const double face = -a[0][2][j][i - 1] / hx;  // 2 κ_m κ_n / (κ_m + κ_n)
      const double inv = 2.0 / face - 1.0 / k[j][i - 1];
      k[j][i] = 1.0 / inv;
      if (!(face > 0) || !(inv > 0) || !std::isfinite(k[j][i]))
        fail(i, j, "its west face is not the harmonic mean of two positive conductivities");
    }
  }
  // The check: every diagonal rebuilt from κ.
  for (int64_t j = 0; j < ny; ++j)
    for (int64_t i = 0; i < nx; ++i) {
      const double km = k[j][i];
      auto face = [&](int64_t ii, int64_t jj, double h) {
        if (ii < 0 || ii >= nx || jj < 0 || jj >= ny)
          return darcy::boundary_face_coefficient(km) * h;
        return darcy::interior_face_coefficient(km, k[jj][ii]) * h;
      };
      const double diag =
          face(i - 1, j, hx) + face(i + 1, j, hx) + face(i, j - 1, hy) + face(i, j + 1, hy);
      const double found = a[0][0][j][i];
      if (!(std::abs(found - diag) <= kTolerance * std::abs(diag)))
        fail(i, j,
             ("its diagonal " + std::to_string(found) + " is not the " + std::to_string(diag) +
              " that kappa from its neighbours gives")
                 .c_str());
    }
  return kappa;
}

}  // namespace pins::nonlinear_darcy
