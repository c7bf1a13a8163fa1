#pragma once
/// \file
/// The processes a data-parallel training run spans, as the trainer sees them. pins::core
/// needs no MPI: the trainer talks to this interface, and pins::petsc implements it on an MPI
/// communicator (pins::petsc::MpiProcessGroup, the MPI that PETSc already uses), so a
/// cluster job reduces its gradients through the engine it runs on.
///
/// Every call is collective: each process of the group makes the same calls in the same
/// order. Sums are in place; every process receives the same result.
///
/// Example (what `mpiexec -n P pins train` does):
/// \code
///   pins::petsc::MpiProcessGroup group(PETSC_COMM_WORLD);
///   pins::TrainOptions opts = pins::TrainOptions::from_options(options);
///   opts.group = &group;  // each process trains on its share of every global mini-batch
///   pins::train_surrogate(*model, data, opts);
/// \endcode

#include <cstddef>
#include <functional>
#include <string>

namespace pins {

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Element-wise sum over the processes, in place.
  virtual void sum(float* values, std::size_t count) const = 0;
  virtual void sum(double* values, std::size_t count) const = 0;
  /// Element-wise maximum over the processes, in place.
  virtual void max(double* values, std::size_t count) const = 0;
  /// The message of the lowest-ranked process whose `error` is not empty, on every process
  /// (empty: no process failed). How a failure on one process stops all of them at the same
  /// point instead of leaving the others waiting in a sum.
  virtual std::string first_error(const std::string& error) const = 0;
};

/// The group of this process alone: no communication.
const ProcessGroup& single_process();

/// `group`, or single_process() when null.
inline const ProcessGroup& group_or_single(const ProcessGroup* group) {
  return group ? *group : single_process();
}

/// Runs `work` on every process of `group` and agrees on the outcome: if it threw on any
/// process, every process throws: the lowest-ranked failing process its own exception, the
/// others pins::Error with its message.
void run_collectively(const ProcessGroup& group, const std::function<void()>& work);

/// The rows [begin, end) of `n` that process `rank` of `size` owns: contiguous, sizes
/// differing by at most one, the lower ranks first.
struct Share {
  std::size_t begin = 0, end = 0;
};
Share share_of(std::size_t n, int rank, int size);

}  // namespace pins
