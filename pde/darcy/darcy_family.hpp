#pragma once
/// \file
/// The Darcy families' core half (pins/core/family.hpp): inputs κ and f on an ny × nx
/// (darcy) or nz × ny × nx (darcy3d) grid, the operator of pde/darcy/darcy_coefficients.hpp,
/// right-hand side f.

#include <memory>

#include "pins/core/family.hpp"

namespace pins::darcy {

/// The registered Darcy family (one shared object).
std::shared_ptr<const Family> family();

/// The registered 3-D Darcy family `darcy3d`: κ, f on nz × ny × nx cells, the 7-point
/// operator of the same face rules.
std::shared_ptr<const Family> family_3d();

}  // namespace pins::darcy
