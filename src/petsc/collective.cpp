#include "collective.hpp"

#include <limits>
#include <vector>

#include "pins/petsc/generate.hpp"

namespace pins::petsc::detail {

std::optional<std::string> agree(MPI_Comm comm, const std::optional<Failure>& mine) {
  struct {
    long key;
    int rank;
  } local{}, winner{};
  static_assert(sizeof(long) >= sizeof(std::int64_t), "MPI_LONG_INT must hold a sample index");
  MPI_Comm_rank(comm, &local.rank);
  local.key = mine ? long(mine->key) : std::numeric_limits<long>::max();
  MPI_Allreduce(&local, &winner, 1, MPI_LONG_INT, MPI_MINLOC, comm);
  if (winner.key == std::numeric_limits<long>::max()) return std::nullopt;

  // The winner sends its message to everybody: length first, then the characters.
  std::string message = (local.rank == winner.rank && mine) ? mine->message : std::string();
  long length = long(message.size());
  MPI_Bcast(&length, 1, MPI_LONG, winner.rank, comm);
  message.resize(size_t(length));
  if (length > 0) MPI_Bcast(message.data(), int(length), MPI_CHAR, winner.rank, comm);
  return message;
}

void throw_if_any(MPI_Comm comm, const std::optional<Failure>& mine) {
  if (auto message = agree(comm, mine)) throw CollectiveError(*message);
}

}  // namespace pins::petsc::detail
