#pragma once
// The processes a Python training call trains on: under mpiexec (petsc4py has initialised
// MPI) every process of MPI_COMM_WORLD, data parallel as `mpiexec -n P pins train`; null in a
// plain Python process.
#include <memory>

#include "pins/petsc/mpi_process_group.hpp"

namespace pins::python {

inline std::unique_ptr<petsc::MpiProcessGroup> world_group_if_mpi() {
  int initialised = 0, size = 1;
  MPI_Initialized(&initialised);
  if (initialised) MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size <= 1) return nullptr;
  return std::make_unique<petsc::MpiProcessGroup>(MPI_COMM_WORLD);
}

}  // namespace pins::python
