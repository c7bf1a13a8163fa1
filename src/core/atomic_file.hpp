#pragma once
// Atomic file writes and whole-file reads shared by model files and training checkpoints
// (private to pins::core).

#include <cstddef>
#include <string>

namespace pins::detail {

/// A temporary file next to `target` ("<dir>/.<name>.tmp.<host>.<pid>.<random>"), removed
/// unless commit() moved it into place. `what` names the file in messages ("model file").
/// A process killed while writing (SIGKILL) cannot remove its temporary: the next AtomicFile
/// for the same target on the same machine removes those whose process is gone.
class AtomicFile {
 public:
  AtomicFile(const std::string& target, std::string what);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Appends bytes; throws pins::Error naming the target on failure (e.g. a full disk).
  void write(const void* data, std::size_t size);

  /// fsync + close, then moves the file into place. Without `force` an existing target
  /// (even one created meanwhile) is an error and is left unchanged.
  void commit(bool force);

 private:
  std::string target_, what_, path_;
  int fd_ = -1;
  bool renamed_ = false;
};

/// The bytes of the regular file `path`. Throws pins::FileNotFound "<what> '<path>' does not
/// exist", pins::Error if it cannot be opened or is not a regular file.
std::string read_whole_file(const std::string& path, const std::string& what);

/// Little-endian integer helpers for the binary headers.
void put_le(std::string& out, unsigned long long value, int bytes);
unsigned long long get_le(const char* p, int bytes);

}  // namespace pins::detail
