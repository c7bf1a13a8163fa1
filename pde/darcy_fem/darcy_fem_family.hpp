#pragma once
/// \file
/// darcy_fem's core half (pins/core/family.hpp): −∇·(κ∇u) = f with κ and f constant per
/// cell of an unstructured 2-D mesh, u = 0 on the boundary, P1 (triangles) or Q1
/// (quadrilaterals) finite elements; the operator is a pins::SparseOperator over the mesh's
/// points, assembled by pde/darcy_fem/fem_assembly.hpp from the dataset's mesh.

#include <memory>

#include "pins/core/family.hpp"

namespace pins::darcy_fem {

/// The registered family (not bound to a mesh: bind it with with_mesh, or reach it through
/// pins::family_for(name, parameters, info.mesh)).
std::shared_ptr<const Family> family();

}  // namespace pins::darcy_fem
