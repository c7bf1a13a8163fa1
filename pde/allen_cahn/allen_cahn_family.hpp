#pragma once
/// \file
/// The Allen–Cahn family's core half (pins/core/family.hpp), `allen_cahn`:
///
///   u_t = ε² ∇·(κ∇u) − (u³ − u)  on (0,1)², no flux through the boundary (∂u/∂n = 0),
///
/// cell-centred finite volumes on ny × nx cells (the Darcy faces: harmonic means of κ on
/// interior faces, nothing through boundary faces), stepped in time by backward Euler with a
/// fixed step dt. The family's equation is one step: for the state u_prev at the start of
/// the step (its state input) the new state u solves
///
///   G(u) = u − u_prev − dt (−ε² A_N(κ) u − u³ + u) = 0,
///
/// A_N(κ) the positive semi-definite no-flux diffusion matrix (−∇·(κ∇·)). G is the PETSc
/// TS's implicit function times dt, so relative residuals agree with the solver's.
/// make_operator() is G's Jacobian at u = 0, (1 − dt) I + dt ε² A_N(κ) (symmetric), rhs()
/// is u_prev: G(u) = A u − u_prev + dt u³. Parameters: sampler.epsilon and sampler.dt.

#include <memory>

#include "pins/core/family.hpp"

namespace pins::allen_cahn {

/// Defaults of the family's time-stepping parameters (and of `pins generate -pde
/// allen_cahn`): interface width ε, time step dt, steps per trajectory.
inline constexpr double kDefaultEpsilon = 0.02;
inline constexpr double kDefaultTimeStep = 0.05;
inline constexpr int kDefaultSteps = 20;

/// The name of the state input (Family::state_input).
inline constexpr const char* kStateInput = "u_prev";

/// The registered family (ε = kDefaultEpsilon, dt = kDefaultTimeStep; Family::with_parameters
/// gives the one of a dataset's sampler.epsilon and sampler.dt).
std::shared_ptr<const Family> family();

/// The family for ε and dt; throws pins::Error naming -epsilon or -dt unless both are
/// finite and positive.
std::shared_ptr<const Family> family(double epsilon, double dt);

}  // namespace pins::allen_cahn
