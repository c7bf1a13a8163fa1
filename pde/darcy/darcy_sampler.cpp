#include "pde/darcy/darcy_sampler.hpp"

#include <algorithm>
#include <cmath>

#include "pins/core/check.hpp"
#include "pins/core/random.hpp"

namespace pins::darcy {

void SamplerOptions::validate(int dim) const {
  PINS_CHECK(dim == 2 || dim == 3, "darcy sampler: the grid must be 2-D or 3-D, got ", dim,
             " directions");
  // (−Δ + τ²)^(−α) has a continuous sample field only for α > d/2.
  PINS_CHECK(std::isfinite(alpha) && alpha > 0.5 * dim, "-grf_alpha must be > ", 0.5 * dim,
             " for a continuous ", dim, "-D random field, got ", alpha);
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
    : Sampler(options, std::vector<int>{ny, nx}) {}

Sampler::Sampler(const SamplerOptions& options, const std::vector<int>& grid) : opt_(options) {
  dim_ = int(grid.size());
  opt_.validate(dim_);
  for (int n : grid)
    PINS_CHECK(n >= 1, "darcy sampler: every grid direction needs at least 1 cell, got ", n);
  nz_ = dim_ == 3 ? grid[0] : 1;
  ny_ = grid[dim_ - 2];
  nx_ = grid[dim_ - 1];
  auto modes_for = [&](int n) { return opt_.modes > 0 ? std::min(opt_.modes, n) : n; };
  kx_ = modes_for(nx_);
  ky_ = modes_for(ny_);
  kz_ = dim_ == 3 ? modes_for(nz_) : 1;
  basis_x_ = cosine_basis(kx_, nx_);
  basis_y_ = cosine_basis(ky_, ny_);
  basis_z_ = cosine_basis(kz_, nz_);
}

std::vector<double> Sampler::gaussian_field(std::uint64_t index, std::uint64_t stream) const {
  Rng rng(sample_seed(opt_.seed, index, stream));
  // Spectral coefficients a[m][l][k] (m along z, l along y, k along x), drawn in this order.
  const size_t kxy = size_t(ky_) * kx_;
  std::vector<double> a(size_t(kz_) * kxy);
  const double scale = std::pow(opt_.tau, opt_.alpha - 1.0);
  for (int m = 0; m < kz_; ++m)
    for (int l = 0; l < ky_; ++l)
      for (int k = 0; k < kx_; ++k) {
        const double xi = rng.normal();
        // In 2-D m = 0 and the added m² is an exact zero: the 2-D values are unchanged.
        const double lambda =
            M_PI * M_PI * (double(k) * k + double(l) * l + double(m) * m) + opt_.tau * opt_.tau;
        a[m * kxy + size_t(l) * kx_ + k] =
            (k == 0 && l == 0 && m == 0) ? 0.0 : scale * std::pow(lambda, -opt_.alpha / 2) * xi;
      }
  // g = Σ_m φ_m(z) Σ_l φ_l(y) Σ_k a[m][l][k] φ_k(x): three separable products, each
  // summing its index in increasing order.
  // x: t[m][l][j] = Σ_k a[m][l][k] φ_k(x_j)
  std::vector<double> t(size_t(kz_) * ky_ * nx_, 0.0);
  for (int m = 0; m < kz_; ++m)
    for (int l = 0; l < ky_; ++l) {
      double* row = &t[(size_t(m) * ky_ + l) * nx_];
      for (int k = 0; k < kx_; ++k) {
        const double alk = a[m * kxy + size_t(l) * kx_ + k];
        const double* phi = &basis_x_[size_t(k) * nx_];
        for (int j = 0; j < nx_; ++j) row[j] += alk * phi[j];
      }
    }
  // y: s[m][i][j] = Σ_l φ_l(y_i) t[m][l][j]
  std::vector<double> s(size_t(kz_) * ny_ * nx_, 0.0);
  for (int m = 0; m < kz_; ++m)
    for (int l = 0; l < ky_; ++l) {
      const double* trow = &t[(size_t(m) * ky_ + l) * nx_];
      for (int i = 0; i < ny_; ++i) {
        const double phi = basis_y_[size_t(l) * ny_ + i];
        double* srow = &s[(size_t(m) * ny_ + i) * nx_];
        for (int j = 0; j < nx_; ++j) srow[j] += phi * trow[j];
      }
    }
  if (dim_ == 2) return s;  // one z mode, φ_0 = 1
  // z: g[p][i][j] = Σ_m φ_m(z_p) s[m][i][j]
  const size_t plane = size_t(ny_) * nx_;
  std::vector<double> g(size_t(nz_) * plane, 0.0);
  for (int m = 0; m < kz_; ++m) {
    const double* splane = &s[size_t(m) * plane];
    for (int p = 0; p < nz_; ++p) {
      const double phi = basis_z_[size_t(m) * nz_ + p];
      double* gplane = &g[size_t(p) * plane];
      for (size_t q = 0; q < plane; ++q) gplane[q] += phi * splane[q];
    }
  }
  return g;
}

void Sampler::sample(std::uint64_t index, double* kappa, double* f) const {
  const size_t n = points();
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
