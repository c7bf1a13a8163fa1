#pragma once
/// \file
/// What pins needs from a problem family to generate data with PETSc: a seeded sampler of
/// (κ, f), the assembly of its operator and right-hand side on a 2-D DMDA, and a
/// description for the dataset's attributes. Families register in pde/registry.cpp.
///
/// Grids are ny × nx cells; fields are row-major [ny][nx] arrays (x fastest), which is
/// also the order of a DMDA's natural (and, on one process, global) vector.

#include <petscdm.h>
#include <petscmat.h>

#include <cstdint>

#include "pins/core/dataset.hpp"

namespace pins {

/// A problem family on the PETSc side. One object serves one grid and one sampler setting.
class ProblemFamily {
 public:
  virtual ~ProblemFamily() = default;

  /// The name `-pde` selects, e.g. "darcy".
  virtual const char* name() const = 0;

  /// Reads the family's sampler options (under `prefix`, may be null) from PETSc's options
  /// database, listing them under -help. Invalid values are PETSc errors whose message names
  /// the option and what was expected.
  virtual PetscErrorCode SetFromOptions(MPI_Comm comm, const char* prefix) = 0;

  /// Fixes the grid and the global seed. Throws pins::Error if the grid is unusable.
  virtual void set_up(int ny, int nx, std::uint64_t seed) = 0;

  /// Fills `info`'s pde, equation, discretisation, domain, boundary_condition, grid, seed
  /// and sampler parameters (solver fields are the caller's).
  virtual void describe(DatasetInfo* info) const = 0;

  /// Draws sample `index`: kappa and f ([ny][nx] each) and the seeds of its random streams.
  /// Depends on (seed, index) only, never on the process count or the order of calls.
  virtual void sample(std::uint64_t index, double* kappa, double* f,
                      std::uint64_t seeds[2]) const = 0;

  /// Creates the set-up DM (a 2-D DMDA) the operator is assembled on, for nx × ny cells.
  virtual PetscErrorCode CreateDM(MPI_Comm comm, PetscInt nx, PetscInt ny, DM* dm) const = 0;

  /// Assembles the operator A(κ) on `da` into A (created by DMCreateMatrix(da)); kappa is
  /// the whole grid [ny][nx], each process assembles its own rows.
  virtual PetscErrorCode AssembleOperator(DM da, const double* kappa, Mat A) const = 0;

  /// Sets b (a global vector of `da`) to the right-hand side for f ([ny][nx], whole grid).
  virtual PetscErrorCode AssembleRHS(DM da, const double* f, Vec b) const = 0;
};

}  // namespace pins
