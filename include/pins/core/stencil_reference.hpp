#pragma once
/// \file
/// Plain serial reference implementations of the 5-point stencil operator on raw arrays,
/// the yardstick the Kokkos kernels are tested against. Layout as in pins/core/stencil.hpp:
/// coeffs [B, 5, ny, nx] and fields [B, ny, nx], row-major.

#include <cstdint>

#include "pins/core/stencil_operator.hpp"

namespace pins::reference {

/// out = A u (f == nullptr) or A u − f.
void stencil_apply(const double* coeffs, const double* u, const double* f, double* out,
                   std::int64_t batch, std::int64_t ny, std::int64_t nx);

/// out = Aᵀ v.
void stencil_apply_transpose(const double* coeffs, const double* v, double* out,
                             std::int64_t batch, std::int64_t ny, std::int64_t nx);

/// Any stencil (pins/core/stencil_operator.hpp): coeffs [B, K, nz, ny, nx], fields
/// [B, dof, nz, ny, nx] (nz = ny = 1 for the axes the stencil does not have).
/// out = A u (f == nullptr) or A u − f.
void stencil_apply(const Stencil& s, const double* coeffs, const double* u, const double* f,
                   double* out, std::int64_t batch, std::int64_t nz, std::int64_t ny,
                   std::int64_t nx);

/// out = Aᵀ v for any stencil.
void stencil_apply_transpose(const Stencil& s, const double* coeffs, const double* v,
                             double* out, std::int64_t batch, std::int64_t nz, std::int64_t ny,
                             std::int64_t nx);

}  // namespace pins::reference
