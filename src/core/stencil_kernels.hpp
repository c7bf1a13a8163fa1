#pragma once
// Kokkos kernels of the 5-point stencil operator (private to pins::core).
//
// Parallel layout: one Kokkos team per grid row (b, i), the row's points over the team's
// vector lanes. On a GPU the lanes of a warp read consecutive x, so loads coalesce; on the
// host (Serial/OpenMP) a team is one thread and the vector loop is a plain loop the
// compiler vectorises. Interior points j = 1..nx-2 have all x-neighbours and take the
// branch-free path; the two edge points of a row are done apart. A neighbour row that does
// not exist (i = 0 or i = ny-1) is replaced by the row itself with weight 0, which keeps the
// interior loop free of branches.

#include <Kokkos_Core.hpp>

namespace pins::kernels {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;
using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;

/// Coefficients, shape [B, 5, ny, nx], channels (C, W, E, S, N).
template <class T>
using CoeffView = Kokkos::View<T****, Kokkos::LayoutRight, MemSpace, Unmanaged>;
/// A field on the batch of grids, shape [B, ny, nx].
template <class T>
using FieldView = Kokkos::View<T***, Kokkos::LayoutRight, MemSpace, Unmanaged>;

using Team = Kokkos::TeamPolicy<ExecSpace>::member_type;

/// Vector length of a team: a warp's worth of lanes on a GPU, one on the host.
inline int stencil_vector_length() {
#if defined(KOKKOS_ENABLE_CUDA) || defined(KOKKOS_ENABLE_HIP)
  return 32;
#else
  return 1;
#endif
}

inline Kokkos::TeamPolicy<ExecSpace> row_policy(int rows) {
  return Kokkos::TeamPolicy<ExecSpace>(rows, Kokkos::AUTO, stencil_vector_length());
}

/// out = A u − f (f optional: with has_f false, out = A u).
template <class T>
struct ApplyFunctor {
  CoeffView<const T> c;  // [B,5,ny,nx]
  FieldView<const T> u;  // [B,ny,nx]
  FieldView<const T> f;  // [B,ny,nx] or empty
  FieldView<T> out;      // [B,ny,nx]
  int ny, nx;
  bool has_f;

  KOKKOS_INLINE_FUNCTION void operator()(const Team& team) const {
    const int b = team.league_rank() / ny;
    const int i = team.league_rank() % ny;
    const T* C = &c(b, 0, i, 0);
    const T* W = &c(b, 1, i, 0);
    const T* E = &c(b, 2, i, 0);
    const T* S = &c(b, 3, i, 0);
    const T* N = &c(b, 4, i, 0);
    const T* uc = &u(b, i, 0);
    const T* us = i > 0 ? &u(b, i - 1, 0) : uc;  // weight 0 when the row does not exist
    const T* un = i < ny - 1 ? &u(b, i + 1, 0) : uc;
    const T ms = i > 0 ? T(1) : T(0);
    const T mn = i < ny - 1 ? T(1) : T(0);
    const T* fr = has_f ? &f(b, i, 0) : nullptr;
    T* o = &out(b, i, 0);
    const int nx_ = nx;

    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, 1, nx_ - 1), [&](const int j) {
      T s = C[j] * uc[j] + W[j] * uc[j - 1] + E[j] * uc[j + 1] + ms * S[j] * us[j] +
            mn * N[j] * un[j];
      o[j] = fr ? s - fr[j] : s;
    });
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      for (int e = 0; e < (nx_ > 1 ? 2 : 1); ++e) {  // the row's edge points
          const int j = e == 0 ? 0 : nx_ - 1;
        T s = C[j] * uc[j] + ms * S[j] * us[j] + mn * N[j] * un[j];
        if (j > 0) s += W[j] * uc[j - 1];
        if (j < nx_ - 1) s += E[j] * uc[j + 1];
        o[j] = fr ? s - fr[j] : s;
      }
    });
  }
};

/// Backward of ⟨g, A u⟩: grad_u = Aᵀ g and/or grad_c(k) = g ⊙ (neighbour k of u).
template <class T>
struct BackwardFunctor {
  CoeffView<const T> c;  // [B,5,ny,nx] (needed for grad_u)
  FieldView<const T> u;  // [B,ny,nx]   (needed for grad_c)
  FieldView<const T> g;  // [B,ny,nx]   upstream gradient
  FieldView<T> gu;       // [B,ny,nx] or empty
  CoeffView<T> gc;       // [B,5,ny,nx] or empty
  int ny, nx;
  bool want_u, want_c;

  // (Aᵀ g)(i,j) = C(i,j) g(i,j) + W(i,j+1) g(i,j+1) + E(i,j-1) g(i,j-1)
  //             + S(i+1,j) g(i+1,j) + N(i-1,j) g(i-1,j)
  KOKKOS_INLINE_FUNCTION void operator()(const Team& team) const {
    const int b = team.league_rank() / ny;
    const int i = team.league_rank() % ny;
    const bool has_s = i > 0, has_n = i < ny - 1;
    const int is = has_s ? i - 1 : i, in = has_n ? i + 1 : i;
    const T ms = has_s ? T(1) : T(0);
    const T mn = has_n ? T(1) : T(0);
    const T* gr = &g(b, i, 0);
    const T* gs = &g(b, is, 0);
    const T* gn = &g(b, in, 0);
    const int nx_ = nx;

    if (want_u) {
      const T* C = &c(b, 0, i, 0);
      const T* W = &c(b, 1, i, 0);
      const T* E = &c(b, 2, i, 0);
      const T* Nbelow = &c(b, 4, is, 0);  // N of the row below points up to row i
      const T* Sabove = &c(b, 3, in, 0);  // S of the row above points down to row i
      T* o = &gu(b, i, 0);
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, 1, nx_ - 1), [&](const int j) {
        o[j] = C[j] * gr[j] + W[j + 1] * gr[j + 1] + E[j - 1] * gr[j - 1] +
               mn * Sabove[j] * gn[j] + ms * Nbelow[j] * gs[j];
      });
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        for (int e = 0; e < (nx_ > 1 ? 2 : 1); ++e) {  // the row's edge points
          const int j = e == 0 ? 0 : nx_ - 1;
          T s = C[j] * gr[j] + mn * Sabove[j] * gn[j] + ms * Nbelow[j] * gs[j];
          if (j < nx_ - 1) s += W[j + 1] * gr[j + 1];
          if (j > 0) s += E[j - 1] * gr[j - 1];
          o[j] = s;
        }
      });
    }
    if (want_c) {
      const T* uc = &u(b, i, 0);
      const T* us = &u(b, is, 0);
      const T* un = &u(b, in, 0);
      T* GC = &gc(b, 0, i, 0);
      T* GW = &gc(b, 1, i, 0);
      T* GE = &gc(b, 2, i, 0);
      T* GS = &gc(b, 3, i, 0);
      T* GN = &gc(b, 4, i, 0);
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, 1, nx_ - 1), [&](const int j) {
        const T gj = gr[j];
        GC[j] = gj * uc[j];
        GW[j] = gj * uc[j - 1];
        GE[j] = gj * uc[j + 1];
        GS[j] = ms * gj * us[j];
        GN[j] = mn * gj * un[j];
      });
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        for (int e = 0; e < (nx_ > 1 ? 2 : 1); ++e) {  // the row's edge points
          const int j = e == 0 ? 0 : nx_ - 1;
          const T gj = gr[j];
          GC[j] = gj * uc[j];
          GW[j] = j > 0 ? gj * uc[j - 1] : T(0);
          GE[j] = j < nx_ - 1 ? gj * uc[j + 1] : T(0);
          GS[j] = ms * gj * us[j];
          GN[j] = mn * gj * un[j];
        }
      });
    }
  }
};

}  // namespace pins::kernels
