#pragma once
/// \file
/// Fuzz harnesses of pins' three file readers (issue 16 §3). Each one writes the bytes it is
/// given to a temporary file and hands that file to the reader(s) of one format:
///
///   dataset     read_dataset_info, read_dataset, DatasetStream (open, read every array's
///               samples out of order and as a range)
///   model       load_model (which reads and verifies the manifest first)
///   checkpoint  pins::detail::read_checkpoint
///   dataset_layout  the dataset readers on a file the harness writes from a text description
///               of attributes and arrays (structure-aware: reaches pins' checks of the layout
///               rather than HDF5's parser)
///
/// For bad input the expected outcome is a pins::Error, which the harness swallows. A crash,
/// a sanitizer report, a hang or any other exception (it propagates out of the harness) is a
/// bug. The same functions run under libFuzzer (fuzz/libfuzzer, scripts/fuzz.sh) and in the
/// plain replay driver that ctest runs over the corpus and the regression inputs
/// (fuzz/replay.cpp, tests fuzz_replay_*).

#include <cstddef>
#include <cstdint>
#include <string>

namespace pins::fuzz {

int dataset(const std::uint8_t* data, std::size_t size);
/// Structure-aware: the input describes the attributes and arrays of a dataset as text, the
/// harness writes them as an HDF5 file (fuzz/harness_dataset_layout.cpp).
int dataset_layout(const std::uint8_t* data, std::size_t size);
int model(const std::uint8_t* data, std::size_t size);
int checkpoint(const std::uint8_t* data, std::size_t size);

/// The dataset readers on the file `path` (what dataset and dataset_layout run).
void read_dataset_file(const std::string& path);

/// Writes `size` bytes to this process's temporary file for `suffix` (under $TMPDIR, else
/// /dev/shm or /tmp; the same path on every call, removed when the process exits) and
/// returns its path.
std::string write_temporary(const std::uint8_t* data, std::size_t size, const char* suffix);

/// The header of a model file or checkpoint (magic, version, uint64 M and W at bytes 16 and
/// 24) with M set to what the file's size and W imply. A fuzzer that inserts or removes
/// bytes in the JSON breaks M, and the reader stops at its first check; the harnesses read
/// both the bytes as given and, where they differ, this repaired copy, so that mutated JSON
/// reaches the checks behind the lengths. Returns false (and leaves `out`) when there is
/// nothing to repair.
bool repair_json_length(const std::uint8_t* data, std::size_t size, std::string& out);

}  // namespace pins::fuzz
