#pragma once
/// \file
/// The learned smoother's set-up path (pins/core/smoother.hpp) for one operator's rows, as a
/// PC runs it: features, network and M's values without autograd, in blocks of entries so
/// that no nnz × features temporary is ever built (at 65³ those temporaries — 90 MB of fresh
/// pages for the features, another copy for float32, another transposed — cost as much as
/// the network), and the network evaluated once per symmetric pair: an entry (j, i) whose
/// value agrees with (i, j)'s to 1e-10 relative, both rows owned, has the same features to
/// far below float32's resolution (bitwise the same when equal), so it takes (i, j)'s output
/// — half the network's work on a symmetric operator, GAMG's Galerkin coarse operators
/// (symmetric up to PtAP's rounding) included, and M exactly symmetric there. Otherwise equal
/// to smoother_features + the model + smoother_values up to the network's rounding.
///
/// Example (a PC's set-up; the ghost columns' diagonal and statistics exchanged first):
/// \code
///   auto r = pins::smoother_infer(model, pattern, a, diag, stats);  // r.values: M [1, nnz]
/// \endcode

#include <torch/types.h>

#include <cstdint>

namespace pins {

class SparsePattern;
class Surrogate;

/// M's values and what it took to compute them.
struct SmootherInference {
  torch::Tensor values;     ///< M's values [1, nnz] (the pattern's entries, float64)
  int64_t evaluated = 0;    ///< entries the network ran on (≤ nnz; about half for symmetric A)
  /// With keep_outputs: the network's output of every entry [1, 1, nnz] (float64), from which
  /// smoother_values(pattern, diagonal, outputs) forms M for another diagonal — a PC that
  /// reuses them on a later operator of the same pattern skips the network.
  torch::Tensor outputs;
};

/// For one operator: values [1, nnz] (float64), the diagonal [1, m] and the row statistics
/// [1, kSmootherStatistics, m] of every column (own rows first, then ghosts), and for a
/// multi-field model the field of every column [m]. Throws pins::Error on bad shapes and if
/// the network writes NaN or Inf.
SmootherInference smoother_infer(Surrogate& model, const SparsePattern& pattern,
                                 const torch::Tensor& values, const torch::Tensor& column_diagonal,
                                 const torch::Tensor& column_statistics,
                                 const torch::Tensor& column_field = {}, bool keep_outputs = false);

}  // namespace pins
