#pragma once
/// \file
/// Writing one pins dataset from all processes of an MPI communicator at once, with parallel
/// HDF5 (the MPI-IO file driver): each process writes the samples it made, nothing is sent
/// to one process. The file is the one DatasetWriter writes (same arrays, chunks, Fletcher32
/// checksums and attributes), published atomically the same way.
///
/// Why every write is collective: HDF5 writes a checksummed (filtered) chunk only in
/// collective mode (HDF5 1.10: "Can't perform independent write with filters in pipeline"),
/// because the chunk's checksum and its place in the file are agreed between processes. So
/// every process calls write_round() once per round, with its sample or with none.
///
/// Defined where pins::core is built with the MPI build of HDF5 (always with pins::petsc, which
/// also brings MPI to its users; a pins::core-only user of this header links MPI itself).
///
/// \code
///   pins::ParallelDatasetWriter w(comm, "out.h5", info, n, /*force=*/false);  // collective
///   for (round...) {
///     w.check_sample(i, record);            // local: throws on NaN, missing arrays
///     // ...agree on failures between processes before the collective write...
///     w.write_round(mine ? i : -1, record);  // collective
///   }
///   w.commit();                              // collective; rank 0 renames to out.h5
/// \endcode

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>

#include "pins/core/dataset.hpp"

namespace pins {

/// A dataset written collectively by the processes of a communicator. Every member function
/// except check_sample() is collective: all processes call it, in the same order. Each
/// throws pins::Error on every process alike, except write_round(), whose HDF5 errors are
/// reported by the processes that saw them (agree on failures after it).
class ParallelDatasetWriter {
 public:
  /// Collective. Rank 0 checks the destination as DatasetWriter does and creates the
  /// temporary file "<dir>/.<name>.tmp.<rank 0's pid>"; then all processes create the HDF5
  /// file in it with the attributes of `info` (which must be the same on every process) and
  /// the empty arrays.
  ParallelDatasetWriter(MPI_Comm comm, const std::string& path, const DatasetInfo& info,
                        std::int64_t samples, bool force);
  /// Collective (closes the file). An uncommitted file's temporary is removed by rank 0.
  ~ParallelDatasetWriter();
  ParallelDatasetWriter(const ParallelDatasetWriter&) = delete;
  ParallelDatasetWriter& operator=(const ParallelDatasetWriter&) = delete;

  /// Local: throws pins::Error naming the sample and the array, as DatasetWriter::write_sample
  /// does, if `record` is incomplete or holds a NaN or an infinite value, or if this process
  /// wrote sample `index` already.
  void check_sample(std::int64_t index, const SampleRecord& record) const;

  /// Collective: writes this process's sample `index` of the round (its inputs and u, one
  /// chunk per array), or nothing if `index` is -1. Iterations, residual and seeds are kept
  /// and written by commit(). Call check_sample() first.
  void write_round(std::int64_t index, const SampleRecord& record);

  /// Collective: writes iterations, residual and seeds (each process its own samples),
  /// checks that every sample was written once, closes the file, and rank 0 renames it to
  /// the destination (refusing, unless `force`, a destination that appeared meanwhile).
  /// `closing` attributes (the same on every process) are added to the file's root before it
  /// is closed: what is only known at the end, e.g. pins generate's wall time
  /// ("generation_seconds"); they read back as DatasetInfo::extra.
  void commit(const std::vector<Attribute>& closing = {});

  const std::string& path() const;
  /// The temporary file being written (the same name on every process).
  const std::string& temporary_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pins
