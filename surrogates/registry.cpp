#include "surrogates/registry.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pins/core/check.hpp"
#include "surrogates/deeponet.hpp"
#include "surrogates/entry_mlp.hpp"
#include "surrogates/fno.hpp"
#include "surrogates/graph_net.hpp"
#include "surrogates/mgnet.hpp"
#include "surrogates/mlp.hpp"
#include "surrogates/unet.hpp"

namespace pins {

const std::vector<SurrogateType>& surrogate_types() {
  // One line per architecture.
  // clang-format off
  static const std::vector<SurrogateType> types = {
      fno_surrogate_type(),
      unet_surrogate_type(),
      deeponet_surrogate_type(),
      mlp_surrogate_type(),
      mgnet_surrogate_type(),
      fno3d_surrogate_type(),
      unet3d_surrogate_type(),
      gnn_surrogate_type(),
      entry_mlp_surrogate_type(),
  };
  // clang-format on
  return types;
}

std::vector<std::string> surrogate_type_names() {
  std::vector<std::string> names;
  for (const auto& t : surrogate_types()) names.push_back(t.name);
  return names;
}

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  return list.empty() ? "none" : list;
}

const SurrogateType& find_type(const std::string& type) {
  for (const auto& t : surrogate_types()) {
    if (t.name == type) return t;
  }
  throw Error(detail::concat("unknown surrogate type '", type,
                             "' (known: ", join(surrogate_type_names()), ")"));
}

bool has_option(const SurrogateType& t, const std::string& name) {
  for (const auto& o : t.options) {
    if (o.name == name) return true;
  }
  return false;
}

std::string option_list(const SurrogateType& t) {
  std::string list;
  for (const auto& o : t.options) list += (list.empty() ? "-" : ", -") + t.name + "_" + o.name;
  return list;
}

}  // namespace

const SurrogateTraits& surrogate_traits(const std::string& type) {
  return find_type(type).traits;
}

std::vector<std::string> surrogate_types_for(const std::string& task, int dims) {
  std::vector<std::string> names;
  for (const auto& t : surrogate_types()) {
    if ((task.empty() || t.traits.serves(task)) && (dims == 0 || t.traits.dims == dims))
      names.push_back(t.name);
  }
  return names;
}

std::vector<std::string> mesh_surrogate_types_for(const std::string& task) {
  std::vector<std::string> names;
  for (const auto& t : surrogate_types()) {
    if (t.traits.mesh && (task.empty() || t.traits.serves(task))) names.push_back(t.name);
  }
  return names;
}

void check_surrogate_traits(const std::string& type, const SurrogateNeeds& need) {
  const SurrogateTraits& t = surrogate_traits(type);
  PINS_CHECK(need.task.empty() || t.serves(need.task), "surrogate type '", type,
             "' does not serve -task ", need.task, " (it serves: ", join(t.tasks), "; for ",
             need.task, ": ",
             join(need.mesh ? mesh_surrogate_types_for(need.task)
                            : surrogate_types_for(need.task, need.dims)),
             ")");
  const std::string for_task = need.task.empty() ? "" : " for " + need.task;
  // Grid data and mesh architectures (or the reverse) first: "runs on 0-D grids" would
  // mislead.
  PINS_CHECK(!need.mesh || t.mesh, "surrogate type '", type, "' runs on ", t.dims,
             "-D grids, the data is on an unstructured mesh (mesh architectures", for_task, ": ",
             join(mesh_surrogate_types_for(need.task)), ")");
  PINS_CHECK(need.dims == 0 || !t.mesh, "surrogate type '", type,
             "' runs on unstructured meshes (node features on a mesh graph), the data is on a ",
             need.dims, "-D grid (", need.dims, "-D architectures", for_task, ": ",
             join(surrogate_types_for(need.task, need.dims)), ")");
  PINS_CHECK(need.dims == 0 || t.dims == need.dims, "surrogate type '", type, "' runs on ", t.dims,
             "-D grids, the data is ", need.dims, "-D (", need.dims, "-D architectures",
             need.task.empty() ? "" : " for " + need.task, ": ",
             join(surrogate_types_for(need.task, need.dims)), ")");
  if (need.grid_independent && !t.grid_independent) {
    std::vector<std::string> independent;
    for (const auto& s : surrogate_types()) {
      if (s.traits.grid_independent && (need.task.empty() || s.traits.serves(need.task)) &&
          (need.dims == 0 || s.traits.dims == need.dims) && (!need.mesh || s.traits.mesh))
        independent.push_back(s.name);
    }
    throw Error(detail::concat("surrogate type '", type,
                               "' is not grid-independent (it is meant for its training grid "
                               "only), but ",
                               need.why.empty() ? "it would run on another grid" : need.why,
                               " (grid-independent: ", join(independent), ")"));
  }
}

std::shared_ptr<Surrogate> make_surrogate(const std::string& type, const OptionMap& options,
                                          int in_channels, int out_channels) {
  const SurrogateType& t = find_type(type);
  // A misspelt option (-fno_mode) would otherwise be silently ignored.
  const std::string prefix = "-" + t.name + "_";
  for (const auto& [name, value] : options.entries()) {
    if (name.compare(0, prefix.size(), prefix) == 0 && !has_option(t, name.substr(prefix.size())))
      throw Error(detail::concat("unknown option ", name, " for surrogate type '", t.name,
                                 "' (known: ", option_list(t), ")"));
  }
  return t.make(options, in_channels, out_channels);
}

std::shared_ptr<Surrogate> make_surrogate_from_json(const std::string& type,
                                                    const nlohmann::json& options, int in_channels,
                                                    int out_channels) {
  const SurrogateType& t = find_type(type);
  PINS_CHECK(options.is_object(), "options of surrogate type '", type,
             "' must be a JSON object, got ", options.dump());
  // Route the JSON through the same option parser as the command line, so that there is one
  // way to build each architecture.
  OptionMap map;
  for (const auto& [key, value] : options.items()) {
    PINS_CHECK(has_option(t, key), "unknown option '", key, "' for surrogate type '", t.name,
               "' (known: ", option_list(t), ")");
    std::string text;
    if (value.is_boolean()) {
      text = value.get<bool>() ? "true" : "false";
    } else if (value.is_number_integer()) {
      text = value.dump();
    } else if (value.is_number_float()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", value.get<double>());
      text = buf;
    } else if (value.is_string()) {
      text = value.get<std::string>();
    } else {
      throw Error(detail::concat("option '", key, "' of surrogate type '", t.name,
                                 "' must be a number, bool or string, got ", value.dump()));
    }
    map.set("-" + t.name + "_" + key, text);
  }
  return t.make(map, in_channels, out_channels);
}

std::string surrogate_help() {
  std::ostringstream os;
  os << "Surrogate architectures (-surrogate_type <type>):\n";
  for (const auto& t : surrogate_types()) {
    os << "  " << t.name << ": " << t.help << " ["
       << (t.traits.mesh             ? std::string("mesh")
           : t.traits.matrix_entries ? std::string("sparse-matrix entries")
                                     : std::to_string(t.traits.dims) + "-D")
       << "; tasks: " << join(t.traits.tasks)
       << (t.traits.grid_independent ? "; grid-independent" : "") << "]\n";
    for (const auto& o : t.options) {
      os << "    -" << t.name << "_" << o.name << " <" << o.default_value << ">: " << o.help
         << "\n";
    }
  }
  return os.str();
}

}  // namespace pins
