// κ and f per mesh cell for darcy_fem (darcy_fem_sampler.hpp).

#include "pde/darcy_fem/darcy_fem_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "pins/core/check.hpp"
#include "pins/core/random.hpp"

namespace pins::darcy_fem {

MeshSampler::MeshSampler(const darcy::SamplerOptions& options, const Mesh& mesh) : opt_(options) {
  opt_.validate(2);
  mesh.check("darcy_fem sampler");
  PINS_CHECK(mesh.dim == 2, "darcy_fem sampler: the mesh must be 2-D, got ", mesh.dim, "-D");
  modes_ = opt_.modes > 0 ? opt_.modes : kDefaultModes;
  cells_ = mesh.cell_count();
  const int k = mesh.cell_vertices();
  double lo[2] = {std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
  double hi[2] = {-lo[0], -lo[1]};
  for (std::int64_t v = 0; v < mesh.vertex_count(); ++v)
    for (int d = 0; d < 2; ++d) {
      lo[d] = std::min(lo[d], mesh.coordinates[size_t(2 * v + d)]);
      hi[d] = std::max(hi[d], mesh.coordinates[size_t(2 * v + d)]);
    }
  phi_x_.resize(size_t(modes_) * size_t(cells_));
  phi_y_.resize(phi_x_.size());
  for (std::int64_t c = 0; c < cells_; ++c) {
    double centroid[2] = {0, 0};  // the vertex average
    for (int a = 0; a < k; ++a)
      for (int d = 0; d < 2; ++d)
        centroid[d] += mesh.coordinates[size_t(2 * mesh.cells[size_t(c * k + a)] + d)] / k;
    const double x = (centroid[0] - lo[0]) / std::max(hi[0] - lo[0], 1e-300);
    const double y = (centroid[1] - lo[1]) / std::max(hi[1] - lo[1], 1e-300);
    for (int m = 0; m < modes_; ++m) {
      phi_x_[size_t(m) * size_t(cells_) + size_t(c)] =
          m == 0 ? 1.0 : std::sqrt(2.0) * std::cos(m * M_PI * x);
      phi_y_[size_t(m) * size_t(cells_) + size_t(c)] =
          m == 0 ? 1.0 : std::sqrt(2.0) * std::cos(m * M_PI * y);
    }
  }
}

std::vector<double> MeshSampler::gaussian_field(std::uint64_t index, std::uint64_t stream) const {
  Rng rng(sample_seed(opt_.seed, index, stream));
  const double scale = std::pow(opt_.tau, opt_.alpha - 1.0);
  std::vector<double> g(size_t(cells_), 0.0);
  std::vector<double> row(static_cast<size_t>(cells_));
  // Coefficients drawn l (y) slowest, k (x) fastest, as in the grid sampler.
  for (int l = 0; l < modes_; ++l) {
    std::fill(row.begin(), row.end(), 0.0);  // row = Σ_k a_lk φ_k(x)
    for (int k = 0; k < modes_; ++k) {
      const double xi = rng.normal();
      if (k == 0 && l == 0) continue;  // the mean mode is removed
      const double lambda = M_PI * M_PI * (double(k) * k + double(l) * l) + opt_.tau * opt_.tau;
      const double a = scale * std::pow(lambda, -opt_.alpha / 2) * xi;
      const double* phi = &phi_x_[size_t(k) * size_t(cells_)];
      for (std::int64_t c = 0; c < cells_; ++c) row[size_t(c)] += a * phi[c];
    }
    const double* phi = &phi_y_[size_t(l) * size_t(cells_)];
    for (std::int64_t c = 0; c < cells_; ++c) g[size_t(c)] += phi[c] * row[size_t(c)];
  }
  return g;
}

void MeshSampler::sample(std::uint64_t index, double* kappa, double* f) const {
  const std::vector<double> g = gaussian_field(index, 0);
  for (std::int64_t c = 0; c < cells_; ++c)
    kappa[c] = opt_.kappa_kind == darcy::KappaKind::kThreshold
                   ? (g[size_t(c)] >= 0.0 ? opt_.kappa_high : opt_.kappa_low)
                   : std::exp(opt_.sigma * g[size_t(c)]);
  if (opt_.forcing == darcy::ForcingKind::kConstant) {
    std::fill(f, f + cells_, opt_.f_value);
    return;
  }
  const std::vector<double> h = gaussian_field(index, 1);
  double ss = 0;
  for (double v : h) ss += v * v;
  const double rms = std::sqrt(ss / double(cells_));
  for (std::int64_t c = 0; c < cells_; ++c)
    f[c] = rms > 0 ? opt_.f_value * h[size_t(c)] / rms : 0.0;
}

}  // namespace pins::darcy_fem
