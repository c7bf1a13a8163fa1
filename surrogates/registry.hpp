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

/// A registry entry: the architecture's name, what it is, its options and a builder that
/// reads them (prefixed "-<name>_") from an OptionMap.
struct SurrogateType {
  std::string name;
  std::string help;
  std::vector<SurrogateOption> options;
  std::shared_ptr<Surrogate> (*make)(const OptionMap& options, int in_channels, int out_channels);
};

/// All registered architectures, in registry order.
const std::vector<SurrogateType>& surrogate_types();

/// The names of the registered architectures ("fno", "unet", "deeponet", "mlp").
std::vector<std::string> surrogate_type_names();

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
