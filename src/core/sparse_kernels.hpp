#pragma once
// Kokkos kernels of the CSR operators (private to pins::core).
//
// Parallel layout: one work item per row (per column for the transpose); the batch loop sits
// inside, so a row's column indices are read once and stay in cache for all B value arrays.
// The transpose is a gather over the precomputed transpose pattern (SparsePattern), not a
// scatter: no atomics, and the sums are taken in a fixed order (deterministic results).
// Values may have a batch of 1 that serves every field (vstride = 0).

#include <Kokkos_Core.hpp>

#include <cstdint>

namespace pins::kernels::sparse {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;
using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;

template <class T>
using Vec = Kokkos::View<T*, Kokkos::LayoutRight, MemSpace, Unmanaged>;

/// out[b, i] = Σ_k values[b, k] u[b, col(k)] (− f[b, i]) over row i's entries.
template <class T>
struct ApplyFunctor {
  Vec<const int64_t> row_ptr;
  Vec<const int32_t> col;
  Vec<const T> values;  // [Bv, nnz]
  Vec<const T> u;       // [B, cols]
  Vec<const T> f;       // [B, rows] or empty
  Vec<T> out;           // [B, rows]
  int64_t rows, cols, nnz, batch, vstride;
  bool has_f;

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t i) const {
    const int64_t k0 = row_ptr(i), k1 = row_ptr(i + 1);
    for (int64_t b = 0; b < batch; ++b) {
      const T* v = values.data() + b * vstride;
      const T* ub = u.data() + b * cols;
      T s = 0;
      for (int64_t k = k0; k < k1; ++k) s += v[k] * ub[col(k)];
      out(b * rows + i) = has_f ? s - f(b * rows + i) : s;
    }
  }
};

/// out[b, c] = Σ_t values[b, perm(t)] v[b, trow(t)] over column c's entries.
template <class T>
struct TransposeFunctor {
  Vec<const int64_t> t_ptr;
  Vec<const int32_t> t_row;
  Vec<const int64_t> t_perm;
  Vec<const T> values;  // [Bv, nnz]
  Vec<const T> v;       // [B, rows]
  Vec<T> out;           // [B, cols]
  int64_t rows, cols, nnz, batch, vstride;

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t c) const {
    const int64_t t0 = t_ptr(c), t1 = t_ptr(c + 1);
    for (int64_t b = 0; b < batch; ++b) {
      const T* val = values.data() + b * vstride;
      const T* vb = v.data() + b * rows;
      T s = 0;
      for (int64_t t = t0; t < t1; ++t) s += val[t_perm(t)] * vb[t_row(t)];
      out(b * cols + c) = s;
    }
  }
};

/// gv[b, k] = g[b, i] u[b, col(k)] for row i's entries k; with `sum_batch`, gv[0, k] sums it
/// over b (the gradient of values shared by the batch).
template <class T>
struct ValuesGradientFunctor {
  Vec<const int64_t> row_ptr;
  Vec<const int32_t> col;
  Vec<const T> g;  // [B, rows]
  Vec<const T> u;  // [B, cols]
  Vec<T> gv;       // [B, nnz] or [1, nnz]
  int64_t rows, cols, nnz, batch;
  bool sum_batch;

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t i) const {
    const int64_t k0 = row_ptr(i), k1 = row_ptr(i + 1);
    if (sum_batch) {
      for (int64_t k = k0; k < k1; ++k) gv(k) = T(0);
      for (int64_t b = 0; b < batch; ++b) {
        const T gi = g(b * rows + i);
        const T* ub = u.data() + b * cols;
        for (int64_t k = k0; k < k1; ++k) gv(k) += gi * ub[col(k)];
      }
    } else {
      for (int64_t b = 0; b < batch; ++b) {
        const T gi = g(b * rows + i);
        const T* ub = u.data() + b * cols;
        T* o = gv.data() + b * nnz;
        for (int64_t k = k0; k < k1; ++k) o[k] = gi * ub[col(k)];
      }
    }
  }
};

}  // namespace pins::kernels::sparse
