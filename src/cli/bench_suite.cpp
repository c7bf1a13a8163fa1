// Reading and checking a pins bench suite (bench_suite.hpp).
#include "bench_suite.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <utility>

#include "pins/core/check.hpp"

namespace pins::cli {

namespace {

// ordered: datasets and models run, and are reported, in the order the suite lists them.
using json = nlohmann::ordered_json;

struct Reader {
  std::string file;
  std::filesystem::path folder;

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error("bench suite " + file + ": " + where + ": " + what);
  }
  void require_object(const json& j, const std::string& where) const {
    if (!j.is_object()) fail(where, "expected an object {...}, got " + std::string(j.type_name()));
  }
  void only_keys(const json& j, const std::string& where, const std::set<std::string>& keys) const {
    require_object(j, where);
    for (const auto& [k, v] : j.items())
      if (!keys.count(k)) {
        std::string list;
        for (const auto& n : keys) list += (list.empty() ? "" : ", ") + n;
        fail(where, "unknown key '" + k + "' (expected one of: " + list + ")");
      }
  }
  std::string string(const json& j, const std::string& key, const std::string& where) const {
    if (!j.contains(key)) return "";
    if (!j[key].is_string()) fail(where + "." + key, "expected a string");
    return j[key].get<std::string>();
  }
  int positive(const json& j, const std::string& key, const std::string& where, int fallback) const {
    if (!j.contains(key)) return fallback;
    if (!j[key].is_number_integer() || j[key].get<long long>() < 1 ||
        j[key].get<long long>() > 1000000)
      fail(where + "." + key, "expected a positive integer");
    return j[key].get<int>();
  }
  std::string resolve(const std::string& p) const {
    const std::filesystem::path path(p);
    return path.is_absolute() ? p : (folder / path).lexically_normal().string();
  }
  void check_name(const std::string& name, const std::string& where) const {
    const bool ok = !name.empty() && name.size() <= 64 &&
                    name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789_-") == std::string::npos;
    if (!ok) fail(where, "name '" + name + "' must be 1-64 letters, digits, '_' or '-'");
  }
  // An entry's source: exactly one of 'path' (an existing file, resolved) and `step` (the
  // options of the pins step that makes it); returns {path, options}.
  std::pair<std::string, std::string> path_or_step(const json& v, const std::string& where,
                                                   const std::string& step,
                                                   const std::string& what) const {
    std::string path = string(v, "path", where);
    const std::string options = string(v, step, where);
    if (path.empty() == options.empty())
      fail(where, "give exactly one of 'path' (an existing " + what + ") or '" + step +
                      "' (pins " + step + " options)");
    if (!path.empty()) path = resolve(path);
    return {path, options};
  }
  // Options given to a step must not set what pins bench sets itself.
  void check_options(const std::string& options, const std::string& where,
                     const std::vector<std::string>& reserved) const {
    for (const auto& r : reserved) {
      const std::string token = " " + r;
      const std::string padded = " " + options + " ";
      if (padded.find(token + " ") != std::string::npos)
        fail(where, "must not contain " + r + " (pins bench sets it)");
    }
  }
};

}  // namespace

const SuiteDataset& BenchSuite::dataset(const std::string& name) const {
  for (const auto& d : datasets)
    if (d.name == name) return d;
  throw Error("bench suite " + file + ": no dataset named '" + name + "'");
}

BenchSuite read_bench_suite(const std::string& path) {
  PINS_CHECK(!path.empty(), "-suite <file.json> is required: the benchmark suite");
  std::ifstream in(path);
  if (!in) throw FileNotFound("bench suite " + path + ": cannot open the file");
  Reader r{path, std::filesystem::path(path).parent_path()};
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw Error("bench suite " + path + ": not valid JSON: " + e.what());
  }
  r.only_keys(j, "top level",
              {"name", "description", "datasets", "models", "solvers", "test", "ood",
               "solve_samples", "repeats", "uses", "tolerances"});
  BenchSuite s;
  s.file = path;
  s.name = r.string(j, "name", "top level");
  if (s.name.empty()) s.name = std::filesystem::path(path).stem().string();
  s.description = r.string(j, "description", "top level");
  s.solve_samples = r.positive(j, "solve_samples", "top level", s.solve_samples);
  s.repeats = r.positive(j, "repeats", "top level", s.repeats);

  if (!j.contains("datasets")) r.fail("top level", "'datasets' is required");
  r.require_object(j["datasets"], "datasets");
  for (const auto& [name, v] : j["datasets"].items()) {
    const std::string where = "datasets." + name;
    r.check_name(name, where);
    r.only_keys(v, where, {"path", "generate", "procs"});
    SuiteDataset d;
    d.name = name;
    std::tie(d.path, d.generate) = r.path_or_step(v, where, "generate", "dataset");
    d.procs = r.positive(v, "procs", where, 1);
    r.check_options(d.generate, where + ".generate", {"-o", "-force"});
    s.datasets.push_back(d);
  }
  std::set<std::string> names;
  for (const auto& d : s.datasets) names.insert(d.name);
  auto need_dataset = [&](const std::string& name, const std::string& where) {
    if (!names.count(name)) r.fail(where, "no dataset named '" + name + "' in 'datasets'");
  };

  if (j.contains("models")) {
    r.require_object(j["models"], "models");
    for (const auto& [name, v] : j["models"].items()) {
      const std::string where = "models." + name;
      r.check_name(name, where);
      r.only_keys(v, where, {"path", "train", "data", "calibrate", "procs"});
      SuiteModel m;
      m.name = name;
      std::tie(m.path, m.train) = r.path_or_step(v, where, "train", "model file");
      m.data = r.string(v, "data", where);
      m.calibrate = r.string(v, "calibrate", where);
      m.procs = r.positive(v, "procs", where, 1);
      const bool precondition = (" " + m.train + " ").find(" -task precondition ") !=
                                    std::string::npos ||
                                (" " + m.train + " ").find(" -task smoother ") != std::string::npos;
      if (!m.train.empty() && !precondition && m.data.empty())
        r.fail(where, "'train' needs 'data': the dataset it trains on");
      if (!m.path.empty() && !m.data.empty())
        r.fail(where, "'data' is for 'train'; a model given by 'path' is already trained");
      if (!m.data.empty()) need_dataset(m.data, where + ".data");
      if (!m.calibrate.empty()) need_dataset(m.calibrate, where + ".calibrate");
      r.check_options(m.train, where + ".train", {"-o", "-data", "-force"});
      s.models.push_back(m);
    }
  }
  if (j.contains("solvers")) {
    r.require_object(j["solvers"], "solvers");
    for (const auto& [name, v] : j["solvers"].items()) {
      const std::string where = "solvers." + name;
      r.check_name(name, where);
      if (!v.is_string()) r.fail(where, "expected a string of PETSc options, e.g. \"-ksp_type cg -pc_type gamg\"");
      s.solvers.push_back({name, v.get<std::string>()});
    }
  }
  s.test = r.string(j, "test", "top level");
  if (s.test.empty()) r.fail("top level", "'test' is required: the labelled in-distribution test set (a dataset name)");
  need_dataset(s.test, "test");
  if (j.contains("ood")) {
    if (!j["ood"].is_array()) r.fail("ood", "expected a list of dataset names");
    for (const auto& v : j["ood"]) {
      if (!v.is_string()) r.fail("ood", "expected a list of dataset names");
      need_dataset(v.get<std::string>(), "ood");
      s.ood.push_back(v.get<std::string>());
    }
  }
  if (j.contains("uses")) {
    if (!j["uses"].is_array()) r.fail("uses", "expected a list of \"guess\", \"precondition\"");
    s.uses.clear();
    for (const auto& v : j["uses"]) {
      if (!v.is_string() || (v != "guess" && v != "precondition"))
        r.fail("uses", "expected a list of \"guess\", \"precondition\", got " + v.dump());
      s.uses.push_back(v.get<std::string>());
    }
  }
  if (j.contains("tolerances")) {
    if (!j["tolerances"].is_array()) r.fail("tolerances", "expected a list of numbers in (0, 1)");
    for (const auto& v : j["tolerances"]) {
      if (!v.is_number() || !(v.get<double>() > 0) || !(v.get<double>() < 1))
        r.fail("tolerances", "expected a list of relative errors in (0, 1), got " + v.dump());
      s.tolerances.push_back(v.get<double>());
    }
  }
  if (s.models.empty() && s.solvers.empty())
    r.fail("top level", "nothing to measure: give 'models' and/or 'solvers'");
  return s;
}

}  // namespace pins::cli
