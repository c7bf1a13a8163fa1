// DatasetInfo <-> root attributes: the one place that knows the attribute names and order.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "dataset_layout.hpp"
#include "pins/core/check.hpp"
#include "pins/core/kokkos_runtime.hpp"
#include "pins/core/version.hpp"

namespace pins {

std::string to_string(const AttributeValue& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    // Shortest form that reads back exactly, so 1e-10 prints as 1e-10,
    // not 1.0000000000000000364e-10.
    for (int digits = 1; digits < 17; ++digits) {
      char shorter[32];
      std::snprintf(shorter, sizeof shorter, "%.*g", digits, *d);
      if (std::strtod(shorter, nullptr) == *d) return shorter;
    }
    return buf;
  }
  return std::get<std::string>(value);
}

namespace {
const AttributeValue* find_in(const std::vector<Attribute>& list, const std::string& name) {
  for (const auto& a : list)
    if (a.name == name) return &a.value;
  return nullptr;
}
}  // namespace

const AttributeValue* DatasetInfo::find_sampler(const std::string& name) const {
  return find_in(sampler, name);
}
const AttributeValue* DatasetInfo::find_extra(const std::string& name) const {
  return find_in(extra, name);
}

namespace dataset_layout {

namespace {
// Attributes with a typed DatasetInfo field, plus the format pair; everything else is extra.
const std::set<std::string>& typed_names() {
  static const std::set<std::string> names = {
      "format",          "format_version",     "pde",        "equation", "discretisation",
      "domain",          "boundary_condition", "nx",         "ny",       "seed",
      "solver.ksp_type", "solver.pc_type",     "solver.rtol"};
  return names;
}
// Written by every pins writer, replacing whatever `extra` says: they describe the writer.
const char* const kWriterVersions[] = {"version.pins", "version.hdf5", "version.kokkos"};

bool is_writer_version(const std::string& name) {
  for (const char* v : kWriterVersions)
    if (name == v) return true;
  return false;
}
}  // namespace

std::vector<Attribute> to_attributes(const DatasetInfo& info) {
  PINS_CHECK(!info.pde.empty(), "dataset: the problem family name (pde) is empty");
  PINS_CHECK(info.nx >= 1 && info.ny >= 1, "dataset: grid must be at least 1 x 1, got nx=", info.nx,
             " ny=", info.ny);
  PINS_CHECK(std::isfinite(info.rtol) && info.rtol >= 0, "dataset: rtol must be >= 0, got ",
             info.rtol);
  std::vector<Attribute> out = {
      {"format", std::string(kDatasetFormat)},
      {"format_version", std::int64_t{kDatasetFormatVersion}},
      {"pde", info.pde},
      {"equation", info.equation},
      {"discretisation", info.discretisation},
      {"domain", info.domain},
      {"boundary_condition", info.boundary_condition},
      {"nx", std::int64_t{info.nx}},
      {"ny", std::int64_t{info.ny}},
      {"seed", info.seed},
  };
  for (const auto& a : info.sampler) out.push_back({kSamplerPrefix + a.name, a.value});
  out.push_back({"solver.ksp_type", info.ksp_type});
  out.push_back({"solver.pc_type", info.pc_type});
  out.push_back({"solver.rtol", info.rtol});
  for (const auto& a : info.extra)
    if (!is_writer_version(a.name)) out.push_back(a);
  out.push_back({"version.pins", std::string(PINS_VERSION_STRING)});
  out.push_back({"version.hdf5", hdf5_version_string()});
  out.push_back({"version.kokkos", kokkos_version_string()});

  std::set<std::string> seen;
  for (const auto& a : out) {
    PINS_CHECK(!a.name.empty(), "dataset: an attribute has an empty name");
    PINS_CHECK(seen.insert(a.name).second, "dataset: attribute '", a.name,
               "' is given twice (sampler/extra names must not repeat the standard ones)");
  }
  return out;
}

namespace {
const char* kind_name(const AttributeValue& v) {
  return std::holds_alternative<std::int64_t>(v) ? "an integer"
         : std::holds_alternative<double>(v)     ? "a float"
                                                 : "a string";
}

class AttributeLookup {
 public:
  AttributeLookup(const std::vector<Attribute>& attrs, const std::string& path)
      : attrs_(attrs), path_(path) {}

  const AttributeValue& require(const std::string& name) const {
    const AttributeValue* v = find_in(attrs_, name);
    if (!v) throw Error(path_ + ": attribute '" + name + "' is missing");
    return *v;
  }
  std::string string(const std::string& name) const {
    const AttributeValue& v = require(name);
    if (const auto* s = std::get_if<std::string>(&v)) return *s;
    throw Error(path_ + ": attribute '" + name + "' must be a string, found " + kind_name(v));
  }
  std::int64_t integer(const std::string& name) const {
    const AttributeValue& v = require(name);
    if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
    throw Error(path_ + ": attribute '" + name + "' must be an integer, found " + kind_name(v));
  }
  double real(const std::string& name) const {
    const AttributeValue& v = require(name);
    if (const auto* d = std::get_if<double>(&v)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(&v)) return double(*i);
    throw Error(path_ + ": attribute '" + name + "' must be a number, found " + kind_name(v));
  }

 private:
  const std::vector<Attribute>& attrs_;
  const std::string& path_;
};
}  // namespace

DatasetInfo from_attributes(const std::vector<Attribute>& attributes, const std::string& path) {
  AttributeLookup get(attributes, path);
  if (!find_in(attributes, "format"))
    throw Error(path + ": not a pins dataset (attribute 'format' is missing)");
  const std::string format = get.string("format");
  if (format != kDatasetFormat)
    throw Error(path + ": not a pins dataset (attribute 'format' is '" + format + "', expected '" +
                kDatasetFormat + "')");
  const std::int64_t version = get.integer("format_version");
  if (version < 1 || version > kDatasetFormatVersion)
    throw Error(path + ": format_version " + std::to_string(version) +
                " is not supported (this pins reads version " +
                std::to_string(kDatasetFormatVersion) + ")");

  DatasetInfo info;
  info.pde = get.string("pde");
  info.equation = get.string("equation");
  info.discretisation = get.string("discretisation");
  info.domain = get.string("domain");
  info.boundary_condition = get.string("boundary_condition");
  const std::int64_t nx = get.integer("nx"), ny = get.integer("ny");
  if (nx < 1 || ny < 1 || nx > (1 << 30) || ny > (1 << 30))
    throw Error(path + ": attributes nx=" + std::to_string(nx) + ", ny=" + std::to_string(ny) +
                " are not a valid grid size");
  info.nx = int(nx);
  info.ny = int(ny);
  info.seed = get.integer("seed");
  info.ksp_type = get.string("solver.ksp_type");
  info.pc_type = get.string("solver.pc_type");
  info.rtol = get.real("solver.rtol");
  if (!(std::isfinite(info.rtol) && info.rtol >= 0))
    throw Error(path + ": attribute 'solver.rtol' must be a finite number >= 0, got " +
                to_string(AttributeValue(info.rtol)));
  for (const auto& a : attributes) {
    if (typed_names().count(a.name)) continue;
    if (a.name.rfind(kSamplerPrefix, 0) == 0)
      info.sampler.push_back(
          {a.name.substr(std::char_traits<char>::length(kSamplerPrefix)), a.value});
    else
      info.extra.push_back(a);
  }
  return info;
}

}  // namespace dataset_layout
}  // namespace pins
