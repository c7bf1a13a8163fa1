#pragma once
/// \file
/// The problem-family registry: `-pde <name>` looks a family up here. Adding a family is one
/// line in pde/registry.cpp.

#include <memory>
#include <string>
#include <vector>

#include "pde/problem_family.hpp"

namespace at {
class Tensor;  // LibTorch's tensor; only named here so that this header stays light
}

namespace pins {

/// One registered problem family.
struct ProblemFamilyEntry {
  const char* name;     ///< what -pde selects
  const char* summary;  ///< one line for `pins help` and error messages
  /// Creates the PETSc-side family (sampler + assembly).
  std::unique_ptr<ProblemFamily> (*create)();
  /// Its operator as 5-point stencil coefficients [B,5,ny,nx] from κ [B,ny,nx], computed by
  /// the Kokkos kernel (pins/core/stencil.hpp): what `pins verify` checks datasets with.
  at::Tensor (*stencil_coefficients)(const at::Tensor& kappa);
};

/// All registered families, in registration order.
const std::vector<ProblemFamilyEntry>& problem_families();

/// The family called `name`; throws pins::Error listing the known names otherwise, e.g.
/// "-pde 'heat' is not a known problem family (known: darcy)".
const ProblemFamilyEntry& find_problem_family(const std::string& name);

/// "darcy, ..." — the registered names joined for messages.
std::string problem_family_names();

}  // namespace pins
