// Fuzz harness of the model-file reader (fuzz/harness.hpp).
#include "harness.hpp"
#include "pins/core/check.hpp"
#include "pins/core/model_file.hpp"

namespace pins::fuzz {

namespace {
void load(const std::string& path) {
  try {
    load_model(path);  // read_model_manifest's checks, then the architecture and weights
  } catch (const Error&) {
  }
}
}  // namespace

int model(const std::uint8_t* data, std::size_t size) {
  load(write_temporary(data, size, "model.pins"));
  std::string repaired;
  if (repair_json_length(data, size, repaired))
    load(write_temporary(reinterpret_cast<const std::uint8_t*>(repaired.data()), repaired.size(),
                         "model.pins"));
  return 0;
}

}  // namespace pins::fuzz
