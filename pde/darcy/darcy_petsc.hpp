#pragma once
/// \file
/// The Darcy operator assembled by PETSc on a 2-D or 3-D DMDA, and the Darcy problem
/// families `darcy` (2-D, 5-point) and `darcy3d` (3-D, 7-point).
///
/// The matrix is built from the face functions of pde/darcy/darcy_stencil.hpp in the same
/// order of operations as the Kokkos kernel pins::darcy::stencil_coefficients, so its
/// entries equal those coefficients bit for bit (row (i,j): centre Σ k_face/h², neighbour
/// −k_face/h², no entry for neighbours outside the grid).
///
/// Example:
/// \code
///   DM da; Mat A;
///   PetscCall(pins::darcy::create_dmda(PETSC_COMM_SELF, nx, ny, &da));
///   PetscCall(DMCreateMatrix(da, &A));
///   PetscCall(pins::darcy::assemble_operator(da, kappa, A));   // kappa: [ny][nx]
/// \endcode

#include <petscdmda.h>

#include <memory>

#include "pde/darcy/darcy_sampler.hpp"
#include "pde/problem_family.hpp"

namespace pins::darcy {

/// Reads the Darcy sampler options (-kappa_type, -kappa_high, -kappa_low, -kappa_contrast,
/// -kappa_sigma, -grf_alpha, -grf_tau, -grf_modes, -f_type, -f_value; listed under -help
/// for `family`) on top of *options and validates them for a `dim`-D field. A bad value is
/// a PETSc error naming the option. Shared by the families that draw Darcy's fields.
PetscErrorCode read_sampler_options(MPI_Comm comm, const char* prefix, const char* family, int dim,
                                    SamplerOptions* options);

/// The sampler options as datasets record them (attributes sampler.kappa_type, alpha, tau,
/// kappa_high, kappa_low, sigma, f_type, f_value, modes, in this order).
std::vector<Attribute> sampler_attributes(const SamplerOptions& options);

/// A DMDA for nx × ny cells: 2-D, star stencil of width 1, one dof, DM_BOUNDARY_NONE
/// (the Dirichlet condition is built into the boundary rows), set up and ready to use.
PetscErrorCode create_dmda(MPI_Comm comm, PetscInt nx, PetscInt ny, DM* da);

/// The 3-D DMDA for nx × ny × nz cells: star stencil of width 1, one dof, no ghost boundary.
PetscErrorCode create_dmda(MPI_Comm comm, PetscInt nx, PetscInt ny, PetscInt nz, DM* da);

/// Assembles A(κ) into A (from DMCreateMatrix(da)) on a 2-D or 3-D DMDA; kappa holds the
/// whole grid, row-major [(nz,) ny, nx], and must be positive. Each process inserts its own rows; A is assembled on
/// return and marked symmetric positive definite.
PetscErrorCode assemble_operator(DM da, const double* kappa, Mat A);

/// b = f on the process's own cells (f: whole grid, row-major [(nz,) ny, nx]).
PetscErrorCode assemble_rhs(DM da, const double* f, Vec b);

/// The Darcy problem family (sampler options -kappa_type, -kappa_high, -kappa_low,
/// -kappa_contrast, -kappa_sigma, -grf_alpha, -grf_tau, -grf_modes, -f_type, -f_value).
std::unique_ptr<ProblemFamily> create_problem_family();

/// The 3-D Darcy problem family `darcy3d` (the same sampler options, 3-D grids).
std::unique_ptr<ProblemFamily> create_problem_family_3d();

/// The 2-D Darcy family's sampler, options, DMDA and assembly under another name (for
/// messages, -help and the dataset's pde attribute) with other sampler defaults, for
/// families built on it (e.g. nonlinear_darcy, whose f must be larger to matter).
std::unique_ptr<ProblemFamily> create_problem_family(const char* name,
                                                     const SamplerOptions& defaults);

}  // namespace pins::darcy
