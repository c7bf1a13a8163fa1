#pragma once
// A scratch folder for one test case, removed with everything in it when the case ends.
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <string>

namespace pins::test {

struct TempDir {
  std::filesystem::path path;
  /// <tmp>/pins_<suite>_test_<tag>_<pid>, emptied first.
  TempDir(const std::string& suite, const char* tag) {
    path = std::filesystem::temp_directory_path() /
           ("pins_" + suite + "_test_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// Files and folders in it.
  size_t entries() const {
    return size_t(std::distance(std::filesystem::directory_iterator(path),
                                std::filesystem::directory_iterator()));
  }
};

}  // namespace pins::test
