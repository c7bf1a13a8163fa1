#pragma once
/// \file
/// Random κ and f per cell of an unstructured 2-D mesh for darcy_fem: the Darcy families'
/// Gaussian random field (pde/darcy/darcy_sampler.hpp: covariance (−Δ + τ²)^(−α), cosine
/// basis, mean mode removed, thresholded or log-normal) evaluated at the cell centroids,
/// with coordinates scaled to the unit square by the mesh's bounding box.
///
/// The field is a function of space, not of the mesh: a coarse and a fine mesh of the same
/// domain get the same κ(x) for the same (seed, index) — the setting for checking that a
/// surrogate trained on one mesh works on another.

#include <cstdint>
#include <vector>

#include "pde/darcy/darcy_sampler.hpp"
#include "pins/core/mesh.hpp"

namespace pins::darcy_fem {

/// Cosine modes per direction when SamplerOptions::modes is 0.
inline constexpr int kDefaultModes = 24;

class MeshSampler {
 public:
  /// Validates the options for a 2-D field and precomputes the basis at the centroids.
  MeshSampler(const darcy::SamplerOptions& options, const Mesh& mesh);
  /// Fills kappa and f (one value per cell) for sample `index` from (seed, index) alone:
  /// stream 0 draws κ's field, stream 1 f's (random forcing only).
  void sample(std::uint64_t index, double* kappa, double* f) const;
  /// The zero-mean random field at the centroids for (index, stream).
  std::vector<double> gaussian_field(std::uint64_t index, std::uint64_t stream) const;
  std::int64_t cells() const { return cells_; }
  int modes() const { return modes_; }

 private:
  darcy::SamplerOptions opt_;
  std::int64_t cells_ = 0;
  int modes_ = 0;
  std::vector<double> phi_x_, phi_y_;  // [modes][cells]: φ_k at the scaled centroids
};

}  // namespace pins::darcy_fem
