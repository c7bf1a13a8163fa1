#pragma once
/// \file
/// Agreeing on errors across processes, so that a failure on one rank stops all of them at
/// the same point with the same message instead of leaving the others waiting in MPI.

#include <petscsys.h>  // mpi.h, without the MPI C++ bindings

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include "pins/petsc/error.hpp"

namespace pins::petsc::detail {

/// A failure seen by one process. `key` orders failures: -1 for one that belongs to no
/// sample (setup, file), otherwise the sample index; the smallest key wins.
struct Failure {
  std::int64_t key = -1;
  std::string message;
};

/// Collective on `comm`: the winning failure's message on every process, or nullopt if no
/// process failed. Ties on the key go to the lowest rank.
std::optional<std::string> agree(MPI_Comm comm, const std::optional<Failure>& mine);

/// Collective: throws pins::petsc::CollectiveError(message) on every process if any failed.
void throw_if_any(MPI_Comm comm, const std::optional<Failure>& mine);

/// Runs `fn`, recording an exception it throws as a Failure with `key` (the first one wins;
/// LibTorch's messages without their C++ backtrace).
template <class Fn>
void record_failure(std::optional<Failure>& slot, std::int64_t key, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    if (!slot) slot = Failure{key, exception_message(e)};
  }
}

}  // namespace pins::petsc::detail
