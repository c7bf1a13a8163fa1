#pragma once
/// \file
/// The Gray–Scott problem family `gray_scott` on the PETSc side (pde/gray_scott/README.md):
///
///   u_t = D_u ∇·∇u − u v² + F(x)(1 − u),   v_t = D_v ∇·∇v + u v² − (F(x) + k) v
///
/// on (0,1)², no flux through the boundary, a 2-D DMDA with dof 2 (u, v interlaced), star
/// width 1. The feed rate F(x) is the Darcy sampler's random field (its -grf_alpha, -grf_tau,
/// -grf_modes; seed stream 0) mapped linearly onto [-gs_feed_min, -gs_feed_max]; the initial
/// state is u = 1 − v, v = three smooth random bumps of height ≤ 1/2 (stream 1). Options:
/// -gs_du, -gs_dv, -gs_kill, -gs_feed_min, -gs_feed_max, -dt, -steps. The TS callbacks are the
/// implicit function F(t, w, w_t) = w_t − R(w) and its Jacobian; dt · F with
/// w_t = (w − w_prev)/dt is the core family's residual G (gray_scott_family.hpp).

#include <memory>

#include "pde/problem_family.hpp"

namespace pins::gray_scott {

/// The Gray–Scott problem family.
std::unique_ptr<ProblemFamily> create_problem_family();

}  // namespace pins::gray_scott
