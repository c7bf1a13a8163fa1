#pragma once
/// \file
/// A problem family that lives outside pins: −Δu = f on (0,1)³, u = 0 on the boundary,
/// cell-centred finite differences on an nz × ny × nx grid (a 7-point operator; a wall
/// half a cell away from a boundary cell gives that face the weight 2/h², the Dirichlet
/// value eliminated). The input is the source f, drawn as a random sum of a few Fourier
/// sine modes; the operator is the same for every sample.
///
/// Both halves of a pins family are here:
/// - the PETSc-free half, a pins::Family (pins/core/family.hpp): its input fields, its
///   stencil and its operator as coefficients [B, 7, nz, ny, nx] for the physics loss;
/// - the PETSc half, a pins::ProblemFamily (pde/problem_family.hpp): the sampler, the
///   3-D DMDA and the matrix PETSc solves for the training data.
/// register_poisson3d() registers both under the name "poisson3d", after which every pins
/// API (generate, verify, train, evaluate, the Python module in this process) knows it.

namespace poisson3d {

/// Registers the "poisson3d" family with pins (both halves). Call once, after
/// PetscInitialize.
void register_poisson3d();

}  // namespace poisson3d
