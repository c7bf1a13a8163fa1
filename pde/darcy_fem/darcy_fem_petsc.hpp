#pragma once
/// \file
/// darcy_fem's PETSc half: the mesh (a built-in box of triangles or quadrilaterals, or a file
/// PETSc reads with DMPlexCreateFromFile), P1/Q1 PetscFE on it with u = 0 on the boundary
/// (an essential condition on the boundary faces' closure), κ and f per cell as a P0
/// auxiliary field, and the operator and right-hand side from PETSc's own FEM assembly
/// (DMPlexSNESComputeJacobianFEM, DMPlexSNESComputeResidualFEM).
///
/// Options (besides the Darcy sampler's, pde/darcy/darcy_petsc.hpp):
///   -dm_plex_filename <file>  a 2-D triangle or quadrilateral mesh (Gmsh, Exodus, HDF5, ...);
///                              without it, the unit square with -grid cells per direction
///   -dm_plex_simplex <bool>   built-in box: triangles (true, default) or quadrilaterals
///   -dm_refine <k>            refine the mesh k times uniformly (default 0)
///   -mesh_perturb <p>         built-in box: move interior vertices randomly by up to p times
///                              the cell size in each direction (0 ≤ p < 0.5, default 0)
/// The mesh depends on these alone, never on the process count or the sampler seed.

#include <petscdmplex.h>

#include <memory>

#include "pde/problem_family.hpp"

namespace pins::darcy_fem {

/// The PETSc-side darcy_fem family for the registry.
std::unique_ptr<ProblemFamily> create_problem_family();

}  // namespace pins::darcy_fem
