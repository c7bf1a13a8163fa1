// pins::ProcessGroup on MPI (pins/petsc/mpi_process_group.hpp).
#include "pins/petsc/mpi_process_group.hpp"

#include <algorithm>
#include <climits>
#include <optional>

#include "collective.hpp"

namespace pins::petsc {

namespace {

// MPI counts are ints: large buffers go in pieces.
template <class T>
void allreduce(T* values, std::size_t count, MPI_Datatype type, MPI_Op op, MPI_Comm comm) {
  constexpr std::size_t kPiece = std::size_t(INT_MAX);
  for (std::size_t begin = 0; begin < count; begin += kPiece) {
    const int n = int(std::min(kPiece, count - begin));
    MPI_Allreduce(MPI_IN_PLACE, values + begin, n, type, op, comm);
  }
}

}  // namespace

MpiProcessGroup::MpiProcessGroup(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

void MpiProcessGroup::sum(float* values, std::size_t count) const {
  allreduce(values, count, MPI_FLOAT, MPI_SUM, comm_);
}

void MpiProcessGroup::sum(double* values, std::size_t count) const {
  allreduce(values, count, MPI_DOUBLE, MPI_SUM, comm_);
}

void MpiProcessGroup::max(double* values, std::size_t count) const {
  allreduce(values, count, MPI_DOUBLE, MPI_MAX, comm_);
}

std::string MpiProcessGroup::first_error(const std::string& error) const {
  std::optional<detail::Failure> mine;
  if (!error.empty()) mine = detail::Failure{-1, error};
  return detail::agree(comm_, mine).value_or(std::string());
}

}  // namespace pins::petsc
