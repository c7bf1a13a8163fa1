// pins::DatasetStream (pins/core/dataset_stream.hpp): samples of a dataset read on demand.
#include "pins/core/dataset_stream.hpp"

#include <algorithm>
#include <map>
#include <numeric>

#include "dataset_layout.hpp"
#include "dataset_read.hpp"
#include "pins/core/check.hpp"

namespace pins {

using namespace dataset_read;
using hdf5::Handle;

struct DatasetStream::Impl {
  std::string path;
  Handle file;
  Dataset header;
  std::map<std::string, Array> arrays;  // the inputs, and u when labelled

  const Array& array(const std::string& name) const {
    const auto it = arrays.find(name);
    if (it != arrays.end()) return it->second;
    std::string names;
    for (const auto& [n, a] : arrays) names += (names.empty() ? "" : ", ") + n;
    throw Error(path + ": no array '" + name + "' to stream (it has: " + names + ")");
  }

  // Reads the ascending, distinct `samples` of `a` into `out` with one H5Dread: a union of
  // hyperslabs, consecutive samples merged into one block.
  void read_sorted(const std::string& name, const Array& a, const std::vector<std::int64_t>& samples,
                   double* out) const {
    if (samples.empty()) return;
    Handle space(H5Dget_space(a.ds.get()), H5Sclose);
    hdf5::check(space.get(), path + ": array '" + name + "'");
    hdf5::check(H5Sselect_none(space.get()), path + ": array '" + name + "'");
    std::vector<hsize_t> start(a.dims.size(), 0), count = a.dims;
    for (size_t i = 0; i < samples.size();) {
      size_t j = i + 1;
      while (j < samples.size() && samples[j] == samples[j - 1] + 1) ++j;
      start[0] = hsize_t(samples[i]);
      count[0] = hsize_t(j - i);
      hdf5::check(H5Sselect_hyperslab(space.get(), H5S_SELECT_OR, start.data(), nullptr,
                                      count.data(), nullptr),
                  path + ": array '" + name + "'");
      i = j;
    }
    std::vector<hsize_t> mem_dims = a.dims;
    mem_dims[0] = hsize_t(samples.size());
    Handle mem(H5Screate_simple(int(mem_dims.size()), mem_dims.data(), nullptr), H5Sclose);
    if (H5Dread(a.ds.get(), H5T_NATIVE_DOUBLE, mem.get(), space.get(), H5P_DEFAULT, out) < 0) {
      const std::string detail = hdf5::last_error();
      const std::string which =
          samples.size() == 1 ? "sample " + std::to_string(samples.front())
                              : "samples " + std::to_string(samples.front()) + " to " +
                                    std::to_string(samples.back());
      throw Error(path + ": array '" + name + "' cannot be read at " + which +
                  " (corrupt file or checksum error" + (detail.empty() ? ")" : ": " + detail + ")"));
    }
    check_finite(out, mem_dims, path, name.c_str(), samples.data());
  }
};

DatasetStream::DatasetStream(const std::string& path) : impl_(std::make_unique<Impl>()) {
  hdf5::QuietErrors quiet;
  Impl& s = *impl_;
  s.path = path;
  s.file = open_file(path);
  hsize_t n = 0;
  s.header = read_header(s.file.get(), path, &n);
  for (const FieldSpec& in : s.header.info.inputs)
    s.arrays.emplace(in.name, open_array(s.file.get(), path, in.name.c_str(), H5T_FLOAT,
                                         with_samples(n, s.header.info.input_shape(in))));
  if (s.header.info.labelled)
    s.arrays.emplace(dataset_layout::kSolution,
                     open_array(s.file.get(), path, dataset_layout::kSolution, H5T_FLOAT,
                                with_samples(n, s.header.info.solution_shape())));
}

DatasetStream::~DatasetStream() = default;

const Dataset& DatasetStream::header() const { return impl_->header; }
const std::string& DatasetStream::path() const { return impl_->path; }

std::int64_t DatasetStream::sample_size(const std::string& name) const {
  const Array& a = impl_->array(name);
  std::int64_t size = 1;
  for (size_t d = 1; d < a.dims.size(); ++d) size *= std::int64_t(a.dims[d]);
  return size;
}

void DatasetStream::read(const std::string& name, const std::vector<std::int64_t>& samples,
                         double* out) const {
  hdf5::QuietErrors quiet;
  const Impl& s = *impl_;
  const Array& a = s.array(name);
  const std::int64_t n = s.header.samples, size = sample_size(name);
  for (std::int64_t i : samples)
    PINS_CHECK(i >= 0 && i < n, s.path, ": sample ", i, " of array '", name,
               "' asked for, but the dataset holds ", n, " samples");
  // HDF5 returns a selection in file order: read the distinct samples ascending, then place
  // each where it was asked for.
  std::vector<std::int64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  if (sorted == samples) return s.read_sorted(name, a, sorted, out);
  std::vector<double> buffer(sorted.size() * size_t(size));
  s.read_sorted(name, a, sorted, buffer.data());
  for (size_t k = 0; k < samples.size(); ++k) {
    const size_t at = size_t(std::lower_bound(sorted.begin(), sorted.end(), samples[k]) -
                             sorted.begin());
    std::copy_n(buffer.data() + at * size_t(size), size_t(size), out + k * size_t(size));
  }
}

void DatasetStream::read_range(const std::string& name, std::int64_t first, std::int64_t count,
                               double* out) const {
  std::vector<std::int64_t> samples(size_t(std::max<std::int64_t>(count, 0)));
  std::iota(samples.begin(), samples.end(), first);
  read(name, samples, out);
}

}  // namespace pins
