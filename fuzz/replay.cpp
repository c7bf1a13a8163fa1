// Replays saved inputs through the fuzz harnesses (fuzz/harness.hpp) without libFuzzer:
// ctest runs it over fuzz/corpus/<target> (the seeds) and fuzz/regression/<target> (every
// input that once crashed a reader), so that a fixed crash stays fixed in every build.
//
//   pins_fuzz_replay <dataset|dataset_layout|model|checkpoint> <file or folder>...
//
// Each input must either be read or be refused with a pins::Error (the harness swallows
// those). Any other exception fails the run with the input's name; a crash or a sanitizer
// report (in a sanitizer build) ends it.
#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "harness.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: pins_fuzz_replay <dataset|dataset_layout|model|checkpoint> <file or "
                 "folder>...\n";
    return 2;
  }
  const std::string target = argv[1];
  int (*harness)(const std::uint8_t*, std::size_t) =
      target == "dataset"          ? pins::fuzz::dataset
      : target == "model"          ? pins::fuzz::model
      : target == "checkpoint"     ? pins::fuzz::checkpoint
      : target == "dataset_layout" ? pins::fuzz::dataset_layout
                                   : nullptr;
  if (!harness) {
    std::cerr << "pins_fuzz_replay: unknown target '" << target
              << "' (expected dataset, dataset_layout, model or checkpoint)\n";
    return 2;
  }
  std::vector<fs::path> inputs;
  for (int i = 2; i < argc; ++i) {
    const fs::path p = argv[i];
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.')
          inputs.push_back(e.path());
    } else if (fs::is_regular_file(p)) {
      inputs.push_back(p);
    } else {
      std::cerr << "pins_fuzz_replay: " << p.string() << ": no such file or folder\n";
      return 2;
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::cerr << "pins_fuzz_replay: no inputs\n";
    return 2;
  }
  int failed = 0;
  for (const auto& p : inputs) {
    std::ifstream in(p, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    try {
      harness(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    } catch (const std::exception& e) {
      std::cerr << "FAIL " << p.string() << ": exception other than pins::Error: " << e.what()
                << "\n";
      ++failed;
    } catch (...) {
      std::cerr << "FAIL " << p.string() << ": unknown exception\n";
      ++failed;
    }
  }
  std::cout << "pins_fuzz_replay " << target << ": " << inputs.size() << " inputs, " << failed
            << " failed\n";
  return failed ? 1 : 0;
}
