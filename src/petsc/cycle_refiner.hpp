#pragma once
// Test-time refinement inside PETSc: k multigrid V-cycles (pins::MultigridCycle) on an answer
// z of A z = r, z ← z + V(r − A z), for an assembled 5-point matrix on a 2-D DMDA. What the
// surrogate PC's replace mode runs before it checks its certificate (-pc_surrogate_refine).
// Like the network, the cycle runs on rank 0 on the whole grid (GridGather).
#include <petscdmda.h>
#include <petscmat.h>

#include <memory>

#include "grid_gather.hpp"

namespace pins {
class MultigridCycle;
}

namespace pins::petsc {

class CycleRefiner {
 public:
  CycleRefiner();
  ~CycleRefiner();
  CycleRefiner(const CycleRefiner&) = delete;
  CycleRefiner& operator=(const CycleRefiner&) = delete;

  /// Reads A's stencil (stencil_from_matrix: 5-point, usable diagonal) and builds the
  /// multigrid hierarchy. A PETSc error on every rank, prefixed by `who`, if the matrix is not
  /// such a stencil or MultigridCycle refuses it (MultigridCycle::unsupported, or a
  /// non-positive diagonal on some level). Call again when A's values change. Collective.
  PetscErrorCode set_operator(Mat A, DM da, const char* who);

  /// z ← z + V(r − A z), `cycles` times. Collective.
  PetscErrorCode refine(Vec r, Vec z, PetscInt cycles);

 private:
  GridGather gather_;
  std::unique_ptr<MultigridCycle> cycle_;  // rank 0 only
  PetscInt nx_ = 0, ny_ = 0;
};

}  // namespace pins::petsc
