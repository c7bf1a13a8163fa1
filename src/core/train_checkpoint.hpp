#pragma once
// Training checkpoints (private to pins::core): a JSON state plus named raw tensors, in a
// container like the model file's (pins/core/model_file.hpp), written atomically.
//
//   offset  size  content
//   0       8     magic "PINSCKPT"
//   8       4     zero bytes
//   12      4     uint32 format version (1)
//   16      8     uint64 JSON length M
//   24      8     uint64 tensor section length W
//   32      M     JSON: {"state": ..., "tensors": [{name, dtype, shape, offset, nbytes}],
//                        "tensors_sha256": "<hex>"}
//   32+M    W     tensor bytes, little-endian, C order
//
// No TorchScript or pickle: reading a checkpoint executes nothing.

#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace pins::detail {

/// A checkpoint in memory: what is written to, and read back from, a file. The tensors are
/// private CPU copies.
struct CheckpointData {
  nlohmann::json state = nlohmann::json::object();
  std::vector<std::pair<std::string, torch::Tensor>> tensors;

  /// The tensor called `name`; throws pins::Error naming `path` if it is missing.
  const torch::Tensor& tensor(const std::string& name, const std::string& path) const;
  /// Whether a tensor called `name` exists.
  bool has(const std::string& name) const;
};

/// Writes `data` to `path` atomically; without `force` an existing file is an error.
void write_checkpoint(const std::string& path, const CheckpointData& data, bool force);

/// Reads and verifies (magic, version, lengths, SHA-256, tensor records) a checkpoint.
/// Throws pins::FileNotFound or pins::Error with a one-line message naming the file.
CheckpointData read_checkpoint(const std::string& path);

}  // namespace pins::detail
