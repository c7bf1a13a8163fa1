// Fuzz harness of the dataset readers (fuzz/harness.hpp).
#include <hdf5.h>

#include <vector>

#include "harness.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/dataset_stream.hpp"

namespace pins::fuzz {

namespace {
// What the harness itself allocates for DatasetStream::read (the caller's buffer, not the
// reader's): arrays with more values per sample are opened but not read.
constexpr std::int64_t kMaxStreamValues = std::int64_t(1) << 22;

void stream(const std::string& path) {
  DatasetStream s(path);
  const Dataset& h = s.header();
  std::vector<std::string> names;
  for (const auto& in : h.info.inputs) names.push_back(in.name);
  if (h.info.labelled) names.push_back("u");
  const std::int64_t n = h.samples;
  for (const auto& name : names) {
    const std::int64_t size = s.sample_size(name);
    if (size < 0 || size > kMaxStreamValues / 3) continue;
    std::vector<double> out(size_t(3 * size));
    try {  // unsorted with a repeat, as a shuffled mini-batch asks
      s.read(name, {n - 1, 0, n - 1}, out.data());
    } catch (const Error&) {
    }
    try {
      s.read_range(name, 0, std::min<std::int64_t>(n, 3), out.data());
    } catch (const Error&) {
    }
  }
}
}  // namespace

int dataset(const std::uint8_t* data, std::size_t size) {
  read_dataset_file(write_temporary(data, size, "dataset.h5"));
  return 0;
}

void read_dataset_file(const std::string& path) {
  // Speed only: HDF5 allocates (and clears) megabytes per open file (its metadata cache) and
  // by default hands blocks that large back to the system at once; kept on its free lists
  // they are reused, several times fewer page faults per input.
  static const bool unlimited_free_lists = H5set_free_list_limits(-1, -1, -1, -1, -1, -1) >= 0;
  (void)unlimited_free_lists;
  // read_dataset_attributes and read_dataset(path, first, count) run the same code as these
  // (the root attributes; read_dataset reads its samples as the range 0 .. N - 1).
  try {
    read_dataset_info(path);
  } catch (const Error&) {
    return;  // the other readers start with the same header checks
  }
  try {
    read_dataset(path);
  } catch (const Error&) {
  }
  try {
    stream(path);
  } catch (const Error&) {
  }
}

}  // namespace pins::fuzz
