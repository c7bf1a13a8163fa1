#pragma once
/// \file
/// pins model files: one file with a surrogate's weights and a JSON manifest saying what it
/// is (architecture and options, channels, problem family, training grid, normalisation,
/// training data, metrics, pins version, SHA-256 of the weights). Loading executes no code
/// (no TorchScript, no pickle): it rebuilds the architecture through the surrogate registry
/// and copies raw tensor bytes in.
///
/// Layout ("pins-model", format version 1), all integers little-endian:
///
///   offset  size  content
///   0       9     magic "PINSMODEL"
///   9       3     zero bytes
///   12      4     uint32 format version (1)
///   16      8     uint64 manifest length M
///   24      8     uint64 weight section length W
///   32      M     manifest, UTF-8 JSON (see ModelManifest::to_json)
///   32+M    W     weights: each tensor's raw little-endian bytes, C order, at the offset
///                 (relative to 32+M) its manifest record gives; the file ends at 32+M+W
///
/// Files are written atomically: to a temporary file in the destination folder, flushed and
/// fsync'ed, then renamed into place; on failure the temporary file is removed and an
/// existing file is left as it was.
///
/// Example:
/// \code
///   pins::ModelManifest m;
///   m.problem_family = "darcy";
///   m.task = "solution";
///   m.grid_nx = m.grid_ny = 64;
///   pins::save_model("darcy_fno.pins", *surrogate, m);
///
///   pins::ModelRequirements need;
///   need.problem_family = "darcy";
///   need.in_channels = 1;
///   pins::LoadedModel loaded = pins::load_model("darcy_fno.pins", need);
///   auto y = loaded.model->forward(x);
/// \endcode

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pins {

class Surrogate;

/// Name and version that identify the file format (manifest fields `format`,
/// `format_version`; the version is also in the header).
inline constexpr const char* kModelFormat = "pins-model";
inline constexpr int kModelFormatVersion = 1;

/// Where one tensor (parameter or buffer) lies in the weight section.
struct TensorRecord {
  std::string name;            ///< module path, e.g. "spectral0.weight_pos"
  std::string kind;            ///< "parameter" or "buffer"
  std::string dtype;           ///< "float32", "float64", "int64", ... (see the .cpp)
  std::vector<int64_t> shape;  ///< sizes, C order
  std::uint64_t offset = 0;    ///< byte offset from the start of the weight section
  std::uint64_t nbytes = 0;    ///< numel · element size
};

/// The manifest of a model file. save_model fills the architecture and integrity fields
/// from the surrogate; the caller fills what the model is for.
struct ModelManifest {
  // --- Architecture (written by save_model from the surrogate) ---
  std::string architecture;  ///< registry name: "fno", "unet", "deeponet", "mlp"
  nlohmann::json architecture_options = nlohmann::json::object();  ///< Surrogate::options_json
  int in_channels = 0;                                             ///< Cin
  int out_channels = 0;                                            ///< Cout
  std::string dtype;  ///< floating dtype of the parameters ("float32" or "float64")

  // --- What the model is for (caller) ---
  std::string problem_family;  ///< e.g. "darcy"
  std::string task;            ///< what it predicts, e.g. "solution" (free text, checked on load)
  int grid_nx = 0;             ///< cells along x of the training grid (0: unknown)
  int grid_ny = 0;             ///< cells along y of the training grid
  int grid_nz = 0;             ///< cells along z of a 3-D training grid (0: 2-D or unknown)
  nlohmann::json normalisation = nlohmann::json::object();  ///< caller's statistics
  std::string training_data_hash;                     ///< caller's fingerprint of the training data
  nlohmann::json metrics = nlohmann::json::object();  ///< final metrics (caller's)

  // --- Provenance and integrity (written by save_model) ---
  std::string pins_version;           ///< PINS_VERSION_STRING of the writer
  std::string weights_sha256;         ///< SHA-256 of the weight section, lowercase hex
  std::uint64_t weights_bytes = 0;    ///< W
  std::vector<TensorRecord> tensors;  ///< every parameter and buffer, in module order

  /// The manifest as written to the file, with `format` and `format_version`.
  nlohmann::json to_json() const;
  /// Parses a manifest; throws pins::Error naming a missing or ill-typed field (e.g.
  /// "manifest field 'grid.nx' must be an integer"), or a wrong format / newer version.
  static ModelManifest from_json(const nlohmann::json& json);
};

/// What a caller needs from a model; load_model refuses a file whose manifest differs in a
/// field that is set here.
struct ModelRequirements {
  std::optional<std::string> architecture;
  std::optional<int> in_channels;
  std::optional<int> out_channels;
  std::optional<std::string> problem_family;
  std::optional<std::string> task;
  std::optional<int> grid_nx;  ///< only for callers that need the training grid itself
  std::optional<int> grid_ny;
  std::optional<int> grid_nz;
};

/// A model read back from a file: the rebuilt surrogate (on the CPU, in eval mode, with the
/// file's dtype; call model->module().train() to go on training it) and its manifest.
struct LoadedModel {
  std::shared_ptr<Surrogate> model;
  ModelManifest manifest;
};

/// Writes `model`'s parameters and buffers and `manifest` to `path` (atomically). The
/// architecture, channel, dtype, version and integrity fields of the manifest are filled
/// from the model; a caller-set architecture or channel count that disagrees with the model
/// is an error. Without `force`, an existing file is an error and is left unchanged.
void save_model(const std::string& path, const Surrogate& model, const ModelManifest& manifest,
                bool force = false);

/// Reads `path`, verifies its magic, version, lengths and SHA-256, checks `need` (one-line
/// error naming the field, expected and found values), rebuilds the architecture from the
/// manifest and copies the weights in, checking every tensor's name, shape and dtype.
/// Throws pins::FileNotFound if the file does not exist, pins::Error for anything else.
LoadedModel load_model(const std::string& path, const ModelRequirements& need = {});

/// Reads and verifies (magic, version, lengths, SHA-256) the manifest of `path` without
/// building the model, e.g. to describe a model file.
ModelManifest read_model_manifest(const std::string& path);

/// Throws pins::Error "model file '<path>': <field> mismatch: expected <x>, found <y>" for
/// the first field of `need` that `manifest` does not satisfy.
void check_model_requirements(const ModelManifest& manifest, const ModelRequirements& need,
                              const std::string& path);

}  // namespace pins
