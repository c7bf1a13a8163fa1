#pragma once
/// \file
/// The PETSc half of the problem-family registry: `-pde <name>` looks up the sampler and
/// assembly (pde/problem_family.hpp) here. The core half — the family's fields and operator —
/// is pins::Family (pins/core/family.hpp), registered under the same name. Built-in families
/// are one line each in pde/registry.cpp; a PDE code adds its own with
/// register_problem_family (and pins::register_family for the core half).

#include <memory>
#include <string>
#include <vector>

#include "pde/problem_family.hpp"

namespace pins {

/// One registered problem family's PETSc half.
struct ProblemFamilyEntry {
  std::string name;     ///< what -pde selects (also the pins::Family's name)
  std::string summary;  ///< one line for `pins help` and error messages
  /// Creates the PETSc-side family (sampler + assembly).
  std::unique_ptr<ProblemFamily> (*create)();
};

/// Adds a family's PETSc half (e.g. from a PDE code that links pins). Throws pins::Error if
/// another entry has the name.
void register_problem_family(const ProblemFamilyEntry& entry);

/// All registered families, in registration order (built-in ones first).
std::vector<ProblemFamilyEntry> problem_families();

/// The family called `name`; throws pins::Error listing the known names otherwise, e.g.
/// "-pde 'heat' is not a known problem family (known: darcy)".
ProblemFamilyEntry find_problem_family(const std::string& name);

/// "darcy, ..." — the registered names joined for messages.
std::string problem_family_names();

}  // namespace pins
