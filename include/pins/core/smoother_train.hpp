#pragma once
/// \file
/// Training the learned sparse smoother (pins/core/smoother.hpp): `pins train -task smoother`.
/// No dataset and no solves: every step draws fresh Darcy operators (2-D 5-point and 3-D
/// 7-point, of the preconditioner's kinds: 12/3, log-normal, 1:10⁴ contrast, anisotropic) in
/// CSR form, random errors z, and minimises smoother_loss. Steps alternate between the
/// dimensions, so one model serves both; the features never name a dimension or a stencil,
/// so the model also applies to any other pattern (DMPlex finite elements, 27-point stencils)
/// — how well is a measurement, not a promise. The loop is preconditioner training's (guard,
/// rollback, checkpoints, resume, log).
///
/// Example:
/// \code
///   auto opts = pins::SmootherTrainOptions::from_options(options);
///   auto model = pins::make_surrogate("entry_mlp", options, pins::kSmootherFeatures, 1);
///   auto r = pins::train_smoother(*model, opts);
///   pins::save_model("smoother.pins", *model, pins::smoother_manifest(opts, r, "..."));
/// \endcode

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "pins/core/options.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/sparse_operator.hpp"

namespace pins {

class Surrogate;
struct ModelManifest;

/// Settings of `pins train -task smoother`.
struct SmootherTrainOptions {
  /// The loop's settings (-train_*): steps, batch size, learning rate, seed, threads,
  /// monitor, log, checkpoints, guard. Its grid and operator fields are not used.
  PreconditionTrainOptions loop;
  int grid = 64;                 ///< -grid: cells per side of the 2-D training operators
  int grid3d = 16;               ///< -smoother_grid3d: cells per side of the 3-D ones
  std::vector<int> dims{2, 3};   ///< -smoother_dims: dimensions drawn, in turn
  std::vector<std::string> kinds = operator_kinds();  ///< -smoother_operators
  /// -smoother_dof: fields per grid point of the training operators. 1: scalar Darcy (a
  /// model of kSmootherFeatures inputs); 2–4: one Darcy operator per field (each of its own
  /// draw and scale) coupled at every point (a model of kSmootherFieldFeatures inputs, for
  /// multi-field operators such as Gray–Scott's).
  int dof = 1;
  /// -smoother_loss: "one_step" (smoother_loss: one damped step, pins/core/smoother.hpp) or
  /// "two_grid" (smoother_two_grid_loss: Chebyshev(2) with M around a smoothed-aggregation
  /// coarse correction, pins/core/smoother_two_grid.hpp).
  std::string loss = "one_step";
  /// -smoother_galerkin: 1 to draw every other batch of each dimension as Galerkin coarse
  /// operators (sample_galerkin_smoother_batch), for smoothers on PCMG's or GAMG's coarse
  /// levels; one field only. from_options makes it 1 unless -smoother_dof > 1.
  int galerkin = 0;

  /// Reads -grid, -smoother_grid3d, -smoother_dims, -smoother_operators, -smoother_dof,
  /// -smoother_loss and the -train_* options of the loop; rejects other -smoother_* and
  /// -train_* names.
  static SmootherTrainOptions from_options(const OptionMap& options);
  static std::string help();
  /// Throws pins::Error naming the first bad option.
  void validate() const;
  /// Input channels of the model these options train (kSmootherFeatures or
  /// kSmootherFieldFeatures).
  int features() const;
};

/// A batch of smoother training problems: one CSR pattern, A's values [B, nnz] (float64),
/// random errors z [B, n], for several fields each row's field [n] (int64; undefined for one
/// field), and each row's box aggregate [n] (int64, kSmootherAggregateSide points per side,
/// per field) for the two-grid loss's coarse space.
struct SmootherBatch {
  SparsePattern pattern;
  torch::Tensor values, z;
  torch::Tensor field;
  torch::Tensor aggregate;
};

/// Draws `count` Darcy operators of the given kinds (cycled) on a `side`^dim grid (dim 2 or 3)
/// and white-noise errors. Deterministic in (seed, first). With `dof` > 1 fields, each
/// operator is `dof` independently drawn Darcy operators (field f > 0 scaled by a factor in
/// [0.1, 10]) plus, at every point, a symmetric positive semi-definite coupling block
/// γ c(x) v(x) v(x)ᵀ (γ in [0.01, 10] per operator, c the fields' mean diagonal, v a random
/// unit vector per point) — an SPD stand-in for the reaction couplings of multi-field
/// equations; rows in the fields' memory order (field-major).
SmootherBatch sample_smoother_batch(const std::vector<std::string>& kinds, int dim, int side,
                                    int count, std::uint64_t seed, std::uint64_t first,
                                    int dof = 1);

/// The same, one field, for the Galerkin coarse operators PᵀAP (pins/core/galerkin_coarsening.hpp)
/// of operators drawn on the (2·side + 1)^dim grid: 9- or 27-point operators on a side^dim
/// grid, the rows PETSc's geometric multigrid hands the smoother on its coarse levels.
SmootherBatch sample_galerkin_smoother_batch(const std::vector<std::string>& kinds, int dim,
                                             int side, int count, std::uint64_t seed,
                                             std::uint64_t first);

/// Trains `model` (kSmootherFeatures inputs, 1 output) in place. The result's bare loss is
/// Jacobi's (M = D⁻¹); losses are smoother_loss on the validation operators.
PreconditionTrainResult train_smoother(Surrogate& model, const SmootherTrainOptions& options);

/// The manifest of a smoother model (task "smoother", family "sparse").
ModelManifest smoother_manifest(const SmootherTrainOptions& options,
                                const PreconditionTrainResult& result, const std::string& command);

}  // namespace pins
