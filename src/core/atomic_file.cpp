// Atomic writes (temporary file, fsync, rename/link) and whole-file reads.
#include "atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "pins/core/check.hpp"

namespace pins::detail {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Makes the new directory entry durable; best effort, the file itself is complete.
void sync_directory(const std::string& target) {
  const std::filesystem::path t(target);
  const std::string dir = t.has_parent_path() ? t.parent_path().string() : ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// This machine's name, as temporary file names carry it ("" if unknown).
std::string host_name() {
  char name[256] = "";
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  std::string h = name;
  for (char& c : h)
    if (c == '.' || c == '/') c = '_';
  return h;
}

// Removes the temporaries of `target` that processes of this machine left when they were
// killed (SIGKILL, out of memory, a node failure) in the middle of a write: their names carry
// the host and the process id, and that process no longer exists. Another machine's
// temporaries (a shared file system) are never touched: their processes cannot be checked.
void remove_stale_temporaries(const std::filesystem::path& dir, const std::string& name,
                              const std::string& host) {
  namespace fs = std::filesystem;
  const std::string prefix = "." + name + ".tmp." + host + ".";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string entry = it->path().filename().string();
    if (entry.rfind(prefix, 0) != 0) continue;
    char* rest = nullptr;
    const long pid = std::strtol(entry.c_str() + prefix.size(), &rest, 10);
    if (pid <= 0 || !rest || *rest != '.' || pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

}  // namespace

AtomicFile::AtomicFile(const std::string& target, std::string what)
    : target_(target), what_(std::move(what)) {
  namespace fs = std::filesystem;
  const fs::path t(target);
  const fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
  const std::string host = host_name();
  remove_stale_temporaries(dir, t.filename().string(), host);
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".%ld.%08x", static_cast<long>(::getpid()), rd());
    path_ = (dir / ("." + t.filename().string() + ".tmp." + host + suffix)).string();
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0 || errno != EEXIST) break;
  }
  PINS_CHECK(fd_ >= 0, "cannot write ", what_, " '", target, "': cannot create a temporary file in '",
             dir.string(), "': ", errno_text());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!renamed_) ::unlink(path_.c_str());
}

void AtomicFile::write(const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    PINS_CHECK(n > 0, "cannot write ", what_, " '", target_, "': ", errno_text());
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void AtomicFile::commit(bool force) {
  PINS_CHECK(::fsync(fd_) == 0, "cannot write ", what_, " '", target_, "': fsync: ", errno_text());
  const int fd = fd_;
  fd_ = -1;
  PINS_CHECK(::close(fd) == 0, "cannot write ", what_, " '", target_, "': close: ", errno_text());
  if (force) {
    PINS_CHECK(::rename(path_.c_str(), target_.c_str()) == 0, "cannot write ", what_, " '",
               target_, "': rename: ", errno_text());
    renamed_ = true;
  } else if (::link(path_.c_str(), target_.c_str()) == 0) {
    // link() fails if the target exists, so a file created meanwhile is not clobbered.
    ::unlink(path_.c_str());
    renamed_ = true;
  } else {
    PINS_CHECK(errno != EEXIST, what_, " '", target_,
               "' already exists (pass force to overwrite it)");
    // File systems without hard links: check, then rename.
    PINS_CHECK(!std::filesystem::exists(target_), what_, " '", target_,
               "' already exists (pass force to overwrite it)");
    PINS_CHECK(::rename(path_.c_str(), target_.c_str()) == 0, "cannot write ", what_, " '",
               target_, "': rename: ", errno_text());
    renamed_ = true;
  }
  sync_directory(target_);
}

std::string read_whole_file(const std::string& path, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) throw FileNotFound(concat(what, " '", path, "' does not exist"));
    throw Error(concat("cannot open ", what, " '", path, "': ", errno_text()));
  }
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  std::string bytes;
  if (regular) {
    bytes.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < bytes.size()) {
      const ssize_t n = ::read(fd, &bytes[got], bytes.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    bytes.resize(got);
  }
  ::close(fd);
  PINS_CHECK(regular, what, " '", path, "' is not a regular file");
  return bytes;
}

void put_le(std::string& out, unsigned long long value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

unsigned long long get_le(const char* p, int bytes) {
  unsigned long long value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= static_cast<unsigned long long>(static_cast<unsigned char>(p[i])) << (8 * i);
  return value;
}

}  // namespace pins::detail
