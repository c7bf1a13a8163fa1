#pragma once
/// \file
/// The Allen–Cahn problem family `allen_cahn` on the PETSc side (pde/allen_cahn/README.md):
///
///   u_t = ε² ∇·(κ∇u) − (u³ − u)  on (0,1)², no flux through the boundary,
///
/// on the 2-D Darcy DMDA (star, width 1, dof 1). κ comes from the Darcy sampler
/// (pde/darcy/darcy_sampler.hpp, its options and defaults: the 12/3 thresholded random
/// field); the initial state u(0) is an independent random field g of the same sampler on
/// seed stream 1 pushed through tanh(g / rms g) and scaled to max |u(0)| = -u0_amplitude.
/// Options: -epsilon, -dt, -steps, -u0_amplitude, -u0_tau. The TS callbacks are the
/// implicit function
///
///   F(t, u, u_t) = u_t + ε² A_N(κ) u + u³ − u
///
/// (A_N = −∇·(κ∇·) with the Darcy faces, nothing through boundary faces) and its Jacobian
/// shift·I + ε² A_N(κ) + diag(3u² − 1); dt · F with u_t = (u − u_prev)/dt is the core
/// family's residual G (pde/allen_cahn/allen_cahn_family.hpp).
///
/// Example (what the tests do):
/// \code
///   auto fam = pins::allen_cahn::create_problem_family();
///   PetscCall(fam->SetFromOptions(PETSC_COMM_WORLD, nullptr));
///   fam->set_up({ny, nx}, seed);
///   PetscCall(fam->CreateDM(PETSC_COMM_WORLD, &da));
///   PetscCall(fam->SetTSFunctions(da, {kappa}));   // whole-grid array
///   PetscCall(TSSetDM(ts, da));
///   PetscCall(TSComputeIFunction(ts, t, u, u_t, F, PETSC_FALSE));
/// \endcode

#include <memory>

#include "pde/problem_family.hpp"

namespace pins::allen_cahn {

/// Default -u0_amplitude: max |u(0)|. Half of the stable phases ±1, so that the reaction
/// visibly separates the phases within the default 20 steps of 0.05.
inline constexpr double kDefaultInitialAmplitude = 0.5;

/// The Allen–Cahn problem family (the Darcy κ options, -epsilon, -dt, -steps,
/// -u0_amplitude, -u0_tau).
std::unique_ptr<ProblemFamily> create_problem_family();

}  // namespace pins::allen_cahn
