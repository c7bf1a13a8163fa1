#pragma once
/// \file
/// Reading a family's equation parameters back from a dataset's sampler attributes (what
/// pins::Family::with_parameters gets: names without "sampler.", values as text), shared by
/// the families whose equation has parameters (allen_cahn, gray_scott).

#include <map>
#include <stdexcept>
#include <string>

#include "pins/core/check.hpp"

namespace pins {

/// The number `name` of `parameters`, or `fallback` when the dataset does not record it.
/// Throws pins::Error "<family>: sampler.<name> must be a number, got '<text>'" otherwise.
inline double sampler_number(const std::map<std::string, std::string>& parameters,
                             const std::string& family, const std::string& name,
                             double fallback) {
  const auto it = parameters.find(name);
  if (it == parameters.end()) return fallback;
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    throw Error(family + ": sampler." + name + " must be a number, got '" + it->second + "'");
  }
}

}  // namespace pins
