#pragma once
/// \file
/// The Darcy discretisation's face coefficients: the single definition shared by the
/// PETSc assembly (darcy_petsc.cpp) and the Kokkos coefficient kernel
/// (darcy_coefficients.cpp), so both build exactly the same operator.
///
/// −∇·(κ∇u) = f on (0,1)², u = 0 on the boundary, nx × ny cells, unknowns at cell centres
/// (cell (i,j) at x = (j+½)/nx, y = (i+½)/ny). Cell-centred finite volumes: the flux through
/// an interior face uses the harmonic mean of the two cells' κ; through a boundary face, the
/// half cell between the centre and the wall, where u = 0, gives the coefficient 2κ_cell.
/// Row (i,j):  Σ_faces k_face/h² (u_ij − u_neighbour) = f_ij, neighbour 0 outside the grid.

#include <Kokkos_Macros.hpp>

namespace pins::darcy {

/// Coefficient of the face between two cells with conductivities a and b (harmonic mean).
KOKKOS_INLINE_FUNCTION double interior_face_coefficient(double a, double b) {
  return 2.0 * a * b / (a + b);
}

/// Coefficient of a face on the Dirichlet boundary of a cell with conductivity a: the
/// distance from the centre to the wall is h/2, hence twice the cell value.
KOKKOS_INLINE_FUNCTION double boundary_face_coefficient(double a) { return 2.0 * a; }

}  // namespace pins::darcy
