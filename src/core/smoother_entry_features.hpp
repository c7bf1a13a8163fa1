#pragma once
// The features of one matrix entry (i, j) of the learned smoother (pins/core/smoother.hpp),
// shared by the batched form (smoother_features) and the blocked inference of a PC's set-up
// (smoother_inference.cpp), so both write the same numbers. Every feature is symmetric in i
// and j (sums, absolute differences and products commute exactly in floating point), so a
// symmetric A gives (i, j) and (j, i) bitwise equal features.
#include <cmath>
#include <cstdint>

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

}  // namespace pins::detail
