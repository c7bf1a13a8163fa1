// Whole-grid access to DMDA vectors on rank 0 (grid_gather.hpp).
#include "grid_gather.hpp"

namespace pins::petsc {

GridGather::~GridGather() {
  VecScatterDestroy(&to_zero_);
  VecDestroy(&whole_);
  VecDestroy(&natural_);
}

PetscErrorCode GridGather::setup(DM da) {
  PetscFunctionBeginUser;
  da_ = da;
  PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject)da), &size_));
  if (size_ > 1 && !to_zero_) {
    PetscCall(DMDACreateNaturalVector(da, &natural_));
    PetscCall(VecScatterCreateToZero(natural_, &to_zero_, &whole_));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode GridGather::begin_read(Vec global, const PetscScalar** grid) {
  PetscFunctionBeginUser;
  if (size_ == 1) {
    PetscCall(VecGetArrayRead(global, grid));  // zero copy: the global order is natural
    PetscFunctionReturn(0);
  }
  PetscCall(DMDAGlobalToNaturalBegin(da_, global, INSERT_VALUES, natural_));
  PetscCall(DMDAGlobalToNaturalEnd(da_, global, INSERT_VALUES, natural_));
  PetscCall(VecScatterBegin(to_zero_, natural_, whole_, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(to_zero_, natural_, whole_, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(whole_, grid));  // length 0 on ranks other than 0
  PetscMPIInt rank;
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject)da_), &rank));
  if (rank != 0) {
    PetscCall(VecRestoreArrayRead(whole_, grid));
    *grid = nullptr;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode GridGather::end_read(Vec global, const PetscScalar** grid) {
  PetscFunctionBeginUser;
  if (size_ == 1) {
    PetscCall(VecRestoreArrayRead(global, grid));
  } else if (*grid) {
    PetscCall(VecRestoreArrayRead(whole_, grid));
  }
  *grid = nullptr;
  PetscFunctionReturn(0);
}

PetscErrorCode GridGather::begin_write(Vec global, PetscScalar** grid) {
  PetscFunctionBeginUser;
  if (size_ == 1) {
    PetscCall(VecGetArrayWrite(global, grid));
    PetscFunctionReturn(0);
  }
  PetscMPIInt rank;
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject)da_), &rank));
  *grid = nullptr;
  if (rank == 0) PetscCall(VecGetArrayWrite(whole_, grid));
  PetscFunctionReturn(0);
}

PetscErrorCode GridGather::end_write(Vec global, PetscScalar** grid) {
  PetscFunctionBeginUser;
  if (size_ == 1) {
    PetscCall(VecRestoreArrayWrite(global, grid));
    *grid = nullptr;
    PetscFunctionReturn(0);
  }
  if (*grid) PetscCall(VecRestoreArrayWrite(whole_, grid));
  *grid = nullptr;
  PetscCall(VecScatterBegin(to_zero_, whole_, natural_, INSERT_VALUES, SCATTER_REVERSE));
  PetscCall(VecScatterEnd(to_zero_, whole_, natural_, INSERT_VALUES, SCATTER_REVERSE));
  PetscCall(DMDANaturalToGlobalBegin(da_, natural_, INSERT_VALUES, global));
  PetscCall(DMDANaturalToGlobalEnd(da_, natural_, INSERT_VALUES, global));
  PetscFunctionReturn(0);
}

}  // namespace pins::petsc
