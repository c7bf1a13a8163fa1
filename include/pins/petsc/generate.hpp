#pragma once
/// \file
/// Data generation: draw N samples of a problem family, solve each with PETSc, check each
/// solution's true residual, and write a pins dataset (pins/core/dataset.hpp). With
/// -inputs_only it draws the samples and writes their inputs alone: no solver is created,
/// so the run costs what sampling costs, and sample i's inputs are bit for bit those of a
/// labelled run with the same seed and options.
///
/// A time-dependent family (e.g. allen_cahn) makes trajectories: its inputs without the
/// state (pins::Family::dataset_inputs()) and u [N, steps + 1, grid…], u[:, 0] the sampled
/// initial state and u[:, t] the state at t·dt, stepped by a PETSc TS (backward Euler, fixed
/// step; -ts_*, -snes_*, -ksp_*, -pc_*). Per sample, iterations are the trajectory's Newton
/// iterations and residual the largest step's ‖G(u^{t+1})‖/‖u^t‖ (the family's one-step
/// residual). -inputs_only is refused for such a family.
///
/// Each MPI process solves its share of the samples (sample i goes to rank i mod P) one
/// after the other on PETSC_COMM_SELF objects: data generation is many small solves, not one
/// big one. Rank 0 writes the file. A sample's numbers depend on (seed, index) only, so the
/// arrays are bitwise identical for any process count. (For that, generate() runs OpenMP,
/// and so OpenBLAS, on one thread while it works: threaded BLAS reductions round
/// differently for different thread counts.)
///
/// Configuration is PETSc's options database (see GenerateOptions::SetFromOptions); the
/// solver reads the usual -ksp_* / -pc_* options (defaults: CG + GAMG, -ksp_rtol 1e-10,
/// unpreconditioned residual norm, so the tolerance bounds the true residual).
///
/// Example (what `pins generate` does):
/// \code
///   pins::petsc::GenerateOptions opts;
///   PetscCall(opts.SetFromOptions(PETSC_COMM_WORLD, nullptr));
///   PetscCallCXX(summary = pins::petsc::generate(PETSC_COMM_WORLD, opts));
/// \endcode

#include <petscsys.h>

#include <cstdint>
#include <string>
#include <vector>

#include "pins/core/check.hpp"

namespace pins::petsc {

/// An error every process of the communicator agreed on (same message everywhere), so a
/// caller may report it once, from rank 0.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

/// What to generate. Filled from the options database by SetFromOptions, or by hand.
struct GenerateOptions {
  std::string pde = "darcy";   ///< -pde: problem family (pde/registry.cpp)
  /// -grid n (n cells in every direction of the family's grid) or -grid nx,ny[,nz]: cells
  /// per direction, x first, as typed.
  std::vector<std::int64_t> grid = {64};
  std::int64_t samples = 100;  ///< -samples
  std::uint64_t seed = 0;      ///< -seed: global seed (sample seeds derive from it)
  std::string output;          ///< -o: the dataset file (required)
  bool force = false;          ///< -force: overwrite an existing output
  bool progress = true;        ///< -progress: progress report on stderr (rank 0)
  /// -inputs_only: write the sampled inputs (and seeds) only, labelled = 0 — no solves, no
  /// KSP at all; the -ksp_* / -pc_* options are then not read.
  bool inputs_only = false;
  std::string prefix;          ///< options prefix for the family's and the solver's options
  std::string command;         ///< command line recorded in the dataset (informational)

  /// Reads -pde, -grid, -samples, -seed, -o, -force, -progress and -inputs_only under
  /// `prefix` (listed by -help) and remembers the prefix. Does not check the values; see
  /// validate().
  PetscErrorCode SetFromOptions(MPI_Comm comm, const char* prefix);

  /// Throws pins::Error naming the first bad option and what was expected (grid at least
  /// 3 cells per direction with as many directions as the family has, samples ≥ 1, -o
  /// given, -pde registered).
  void validate() const;

  /// The grid for a family of dimension `dim`, slowest direction first ({ny, nx},
  /// {nz, ny, nx}) as datasets store it. Throws pins::Error if -grid has another number of
  /// directions.
  std::vector<std::int64_t> grid_for(int dim) const;
};

/// Statistics of a finished run (complete on rank 0; other ranks see their own share).
struct GenerateSummary {
  std::int64_t samples = 0;
  bool inputs_only = false;        ///< no solves: the solver fields below are zero / empty
  std::vector<std::int64_t> grid;  ///< slowest direction first, as in the dataset
  std::string grid_text;           ///< x first, e.g. "24x16"
  int processes = 1;
  std::int64_t iterations_min = 0, iterations_max = 0;
  double iterations_mean = 0;
  double residual_max = 0;  ///< largest true relative residual ‖f − A u‖/‖f‖
  double rtol = 0;          ///< the solver's relative tolerance (every residual is below it)
  std::string ksp_type, pc_type;
  /// Nonlinear families: the SNES type ("newtonls"; iterations are Newton iterations, rtol
  /// and residual_max are of ‖F(u)‖/‖F(0)‖, ksp/pc are the linear solves'); empty otherwise.
  std::string snes_type;
  /// Time-dependent families: the TS type ("beuler"), its step and steps per trajectory
  /// (iterations are then Newton iterations per trajectory, residual_max the largest step's
  /// ‖G(u^{t+1})‖/‖u^t‖); empty / zero otherwise.
  std::string ts_type;
  double dt = 0;
  int steps = 0;
  double seconds = 0;        ///< wall time of the whole run
  double solve_seconds = 0;  ///< wall time of the sampling (+ solving) phase
  std::string output;
};

/// Generates the dataset described by `options` and the options database (family sampler
/// options, -ksp_* / -pc_*). Collective on `comm`. Every error, wherever it happens, is
/// agreed by all processes and thrown on all of them as CollectiveError; the output file
/// is then not created (nor is any temporary left behind). A sample fails the run if its
/// solver diverges or hits its iteration limit, or if its true relative residual exceeds
/// the solver's rtol after up to three restarts from the current iterate.
GenerateSummary generate(MPI_Comm comm, const GenerateOptions& options);

/// Lists (under -help) every option `pins generate` reads: generate's own, the selected
/// family's and the solver's. Collective on `comm`; reads but does not validate.
PetscErrorCode generate_help(MPI_Comm comm, const char* prefix);

}  // namespace pins::petsc
