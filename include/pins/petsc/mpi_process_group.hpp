#pragma once
/// \file
/// pins::ProcessGroup on an MPI communicator: the trainer's gradient and loss sums are
/// MPI_Allreduce calls on the MPI that PETSc runs on (see pins/core/process_group.hpp).
///
/// Why MPI and not LibTorch's c10d: Debian's LibTorch has c10d's Gloo process group but not
/// the MPI one; Gloo would need its own rendezvous (a TCP or file store) and its own
/// transport beside the MPI job the user already launched, and pins' gradients are a few
/// MB per step (one flat buffer per step is one MPI_Allreduce). bench/RESULTS.md
/// ("Data-parallel training") has the measurement.

#include <petscsys.h>  // mpi.h, without the MPI C++ bindings

#include "pins/core/process_group.hpp"

namespace pins::petsc {

class MpiProcessGroup final : public ProcessGroup {
 public:
  /// The processes of `comm` (not duplicated: every call is collective on it, in order).
  explicit MpiProcessGroup(MPI_Comm comm);
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void sum(float* values, std::size_t count) const override;
  void sum(double* values, std::size_t count) const override;
  void max(double* values, std::size_t count) const override;
  std::string first_error(const std::string& error) const override;

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace pins::petsc
