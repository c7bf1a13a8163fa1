#pragma once
/// \file
/// Random conductivity fields κ and right-hand sides f for the Darcy families, in 2-D
/// (`darcy`) and 3-D (`darcy3d`).
///
/// The base field is a Gaussian random field with covariance (−Δ + τ²I)^(−α) under
/// Neumann conditions, drawn in the cosine eigenbasis with the mean mode removed:
///   g(x,y) = Σ_{(k,l) ≠ (0,0)} τ^(α−1) (π²(k²+l²) + τ²)^(−α/2) ξ_kl φ_k(x) φ_l(y),
///   φ_0 = 1, φ_k = √2 cos(kπx), ξ_kl ~ N(0,1),
/// evaluated at the cell centres; in 3-D the same with a third index m along z,
/// π²(k²+l²+m²) and φ_m(z). The field is continuous for α > d/2 (d the dimension), so 3-D
/// needs α > 1.5. The coefficients are drawn z-slowest, x-fastest, so a 2-D field is the
/// 3-D rule with one z mode and its values are bit for bit those of the 2-D formula. κ is then thresholded (κ_high where g ≥ 0, κ_low where
/// g < 0: the FNO paper's Darcy setting with 12 and 3) or log-normal (κ = exp(σ g)).
/// Each sample's numbers come from (seed, sample index) alone.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pins::darcy {

enum class KappaKind { kThreshold, kLogNormal };
enum class ForcingKind { kConstant, kRandomField };

/// Sampler parameters (defaults: the FNO paper's Darcy flow setting).
struct SamplerOptions {
  KappaKind kappa_kind = KappaKind::kThreshold;
  double alpha = 2.0;        ///< covariance exponent α (> d/2: a continuous field)
  double tau = 3.0;          ///< inverse length scale τ (> 0)
  double kappa_high = 12.0;  ///< threshold: κ where the field is ≥ 0
  double kappa_low = 3.0;    ///< threshold: κ where the field is < 0
  double sigma = 1.0;        ///< log-normal: κ = exp(σ g)
  ForcingKind forcing = ForcingKind::kConstant;
  double f_value = 1.0;      ///< constant f, or the RMS of a random-field f
  int modes = 0;             ///< cosine modes per direction; 0 means the grid size
  std::uint64_t seed = 0;    ///< global seed

  /// Throws pins::Error naming the first parameter out of range for a `dim`-D grid.
  void validate(int dim = 2) const;
};

std::string to_string(KappaKind kind);
std::string to_string(ForcingKind kind);
/// Parses "threshold"/"lognormal" and "constant"/"grf"; throws pins::Error otherwise.
KappaKind parse_kappa_kind(const std::string& name);
ForcingKind parse_forcing_kind(const std::string& name);

/// Draws (κ, f) for sample indices on a 2-D ny × nx or 3-D nz × ny × nx cell grid.
class Sampler {
 public:
  /// A 2-D sampler on ny × nx cells.
  Sampler(const SamplerOptions& options, int ny, int nx);
  /// A sampler on `grid` (cells per direction, slowest first: {ny, nx} or {nz, ny, nx}).
  Sampler(const SamplerOptions& options, const std::vector<int>& grid);

  /// Fills kappa and f (each points() values, row-major [(nz,) ny, nx]) for sample `index`.
  void sample(std::uint64_t index, double* kappa, double* f) const;

  /// The zero-mean Gaussian random field g for (index, stream), row-major [(nz,) ny, nx].
  std::vector<double> gaussian_field(std::uint64_t index, std::uint64_t stream) const;

  const SamplerOptions& options() const { return opt_; }
  int dim() const { return dim_; }
  int nz() const { return nz_; }  ///< 1 on a 2-D grid
  int ny() const { return ny_; }
  int nx() const { return nx_; }
  /// Cells in the grid.
  std::size_t points() const { return std::size_t(nz_) * ny_ * nx_; }

 private:
  SamplerOptions opt_;
  int dim_, nz_, ny_, nx_, kx_, ky_, kz_;
  std::vector<double> basis_x_;  // [kx][nx]: φ_k at the cell centres
  std::vector<double> basis_y_;  // [ky][ny]
  std::vector<double> basis_z_;  // [kz][nz] (kz = nz = 1 in 2-D: φ_0 = 1)
};

}  // namespace pins::darcy
