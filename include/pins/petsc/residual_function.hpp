#pragma once
/// \file
/// The user's own PETSc residual as a differentiable physics loss: no discretisation is
/// re-implemented, pins calls the callbacks the PETSc code already has.
///
/// - ResidualFunction wraps a SNES: forward F(u) by SNESComputeFunction, backward Jᵀ g by
///   SNESComputeJacobian at u and MatMultTranspose with the Jacobian the SNES assembles
///   (its Amat).
/// - TSStepResidual wraps a TS for one backward-Euler step: F(t, u, (u − u_prev)/dt) by
///   TSComputeIFunction, backward by TSComputeIJacobian with shift 1/dt, transpose-applied.
///
/// Both take a batch u [B, n_local] (or one field [n_local]) where n_local is this process's
/// local size of the solution vector, in PETSc's global-vector ordering (for a DMDA the
/// natural order of the process's own subdomain: x fastest, then y, z; dof interleaved). Each
/// process passes its own part, the batch size B must agree on all processes, and every call
/// is collective on the solver's communicator (the user's callbacks exchange ghosts as always).
///
/// Tensors are CPU tensors of a floating dtype; float64 is used as is, float32/float16/bfloat16
/// are converted to float64 for PETSc and the result converted back to the input's dtype
/// (the conversions are differentiable). Integer, bool and complex tensors are refused.
///
/// Cost: forward is B SNESComputeFunction calls; backward is B Jacobian assemblies plus B
/// MatMultTranspose. The Jacobian is assembled in backward, at the saved u, not cached in
/// forward: a cache would need B copies of the matrix and would assemble Jacobians that a
/// forward-only call (evaluation) never uses; forward+backward costs the same assemblies
/// either way (bench/bench_residual_function.cpp measures it). SNESComputeJacobian honours
/// the SNES's Jacobian lag, so for a *linear* problem `SNESSetLagJacobian(snes, -2)` assembles
/// the Jacobian once and backward is then B MatMultTranspose only. Do not lag the Jacobian of
/// a nonlinear problem: the gradients would be those of a stale Jacobian.
///
/// Not thread-safe (nor is the SNES): one thread drives a ResidualFunction at a time.
///
/// Example:
/// \code
///   pins::petsc::ResidualFunction F(snes);       // SNESSetFunction + SNESSetJacobian done
///   auto u = model(x);                           // [B, n_local], requires grad
///   auto loss = F(u).square().sum();             // this process's part of ‖F(u)‖²
///   loss.backward();                             // Jᵀ (2 F) through the SNES's Jacobian
/// \endcode

#include <petscsnes.h>
#include <petscts.h>
#include <torch/types.h>

#include "pins/petsc/scalar.hpp"  // PetscScalar must be double: tensors are handed to PETSc

#include <cstdint>
#include <memory>

namespace pins::petsc {

namespace detail {
class SnesResidual;
class TSResidual;
}  // namespace detail

/// F(u) of a SNES as a LibTorch autograd function (see the file comment).
///
/// The SNES must have a function (SNESSetFunction, or a DM's, e.g. DMDASNESSetFunctionLocal)
/// and a Jacobian (SNESSetJacobian or DMDASNESSetJacobianLocal, or -snes_fd_color through
/// SNESSetFromOptions; a DMDA SNES given only DMDASNESSetFunctionLocal gets PETSc's
/// finite-difference colouring Jacobian, which is accepted: gradients then have FD accuracy
/// and each costs a coloured FD assembly); the Jacobian's Amat must support MatMultTranspose (a
/// MATSHELL must set MATOP_MULT_TRANSPOSE; matrix-free MFFD Jacobians are refused). The constructor
/// calls SNESSetUp (collective) so that the Jacobian matrices exist, and holds a reference to the
/// SNES. Copies share the same SNES.
class ResidualFunction {
 public:
  /// Throws pins::Error naming what is missing: no function, no Jacobian, a Jacobian without
  /// MatMultTranspose, a non-square Jacobian. Collective on the SNES's communicator.
  explicit ResidualFunction(SNES snes);

  /// F(u) for u [B, n_local] or [n_local]; the result has u's shape and dtype and is
  /// differentiable in u. Collective. Throws pins::Error (on every process) on a bad shape,
  /// dtype or device, or a batch size that differs between processes; PETSc errors in the
  /// callbacks come back as pins::Error with PETSc's message.
  torch::Tensor operator()(const torch::Tensor& u) const;

  /// This process's local size of the solution vector (the last axis of u).
  std::int64_t local_size() const;

  /// The wrapped SNES (borrowed: the ResidualFunction keeps its own reference).
  SNES snes() const;

 private:
  std::shared_ptr<const detail::SnesResidual> impl_;
};

/// The implicit residual of one backward-Euler step of a TS as a LibTorch autograd function:
///
///   R(u; u_prev) = F(t, u, (u − u_prev)/dt)
///
/// with F the TS's IFunction (TSComputeIFunction with imex = false, so a TS with only an
/// RHSFunction G gives u_t − G(t, u)). Differentiable in u (∂F/∂u + (1/dt) ∂F/∂u_t, one
/// TSComputeIJacobian with shift 1/dt per sample, transpose-applied) and in u_prev
/// (−(1/dt) ∂F/∂u_t, which costs a second IJacobian assembly at shift 0 per sample; only done
/// when u_prev requires grad: gradient = J(0)ᵀ g − J(1/dt)ᵀ g).
///
/// The TS must have an IFunction with an IJacobian, or an RHSFunction with an RHSJacobian
/// (or both); the Jacobian's Amat must support MatMultTranspose.
class TSStepResidual {
 public:
  /// Throws pins::Error naming what is missing. Collective on the TS's communicator.
  explicit TSStepResidual(TS ts);

  /// R(u; u_prev) at time t (the end of the step) with step dt > 0, for u and u_prev of the
  /// same shape [B, n_local] or [n_local] and dtype. Collective.
  torch::Tensor operator()(const torch::Tensor& u, const torch::Tensor& u_prev, double t,
                           double dt) const;

  /// This process's local size of the solution vector (the last axis of u).
  std::int64_t local_size() const;

 private:
  std::shared_ptr<const detail::TSResidual> impl_;
};

}  // namespace pins::petsc
