#pragma once
// Launchers of the CSR kernels (private to pins::core). Inputs are assumed checked by
// pins::check_sparse_inputs; these only dispatch on dtype and run the Kokkos functors of
// sparse_kernels.hpp on the tensors' memory.
#include <torch/types.h>

#include <utility>

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

/// The backward pass of A u for upstream g [B, rows]: {Aᵀ g [B, cols] if want_u,
/// g[row]·u[col] per entry if want_values ([1, nnz] summed over the batch when values have
/// batch 1 and g does not)}; undefined tensors for what is not wanted. One sweep over the
/// rows where Kokkos runs one host thread, else the transpose and values-gradient kernels;
/// the results are the same bit for bit.
std::pair<torch::Tensor, torch::Tensor> sparse_launch_backward(const SparsePattern& p,
                                                               const torch::Tensor& values,
                                                               const torch::Tensor& g,
                                                               const torch::Tensor& u, bool want_u,
                                                               bool want_values);

}  // namespace pins::detail
