#pragma once
/// \file
/// The Darcy family's core half (pins/core/family.hpp): inputs κ and f on an ny × nx grid,
/// the 5-point operator of pde/darcy/darcy_coefficients.hpp, right-hand side f.

#include <memory>

#include "pins/core/family.hpp"

namespace pins::darcy {

/// The registered Darcy family (one shared object).
std::shared_ptr<const Family> family();

}  // namespace pins::darcy
