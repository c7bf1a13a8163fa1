#pragma once
// Reads the 5-point stencil coefficients of an assembled matrix on a 2-D DMDA: what the
// surrogate PC and KSPGuess feed their network. Any program's matrix works as long as each
// row couples a grid point only to itself and its four neighbours (entries that are
// explicitly zero elsewhere are allowed: DMDA preallocation may leave them).
#include <petscdmda.h>
#include <petscmat.h>
#include <torch/types.h>

#include <functional>
#include <string>

namespace pins::petsc {

class GridGather;

/// The DMDA of a solve: the PC's (or KSP's) DM if it is one, else the matrix's. Errors
/// (PETSC_ERR_ARG_WRONG) name what was found when there is no 2-D, one-dof, non-periodic
/// DMDA with stencil width >= 1. `who` prefixes the messages (e.g. "-pc_type surrogate");
/// `elsewhere`, if given, ends the refusals of grids of another kind (no DM, not a DMDA, not
/// 2-D, several dofs) with what serves them.
PetscErrorCode find_grid(DM preferred, Mat A, const char* who, DM* da,
                         const char* elsewhere = nullptr);

/// Visits this process's own rows of A, grid point by grid point (the DMDA's local box,
/// row-major): visit(i, j, v) with v the five coefficients C, W, E, S, N of point (i, j)
/// (a neighbour out of the grid has no column, so its coefficient is 0). The checks are
/// those of stencil_from_matrix (collective); rows visited before an error was found may
/// have been passed to `visit`. No memory is allocated per set-up: a caller reading A at
/// every Newton step keeps its own buffers.
PetscErrorCode visit_local_stencil(Mat A, DM da, const char* who,
                                   const std::function<void(PetscInt i, PetscInt j, const PetscScalar* v)>& visit);

/// Coefficients [1, 5, ym, xm] (C, W, E, S, N; float64) of this process's own rows of A:
/// the DMDA's local box (DMDAGetCorners), row-major (visit_local_stencil into a tensor).
PetscErrorCode local_stencil_from_matrix(Mat A, DM da, const char* who, torch::Tensor* coeffs);

/// Coefficients [1, 5, ny, nx] (C, W, E, S, N; float64) of A on rank 0 (undefined tensor on
/// other ranks). A row with an entry outside the 5-point stencil, or a zero diagonal, is an
/// error on every rank naming the first such grid point.
PetscErrorCode stencil_from_matrix(Mat A, DM da, GridGather& gather, const char* who,
                                   torch::Tensor* coeffs);

}  // namespace pins::petsc
