// DatasetInfo <-> root attributes: the one place that knows the attribute names and order.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
// Marks an input stored per mesh cell in the `inputs` attribute: "kappa@cells".
constexpr const char* kCellsSuffix = "@cells";

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

std::int64_t DatasetInfo::nx() const {
  return grid.empty() ? 1 : grid.back();
}
std::int64_t DatasetInfo::ny() const {
  return grid.size() >= 2 ? grid[grid.size() - 2] : 1;
}
std::int64_t DatasetInfo::nz() const {
  return grid.size() >= 3 ? grid[grid.size() - 3] : 1;
}
std::int64_t DatasetInfo::points() const {
  std::int64_t n = 1;
  for (auto g : grid) n *= g;
  return n;
}
std::string DatasetInfo::grid_string() const {
  std::string s;
  for (size_t d = grid.size(); d-- > 0;) s += std::to_string(grid[d]) + (d ? "x" : "");
  return s;
}
std::vector<std::int64_t> DatasetInfo::field_shape(int components) const {
  std::vector<std::int64_t> shape;
  if (components > 1) shape.push_back(components);
  shape.insert(shape.end(), grid.begin(), grid.end());
  return shape;
}
std::vector<std::int64_t> DatasetInfo::input_shape(const FieldSpec& input) const {
  if (!input.on_cells) return field_shape(input.components);
  PINS_CHECK(mesh, "dataset: input '", input.name, "' is stored per cell, but the dataset has no "
             "mesh");
  std::vector<std::int64_t> shape;
  if (input.components > 1) shape.push_back(input.components);
  shape.push_back(mesh->cell_count());
  return shape;
}
std::int64_t DatasetInfo::input_size(const FieldSpec& input) const {
  std::int64_t n = 1;
  for (auto s : input_shape(input)) n *= s;
  return n;
}
std::vector<std::int64_t> DatasetInfo::solution_shape() const {
  std::vector<std::int64_t> shape;
  if (times > 0) shape.push_back(times);
  const auto field = field_shape(dof);
  shape.insert(shape.end(), field.begin(), field.end());
  return shape;
}
std::string DatasetInfo::input_list() const {
  std::string s;
  for (const auto& in : inputs)
    s += (s.empty() ? "" : ",") + in.name +
         (in.components > 1 ? ":" + std::to_string(in.components) : "") +
         (in.on_cells ? kCellsSuffix : "");
  return s;
}

std::int64_t DatasetArray::sample_size() const {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

void require_labelled(const DatasetInfo& info, const std::string& path, const std::string& why) {
  PINS_CHECK(info.labelled, path,
             ": the dataset holds no solutions (inputs only, written with -inputs_only); ", why);
}

const DatasetArray& Dataset::input(const std::string& name) const {
  for (const auto& a : inputs)
    if (a.name == name) return a;
  throw Error("dataset (" + info.pde + ") has no input array '" + name + "' (it has: " +
              info.input_list() + ")");
}

namespace dataset_layout {

namespace {
// Attributes with a typed DatasetInfo field, plus the format pair; everything else is extra.
const std::set<std::string>& typed_names() {
  // clang-format off
  static const std::set<std::string> names = {
      "format",          "format_version",     "pde",        "equation", "discretisation",
      "domain",          "boundary_condition", "dim",        "nx",       "ny",
      "nz",              "dof",                "times",      "inputs",   "operator",
      "labelled",        "seed",               "solver.ksp_type", "solver.pc_type",
      "solver.rtol",     "mesh"};
  // clang-format on
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
  PINS_CHECK(info.dim() >= 1 && info.dim() <= 3, "dataset: the grid must have 1 to 3 directions, "
             "got ", info.dim());
  for (auto g : info.grid)
    PINS_CHECK(g >= 1 && g <= (1 << 30), "dataset: every grid direction needs 1 to 2^30 cells, got ",
               info.grid_string());
  PINS_CHECK(!info.inputs.empty(), "dataset: the family names no input fields");
  for (const auto& in : info.inputs)
    PINS_CHECK(!in.name.empty() && in.name != kSolution && in.components >= 1 &&
                   in.name.find_first_of(",:/@ ") == std::string::npos,
               "dataset: bad input field '", in.name, "' (", in.components,
               " components): names must be non-empty, not 'u', without ',:/@ '");
  PINS_CHECK(info.dim() == 1 || !info.mesh, "dataset: fields on a mesh are [N, points]: the grid "
             "must be {points}, got ", info.grid_string());
  if (info.mesh) {
    info.mesh->check("dataset");
    PINS_CHECK(info.grid[0] == info.mesh->point_count(), "dataset: the grid (", info.grid_string(),
               ") must be the mesh's ", info.mesh->point_count(), " points");
  }
  for (const auto& in : info.inputs)
    PINS_CHECK(!in.on_cells || info.mesh, "dataset: input '", in.name,
               "' is stored per cell, but the dataset has no mesh");
  PINS_CHECK(info.dof >= 1 && info.times >= 0 && info.seed_streams >= 1, "dataset: dof (", info.dof,
             ") and seed_streams (", info.seed_streams, ") must be >= 1, times (", info.times,
             ") >= 0");
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
      {"dim", std::int64_t{info.dim()}},
      {"nx", info.nx()},
  };
  if (info.dim() >= 2) out.push_back({"ny", info.ny()});
  if (info.dim() >= 3) out.push_back({"nz", info.nz()});
  out.push_back({"dof", std::int64_t{info.dof}});
  if (info.mesh) out.push_back({"mesh", info.mesh->cell_type});
  if (info.times > 0) out.push_back({"times", info.times});
  out.push_back({"inputs", info.input_list()});
  out.push_back({"operator", info.operator_description});
  out.push_back({"labelled", std::int64_t{info.labelled ? 1 : 0}});
  out.push_back({"seed", info.seed});
  for (const auto& a : info.sampler) out.push_back({kSamplerPrefix + a.name, a.value});
  // An inputs-only file was solved by nothing: a solver there would only mislead.
  if (info.labelled) {
    out.push_back({"solver.ksp_type", info.ksp_type});
    out.push_back({"solver.pc_type", info.pc_type});
    out.push_back({"solver.rtol", info.rtol});
  }
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

namespace {
std::vector<FieldSpec> parse_input_list(const std::string& text, const std::string& path) {
  std::vector<FieldSpec> out;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t end = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, end - begin);
    FieldSpec spec;
    std::string entry = item;
    const size_t suffix = entry.size() >= std::strlen(kCellsSuffix)
                              ? entry.size() - std::strlen(kCellsSuffix)
                              : std::string::npos;
    if (suffix != std::string::npos && entry.compare(suffix, std::string::npos, kCellsSuffix) == 0) {
      spec.on_cells = true;
      entry.resize(suffix);
    }
    const size_t colon = entry.find(':');
    spec.name = entry.substr(0, colon);
    if (colon != std::string::npos) {
      char* stop = nullptr;
      const long c = std::strtol(entry.c_str() + colon + 1, &stop, 10);
      spec.components = (stop && *stop == '\0' && c >= 1 && c <= 64) ? int(c) : 0;
    }
    if (spec.name.empty() || spec.components < 1 || spec.name == kSolution)
      throw Error(path + ": attribute 'inputs' must list input arrays as name, name:components "
                  "or name@cells, separated by commas, got '" + text + "'");
    out.push_back(spec);
    begin = end + 1;
  }
  return out;
}
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
  if (version == 1) {  // 2-D Darcy: kappa, f, u as [N, ny, nx]
    info.grid = {get.integer("ny"), get.integer("nx")};
    info.inputs.assign(std::begin(kVersion1Inputs), std::end(kVersion1Inputs));
  } else {
    const std::int64_t dim = get.integer("dim");
    if (dim < 1 || dim > 3)
      throw Error(path + ": attribute 'dim' must be 1, 2 or 3, got " + std::to_string(dim));
    const char* names[3] = {"nx", "ny", "nz"};
    for (std::int64_t d = dim; d-- > 0;) info.grid.push_back(get.integer(names[d]));
    const std::int64_t dof = get.integer("dof");
    if (dof < 1 || dof > 64)
      throw Error(path + ": attribute 'dof' must be in [1, 64], got " + std::to_string(dof));
    info.dof = int(dof);
    if (find_in(attributes, "times")) info.times = get.integer("times");
    if (info.times < 0)
      throw Error(path + ": attribute 'times' must be >= 0, got " + std::to_string(info.times));
    info.operator_description = get.string("operator");
    info.inputs = parse_input_list(get.string("inputs"), path);
  }
  for (auto g : info.grid)
    if (g < 1 || g > (1 << 30))
      throw Error(path + ": the grid attributes (" + info.grid_string() +
                  ") are not a valid grid size");
  // Sizes computed from these (points, values per sample) must not overflow 64 bits.
  double points = 1;
  for (auto g : info.grid) points *= double(g);
  if (points > std::ldexp(1.0, 40))
    throw Error(path + ": the grid attributes (" + info.grid_string() + ") give " +
                to_string(AttributeValue(points)) + " points, more than 2^40");
  if (points * double(info.dof) * double(std::max<std::int64_t>(info.times, 1)) >
      std::ldexp(1.0, 50))
    throw Error(path + ": attributes 'times' (" + std::to_string(info.times) + ") and 'dof' (" +
                std::to_string(info.dof) + ") on the grid " + info.grid_string() +
                " give more than 2^50 solution values per sample");
  if (find_in(attributes, "mesh")) {
    // The arrays under /mesh are read by the reader, which completes this mesh.
    auto mesh = std::make_shared<Mesh>();
    mesh->cell_type = get.string("mesh");
    if (cell_type_vertices(mesh->cell_type) == 0)
      throw Error(path + ": attribute 'mesh' must name a cell type (triangle, quadrilateral, "
                  "tetrahedron, hexahedron), got '" + mesh->cell_type + "'");
    if (info.dim() != 1)
      throw Error(path + ": a dataset on a mesh must have dim 1 (its points), got dim " +
                  std::to_string(info.dim()));
    info.mesh = mesh;
  }
  for (const auto& in : info.inputs)
    if (in.on_cells && !info.mesh)
      throw Error(path + ": input '" + in.name + "' is stored per cell, but the file has no "
                  "attribute 'mesh'");
  info.seed = get.integer("seed");
  // Files written before inputs-only datasets existed all hold solutions.
  if (find_in(attributes, "labelled")) {
    const std::int64_t labelled = get.integer("labelled");
    if (labelled != 0 && labelled != 1)
      throw Error(path +
                  ": attribute 'labelled' must be 1 (solutions stored) or 0 (inputs only), "
                  "got " +
                  std::to_string(labelled));
    info.labelled = labelled == 1;
  }
  if (info.labelled) {
    info.ksp_type = get.string("solver.ksp_type");
    info.pc_type = get.string("solver.pc_type");
    info.rtol = get.real("solver.rtol");
    if (!(std::isfinite(info.rtol) && info.rtol >= 0))
      throw Error(path + ": attribute 'solver.rtol' must be a finite number >= 0, got " +
                  to_string(AttributeValue(info.rtol)));
  }
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
