#pragma once
// Moves a 2-D DMDA's global vectors to rank 0 as whole grids in natural (row-major
// [ny][nx]) order and back: the network of the surrogate PC sees the whole grid at once.
// On one process the DMDA's global order already is the natural order, so no copy is made:
// rank 0 reads and writes the vector's own array.
#include <petscdmda.h>

namespace pins::petsc {

class GridGather {
 public:
  GridGather() = default;
  GridGather(const GridGather&) = delete;
  GridGather& operator=(const GridGather&) = delete;
  ~GridGather();

  /// Prepares the scatters for `da` (2-D, one dof).
  PetscErrorCode setup(DM da);

  /// The whole grid of `global` on rank 0 (nullptr elsewhere), valid until end_read().
  PetscErrorCode begin_read(Vec global, const PetscScalar** grid);
  PetscErrorCode end_read(Vec global, const PetscScalar** grid);

  /// A whole-grid buffer on rank 0 (nullptr elsewhere) that end_write() puts into `global`.
  PetscErrorCode begin_write(Vec global, PetscScalar** grid);
  PetscErrorCode end_write(Vec global, PetscScalar** grid);

  bool serial() const { return size_ == 1; }

 private:
  DM da_ = nullptr;
  PetscMPIInt size_ = 1;
  Vec natural_ = nullptr, whole_ = nullptr;  // natural-order vector, its copy on rank 0
  VecScatter to_zero_ = nullptr;
};

}  // namespace pins::petsc
