#pragma once
/// \file
/// Samples of a pins dataset read on demand, for datasets larger than memory: the file stays
/// open read-only and each read takes just the samples asked for (every array is chunked one
/// sample per chunk, so a sample is one chunk read and its Fletcher32 checksum verified).
/// What pins::read_dataset checks on the whole file — attributes, every array's shape — is
/// checked when the stream opens; the values (checksums, NaN/Inf) as they are read.
///
/// Example:
/// \code
///   pins::DatasetStream s("big.h5");                 // throws pins::Error
///   const std::int64_t n = s.header().samples;
///   std::vector<double> kappa(3 * s.sample_size("kappa"));
///   s.read("kappa", {0, 7, 42}, kappa.data());       // samples 0, 7 and 42, in that order
/// \endcode

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pins/core/dataset.hpp"

namespace pins {

class DatasetStream {
 public:
  /// Opens `path` and checks its header and the shape of every input array and of u (when
  /// labelled). Throws pins::FileNotFound or pins::Error like pins::read_dataset.
  explicit DatasetStream(const std::string& path);
  ~DatasetStream();
  DatasetStream(const DatasetStream&) = delete;
  DatasetStream& operator=(const DatasetStream&) = delete;

  /// The dataset's attributes and sample count (as pins::read_dataset_info: no values).
  const Dataset& header() const;
  const std::string& path() const;
  /// Values per sample of array `name` (an input, or "u" in a labelled dataset).
  std::int64_t sample_size(const std::string& name) const;

  /// Writes the values of array `name` for `samples` (any order, repeats allowed), row-major
  /// [samples.size(), shape...], to `out`. Throws pins::Error naming the file, the array and
  /// the sample on a read or checksum error, a non-finite value or a sample out of range.
  void read(const std::string& name, const std::vector<std::int64_t>& samples, double* out) const;
  /// The same for the samples first, ..., first + count − 1.
  void read_range(const std::string& name, std::int64_t first, std::int64_t count,
                  double* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pins
