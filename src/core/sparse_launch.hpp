#pragma once
// Launchers of the CSR kernels (private to pins::core). Inputs are assumed checked by
// pins::check_sparse_inputs; these only dispatch on dtype and run the Kokkos functors of
// sparse_kernels.hpp on the tensors' memory.
#include <torch/types.h>

#include "pins/core/sparse_operator.hpp"

namespace pins::detail {

/// check_sparse_inputs with the names the fields have at the caller (e.g. "v", "g").
void check_sparse(const char* caller, const SparsePattern& p, const torch::Tensor& values,
                  const torch::Tensor& u, const char* u_name, const torch::Tensor& f,
                  const char* f_name);

/// A u − f, or A u when f is undefined: a new tensor [B, rows].
torch::Tensor sparse_launch_apply(const SparsePattern& p, const torch::Tensor& values,
                                  const torch::Tensor& u, const torch::Tensor& f);

/// Aᵀ v: a new tensor [B, cols].
torch::Tensor sparse_launch_transpose(const SparsePattern& p, const torch::Tensor& values,
                                      const torch::Tensor& v);

/// g[row]·u[col] per entry: [B, nnz], or [1, nnz] summed over the batch when `sum_batch`.
torch::Tensor sparse_launch_values_gradient(const SparsePattern& p, const torch::Tensor& g,
                                            const torch::Tensor& u, bool sum_batch);

}  // namespace pins::detail
