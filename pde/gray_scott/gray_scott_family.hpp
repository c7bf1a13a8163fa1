#pragma once
/// \file
/// The Gray–Scott family's core half (pins/core/family.hpp), `gray_scott`: two fields
/// w = (u, v) on (0,1)², no flux through the boundary,
///
///   u_t = D_u ∇·∇u − u v² + F(x)(1 − u),   v_t = D_v ∇·∇v + u v² − (F(x) + k) v
///
/// (the reaction terms of PETSc's advection-diffusion-reaction tutorial ex5), cell-centred
/// finite volumes on ny × nx cells, stepped by backward Euler with a fixed step dt. The
/// family's equation is one step from the state w_prev (its state input, 2 components):
///
///   G(w) = w − w_prev − dt R(w) = A w − rhs + dt (u v², −u v²) = 0,
///
/// A = diag((1 + dt F) I + dt D_u A_N, (1 + dt (F + k)) I + dt D_v A_N) (A_N the no-flux
/// Darcy matrix with κ = 1, off-diagonal blocks zero), rhs = (u_prev + dt F, v_prev). G is
/// dt times the PETSc TS's implicit function, so relative residuals agree with the solver's.
/// Parameters (sampler.*): du, dv, kill, dt.

#include <memory>

#include "pins/core/family.hpp"

namespace pins::gray_scott {

/// Defaults (pde/gray_scott/README.md says why): diffusivities on the unit square, kill
/// rate k, time step and steps per trajectory, and the range of the feed rate F(x).
inline constexpr double kDefaultDu = 1e-3;
inline constexpr double kDefaultDv = 5e-4;
inline constexpr double kDefaultKill = 0.06;
inline constexpr double kDefaultTimeStep = 1.0;
inline constexpr int kDefaultSteps = 20;
inline constexpr double kDefaultFeedMin = 0.02;
inline constexpr double kDefaultFeedMax = 0.05;

/// The names of the input field and of the state input (Family::state_input).
inline constexpr const char* kFeedInput = "feed";
inline constexpr const char* kStateInput = "w_prev";

/// Constant parameters of one family instance.
struct Parameters {
  double du = kDefaultDu, dv = kDefaultDv, kill = kDefaultKill, dt = kDefaultTimeStep;
};

/// The registered family (the defaults; Family::with_parameters gives a dataset's).
std::shared_ptr<const Family> family();

/// The family for p; throws pins::Error naming -gs_du, -gs_dv, -gs_kill or -dt unless each
/// is finite and positive.
std::shared_ptr<const Family> family(const Parameters& p);

}  // namespace pins::gray_scott
