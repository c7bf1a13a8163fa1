#pragma once
/// \file
/// What pins needs from a problem family to generate data with PETSc: a seeded sampler of
/// its input fields, the assembly of its operator and right-hand side on a DM of the
/// family's dimension, and a description for the dataset's attributes. The PETSc-free half
/// of the same family (its input fields, stencil, operator: pins/core/family.hpp) is
/// registered under the same name and is where the dataset's grid dimension, input list,
/// dof and operator description come from.
///
/// Grids are given slowest direction first, as datasets store them: {ny, nx} in 2-D,
/// {nz, ny, nx} in 3-D. A field is a row-major array over that grid (x fastest) — on one
/// process the order of a DMDA's natural (and global) vector — with a field of c
/// components stored component-major, [c][grid...]. Built-in families register in
/// pde/registry.cpp; a PDE code registers its own with pins::register_problem_family.

#include <petscdm.h>
#include <petscmat.h>

#include <cstdint>
#include <vector>

#include "pins/core/dataset.hpp"

namespace pins {

/// A problem family on the PETSc side. One object serves one grid and one sampler setting.
class ProblemFamily {
 public:
  virtual ~ProblemFamily() = default;

  /// The name `-pde` selects, e.g. "darcy" (the name of its pins::Family too).
  virtual const char* name() const = 0;

  /// Reads the family's sampler options (under `prefix`, may be null) from PETSc's options
  /// database, listing them under -help. Invalid values are PETSc errors whose message names
  /// the option and what was expected.
  virtual PetscErrorCode SetFromOptions(MPI_Comm comm, const char* prefix) = 0;

  /// Fixes the grid (cells per direction, slowest first, one entry per dimension of the
  /// family) and the global seed. Throws pins::Error if the grid is unusable.
  virtual void set_up(const std::vector<std::int64_t>& grid, std::uint64_t seed) = 0;

  /// Sets the family up to re-solve the samples of a dataset it wrote (`pins evaluate`'s
  /// PETSc timings): its grid and seed, and whatever else the family recorded in `info` that
  /// its DM depends on (e.g. darcy_fem's mesh). Throws pins::Error if the dataset's problem
  /// cannot be rebuilt. Default: set_up(info.grid, info.seed).
  virtual void set_up_for(const DatasetInfo& info) { set_up(info.grid, std::uint64_t(info.seed)); }

  /// Fills `info`'s pde, equation, discretisation, domain, boundary_condition, seed,
  /// seed_streams and sampler parameters. (The grid, inputs, dof and operator description
  /// are filled by the caller from the set-up grid and the pins::Family.)
  virtual void describe(DatasetInfo* info) const = 0;

  /// Draws sample `index`: writes every input field (pins::Family::inputs() order, each
  /// grid points × components values) and the seeds of its random streams
  /// (info.seed_streams of them). Depends on (seed, index) only, never on the process count
  /// or the order of calls. A time-dependent family (time_dependent()) gets the fields of
  /// pins::Family::dataset_inputs() (no state input) and one more pointer after them, where
  /// it writes the initial state u(0) (grid points × dof values, like u).
  virtual void sample(std::uint64_t index, const std::vector<double*>& inputs,
                      std::uint64_t* seeds) const = 0;

  /// Creates the set-up DM (a DMDA of the family's dimension, or a DMPlex) on `comm`.
  virtual PetscErrorCode CreateDM(MPI_Comm comm, DM* dm) const = 0;

  /// Assembles the operator A(inputs) on `dm` into A (created by DMCreateMatrix(dm)); every
  /// input holds the whole grid, each process assembles its own rows.
  virtual PetscErrorCode AssembleOperator(DM dm, const std::vector<const double*>& inputs,
                                          Mat A) const = 0;

  /// Sets b (a global vector of `dm`) to the right-hand side for the inputs (whole grid).
  virtual PetscErrorCode AssembleRHS(DM dm, const std::vector<const double*>& inputs,
                                     Vec b) const = 0;

  /// Whether the family's equation F(u; inputs) = 0 is nonlinear (the same answer as its
  /// pins::Family::nonlinear()). Then `pins generate` solves each sample with SNES through
  /// SetSNESFunctions, starting from u = 0, and AssembleOperator/AssembleRHS only give the
  /// documented linear operator of pins::Family::make_operator and f. Default: false.
  virtual bool nonlinear() const { return false; }

  /// Nonlinear families: makes `dm` (from CreateDM) compute the residual F(u) and its
  /// Jacobian for `inputs` (whole grid, pins::Family::inputs() order) when a SNES with this
  /// DM asks for them — e.g. with DMDASNESSetFunctionLocal / DMDASNESSetJacobianLocal. F must
  /// be pins::Family::residual's F. The inputs must stay alive, and the family must not be
  /// asked for another sample, until that solve is over. The default is an error (the
  /// family is linear).
  virtual PetscErrorCode SetSNESFunctions(DM dm, const std::vector<const double*>& inputs) const;

  /// Whether the family steps in time (the same answer as pins::Family::time_dependent()).
  /// Then its datasets are trajectories: the inputs are pins::Family::dataset_inputs() (no
  /// state), and u is [N, steps() + 1, grid…] with u[:, 0] the initial state and u[:, t] the
  /// state at t · time_step(). sample() writes the initial state after the inputs, and
  /// `pins generate` steps it with a PETSc TS through SetTSFunctions. Default: false.
  virtual bool time_dependent() const { return false; }

  /// Time-dependent families: the fixed time step dt (the family's own option, e.g. -dt;
  /// valid once SetFromOptions has run). Default: 0 (not time-dependent).
  virtual double time_step() const { return 0; }

  /// Time-dependent families: the steps of a trajectory (e.g. -steps); a dataset stores
  /// steps() + 1 states. Default: 0 (not time-dependent).
  virtual int steps() const { return 0; }

  /// Time-dependent families: makes `dm` (from CreateDM) compute the implicit function
  /// F(t, u, u_t) and its Jacobian dF/du + shift dF/du_t for `inputs` (whole grid,
  /// pins::Family::dataset_inputs() order: without the state) when a TS with this DM asks
  /// for them — e.g. with DMDATSSetIFunctionLocal / DMDATSSetIJacobianLocal. One backward
  /// Euler step of F, times dt, with u_t = (u − u_prev)/dt, must be pins::Family::residual's
  /// F for the inputs and the state u_prev. The inputs must stay alive, and the family must
  /// not be asked for another sample, until that trajectory is over. The default is an error
  /// (the family does not step in time).
  virtual PetscErrorCode SetTSFunctions(DM dm, const std::vector<const double*>& inputs) const;
};

}  // namespace pins
