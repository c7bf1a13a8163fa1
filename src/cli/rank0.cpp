#include <optional>
#include <string>

#include "collective.hpp"

#include "commands.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/generate.hpp"

namespace pins::cli {

void read_options(const std::function<PetscErrorCode()>& read) {
  try {
    PINS_PETSC_CALL(read());
  } catch (const std::exception& e) {
    throw pins::petsc::CollectiveError(e.what());
  }
}

void on_all_ranks(MPI_Comm comm, const std::function<void()>& work) {
  std::optional<pins::petsc::detail::Failure> failure;
  pins::petsc::detail::record_failure(failure, -1, work);
  pins::petsc::detail::throw_if_any(comm, failure);
}

void on_rank0(MPI_Comm comm, const std::function<void()>& work) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string message;
  int failed = 0;
  if (rank == 0) {
    try {
      work();
    } catch (const std::exception& e) {
      failed = 1;
      message = e.what();
    }
  }
  MPI_Bcast(&failed, 1, MPI_INT, 0, comm);
  if (!failed) return;
  int length = int(message.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, comm);
  message.resize(size_t(length));
  MPI_Bcast(message.data(), length, MPI_CHAR, 0, comm);
  throw pins::petsc::CollectiveError(message);
}

}  // namespace pins::cli
