#include "network_threads.hpp"

#include <sched.h>

#include <algorithm>
#include <vector>

#include "pins/core/trainer.hpp"
#include "pins/petsc/error.hpp"

namespace pins::petsc {

namespace {

// The processes on this node whose affinity sets overlap this one's, this one included.
// Comparing sets, not counting the node's cores, keeps a container's cpuset (narrower than
// the host, but shared by every unbound process in it) from looking like a binding.
PetscErrorCode sharing_processes(MPI_Comm comm, const cpu_set_t& mine, int* sharing) {
  PetscFunctionBeginUser;
  MPI_Comm node;
  PetscMPIInt size;
  PetscCallMPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  PetscCallMPI(MPI_Comm_size(node, &size));
  std::vector<cpu_set_t> all(static_cast<size_t>(size));
  PetscCallMPI(MPI_Allgather(&mine, int(sizeof mine), MPI_BYTE, all.data(), int(sizeof mine),
                             MPI_BYTE, node));
  PetscCallMPI(MPI_Comm_free(&node));
  *sharing = 0;
  for (const cpu_set_t& other : all) {
    cpu_set_t both;
    CPU_AND(&both, &mine, &other);
    if (CPU_COUNT(&both) > 0) ++*sharing;
  }
  PetscFunctionReturn(0);
}

}  // namespace

PetscErrorCode network_threads(MPI_Comm comm, PetscInt requested, PetscInt* threads) {
  PetscFunctionBeginUser;
  if (requested > 0) {
    *threads = requested;
    PetscFunctionReturn(0);
  }
  cpu_set_t mine;
  CPU_ZERO(&mine);
  int cores = 0;
  if (sched_getaffinity(0, sizeof mine, &mine) == 0) {
    cores = CPU_COUNT(&mine);
  } else {  // no affinity to compare: every process on the node shares available_cores()
    CPU_SET(0, &mine);
    cores = available_cores();
  }
  int sharing = 1;
  PetscCall(sharing_processes(comm, mine, &sharing));
  *threads = std::max(1, cores / std::max(1, sharing));
  PetscFunctionReturn(0);
}

PetscErrorCode set_network_threads(MPI_Comm comm, PetscInt requested) {
  PetscFunctionBeginUser;
  PetscInt threads;
  PetscCall(network_threads(comm, requested, &threads));
  PetscCall(
      PetscInfo(nullptr, "pins: %" PetscInt_FMT " LibTorch threads on this process\n", threads));
  PetscCallCXX(set_training_threads(int(threads)));
  PetscFunctionReturn(0);
}

}  // namespace pins::petsc
