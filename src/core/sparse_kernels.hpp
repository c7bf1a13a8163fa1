#pragma once
// Kokkos kernels of the CSR operators (private to pins::core).
//
// Parallel layout: one work item per block of rows (of columns for the transpose): one row on
// GPUs, on the host as many as keep a block's indices and values in cache (the launchers
// choose). Inside an item, the batch is taken in lanes of up to kLanes operators at once: the
// innermost loop runs over the lanes, so a column index is read once for all of them and the
// lanes' sums form independent dependency chains (a sparse row's sum is one long chain of
// additions; a scatter's read-modify-writes through memory are another). Every sum is still
// taken in the order of the row's (column's) entries, so the results do not depend on the
// block or lane sizes.
//
// The transpose is a gather over the precomputed transpose pattern (SparsePattern), not a
// scatter: no atomics, and the sums are taken in a fixed order (deterministic results). Where
// the execution space runs one thread (Kokkos::Serial), the backward pass is one sweep over
// the rows instead (FusedBackwardFunctor): a scatter in row order, which adds each column's
// entries in increasing row order, as the gather does, so the results are equal bit for bit.
// Values may have a batch of 1 that serves every field (vstride = 0).

#include <Kokkos_Core.hpp>

#include <cstdint>

namespace pins::kernels::sparse {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;
using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;

template <class T>
using Vec = Kokkos::View<T*, Kokkos::LayoutRight, MemSpace, Unmanaged>;

/// Operators handled together in the innermost loops (4 measured best on x86-64 hosts: enough
/// independent chains, few enough registers).
constexpr int kLanes = 4;

/// Calls fn.template lanes<W>(b0) for the batch in lanes: full ones of kLanes, then the rest.
template <class F>
KOKKOS_INLINE_FUNCTION void for_each_lane_group(const F& fn, int64_t batch) {
  int64_t b0 = 0;
  for (; b0 + kLanes <= batch; b0 += kLanes) fn.template lanes<kLanes>(b0);
  switch (batch - b0) {
    case 3:
      fn.template lanes<3>(b0);
      break;
    case 2:
      fn.template lanes<2>(b0);
      break;
    case 1:
      fn.template lanes<1>(b0);
      break;
    default:
      break;
  }
}

/// out[b, i] = Σ_k values[b, k] u[b, col(k)] (− f[b, i]) over row i's entries.
template <class T>
struct ApplyFunctor {
  Vec<const int64_t> row_ptr;
  Vec<const int32_t> col;
  Vec<const T> values;  // [Bv, nnz]
  Vec<const T> u;       // [B, cols]
  Vec<const T> f;       // [B, rows] or empty
  Vec<T> out;           // [B, rows]
  int64_t rows, cols, nnz, batch, vstride, rows_per_item;
  bool has_f;

  struct Block {
    const ApplyFunctor& s;
    int64_t i0, i1;
    template <int W>
    KOKKOS_INLINE_FUNCTION void lanes(int64_t b0) const {
      const int64_t* rp = s.row_ptr.data();
      const int32_t* c = s.col.data();
      const T* v[W];
      const T* ub[W];
      for (int w = 0; w < W; ++w) {
        v[w] = s.values.data() + (b0 + w) * s.vstride;
        ub[w] = s.u.data() + (b0 + w) * s.cols;
      }
      for (int64_t i = i0; i < i1; ++i) {
        T acc[W];
        for (int w = 0; w < W; ++w) acc[w] = 0;
        for (int64_t k = rp[i]; k < rp[i + 1]; ++k) {
          const int32_t j = c[k];
          for (int w = 0; w < W; ++w) acc[w] += v[w][k] * ub[w][j];
        }
        for (int w = 0; w < W; ++w) {
          const int64_t at = (b0 + w) * s.rows + i;
          s.out.data()[at] = s.has_f ? acc[w] - s.f.data()[at] : acc[w];
        }
      }
    }
  };

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t item) const {
    const int64_t i0 = item * rows_per_item;
    const int64_t i1 = i0 + rows_per_item < rows ? i0 + rows_per_item : rows;
    for_each_lane_group(Block{*this, i0, i1}, batch);
  }
};

/// out[b, c] = Σ_t values[b, perm(t)] v[b, trow(t)] over column c's entries; a work item is
/// a block of `cols_per_item` columns.
template <class T>
struct TransposeFunctor {
  Vec<const int64_t> t_ptr;
  Vec<const int32_t> t_row;
  Vec<const int64_t> t_perm;
  Vec<const T> values;  // [Bv, nnz]
  Vec<const T> v;       // [B, rows]
  Vec<T> out;           // [B, cols]
  int64_t rows, cols, nnz, batch, vstride, cols_per_item;

  struct Block {
    const TransposeFunctor& s;
    int64_t c0, c1;
    template <int W>
    KOKKOS_INLINE_FUNCTION void lanes(int64_t b0) const {
      const int64_t* tp = s.t_ptr.data();
      const int32_t* tr = s.t_row.data();
      const int64_t* perm = s.t_perm.data();
      const T* val[W];
      const T* vb[W];
      for (int w = 0; w < W; ++w) {
        val[w] = s.values.data() + (b0 + w) * s.vstride;
        vb[w] = s.v.data() + (b0 + w) * s.rows;
      }
      for (int64_t c = c0; c < c1; ++c) {
        T acc[W];
        for (int w = 0; w < W; ++w) acc[w] = 0;
        for (int64_t t = tp[c]; t < tp[c + 1]; ++t) {
          const int64_t k = perm[t];
          const int32_t r = tr[t];
          for (int w = 0; w < W; ++w) acc[w] += val[w][k] * vb[w][r];
        }
        for (int w = 0; w < W; ++w) s.out.data()[(b0 + w) * s.cols + c] = acc[w];
      }
    }
  };

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t item) const {
    const int64_t c0 = item * cols_per_item;
    const int64_t c1 = c0 + cols_per_item < cols ? c0 + cols_per_item : cols;
    for_each_lane_group(Block{*this, c0, c1}, batch);
  }
};

/// The backward pass of A u over the rows of [i0, i1), for operators b0 .. b0 + W − 1: for row
/// i's entries k, gu[b, col(k)] += values[b, k] g[b, i] (kU: Aᵀ g as a scatter) and
/// gv[b, k] = g[b, i] u[b, col(k)] (kV; with `sum_batch`, gv[0, k] += it, in order of b).
/// Shared by the fused sweep and, with kU = false, the values-gradient kernel.
template <class T, bool kU, bool kV>
struct BackwardRows {
  const int64_t* rp;
  const int32_t* c;
  const T* values;
  const T* g;
  const T* u;
  T* gu;
  T* gv;
  int64_t rows, cols, nnz, vstride;
  bool sum_batch;
  int64_t i0, i1;

  template <int W>
  KOKKOS_INLINE_FUNCTION void lanes(int64_t b0) const {
    const T* v[W];
    const T* ub[W];
    T* q[W];
    T* o[W];
    for (int w = 0; w < W; ++w) {
      v[w] = values + (b0 + w) * vstride;
      ub[w] = u + (b0 + w) * cols;
      q[w] = kU ? gu + (b0 + w) * cols : nullptr;
      o[w] = kV ? gv + (sum_batch ? 0 : (b0 + w) * nnz) : nullptr;
    }
    for (int64_t i = i0; i < i1; ++i) {
      T a[W];
      for (int w = 0; w < W; ++w) a[w] = g[(b0 + w) * rows + i];
      const int64_t k0 = rp[i], k1 = rp[i + 1];
      if (kV && sum_batch) {
        for (int64_t k = k0; k < k1; ++k) {
          const int32_t j = c[k];
          for (int w = 0; w < W; ++w) {
            if (kU) q[w][j] += v[w][k] * a[w];
            o[0][k] += a[w] * ub[w][j];
          }
        }
      } else {
        for (int64_t k = k0; k < k1; ++k) {
          const int32_t j = c[k];
          for (int w = 0; w < W; ++w) {
            if (kU) q[w][j] += v[w][k] * a[w];
            if (kV) o[w][k] = a[w] * ub[w][j];
          }
        }
      }
    }
  }
};

/// gv[b, k] = g[b, i] u[b, col(k)] for row i's entries k; with `sum_batch`, gv[0, k] sums it
/// over b (the gradient of values shared by the batch). Work items: blocks of rows.
template <class T>
struct ValuesGradientFunctor {
  Vec<const int64_t> row_ptr;
  Vec<const int32_t> col;
  Vec<const T> g;  // [B, rows]
  Vec<const T> u;  // [B, cols]
  Vec<T> gv;       // [B, nnz] or [1, nnz]
  int64_t rows, cols, nnz, batch, rows_per_item;
  bool sum_batch;

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t item) const {
    const int64_t i0 = item * rows_per_item;
    const int64_t i1 = i0 + rows_per_item < rows ? i0 + rows_per_item : rows;
    const int64_t* rp = row_ptr.data();
    if (sum_batch)
      for (int64_t k = rp[i0]; k < rp[i1]; ++k) gv(k) = T(0);
    const BackwardRows<T, false, true> body{
        rp,   col.data(), nullptr, g.data(), u.data(), nullptr, gv.data(), rows, cols, nnz, 0,
        sum_batch, i0,         i1};
    for_each_lane_group(body, batch);
  }
};

/// The whole backward pass of A u in one sweep over the rows (the order PETSc's
/// MatMultTranspose takes): BackwardRows over all row blocks, in order. Values, indices and
/// gv are streamed once, in storage order; no permuted reads.
///
/// The scatter is only correct when the rows run one after the other, so this functor is one
/// work item that walks all row blocks in order (launched only where the execution space runs
/// one thread, e.g. Kokkos::Serial; elsewhere the gather kernels above run instead). Each
/// gu[b, c] then accumulates column c's entries in increasing row order starting from 0: the
/// same operations, in the same order, as TransposeFunctor's gather, so the results are
/// equal bit for bit. gu must be zero on entry. kU, kV: which gradients to compute.
template <class T, bool kU, bool kV>
struct FusedBackwardFunctor {
  Vec<const int64_t> row_ptr;
  Vec<const int32_t> col;
  Vec<const T> values;  // [Bv, nnz]
  Vec<const T> g;       // [B, rows]
  Vec<const T> u;       // [B, cols]
  Vec<T> gu;            // [B, cols], zero on entry
  Vec<T> gv;            // [B, nnz] or [1, nnz]
  int64_t rows, cols, nnz, batch, vstride, rows_per_item;
  bool sum_batch;

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t) const {
    const int64_t* rp = row_ptr.data();
    for (int64_t i0 = 0; i0 < rows; i0 += rows_per_item) {
      const int64_t i1 = i0 + rows_per_item < rows ? i0 + rows_per_item : rows;
      if (kV && sum_batch)
        for (int64_t k = rp[i0]; k < rp[i1]; ++k) gv(k) = T(0);
      const BackwardRows<T, kU, kV> body{rp,       col.data(), values.data(), g.data(),
                                         u.data(), gu.data(),  gv.data(),     rows,
                                         cols,     nnz,        vstride,       sum_batch,
                                         i0,       i1};
      for_each_lane_group(body, batch);
    }
  }
};

}  // namespace pins::kernels::sparse
