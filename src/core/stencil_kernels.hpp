#pragma once
// Kokkos kernels of the stencil operators (private to pins::core); the layout and the
// channel order are those of pins/core/stencil_operator.hpp. Every grid is seen as 3-D
// (nz, ny, nx) — 1 for the axes a stencil does not have — and every field as
// [B, dof, nz, ny, nx], so one kernel serves 1-, 2- and 3-D.
//
// Parallel layout: one Kokkos team per grid row (b, z, y), the row's points over the team's
// vector lanes. On a GPU the lanes of a warp read consecutive x, so loads coalesce; on the
// host (Serial/OpenMP) a team is one thread and the vector loop is a plain loop the compiler
// vectorises.
//
// Two kinds of functor:
// - Fixed<G>: a scalar (dof = 1) stencil whose offsets are compile-time constants (G below:
//   the 2-D 5-point and 9-point, the 3-D 7-point). Per row it takes one pointer per stencil
//   point; a neighbour row that does not exist is replaced by the row itself with weight 0, so
//   the interior points x ∈ [W, nx−W) take a branch-free loop the compiler unrolls and
//   vectorises (on rows whose neighbour rows all exist, without the weights: 1 · C = C, the
//   same bits); only the W edge points at each end check their x-neighbours.
// - Generic: any dim, shape, width and dof; offsets read from a small View. On the host a row
//   is accumulated term by term over each term's in-grid x range (contiguous loops); on GPUs
//   each lane sums its x and checks every term's neighbour. It covers every shape with one
//   code path.

#include <Kokkos_Core.hpp>

namespace pins::kernels {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;
using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;

/// Coefficients [B, K, nz, ny, nx] or a field [B, dof, nz, ny, nx].
template <class T>
using GridView = Kokkos::View<T*****, Kokkos::LayoutRight, MemSpace, Unmanaged>;
/// The stencil's offsets, 3 ints (dz, dy, dx) per point, in memory the caller holds (a
/// LibTorch tensor beside the fields: stencil_kernels.cpp's `Offsets`).
using OffsetView = Kokkos::View<const int*, MemSpace, Unmanaged>;

using Team = Kokkos::TeamPolicy<ExecSpace>::member_type;

/// Vector length of a team: a warp's worth of lanes on a GPU, one on the host.
inline int stencil_vector_length() {
#if defined(KOKKOS_ENABLE_CUDA) || defined(KOKKOS_ENABLE_HIP)
  return 32;
#else
  return 1;
#endif
}

/// A team per grid row on `space` (the launcher's: kernel_launch.hpp).
inline Kokkos::TeamPolicy<ExecSpace> row_policy(const ExecSpace& space, int rows) {
  return Kokkos::TeamPolicy<ExecSpace>(space, rows, Kokkos::AUTO, stencil_vector_length());
}

KOKKOS_INLINE_FUNCTION bool inside(int i, int n) { return i >= 0 && i < n; }

/// The grid row (b, z, y) a team works on.
struct Row {
  int b, z, y;
  KOKKOS_INLINE_FUNCTION Row(int league_rank, int nz, int ny)
      : b(league_rank / (nz * ny)), z((league_rank / ny) % nz), y(league_rank % ny) {}
};

// ---------------------------------------------------------------------------------------
// Fixed-shape scalar stencils. G::P points, G::W the largest |dx|, G::offset(p, dz, dy, dx)
// in the channel order of pins::Stencil::offsets().
// ---------------------------------------------------------------------------------------

// kPlainInterior: whether rows whose neighbour rows all exist take a loop without the 0/1 row
// weights (the same bits). Measured per shape (bench_stencil, thread CPU time): the 9-point
// float32 forward 16.6 -> 9.9 ms, the 3-D 7-point float32 15.4 -> 11.3 ms; the 5-point got
// slower with it (4.7-5.0 -> 6.6-7.2 ms float32), so it keeps the weighted loop only.

/// 2-D star, width 1: C, W, E, S, N.
struct Star2D {
  static constexpr int P = 5, W = 1;
  static constexpr bool kPlainInterior = false;
  KOKKOS_INLINE_FUNCTION static void offset(int p, int& dz, int& dy, int& dx) {
    constexpr int o[5][2] = {{0, 0}, {0, -1}, {0, 1}, {-1, 0}, {1, 0}};
    dz = 0, dy = o[p][0], dx = o[p][1];
  }
};
/// 2-D box, width 1: the centre, then the other 8 points in (dy, dx) lexicographic order.
struct Box2D {
  static constexpr int P = 9, W = 1;
  static constexpr bool kPlainInterior = true;
  KOKKOS_INLINE_FUNCTION static void offset(int p, int& dz, int& dy, int& dx) {
    constexpr int o[9][2] = {{0, 0},  {-1, -1}, {-1, 0}, {-1, 1}, {0, -1},
                             {0, 1},  {1, -1},  {1, 0},  {1, 1}};
    dz = 0, dy = o[p][0], dx = o[p][1];
  }
};
/// 3-D star, width 1: C, W, E, S, N, down (z−1), up (z+1).
struct Star3D {
  static constexpr int P = 7, W = 1;
  static constexpr bool kPlainInterior = true;
  KOKKOS_INLINE_FUNCTION static void offset(int p, int& dz, int& dy, int& dx) {
    constexpr int o[7][3] = {{0, 0, 0},  {0, 0, -1}, {0, 0, 1}, {0, -1, 0},
                             {0, 1, 0},  {-1, 0, 0}, {1, 0, 0}};
    dz = o[p][0], dy = o[p][1], dx = o[p][2];
  }
};

/// out = A u − f (f optional) for a fixed scalar stencil.
template <class T, class G>
struct FixedApply {
  GridView<const T> c, u, f;
  GridView<T> out;
  int nz, ny, nx;
  bool has_f;

  KOKKOS_INLINE_FUNCTION void operator()(const Team& team) const {
    const Row r(team.league_rank(), nz, ny);
    const T* C[G::P];
    const T* U[G::P];  // the neighbour row, already shifted by dx: U[p][x] = u(.., x + dx)
    T m[G::P];
    int dxs[G::P];
    for (int p = 0; p < G::P; ++p) {
      int dz, dy, dx;
      G::offset(p, dz, dy, dx);
      const bool ok = inside(r.z + dz, nz) && inside(r.y + dy, ny);
      m[p] = ok ? T(1) : T(0);
      C[p] = &c(r.b, p, r.z, r.y, 0);
      U[p] = &u(r.b, 0, ok ? r.z + dz : r.z, ok ? r.y + dy : r.y, 0) + dx;
      dxs[p] = dx;
    }
    const T* fr = has_f ? &f(r.b, 0, r.z, r.y, 0) : nullptr;
    T* o = &out(r.b, 0, r.z, r.y, 0);
    const int n = nx;
    const int lo = n < G::W ? n : G::W;              // interior: [lo, hi)
    const int hi = n - G::W > lo ? n - G::W : lo;
    bool all_rows = G::kPlainInterior;  // every neighbour row exists: m = 1, 1 · C = C exactly
    for (int p = 0; p < G::P; ++p) all_rows = all_rows && m[p] == T(1);
    if (all_rows && fr) {  // the interior rows: no mask (the same bits, fewer multiplies)
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, lo, hi), [&](const int x) {
        T s = 0;
        for (int p = 0; p < G::P; ++p) s += C[p][x] * U[p][x];
        o[x] = s - fr[x];
      });
    } else if (all_rows) {
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, lo, hi), [&](const int x) {
        T s = 0;
        for (int p = 0; p < G::P; ++p) s += C[p][x] * U[p][x];
        o[x] = s;
      });
    } else {
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, lo, hi), [&](const int x) {
        T s = 0;
        for (int p = 0; p < G::P; ++p) s += m[p] * C[p][x] * U[p][x];
        o[x] = fr ? s - fr[x] : s;
      });
    }
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      for (int x = 0; x < n; x = (x + 1 == lo ? hi : x + 1)) {  // x < W, then x ≥ nx − W
        T s = 0;
        for (int p = 0; p < G::P; ++p)
          if (inside(x + dxs[p], n)) s += m[p] * C[p][x] * U[p][x];
        o[x] = fr ? s - fr[x] : s;
      }
    });
  }
};

/// Backward of ⟨g, A u⟩ for a fixed scalar stencil: gu = Aᵀ g and/or gc_p = g ⊙ (u shifted
/// by offset p), zero where that neighbour does not exist.
template <class T, class G>
struct FixedBackward {
  GridView<const T> c, u, g;
  GridView<T> gu, gc;
  int nz, ny, nx;
  bool want_u, want_c;

  // (Aᵀ g)(x) = Σ_p C_p(x − d_p) g(x − d_p): gathered, so no two lanes write one point.
  KOKKOS_INLINE_FUNCTION void operator()(const Team& team) const {
    const Row r(team.league_rank(), nz, ny);
    const int n = nx;
    const int lo = n < G::W ? n : G::W;
    const int hi = n - G::W > lo ? n - G::W : lo;
    if (want_u) {
      const T* CT[G::P];  // C_p on the row x − d_p, shifted: CT[p][x] = C_p(.., x − dx)
      const T* GT[G::P];
      T m[G::P];
      int dxs[G::P];
      for (int p = 0; p < G::P; ++p) {
        int dz, dy, dx;
        G::offset(p, dz, dy, dx);
        const bool ok = inside(r.z - dz, nz) && inside(r.y - dy, ny);
        const int zz = ok ? r.z - dz : r.z, yy = ok ? r.y - dy : r.y;
        m[p] = ok ? T(1) : T(0);
        CT[p] = &c(r.b, p, zz, yy, 0) - dx;
        GT[p] = &g(r.b, 0, zz, yy, 0) - dx;
        dxs[p] = dx;
      }
      T* o = &gu(r.b, 0, r.z, r.y, 0);
      bool all_rows = G::kPlainInterior;
      for (int p = 0; p < G::P; ++p) all_rows = all_rows && m[p] == T(1);
      if (all_rows) {  // m = 1: 1 · C = C exactly
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, lo, hi), [&](const int x) {
          T s = 0;
          for (int p = 0; p < G::P; ++p) s += CT[p][x] * GT[p][x];
          o[x] = s;
        });
      } else {
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, lo, hi), [&](const int x) {
          T s = 0;
          for (int p = 0; p < G::P; ++p) s += m[p] * CT[p][x] * GT[p][x];
          o[x] = s;
        });
      }
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        for (int x = 0; x < n; x = (x + 1 == lo ? hi : x + 1)) {
          T s = 0;
          for (int p = 0; p < G::P; ++p)
            if (inside(x - dxs[p], n)) s += m[p] * CT[p][x] * GT[p][x];
          o[x] = s;
        }
      });
    }
    if (want_c) {
      const T* U[G::P];
      T* GC[G::P];
      T m[G::P];
      int dxs[G::P];
      for (int p = 0; p < G::P; ++p) {
        int dz, dy, dx;
        G::offset(p, dz, dy, dx);
        const bool ok = inside(r.z + dz, nz) && inside(r.y + dy, ny);
        m[p] = ok ? T(1) : T(0);
        U[p] = &u(r.b, 0, ok ? r.z + dz : r.z, ok ? r.y + dy : r.y, 0) + dx;
        GC[p] = &gc(r.b, p, r.z, r.y, 0);
        dxs[p] = dx;
      }
      const T* gr = &g(r.b, 0, r.z, r.y, 0);
      bool all_rows = G::kPlainInterior;
      for (int p = 0; p < G::P; ++p) all_rows = all_rows && m[p] == T(1);
      if (all_rows) {  // m = 1: 1 · g = g exactly
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, lo, hi), [&](const int x) {
          const T gx = gr[x];
          for (int p = 0; p < G::P; ++p) GC[p][x] = gx * U[p][x];
        });
      } else {
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, lo, hi), [&](const int x) {
          const T gx = gr[x];
          for (int p = 0; p < G::P; ++p) GC[p][x] = m[p] * gx * U[p][x];
        });
      }
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        for (int x = 0; x < n; x = (x + 1 == lo ? hi : x + 1))
          for (int p = 0; p < G::P; ++p)
            GC[p][x] = inside(x + dxs[p], n) ? m[p] * gr[x] * U[p][x] : T(0);
      });
    }
  }
};

// ---------------------------------------------------------------------------------------
// Any stencil: runtime offsets, any dof.
// ---------------------------------------------------------------------------------------

/// [lo, hi): the x whose neighbour x + dx lies in [0, nx).
KOKKOS_INLINE_FUNCTION void x_range(int dx, int nx, int& lo, int& hi) {
  lo = dx < 0 ? -dx : 0;
  hi = dx > 0 ? nx - dx : nx;
  if (hi < lo) hi = lo;
}

/// Whether the generic kernels take their host form: the row's output accumulated term by
/// term (a point, a dof pair: a contiguous loop over x with its in-grid range computed once
/// per row, which the compiler vectorises) instead of a sum per x that checks every term's
/// neighbour. Both add the same products in the same order (points, then dofs), so they give
/// the same bits; GPUs keep the per-x sum (one lane per x, the sum in a register).
#if defined(KOKKOS_ENABLE_CUDA) || defined(KOKKOS_ENABLE_HIP)
constexpr bool kGenericRowWise = false;
#else
constexpr bool kGenericRowWise = true;
#endif

/// out = A u − f (f optional).
template <class T>
struct GenericApply {
  GridView<const T> c, u, f;
  GridView<T> out;
  OffsetView off;
  int points, dof, nz, ny, nx;
  bool has_f;

  KOKKOS_INLINE_FUNCTION void operator()(const Team& team) const {
    const Row r(team.league_rank(), nz, ny);
    if constexpr (kGenericRowWise) {
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        for (int fr = 0; fr < dof; ++fr) {
          T* o = &out(r.b, fr, r.z, r.y, 0);
          for (int x = 0; x < nx; ++x) o[x] = T(0);
          for (int p = 0; p < points; ++p) {
            const int zz = r.z + off(3 * p), yy = r.y + off(3 * p + 1), dx = off(3 * p + 2);
            if (!inside(zz, nz) || !inside(yy, ny)) continue;
            int lo, hi;
            x_range(dx, nx, lo, hi);
            for (int fc = 0; fc < dof; ++fc) {
              const T* cp = &c(r.b, (p * dof + fr) * dof + fc, r.z, r.y, 0);
              const T* up = &u(r.b, fc, zz, yy, 0) + dx;
              for (int x = lo; x < hi; ++x) o[x] += cp[x] * up[x];
            }
          }
          if (has_f) {
            const T* fp = &f(r.b, fr, r.z, r.y, 0);
            for (int x = 0; x < nx; ++x) o[x] -= fp[x];
          }
        }
      });
    } else {
      for (int fr = 0; fr < dof; ++fr) {
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, nx), [&](const int x) {
          T s = 0;
          for (int p = 0; p < points; ++p) {
            const int zz = r.z + off(3 * p), yy = r.y + off(3 * p + 1), xx = x + off(3 * p + 2);
            if (!inside(zz, nz) || !inside(yy, ny) || !inside(xx, nx)) continue;
            for (int fc = 0; fc < dof; ++fc)
              s += c(r.b, (p * dof + fr) * dof + fc, r.z, r.y, x) * u(r.b, fc, zz, yy, xx);
          }
          out(r.b, fr, r.z, r.y, x) = has_f ? s - f(r.b, fr, r.z, r.y, x) : s;
        });
      }
    }
  }
};

/// Backward of ⟨g, A u⟩: gu = Aᵀ g (gathered) and/or gc.
template <class T>
struct GenericBackward {
  GridView<const T> c, u, g;
  GridView<T> gu, gc;
  OffsetView off;
  int points, dof, nz, ny, nx;
  bool want_u, want_c;

  KOKKOS_INLINE_FUNCTION void operator()(const Team& team) const {
    const Row r(team.league_rank(), nz, ny);
    if (want_u && kGenericRowWise) {
      // The host form of the gather below (see kGenericRowWise): the same sums, term by term.
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        for (int fc = 0; fc < dof; ++fc) {
          T* o = &gu(r.b, fc, r.z, r.y, 0);
          for (int x = 0; x < nx; ++x) o[x] = T(0);
          for (int p = 0; p < points; ++p) {
            const int zz = r.z - off(3 * p), yy = r.y - off(3 * p + 1), dx = off(3 * p + 2);
            if (!inside(zz, nz) || !inside(yy, ny)) continue;
            int lo, hi;
            x_range(-dx, nx, lo, hi);  // x − dx in [0, nx)
            for (int fr = 0; fr < dof; ++fr) {
              const T* cp = &c(r.b, (p * dof + fr) * dof + fc, zz, yy, 0) - dx;
              const T* gp = &g(r.b, fr, zz, yy, 0) - dx;
              for (int x = lo; x < hi; ++x) o[x] += cp[x] * gp[x];
            }
          }
        }
      });
    } else if (want_u) {
      // (Aᵀ g)_fc(x) = Σ_p Σ_fr C_(p,fr,fc)(x − d_p) g_fr(x − d_p)
      for (int fc = 0; fc < dof; ++fc) {
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, nx), [&](const int x) {
          T s = 0;
          for (int p = 0; p < points; ++p) {
            const int zz = r.z - off(3 * p), yy = r.y - off(3 * p + 1), xx = x - off(3 * p + 2);
            if (!inside(zz, nz) || !inside(yy, ny) || !inside(xx, nx)) continue;
            for (int fr = 0; fr < dof; ++fr)
              s += c(r.b, (p * dof + fr) * dof + fc, zz, yy, xx) * g(r.b, fr, zz, yy, xx);
          }
          gu(r.b, fc, r.z, r.y, x) = s;
        });
      }
    }
    if (want_c && kGenericRowWise) {
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        for (int p = 0; p < points; ++p) {
          const int zz = r.z + off(3 * p), yy = r.y + off(3 * p + 1), dx = off(3 * p + 2);
          const bool row_ok = inside(zz, nz) && inside(yy, ny);
          int lo, hi;
          x_range(dx, nx, lo, hi);
          if (!row_ok) lo = hi = 0;
          for (int fr = 0; fr < dof; ++fr)
            for (int fc = 0; fc < dof; ++fc) {
              T* o = &gc(r.b, (p * dof + fr) * dof + fc, r.z, r.y, 0);
              const T* gp = &g(r.b, fr, r.z, r.y, 0);
              const T* up = &u(r.b, fc, row_ok ? zz : r.z, row_ok ? yy : r.y, 0) + dx;
              for (int x = 0; x < lo; ++x) o[x] = T(0);
              for (int x = lo; x < hi; ++x) o[x] = gp[x] * up[x];
              for (int x = hi; x < nx; ++x) o[x] = T(0);
            }
        }
      });
    } else if (want_c) {
      for (int p = 0; p < points; ++p) {
        const int zz = r.z + off(3 * p), yy = r.y + off(3 * p + 1), dx = off(3 * p + 2);
        const bool row_ok = inside(zz, nz) && inside(yy, ny);
        for (int fr = 0; fr < dof; ++fr)
          for (int fc = 0; fc < dof; ++fc) {
            const int k = (p * dof + fr) * dof + fc;
            Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, nx), [&](const int x) {
              const bool ok = row_ok && inside(x + dx, nx);
              gc(r.b, k, r.z, r.y, x) = ok ? g(r.b, fr, r.z, r.y, x) * u(r.b, fc, zz, yy, x + dx) : T(0);
            });
          }
      }
    }
  }
};

}  // namespace pins::kernels
