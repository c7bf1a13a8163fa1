#pragma once
/// \file
/// The P1 (triangles) and Q1 (quadrilaterals) finite-element Laplacian with a coefficient
/// constant per cell, assembled on a pins::Mesh without PETSc — the same integrals PETSc's
/// PetscFE computes for darcy_fem, so a dataset's operator can be rebuilt from its mesh.
///
/// Geometry is fixed per mesh; coefficients change per sample. So the assembly is split:
/// once per mesh, every term κ_c K_c(a, b) of the stiffness matrix is listed as (value index,
/// cell, K_c(a, b)) and every load term f_c ∫φ_a as (point, cell, ∫φ_a); per sample, the
/// values are one index_add over those lists — linear in κ and f, and differentiable in
/// both through LibTorch.
///
/// Rows and columns are the mesh's points (its unknowns); couplings to boundary vertices
/// (not points: u = 0 there) are dropped, as PETSc drops constrained dofs.

#include <torch/types.h>

#include "pins/core/mesh.hpp"
#include "pins/core/sparse_operator.hpp"

namespace pins::darcy_fem {

/// The per-mesh half of the assembly (see the file comment).
struct FemAssembly {
  SparsePattern pattern;      ///< points × points, every pair of points sharing a cell
  torch::Tensor term_value;   ///< [T] int64: the value index each stiffness term adds to
  torch::Tensor term_cell;    ///< [T] int64: its cell
  torch::Tensor term_weight;  ///< [T] float64: K_c(a, b), the term for κ_c = 1
  torch::Tensor load_point;   ///< [L] int64
  torch::Tensor load_cell;    ///< [L] int64
  torch::Tensor load_weight;  ///< [L] float64: ∫ φ_a over the cell
  std::int64_t cells = 0;

  /// CSR values [B, nnz] for a per-cell coefficient kappa [B, cells] (its dtype).
  torch::Tensor values(const torch::Tensor& kappa) const;
  /// The load vector b [B, points] for a per-cell source f [B, cells] (its dtype).
  torch::Tensor load(const torch::Tensor& f) const;
};

/// Assembles the geometry half for a 2-D triangle or quadrilateral mesh. Quadrilaterals use
/// the 2 × 2 Gauss rule (PETSc's default for Q1, exact on parallelograms). Throws
/// pins::Error for other cell types or a degenerate (zero or negative area) cell.
FemAssembly assemble(const Mesh& mesh);

}  // namespace pins::darcy_fem
