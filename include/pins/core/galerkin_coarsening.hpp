#pragma once
/// \file
/// Galerkin coarse operators PᵀAP of a batch of operators on a structured grid, with P the
/// (bi/tri)linear interpolation PETSc's geometric multigrid uses on a DMDA: what the levels of
/// `-pc_type mg -pc_mg_galerkin` hold. The fine grid has 2c + 1 points per axis (C order,
/// one field, Dirichlet boundaries eliminated), the coarse one c: coarse point I sits on fine
/// point 2I + 1, the fine points between two coarse ones take half of each. A 5- or 7-point
/// fine operator gives a 9- or 27-point coarse one whose couplings need not be negative —
/// rows unlike a fine discretisation's, which is why the learned smoother trains on them too
/// (`pins train -task smoother -smoother_galerkin 1`).
///
/// Example:
/// \code
///   pins::SmootherBatch fine = pins::sample_smoother_batch(kinds, 3, 33, 4, seed, 0);
///   pins::CoarseOperators coarse = pins::galerkin_coarsen(fine.pattern, fine.values, 3, 33);
///   // coarse.pattern: 16³ rows, 27 entries in an interior row; coarse.values [4, nnz]
/// \endcode

#include <torch/types.h>

#include "pins/core/sparse_operator.hpp"

namespace pins {

/// A batch of coarse operators on one pattern, on a `side`^dim grid.
struct CoarseOperators {
  SparsePattern pattern;
  torch::Tensor values;  ///< [B, nnz] float64
  int side = 0;
};

/// PᵀAP for every operator of values [B, nnz] (float64) on `pattern`, a square operator on a
/// fine grid of `side`^dim points (side odd, at least 3; dim 2 or 3). Throws pins::Error
/// naming a size that does not fit. Not differentiable (operators are data in training).
CoarseOperators galerkin_coarsen(const SparsePattern& pattern, const torch::Tensor& values,
                                 int dim, int side);

}  // namespace pins
