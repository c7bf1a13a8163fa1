// Temporary files and header repair shared by the fuzz harnesses (fuzz/harness.hpp).
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>

#include "harness.hpp"

namespace pins::fuzz {

namespace {
std::string temporary_folder() {
  if (const char* t = std::getenv("TMPDIR"); t && *t) return t;
  if (::access("/dev/shm", W_OK) == 0) return "/dev/shm";
  return "/tmp";
}

// Every path this process wrote, removed when it exits: the replay tests run on every ctest
// run, and /dev/shm is memory, so files left behind would pile up there run after run.
struct TemporaryFiles {
  std::set<std::string> paths;
  ~TemporaryFiles() {
    for (const auto& p : paths) ::unlink(p.c_str());
  }
};

TemporaryFiles& temporary_files() {
  static TemporaryFiles files;
  return files;
}
}  // namespace

std::string write_temporary(const std::uint8_t* data, std::size_t size, const char* suffix) {
  static const std::string folder = temporary_folder();
  const std::string path = folder + "/pins_fuzz_" + std::to_string(::getpid()) + "_" + suffix;
  temporary_files().paths.insert(path);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) throw std::runtime_error("fuzz harness: cannot create " + path);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("fuzz harness: cannot write " + path);
    }
    done += std::size_t(n);
  }
  ::close(fd);
  return path;
}

bool repair_json_length(const std::uint8_t* data, std::size_t size, std::string& out) {
  constexpr std::size_t kHeader = 32;
  if (size < kHeader) return false;
  std::uint64_t m = 0, w = 0;
  for (int i = 7; i >= 0; --i) m = (m << 8) | data[16 + i];
  for (int i = 7; i >= 0; --i) w = (w << 8) | data[24 + i];
  if (w > size - kHeader) return false;
  const std::uint64_t fixed = size - kHeader - w;
  if (fixed == m) return false;
  out.assign(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < 8; ++i) out[16 + i] = char((fixed >> (8 * i)) & 0xff);
  return true;
}

}  // namespace pins::fuzz
