#include "pde/darcy/darcy_sampler.hpp"

#include <algorithm>
#include <cmath>

#include "pins/core/check.hpp"
#include "pins/core/random.hpp"

namespace pins::darcy {

void SamplerOptions::validate() const {
  PINS_CHECK(std::isfinite(alpha) && alpha > 1.0, "-grf_alpha must be > 1, got ", alpha);
  PINS_CHECK(std::isfinite(tau) && tau > 0.0, "-grf_tau must be > 0, got ", tau);
  if (kappa_kind == KappaKind::kThreshold) {
    PINS_CHECK(std::isfinite(kappa_high) && kappa_high > 0.0,
               "-kappa_high must be a positive conductivity, got ", kappa_high);
    PINS_CHECK(std::isfinite(kappa_low) && kappa_low > 0.0,
               "-kappa_low must be a positive conductivity, got ", kappa_low);
  } else {
    PINS_CHECK(std::isfinite(sigma) && sigma >= 0.0 && sigma < 50.0,
               "-kappa_sigma must be in [0, 50) so exp(sigma*field) stays finite, got ", sigma);
  }
  PINS_CHECK(std::isfinite(f_value), "-f_value must be finite, got ", f_value);
  PINS_CHECK(modes >= 0, "-grf_modes must be >= 0 (0 = grid size), got ", modes);
}

std::string to_string(KappaKind kind) {
  return kind == KappaKind::kThreshold ? "threshold" : "lognormal";
}
std::string to_string(ForcingKind kind) {
  return kind == ForcingKind::kConstant ? "constant" : "grf";
}

KappaKind parse_kappa_kind(const std::string& name) {
  if (name == "threshold") return KappaKind::kThreshold;
  if (name == "lognormal") return KappaKind::kLogNormal;
  throw Error("-kappa_type must be 'threshold' or 'lognormal', got '" + name + "'");
}

ForcingKind parse_forcing_kind(const std::string& name) {
  if (name == "constant") return ForcingKind::kConstant;
  if (name == "grf") return ForcingKind::kRandomField;
  throw Error("-f_type must be 'constant' or 'grf', got '" + name + "'");
}

namespace {
// φ_k at the n cell centres x = (j + ½)/n, for k < modes: row-major [modes][n].
std::vector<double> cosine_basis(int modes, int n) {
  std::vector<double> phi(static_cast<size_t>(modes) * n);
  for (int k = 0; k < modes; ++k)
    for (int j = 0; j < n; ++j)
      phi[static_cast<size_t>(k) * n + j] =
          k == 0 ? 1.0 : std::sqrt(2.0) * std::cos(k * M_PI * (j + 0.5) / n);
  return phi;
}
}  // namespace

Sampler::Sampler(const SamplerOptions& options, int ny, int nx)
    : opt_(options), ny_(ny), nx_(nx) {
  opt_.validate();
  PINS_CHECK(ny >= 1 && nx >= 1, "darcy sampler: grid must be at least 1 x 1, got ", ny, " x ",
             nx);
  kx_ = opt_.modes > 0 ? std::min(opt_.modes, nx) : nx;
  ky_ = opt_.modes > 0 ? std::min(opt_.modes, ny) : ny;
  basis_x_ = cosine_basis(kx_, nx);
  basis_y_ = cosine_basis(ky_, ny);
}

std::vector<double> Sampler::gaussian_field(std::uint64_t index, std::uint64_t stream) const {
  Rng rng(sample_seed(opt_.seed, index, stream));
  // Spectral coefficients a[l][k] (l along y, k along x), drawn in a fixed order.
  std::vector<double> a(static_cast<size_t>(ky_) * kx_);
  const double scale = std::pow(opt_.tau, opt_.alpha - 1.0);
  for (int l = 0; l < ky_; ++l)
    for (int k = 0; k < kx_; ++k) {
      const double xi = rng.normal();
      const double lambda = M_PI * M_PI * (double(k) * k + double(l) * l) + opt_.tau * opt_.tau;
      a[static_cast<size_t>(l) * kx_ + k] =
          (k == 0 && l == 0) ? 0.0 : scale * std::pow(lambda, -opt_.alpha / 2) * xi;
    }
  // g = Φ_yᵀ a Φ_x, done as two separable products: t[l][j] = Σ_k a[l][k] φ_k(x_j).
  std::vector<double> t(static_cast<size_t>(ky_) * nx_, 0.0);
  for (int l = 0; l < ky_; ++l)
    for (int k = 0; k < kx_; ++k) {
      const double alk = a[static_cast<size_t>(l) * kx_ + k];
      const double* phi = &basis_x_[static_cast<size_t>(k) * nx_];
      double* row = &t[static_cast<size_t>(l) * nx_];
      for (int j = 0; j < nx_; ++j) row[j] += alk * phi[j];
    }
  std::vector<double> g(static_cast<size_t>(ny_) * nx_, 0.0);
  for (int l = 0; l < ky_; ++l) {
    const double* trow = &t[static_cast<size_t>(l) * nx_];
    for (int i = 0; i < ny_; ++i) {
      const double phi = basis_y_[static_cast<size_t>(l) * ny_ + i];
      double* grow = &g[static_cast<size_t>(i) * nx_];
      for (int j = 0; j < nx_; ++j) grow[j] += phi * trow[j];
    }
  }
  return g;
}

void Sampler::sample(std::uint64_t index, double* kappa, double* f) const {
  const size_t n = static_cast<size_t>(ny_) * nx_;
  const std::vector<double> g = gaussian_field(index, /*stream=*/0);
  for (size_t p = 0; p < n; ++p) {
    if (opt_.kappa_kind == KappaKind::kThreshold)
      kappa[p] = g[p] >= 0.0 ? opt_.kappa_high : opt_.kappa_low;
    else
      kappa[p] = std::exp(opt_.sigma * g[p]);
  }
  if (opt_.forcing == ForcingKind::kConstant) {
    std::fill(f, f + n, opt_.f_value);
    return;
  }
  // Random forcing: an independent field from stream 1, scaled to RMS |f_value|.
  const std::vector<double> h = gaussian_field(index, /*stream=*/1);
  double ss = 0;
  for (double v : h) ss += v * v;
  const double rms = std::sqrt(ss / n);
  for (size_t p = 0; p < n; ++p) f[p] = rms > 0 ? opt_.f_value * h[p] / rms : 0.0;
}

}  // namespace pins::darcy
