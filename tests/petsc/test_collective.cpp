// Agreeing on failures across processes (src/petsc/collective.hpp): every process gets the
// same message, that of the smallest key, wherever it was seen. Meaningful on several
// processes (ctest runs it on two); on one it checks the single-process path.

#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "collective.hpp"
#include "pins/petsc/generate.hpp"

using pins::petsc::detail::agree;
using pins::petsc::detail::Failure;

TEST_CASE("agree: no failure anywhere gives nothing") {
  CHECK_FALSE(agree(PETSC_COMM_WORLD, std::nullopt).has_value());
}

TEST_CASE("agree: a failure on the last rank only reaches every rank") {
  int rank = 0, size = 1;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  std::optional<Failure> mine;
  if (rank == size - 1) mine = Failure{5, "sample 5: broken on rank " + std::to_string(rank)};
  const auto message = agree(PETSC_COMM_WORLD, mine);
  REQUIRE(message.has_value());
  CHECK(*message == "sample 5: broken on rank " + std::to_string(size - 1));
}

TEST_CASE("agree: the smallest key wins, ties go to the lowest rank") {
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  // Rank r fails at key 10 - r (a later rank has the smaller key), and every rank also
  // reports key -1 in the second round: the tie goes to rank 0.
  const auto first =
      agree(PETSC_COMM_WORLD, Failure{10 - rank, "key " + std::to_string(10 - rank)});
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  REQUIRE(first.has_value());
  CHECK(*first == "key " + std::to_string(10 - (size - 1)));
  const auto second = agree(PETSC_COMM_WORLD, Failure{-1, "setup on rank " + std::to_string(rank)});
  REQUIRE(second.has_value());
  CHECK(*second == "setup on rank 0");
}

TEST_CASE("agree: throw_if_any throws CollectiveError on every rank") {
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  std::optional<Failure> mine;
  if (rank == 0) mine = Failure{-1, "output exists"};
  CHECK_THROWS_WITH_AS(pins::petsc::detail::throw_if_any(PETSC_COMM_WORLD, mine), "output exists",
                       pins::petsc::CollectiveError);
}
