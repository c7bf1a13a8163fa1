// The model manifest <-> JSON, and the check of a manifest against what a caller needs.
#include <limits>
#include <optional>
#include <string>
#include <type_traits>

#include "pins/core/check.hpp"
#include "pins/core/model_file.hpp"

namespace pins {

using nlohmann::json;

namespace {

// Typed access to manifest fields with one-line errors naming the dotted field.
const json& field(const json& j, const char* key, const std::string& where) {
  const std::string name = where.empty() ? key : where + "." + key;
  PINS_CHECK(j.is_object() && j.contains(key), "manifest field '", name, "' is missing");
  return j.at(key);
}

std::string name_of(const char* key, const std::string& where) {
  return where.empty() ? key : where + "." + key;
}

std::string get_string(const json& j, const char* key, const std::string& where = "") {
  const json& v = field(j, key, where);
  PINS_CHECK(v.is_string(), "manifest field '", name_of(key, where), "' must be a string, got ",
             v.dump());
  return v.get<std::string>();
}

std::int64_t get_int64(const json& j, const char* key, const std::string& where = "") {
  const json& v = field(j, key, where);
  PINS_CHECK(v.is_number_integer(), "manifest field '", name_of(key, where),
             "' must be an integer, got ", v.dump());
  PINS_CHECK(!v.is_number_unsigned() ||
                 v.get<std::uint64_t>() <=
                     static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
             "manifest field '", name_of(key, where), "' is out of range, got ", v.dump());
  return v.get<std::int64_t>();
}

int get_int(const json& j, const char* key, const std::string& where = "") {
  const std::int64_t v = get_int64(j, key, where);
  PINS_CHECK(v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max(),
             "manifest field '", name_of(key, where), "' is out of range, got ", v);
  return static_cast<int>(v);
}

std::uint64_t get_uint64(const json& j, const char* key, const std::string& where = "") {
  const json& v = field(j, key, where);
  PINS_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0),
             "manifest field '", name_of(key, where), "' must be a non-negative integer, got ",
             v.dump());
  return v.get<std::uint64_t>();
}

const json& get_object(const json& j, const char* key, const std::string& where = "") {
  const json& v = field(j, key, where);
  PINS_CHECK(v.is_object(), "manifest field '", name_of(key, where), "' must be an object, got ",
             v.dump());
  return v;
}

template <class T>
void require(const std::optional<T>& need, const T& found, const char* what,
             const std::string& path) {
  if (!need || *need == found) return;
  if constexpr (std::is_same_v<T, std::string>) {
    throw Error(detail::concat("model file '", path, "': ", what, " mismatch: expected '", *need,
                               "', found '", found, "'"));
  } else {
    throw Error(detail::concat("model file '", path, "': ", what, " mismatch: expected ", *need,
                               ", found ", found));
  }
}

}  // namespace

json ModelManifest::to_json() const {
  json records = json::array();
  for (const auto& t : tensors) {
    records.push_back({{"name", t.name},
                       {"kind", t.kind},
                       {"dtype", t.dtype},
                       {"shape", t.shape},
                       {"offset", t.offset},
                       {"nbytes", t.nbytes}});
  }
  return {
      {"format", kModelFormat},
      {"format_version", kModelFormatVersion},
      {"architecture",
       {{"type", architecture},
        {"options", architecture_options},
        {"in_channels", in_channels},
        {"out_channels", out_channels},
        {"dtype", dtype}}},
      {"problem_family", problem_family},
      {"task", task},
      {"grid", grid_nz > 0 ? json{{"nx", grid_nx}, {"ny", grid_ny}, {"nz", grid_nz}}
                           : json{{"nx", grid_nx}, {"ny", grid_ny}}},
      {"normalisation", normalisation},
      {"training_data_hash", training_data_hash},
      {"metrics", metrics},
      {"pins_version", pins_version},
      {"weights", {{"sha256", weights_sha256}, {"bytes", weights_bytes}, {"tensors", records}}}};
}

ModelManifest ModelManifest::from_json(const json& j) {
  PINS_CHECK(j.is_object(), "manifest must be a JSON object");
  const std::string format = get_string(j, "format");
  PINS_CHECK(format == kModelFormat, "manifest format is '", format, "', expected '", kModelFormat,
             "'");
  const int version = get_int(j, "format_version");
  PINS_CHECK(version >= 1 && version <= kModelFormatVersion, "manifest format_version is ", version,
             "; this pins reads versions 1 to ", kModelFormatVersion);

  ModelManifest m;
  const json& arch = get_object(j, "architecture");
  m.architecture = get_string(arch, "type", "architecture");
  m.architecture_options = get_object(arch, "options", "architecture");
  m.in_channels = get_int(arch, "in_channels", "architecture");
  m.out_channels = get_int(arch, "out_channels", "architecture");
  m.dtype = get_string(arch, "dtype", "architecture");
  m.problem_family = get_string(j, "problem_family");
  m.task = get_string(j, "task");
  const json& grid = get_object(j, "grid");
  m.grid_nx = get_int(grid, "nx", "grid");
  m.grid_ny = get_int(grid, "ny", "grid");
  m.grid_nz = grid.contains("nz") ? get_int(grid, "nz", "grid") : 0;  // absent: a 2-D grid
  m.normalisation = field(j, "normalisation", "");
  m.training_data_hash = get_string(j, "training_data_hash");
  m.metrics = field(j, "metrics", "");
  m.pins_version = get_string(j, "pins_version");
  const json& weights = get_object(j, "weights");
  m.weights_sha256 = get_string(weights, "sha256", "weights");
  m.weights_bytes = get_uint64(weights, "bytes", "weights");
  const json& records = field(weights, "tensors", "weights");
  PINS_CHECK(records.is_array(), "manifest field 'weights.tensors' must be an array");
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::string where = "weights.tensors[" + std::to_string(i) + "]";
    const json& r = records[i];
    PINS_CHECK(r.is_object(), "manifest field '", where, "' must be an object");
    TensorRecord t;
    t.name = get_string(r, "name", where);
    t.kind = get_string(r, "kind", where);
    t.dtype = get_string(r, "dtype", where);
    const json& shape = field(r, "shape", where);
    PINS_CHECK(shape.is_array(), "manifest field '", where, ".shape' must be an array");
    for (const json& s : shape) {
      PINS_CHECK(s.is_number_integer() && s.get<std::int64_t>() >= 0, "manifest field '", where,
                 ".shape' must hold non-negative integers, got ", shape.dump());
      t.shape.push_back(s.get<std::int64_t>());
    }
    t.offset = get_uint64(r, "offset", where);
    t.nbytes = get_uint64(r, "nbytes", where);
    m.tensors.push_back(std::move(t));
  }
  return m;
}

void check_model_requirements(const ModelManifest& m, const ModelRequirements& need,
                              const std::string& path) {
  // What the model is for first: a preconditioner offered as a solution model (or the other
  // way round) should be told so, not that its channel count differs.
  require(need.task, m.task, "task", path);
  require(need.problem_family, m.problem_family, "problem_family", path);
  require(need.architecture, m.architecture, "architecture", path);
  require(need.in_channels, m.in_channels, "in_channels", path);
  require(need.out_channels, m.out_channels, "out_channels", path);
  require(need.grid_nx, m.grid_nx, "grid_nx", path);
  require(need.grid_ny, m.grid_ny, "grid_ny", path);
  require(need.grid_nz, m.grid_nz, "grid_nz", path);
}

}  // namespace pins
