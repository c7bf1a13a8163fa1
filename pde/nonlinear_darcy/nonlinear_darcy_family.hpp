#pragma once
/// \file
/// The nonlinear Darcy family's core half (pins/core/family.hpp): inputs κ and f on an
/// ny × nx grid, the equation −∇·(κ k(u) ∇u) = f with the residual of
/// pde/nonlinear_darcy/nonlinear_darcy_kernels.hpp. make_operator() is the linear Darcy
/// operator A(κ) — k frozen at k(0) = 1, the Jacobian at u = 0 for the quadratic k — used
/// for scales and the diagonal scaling of the residual loss, never as the equation.

#include <memory>
#include <string>

#include "pde/nonlinear_darcy/nonlinear_darcy_flux.hpp"
#include "pins/core/family.hpp"

namespace pins::nonlinear_darcy {

/// k(u) from its option values: "quadratic" (1 + u², beta unused) or "exp" (exp(beta u)).
/// Throws pins::Error naming -nonlinearity or -nonlinearity_beta and what was expected.
Conductivity make_conductivity(const std::string& name, double beta);

/// "quadratic" or "exp".
std::string nonlinearity_name(const Conductivity& k);

/// The formula, e.g. "k(u) = 1 + u^2" or "k(u) = exp(0.5 u)".
std::string describe(const Conductivity& k);

/// The registered family (k(u) = 1 + u²; Family::with_parameters gives the one of a
/// dataset's sampler.nonlinearity and sampler.nonlinearity_beta).
std::shared_ptr<const Family> family();

/// The family for k.
std::shared_ptr<const Family> family(const Conductivity& k);

}  // namespace pins::nonlinear_darcy
