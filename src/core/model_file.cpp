// Writing and reading pins model files (layout in pins/core/model_file.hpp).
#include "pins/core/model_file.hpp"

#include <torch/types.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "atomic_file.hpp"
#include "pins/core/check.hpp"
#include "pins/core/sha256.hpp"
#include "pins/core/version.hpp"
#include "surrogates/registry.hpp"

namespace pins {

namespace {

constexpr char kMagic[9] = {'P', 'I', 'N', 'S', 'M', 'O', 'D', 'E', 'L'};
constexpr std::size_t kHeaderBytes = 32;

struct DtypeName {
  torch::ScalarType type;
  const char* name;
};
constexpr DtypeName kDtypes[] = {{torch::kFloat32, "float32"},
                                 {torch::kFloat64, "float64"},
                                 {torch::kFloat16, "float16"},
                                 {torch::kBFloat16, "bfloat16"},
                                 {torch::kComplexFloat, "complex64"},
                                 {torch::kComplexDouble, "complex128"},
                                 {torch::kInt64, "int64"},
                                 {torch::kInt32, "int32"},
                                 {torch::kInt16, "int16"},
                                 {torch::kInt8, "int8"},
                                 {torch::kUInt8, "uint8"},
                                 {torch::kBool, "bool"}};

const char* dtype_name(torch::ScalarType type, const std::string& tensor) {
  for (const auto& d : kDtypes) {
    if (d.type == type) return d.name;
  }
  throw Error(detail::concat("model files cannot store tensor '", tensor, "' of dtype ", type));
}

std::optional<torch::ScalarType> dtype_from_name(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return d.type;
  }
  return std::nullopt;
}

// Tensor bytes are stored as they lie in memory, so the host must be little-endian.
void check_little_endian() {
  const std::uint16_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  PINS_CHECK(first == 1, "pins model files are little-endian; big-endian hosts are not supported");
}

std::string shape_text(c10::IntArrayRef shape) {
  std::ostringstream os;
  os << shape;
  return os.str();
}

// A model's parameters and buffers in module order, as contiguous CPU tensors. Undefined
// ones (e.g. the bias of a convolution built without bias) are not part of the model.
struct NamedTensor {
  std::string name, kind;
  torch::Tensor data;
};

std::vector<NamedTensor> model_tensors(const Surrogate& model) {
  std::vector<NamedTensor> out;
  for (const auto& p : model.module().named_parameters(/*recurse=*/true)) {
    if (p.value().defined()) out.push_back({p.key(), "parameter", p.value()});
  }
  for (const auto& b : model.module().named_buffers(/*recurse=*/true)) {
    if (b.value().defined()) out.push_back({b.key(), "buffer", b.value()});
  }
  return out;
}

// --- Reading --------------------------------------------------------------------------------

// The verified contents of a model file.
struct ModelBytes {
  ModelManifest manifest;
  std::string bytes;
  std::size_t weights_at = 0;  // offset of the weight section in `bytes`
};

ModelBytes read_verified(const std::string& path) {
  check_little_endian();
  ModelBytes f;
  f.bytes = detail::read_whole_file(path, "model file");
  const std::string& b = f.bytes;
  const std::string file = "model file '" + path + "'";
  PINS_CHECK(b.size() >= sizeof kMagic && std::memcmp(b.data(), kMagic, sizeof kMagic) == 0, file,
             " is not a pins model file (no PINSMODEL magic at its start)");
  PINS_CHECK(b.size() >= kHeaderBytes, file, " is truncated: ", b.size(),
             " bytes, shorter than the ", kHeaderBytes, "-byte header");
  PINS_CHECK(b[9] == 0 && b[10] == 0 && b[11] == 0, file, " is corrupt: bad header padding");
  const std::uint64_t version = detail::get_le(b.data() + 12, 4);
  PINS_CHECK(version >= 1 && version <= static_cast<std::uint64_t>(kModelFormatVersion), file,
             " has format version ", version, "; this pins reads versions 1 to ",
             kModelFormatVersion);
  const std::uint64_t M = detail::get_le(b.data() + 16, 8), W = detail::get_le(b.data() + 24, 8);
  const std::uint64_t available = b.size() - kHeaderBytes;
  PINS_CHECK(M <= available && W <= available - M, file, " is truncated: its header announces ", M,
             " manifest bytes and ", W, " weight bytes after the ", kHeaderBytes,
             "-byte header, the file has ", b.size(), " bytes");
  PINS_CHECK(M + W == available, file, " is corrupt: ", available - M - W,
             " unexpected bytes after the weights");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(b.begin() + kHeaderBytes, b.begin() + kHeaderBytes + M);
  } catch (const nlohmann::json::exception& e) {
    throw Error(
        detail::concat(file, " is corrupt: its manifest is not valid JSON (", e.what(), ")"));
  }
  try {
    f.manifest = ModelManifest::from_json(j);
  } catch (const Error& e) {
    throw Error(detail::concat(file, ": ", e.what()));
  }
  PINS_CHECK(f.manifest.weights_bytes == W, file, " is corrupt: the manifest says ",
             f.manifest.weights_bytes, " weight bytes, the header ", W);
  f.weights_at = kHeaderBytes + M;
  const std::string sha = sha256_hex(b.data() + f.weights_at, W);
  PINS_CHECK(sha == f.manifest.weights_sha256, file, " is corrupt: the SHA-256 of its weights is ",
             sha, ", the manifest says ", f.manifest.weights_sha256);
  return f;
}

}  // namespace

void save_model(const std::string& path, const Surrogate& model, const ModelManifest& manifest,
                bool force) {
  check_little_endian();
  PINS_CHECK(!path.empty(), "save_model: the model file path is empty");
  const std::string file = "model file '" + path + "'";
  // Fail before any work; TempFile::commit checks again without a race.
  PINS_CHECK(force || !std::filesystem::exists(path), file,
             " already exists (pass force to overwrite it)");
  PINS_CHECK(manifest.architecture.empty() || manifest.architecture == model.type(),
             "cannot write ", file, ": the manifest says architecture '", manifest.architecture,
             "', the model is '", model.type(), "'");
  PINS_CHECK(manifest.in_channels == 0 || manifest.in_channels == model.in_channels(),
             "cannot write ", file, ": the manifest says in_channels ", manifest.in_channels,
             ", the model has ", model.in_channels());
  PINS_CHECK(manifest.out_channels == 0 || manifest.out_channels == model.out_channels(),
             "cannot write ", file, ": the manifest says out_channels ", manifest.out_channels,
             ", the model has ", model.out_channels());

  ModelManifest m = manifest;
  m.architecture = model.type();
  m.architecture_options = model.options_json();
  m.in_channels = model.in_channels();
  m.out_channels = model.out_channels();
  m.pins_version = PINS_VERSION_STRING;
  m.dtype.clear();
  m.tensors.clear();

  std::vector<NamedTensor> tensors = model_tensors(model);
  Sha256 sha;
  std::uint64_t offset = 0;
  for (auto& t : tensors) {
    t.data = t.data.detach().to(torch::kCPU).contiguous();
    const char* dtype = dtype_name(t.data.scalar_type(), t.name);
    if (t.data.is_floating_point()) {
      // load_model converts the rebuilt model to one dtype, so the file must have one.
      if (m.dtype.empty()) m.dtype = dtype;
      PINS_CHECK(m.dtype == dtype, "cannot write ", file, ": tensor '", t.name, "' is ", dtype,
                 " but others are ", m.dtype, " (convert the model to one dtype)");
    }
    const std::uint64_t nbytes = t.data.numel() * t.data.element_size();
    m.tensors.push_back({t.name, t.kind, dtype, t.data.sizes().vec(), offset, nbytes});
    sha.update(t.data.data_ptr(), nbytes);
    offset += nbytes;
  }
  if (m.dtype.empty()) m.dtype = "float32";
  m.weights_bytes = offset;
  m.weights_sha256 = sha.hex_digest();

  std::string text;
  try {
    text = m.to_json().dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {  // e.g. a caller string that is not UTF-8
    throw Error(detail::concat("cannot write ", file, ": the manifest cannot be written as JSON (",
                               e.what(), ")"));
  }
  std::string header(kMagic, sizeof kMagic);
  header.append(3, '\0');
  detail::put_le(header, kModelFormatVersion, 4);
  detail::put_le(header, text.size(), 8);
  detail::put_le(header, offset, 8);

  detail::AtomicFile out(path, "model file");
  out.write(header.data(), header.size());
  out.write(text.data(), text.size());
  for (const auto& t : tensors)
    out.write(t.data.data_ptr(), t.data.numel() * t.data.element_size());
  out.commit(force);
}

ModelManifest read_model_manifest(const std::string& path) {
  return read_verified(path).manifest;
}

LoadedModel load_model(const std::string& path, const ModelRequirements& need) {
  ModelBytes f = read_verified(path);
  const ModelManifest& m = f.manifest;
  const std::string file = "model file '" + path + "'";
  check_model_requirements(m, need, path);

  std::shared_ptr<Surrogate> model;
  try {
    model = make_surrogate_from_json(m.architecture, m.architecture_options, m.in_channels,
                                     m.out_channels);
  } catch (const Error& e) {
    throw Error(detail::concat(file, ": ", e.what()));
  }
  const auto dtype = dtype_from_name(m.dtype);
  PINS_CHECK(dtype && c10::isFloatingType(*dtype), file, ": unsupported model dtype '", m.dtype,
             "'");
  model->module().to(*dtype);

  std::map<std::string, NamedTensor> expected;
  for (auto& t : model_tensors(*model)) expected.emplace(t.name, t);
  std::set<std::string> seen;
  const char* weights = f.bytes.data() + f.weights_at;
  torch::NoGradGuard no_grad;
  for (const TensorRecord& r : m.tensors) {
    auto it = expected.find(r.name);
    PINS_CHECK(it != expected.end(), file, " has tensor '", r.name, "', which architecture '",
               m.architecture, "' does not have");
    PINS_CHECK(seen.insert(r.name).second, file, " lists tensor '", r.name, "' twice");
    torch::Tensor& target = it->second.data;
    PINS_CHECK(r.kind == it->second.kind, file, ": tensor '", r.name, "' is a ", r.kind,
               " in the file, a ", it->second.kind, " in the model");
    const char* model_dtype = dtype_name(target.scalar_type(), r.name);
    PINS_CHECK(r.dtype == model_dtype, file, ": tensor '", r.name, "' has dtype ", r.dtype,
               " in the file, the model expects ", model_dtype);
    PINS_CHECK(c10::IntArrayRef(r.shape) == target.sizes(), file, ": tensor '", r.name,
               "' has shape ", shape_text(r.shape), " in the file, the model expects ",
               shape_text(target.sizes()));
    const std::uint64_t nbytes = target.numel() * target.element_size();
    PINS_CHECK(
        r.nbytes == nbytes && r.offset <= m.weights_bytes && nbytes <= m.weights_bytes - r.offset,
        file, " is corrupt: tensor '", r.name, "' has ", r.nbytes, " bytes at offset ", r.offset,
        ", expected ", nbytes, " bytes within the ", m.weights_bytes, "-byte weight section");
    auto staging = torch::empty(target.sizes(), target.options().device(torch::kCPU));
    std::memcpy(staging.data_ptr(), weights + r.offset, nbytes);
    target.copy_(staging);
  }
  for (const auto& entry : expected) {
    PINS_CHECK(seen.count(entry.first), file, " lacks tensor '", entry.first, "' of architecture '",
               m.architecture, "'");
  }
  model->module().eval();
  return {model, m};
}

}  // namespace pins
