#pragma once
// Shared helpers of the surrogate and model-file tests.
#include "doctest_torch.hpp"

#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "pins/core/options.hpp"
#include "surrogates/registry.hpp"

namespace pins::test {

/// Options for a small instance of each architecture, so the suite runs in seconds.
/// DeepONet reads a fixed 12 × 10 grid.
inline OptionMap small_options(const std::string& type) {
  if (type == "fno")
    return OptionMap::from_args({"-fno_modes", "4", "-fno_width", "6", "-fno_layers", "2",
                                 "-fno_padding", "3", "-fno_hidden", "8"});
  if (type == "fno3d")
    return OptionMap::from_args({"-fno3d_modes", "3", "-fno3d_width", "5", "-fno3d_layers", "2",
                                 "-fno3d_padding", "2", "-fno3d_hidden", "6"});
  if (type == "unet3d")
    return OptionMap::from_args({"-unet3d_channels", "4", "-unet3d_levels", "3"});
  if (type == "gnn")
    return OptionMap::from_args({"-gnn_width", "8", "-gnn_layers", "2", "-gnn_grid", "4",
                                 "-gnn_modes", "2", "-gnn_padding", "2", "-gnn_hidden", "8"});
  if (type == "entry_mlp")
    return OptionMap::from_args({"-entry_mlp_width", "8", "-entry_mlp_depth", "2"});
  if (type == "mgnet") return OptionMap::from_args({"-mgnet_width", "4", "-mgnet_smooth", "1"});
  if (type == "unet") return OptionMap::from_args({"-unet_channels", "4", "-unet_levels", "3"});
  if (type == "deeponet")
    return OptionMap::from_args({"-deeponet_ny", "12", "-deeponet_nx", "10", "-deeponet_width",
                                 "12", "-deeponet_depth", "2", "-deeponet_basis", "6"});
  return OptionMap::from_args({"-mlp_width", "12", "-mlp_depth", "2"});
}

/// A small model of `type` from the registry.
inline std::shared_ptr<Surrogate> small_model(const std::string& type, int in, int out) {
  return make_surrogate(type, small_options(type), in, out);
}

/// Sizes as text, "[2, 1, 8, 8]", so that failed shape checks print both sides.
inline std::string shape_of(c10::IntArrayRef sizes) {
  std::ostringstream os;
  os << sizes;
  return os.str();
}
inline std::string shape_of(const torch::Tensor& t) {
  return shape_of(t.sizes());
}

/// A dtype as text ("Float", "Double"), for the same reason.
inline std::string dtype_of(torch::ScalarType t) { return c10::toString(t); }
inline std::string dtype_of(const torch::Tensor& t) { return dtype_of(t.scalar_type()); }

/// A fresh empty folder, removed with its contents at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("pins-surrogate-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// Path of `name` inside the folder.
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  /// Number of entries in the folder.
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(path_),
                                                  std::filesystem::directory_iterator()));
  }

 private:
  std::filesystem::path path_;
};

/// The bytes of a file.
inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Replaces a file's bytes.
inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Whether a callable throws an exception whose message contains `needle` (and prints the
/// message otherwise, to make failures readable).
template <class F>
bool throws_with(F&& f, const std::string& needle) {
  try {
    f();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    if (what.find(needle) != std::string::npos) return true;
    MESSAGE("message was: " << what);
    return false;
  }
  MESSAGE("no exception");
  return false;
}

}  // namespace pins::test
