// Fuzz harness of the training-checkpoint reader (fuzz/harness.hpp).
#include "harness.hpp"
#include "pins/core/check.hpp"
#include "src/core/train_checkpoint.hpp"

namespace pins::fuzz {

namespace {
void read(const std::string& path) {
  try {
    detail::read_checkpoint(path);
  } catch (const Error&) {
  }
}
}  // namespace

int checkpoint(const std::uint8_t* data, std::size_t size) {
  read(write_temporary(data, size, "train.ckpt"));
  std::string repaired;
  if (repair_json_length(data, size, repaired))
    read(write_temporary(reinterpret_cast<const std::uint8_t*>(repaired.data()), repaired.size(),
                         "train.ckpt"));
  return 0;
}

}  // namespace pins::fuzz
