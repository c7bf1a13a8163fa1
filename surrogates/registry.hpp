#pragma once
/// \file
/// The surrogate registry: `-surrogate_type <name>` picks an architecture, and its options
/// are read with the type as prefix (`-fno_modes 12`, `-unet_channels 16`, ...). One entry
/// per architecture, listed in registry.cpp.
///
/// Example:
/// \code
///   auto opts = pins::OptionMap::from_args({"-fno_modes", "8", "-fno_width", "16"});
///   std::shared_ptr<pins::Surrogate> s = pins::make_surrogate("fno", opts, 1, 1);
///   std::cout << pins::surrogate_help();  // for -help
/// \endcode

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "pins/core/options.hpp"
#include "surrogates/surrogate.hpp"

namespace pins {

/// One option of an architecture, for -help and for validating option names.
struct SurrogateOption {
  std::string name;           ///< without prefix: "modes" is given as -fno_modes
  std::string default_value;  ///< as text, e.g. "12"
  std::string help;           ///< one line
};

/// A registry entry: the architecture's name, what it is, its traits, its options and a
/// builder that reads them (prefixed "-<name>_") from an OptionMap.
///
/// Traits belong to the entry rather than to a built model so that callers know them from a
/// name alone (-surrogate_type, a model file's manifest) before building anything. For the
/// same reason a 3-D variant is its own entry ("fno3d", "unet3d") and not an option of the
/// 2-D one: a name then fixes the dimension, a model file's architecture field says what
/// grids it runs on, and the 3-D options are not offered where they mean nothing. The 2-D
/// and 3-D entries share their implementation (one class parametrised by the dimension).
struct SurrogateType {
  std::string name;
  std::string help;
  SurrogateTraits traits;
  std::vector<SurrogateOption> options;
  std::shared_ptr<Surrogate> (*make)(const OptionMap& options, int in_channels, int out_channels);
};

/// All registered architectures, in registry order.
const std::vector<SurrogateType>& surrogate_types();

/// The names of the registered architectures ("fno", "unet", "deeponet", "mlp", "mgnet",
/// "fno3d", "unet3d").
std::vector<std::string> surrogate_type_names();

/// The traits of architecture `type`; throws pins::Error for an unknown type (listing the
/// known ones).
const SurrogateTraits& surrogate_traits(const std::string& type);

/// The architectures serving `task` (any task for "") on `dims`-dimensional grids (any
/// dimension, and the mesh architectures, for 0), in registry order, e.g. for -help texts and
/// messages.
std::vector<std::string> surrogate_types_for(const std::string& task, int dims = 0);

/// The mesh architectures (traits.mesh) serving `task` (any task for ""), in registry order.
std::vector<std::string> mesh_surrogate_types_for(const std::string& task);

/// What a caller needs of an architecture; empty / zero / false fields are not checked.
struct SurrogateNeeds {
  std::string task;               ///< a task it must serve ("solution", "precondition")
  int dims = 0;                   ///< the dimension of the caller's grids
  bool grid_independent = false;  ///< it will be evaluated on other grids than its training grid
  std::string why;                ///< for the message: why grid independence is needed
  /// The caller's data lives on an unstructured mesh ([N, n] on its nodes): a mesh
  /// architecture (traits.mesh) is needed. Conversely, dims > 0 refuses mesh architectures.
  bool mesh = false;
};

/// Throws pins::Error with a one-line message if architecture `type` lacks what `need` asks
/// for, naming the architectures that have it, e.g. "surrogate type 'mgnet' does not serve
/// -task solution (it serves: precondition; for solution: fno, unet, deeponet, mlp)".
void check_surrogate_traits(const std::string& type, const SurrogateNeeds& need);

/// Builds architecture `type` for in_channels → out_channels from the options
/// "-<type>_<option>" in `options` (absent ones take their defaults). Throws pins::Error for
/// an unknown type (listing the known ones), an unknown "-<type>_..." option, or a bad value.
std::shared_ptr<Surrogate> make_surrogate(const std::string& type, const OptionMap& options,
                                          int in_channels, int out_channels);

/// Builds architecture `type` from the JSON object its options_json() wrote (as stored in a
/// model file). Unknown keys and ill-typed values are errors.
std::shared_ptr<Surrogate> make_surrogate_from_json(const std::string& type,
                                                    const nlohmann::json& options, int in_channels,
                                                    int out_channels);

/// -help text: every architecture with its options, defaults and help.
std::string surrogate_help();

}  // namespace pins
