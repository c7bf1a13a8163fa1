#pragma once
/// \file
/// The nonlinear Darcy problem family `nonlinear_darcy` on the PETSc side: the 2-D Darcy
/// sampler, options and DMDA (pde/darcy/darcy_petsc.hpp, default -f_value 100 so that u is
/// O(1) and k(u) matters), the options -nonlinearity quadratic|exp and -nonlinearity_beta,
/// and the residual F(u) and its Jacobian as DMDA local callbacks for SNES
/// (pde/nonlinear_darcy/nonlinear_darcy_flux.hpp: the same face fluxes as the Kokkos
/// kernel).
///
/// Example (what the tests do):
/// \code
///   auto fam = pins::nonlinear_darcy::create_problem_family();
///   fam->set_up({ny, nx}, seed);
///   PetscCall(fam->CreateDM(PETSC_COMM_WORLD, &da));
///   PetscCall(fam->SetSNESFunctions(da, {kappa, f}));   // whole-grid arrays
///   PetscCall(SNESSetDM(snes, da));
///   PetscCall(SNESComputeFunction(snes, u, F));
/// \endcode

#include <memory>

#include "pde/problem_family.hpp"

namespace pins::nonlinear_darcy {

/// Default right-hand side of nonlinear_darcy (-f_value): with the threshold κ ∈ {3, 12} it
/// gives max |u| ≈ 1 for k(u) = 1 + u² (pde/nonlinear_darcy/README.md).
inline constexpr double kDefaultFValue = 100.0;

/// The nonlinear Darcy problem family (the Darcy sampler options, -nonlinearity,
/// -nonlinearity_beta).
std::unique_ptr<ProblemFamily> create_problem_family();

}  // namespace pins::nonlinear_darcy
