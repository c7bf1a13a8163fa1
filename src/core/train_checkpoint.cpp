// Training checkpoint files (layout in train_checkpoint.hpp).
#include "train_checkpoint.hpp"

#include <cstring>

#include "atomic_file.hpp"
#include "pins/core/check.hpp"
#include "pins/core/sha256.hpp"

namespace pins::detail {

namespace {

constexpr char kMagic[8] = {'P', 'I', 'N', 'S', 'C', 'K', 'P', 'T'};
constexpr std::size_t kHeaderBytes = 32;
constexpr int kVersion = 1;

const char* dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kInt64: return "int64";
    default: throw Error(concat("checkpoints cannot store tensors of dtype ", t));
  }
}

torch::ScalarType dtype_from(const std::string& name, const std::string& file) {
  if (name == "float32") return torch::kFloat32;
  if (name == "float64") return torch::kFloat64;
  if (name == "int64") return torch::kInt64;
  throw Error(concat(file, " is corrupt: unknown tensor dtype '", name, "'"));
}

}  // namespace

const torch::Tensor& CheckpointData::tensor(const std::string& name,
                                            const std::string& path) const {
  for (const auto& t : tensors)
    if (t.first == name) return t.second;
  throw Error(concat("checkpoint '", path, "' lacks tensor '", name, "'"));
}

bool CheckpointData::has(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.first == name) return true;
  return false;
}

void write_checkpoint(const std::string& path, const CheckpointData& data, bool force) {
  nlohmann::json j;
  j["format"] = "pins-checkpoint";
  j["state"] = data.state;
  j["tensors"] = nlohmann::json::array();
  std::vector<torch::Tensor> blobs;
  Sha256 sha;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : data.tensors) {
    torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    const std::uint64_t nbytes = c.numel() * c.element_size();
    j["tensors"].push_back({{"name", name},
                            {"dtype", dtype_name(c.scalar_type())},
                            {"shape", c.sizes().vec()},
                            {"offset", offset},
                            {"nbytes", nbytes}});
    sha.update(c.data_ptr(), nbytes);
    offset += nbytes;
    blobs.push_back(c);
  }
  j["tensors_sha256"] = sha.hex_digest();
  const std::string text = j.dump() + "\n";
  std::string header(kMagic, sizeof kMagic);
  header.append(4, '\0');
  put_le(header, kVersion, 4);
  put_le(header, text.size(), 8);
  put_le(header, offset, 8);
  AtomicFile out(path, "checkpoint");
  out.write(header.data(), header.size());
  out.write(text.data(), text.size());
  for (const auto& c : blobs) out.write(c.data_ptr(), c.numel() * c.element_size());
  out.commit(force);
}

CheckpointData read_checkpoint(const std::string& path) {
  const std::string b = read_whole_file(path, "checkpoint");
  const std::string file = "checkpoint '" + path + "'";
  PINS_CHECK(b.size() >= kHeaderBytes && std::memcmp(b.data(), kMagic, sizeof kMagic) == 0, file,
             " is not a pins checkpoint (no PINSCKPT header)");
  const auto version = get_le(b.data() + 12, 4);
  PINS_CHECK(version == kVersion, file, " has format version ", version, ", expected ", kVersion);
  const std::uint64_t M = get_le(b.data() + 16, 8), W = get_le(b.data() + 24, 8);
  const std::uint64_t available = b.size() - kHeaderBytes;
  PINS_CHECK(M <= available && W == available - M, file, " is truncated or corrupt: its header ",
             "announces ", M, " + ", W, " bytes, the file has ", available, " after the header");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(b.begin() + kHeaderBytes, b.begin() + kHeaderBytes + M);
  } catch (const nlohmann::json::exception& e) {
    throw Error(concat(file, " is corrupt: its header is not valid JSON"));
  }
  const char* blob = b.data() + kHeaderBytes + M;
  PINS_CHECK(j.contains("tensors_sha256") && j["tensors_sha256"].is_string() &&
                 j.contains("tensors") && j["tensors"].is_array() && j.contains("state"),
             file, " is corrupt: its header lacks state, tensors or tensors_sha256");
  PINS_CHECK(sha256_hex(blob, W) == j["tensors_sha256"].get<std::string>(), file,
             " is corrupt: the SHA-256 of its tensors does not match");
  CheckpointData d;
  d.state = j["state"];
  try {
    for (const auto& r : j["tensors"]) {
      const auto name = r.at("name").get<std::string>();
      const auto shape = r.at("shape").get<std::vector<int64_t>>();
      const auto offset = r.at("offset").get<std::uint64_t>();
      const auto nbytes = r.at("nbytes").get<std::uint64_t>();
      const torch::ScalarType dtype = dtype_from(r.at("dtype").get<std::string>(), file);
      // The shape is checked before anything is allocated: a negative size, or one whose bytes
      // overflow or exceed the tensor section, would make LibTorch throw or ask for terabytes.
      bool empty = false;
      for (const int64_t s : shape) {
        PINS_CHECK(s >= 0, file, " is corrupt: tensor '", name, "' has a negative size (", s,
                   ") in its shape");
        empty = empty || s == 0;
      }
      std::uint64_t bytes = empty ? 0 : c10::elementSize(dtype);
      bool fits = true;
      for (const int64_t s : shape) {
        if (bytes == 0 || !(fits = std::uint64_t(s) <= W / bytes)) break;
        bytes *= std::uint64_t(s);
      }
      PINS_CHECK(fits && nbytes == bytes && offset <= W && nbytes <= W - offset, file,
                 " is corrupt: tensor '", name, "' lies outside the tensor section");
      torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
      if (nbytes > 0) std::memcpy(t.data_ptr(), blob + offset, nbytes);  // empty: no data_ptr
      d.tensors.emplace_back(name, t);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(concat(file, " is corrupt: a tensor record is malformed (", e.what(), ")"));
  }
  return d;
}

}  // namespace pins::detail
