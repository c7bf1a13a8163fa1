#pragma once
/// \file
/// The nonlinear Darcy discretisation's face fluxes: the single definition shared by the
/// PETSc residual and Jacobian (nonlinear_darcy_petsc.cpp), the Kokkos residual and adjoint
/// kernels (nonlinear_darcy_kernels.cpp) and their serial reference, so that all compute
/// the same F(u).
///
/// −∇·(κ(x) k(u) ∇u) = f on (0,1)², u = 0 on the boundary, nx × ny cells, unknowns at cell
/// centres. Cell-centred finite volumes as in pde/darcy/darcy_stencil.hpp: the face between
/// cells m and n carries the transmissibility t = harmonic mean of κ / h² (2κ_m / h² at a
/// wall), times the face value of k(u), the arithmetic mean (k(u_m) + k(u_n)) / 2, with
/// u_n = 0 at a wall. Row m:
///   F_m(u) = Σ_faces t (k(u_m) + k(u_n)) / 2 · (u_m − u_n) − f_m.
/// With k ≡ 1 this is the linear Darcy row A u − f bit for bit in the face coefficients.

#include <Kokkos_Macros.hpp>

#include <cmath>

namespace pins::nonlinear_darcy {

/// k(u): 1 + u² (kind 0, "quadratic") or exp(β u) (kind 1, "exp").
struct Conductivity {
  int kind = 0;
  double beta = 1.0;

  KOKKOS_INLINE_FUNCTION double k(double u) const {
    return kind == 0 ? 1.0 + u * u : std::exp(beta * u);
  }
  /// dk/du.
  KOKKOS_INLINE_FUNCTION double dk(double u) const {
    return kind == 0 ? 2.0 * u : beta * std::exp(beta * u);
  }
};

/// The flux t · (k(u_m) + k(u_n)) / 2 · (u_m − u_n) out of cell m through one face.
KOKKOS_INLINE_FUNCTION double face_flux(const Conductivity& c, double t, double um, double un) {
  return t * (0.5 * (c.k(um) + c.k(un))) * (um - un);
}

/// ∂ face_flux / ∂u_m.
KOKKOS_INLINE_FUNCTION double face_flux_dm(const Conductivity& c, double t, double um, double un) {
  return t * (0.5 * (c.k(um) + c.k(un)) + 0.5 * c.dk(um) * (um - un));
}

/// ∂ face_flux / ∂u_n.
KOKKOS_INLINE_FUNCTION double face_flux_dn(const Conductivity& c, double t, double um, double un) {
  return t * (-0.5 * (c.k(um) + c.k(un)) + 0.5 * c.dk(un) * (um - un));
}

/// A bound on the size of face_flux's terms, for rounding bounds: t · k̄ · (|u_m| + |u_n|).
KOKKOS_INLINE_FUNCTION double face_flux_magnitude(const Conductivity& c, double t, double um,
                                                  double un) {
  return t * (0.5 * (c.k(um) + c.k(un))) * (std::abs(um) + std::abs(un));
}

}  // namespace pins::nonlinear_darcy
