#pragma once
// The features of one matrix entry (i, j) of the learned smoother (pins/core/smoother.hpp),
// shared by the batched form (smoother_features) and the blocked inference of a PC's set-up
// (smoother_inference.cpp), so both write the same numbers. Every feature is symmetric in i
// and j (sums, absolute differences and products commute exactly in floating point), so a
// symmetric A gives (i, j) and (j, i) bitwise equal features.
#include <cmath>
#include <cstdint>

#include "pins/core/sparse_operator.hpp"

namespace pins::detail {

// Writes the kSmootherFeatures (+1 with fields) features of entry (i, j) to out[c * stride]:
// s the scaled entry a_ij / √(a_ii a_jj), σ and τ the rows' statistics; same_field < 0 when
// the model reads no fields.
template <typename In, typename Out>
inline void write_entry_features(Out* out, int64_t stride, bool diagonal, In s, In sigma_i,
                                 In sigma_j, In tau_i, In tau_j, int same_field) {
  out[0] = Out(s);
  out[stride] = Out(diagonal ? 1 : 0);
  out[2 * stride] = Out((sigma_i + sigma_j) / 2);
  out[3 * stride] = Out(std::abs(sigma_i - sigma_j));
  out[4 * stride] = Out((tau_i + tau_j) / 2);
  out[5 * stride] = Out(std::abs(tau_i - tau_j));
  if (same_field >= 0) out[6 * stride] = Out(same_field);
}

// M's values of one operator from the network outputs y (pins/core/smoother.hpp): off the
// diagonal m̂_ij = y_ij, on it softplus(y_ii) + Σ_{j≠i} |m̂_ij|, then m_ij = m̂_ij / (r_i r_j)
// with r the square roots of the column diagonal. `out` may be `y` itself: each row's sum is
// taken before its entries are overwritten.
template <typename T>
inline void smoother_values_from_outputs(const SparsePattern& p, const T* y, const T* root,
                                         T* out) {
  const int64_t* ptr = p.row_ptr().data_ptr<int64_t>();
  const int32_t* col = p.col_idx().data_ptr<int32_t>();
  for (int64_t i = 0; i < p.rows(); ++i) {
    T row_abs = 0;
    for (int64_t k = ptr[i]; k < ptr[i + 1]; ++k)
      if (col[k] != i) row_abs += std::abs(y[k]);
    for (int64_t k = ptr[i]; k < ptr[i + 1]; ++k) {
      const int64_t j = col[k];
      // softplus as LibTorch computes it (threshold 20: the identity above).
      const T m_hat = j != i ? y[k] : (y[k] > 20 ? y[k] : std::log1p(std::exp(y[k]))) + row_abs;
      out[k] = m_hat / (root[i] * root[j]);
    }
  }
}

}  // namespace pins::detail
