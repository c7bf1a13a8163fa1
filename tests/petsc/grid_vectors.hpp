#pragma once
// Whole-grid arrays in and out of a 2-D DMDA's global vectors, for the tests that compare a
// family's PETSc functions with its core half on 1 and 2 processes.
#include <petscdmda.h>
#include <torch/torch.h>

#include <vector>

#include "pde/darcy/darcy_petsc.hpp"
#include "pins/petsc/error.hpp"

namespace pins::test {

/// v = the process's own cells of the whole-grid array (natural order).
inline void fill(DM da, const std::vector<double>& whole, Vec v) {
  PINS_PETSC_CALL(pins::darcy::assemble_rhs(da, whole.data(), v));  // copies the own cells
}

/// The whole grid of v on every rank, in natural order: `points` grid points of `dof`
/// interlaced components, returned component-major ([dof][points], as datasets store them).
inline std::vector<double> gather(DM da, Vec v, size_t points, size_t dof = 1) {
  Vec natural, all;
  VecScatter to_all;
  PINS_PETSC_CALL(DMDACreateNaturalVector(da, &natural));
  PINS_PETSC_CALL(DMDAGlobalToNaturalBegin(da, v, INSERT_VALUES, natural));
  PINS_PETSC_CALL(DMDAGlobalToNaturalEnd(da, v, INSERT_VALUES, natural));
  PINS_PETSC_CALL(VecScatterCreateToAll(natural, &to_all, &all));
  PINS_PETSC_CALL(VecScatterBegin(to_all, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  PINS_PETSC_CALL(VecScatterEnd(to_all, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  const PetscScalar* a;
  PINS_PETSC_CALL(VecGetArrayRead(all, &a));
  std::vector<double> out(dof * points);
  for (size_t p = 0; p < points; ++p)
    for (size_t c = 0; c < dof; ++c) out[c * points + p] = a[dof * p + c];
  PINS_PETSC_CALL(VecRestoreArrayRead(all, &a));
  VecScatterDestroy(&to_all);
  VecDestroy(&all);
  VecDestroy(&natural);
  return out;
}

/// A whole-grid array as a [1, ny, nx] tensor sharing its memory.
inline torch::Tensor as_tensor(std::vector<double>& v, int ny, int nx) {
  return torch::from_blob(v.data(), {1, ny, nx}, torch::kFloat64);
}

}  // namespace pins::test
