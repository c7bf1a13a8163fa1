#pragma once
// Shared by the learned smoother's doctests (test_smoother.cpp, test_smoother_two_grid.cpp):
// a small float64 entry_mlp and the dense form of a sparse operator.
#include <cstdint>
#include <memory>

#include "helpers.hpp"
#include "pins/core/smoother.hpp"
#include "pins/core/sparse_operator.hpp"

namespace pins::test {

/// An entry_mlp of width 8 and depth 2 in float64 (so paths compare to 1e-13), seeded.
inline std::shared_ptr<Surrogate> small_smoother(std::uint64_t seed = 0,
                                                 int features = kSmootherFeatures) {
  torch::manual_seed(seed);
  auto m = make_surrogate("entry_mlp",
                          OptionMap::from_args({"-entry_mlp_width", "8", "-entry_mlp_depth", "2"}),
                          features, 1);
  m->module().to(torch::kFloat64);
  return m;
}

/// The dense [rows, cols] matrix of one operator's values [nnz].
inline torch::Tensor dense_of(const SparsePattern& p, const torch::Tensor& values) {
  torch::Tensor d = torch::zeros({p.rows(), p.cols()}, torch::kFloat64);
  d.index_put_({p.row_indices(), p.col_idx().to(torch::kInt64)}, values);
  return d;
}

}  // namespace pins::test
