#pragma once
/// \file
/// How many LibTorch threads a process that runs a network inside a PETSc solver should use.

#include <petscsys.h>

namespace pins::petsc {

/// Collective on `comm`. `requested` if positive; otherwise the cores this process may run
/// on (its CPU affinity) divided among the processes of `comm` on the same node that may
/// run on the same cores. A process bound to its own cores (Open MPI's --bind-to core,
/// --map-by ...:PE=n) keeps all of them; unbound processes, which share one affinity set
/// (the node's, or a container's), divide it. At least 1.
PetscErrorCode network_threads(MPI_Comm comm, PetscInt requested, PetscInt* threads);

/// network_threads(), then sets LibTorch's intra-op thread count to it (process-wide).
PetscErrorCode set_network_threads(MPI_Comm comm, PetscInt requested);

}  // namespace pins::petsc
