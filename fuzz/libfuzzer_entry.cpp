// libFuzzer's entry point for one harness, chosen at compile time:
// -DPINS_FUZZ_TARGET=dataset|model|checkpoint (fuzz/libfuzzer/CMakeLists.txt).
#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return pins::fuzz::PINS_FUZZ_TARGET(data, size);
}
