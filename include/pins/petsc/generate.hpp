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
/// The P MPI processes form groups of k = -generate_procs_per_sample (default 1; P must be a
/// multiple of k). Each group solves its share of the samples (sample i goes to group
/// i mod (P/k)) one after the other: on PETSC_COMM_SELF objects when k = 1 (data generation
/// is many small solves, not one big one), on a DMDA and solver distributed over the group's
/// k processes otherwise (3-D samples too large or too slow for one process). Every group's
/// first process writes its own samples into the shared file with parallel HDF5 (collective
/// writes, one checksummed chunk per sample and array; pins/core/dataset_parallel.hpp);
/// nothing is sent to rank 0. Groups left without a sample (fewer samples than groups) take
/// part in the collective writes with nothing.
///
/// A sample's numbers depend on (seed, index) and k only, so the arrays are bitwise identical
/// for any process count P at the same k. Between k = 1 and k > 1 the inputs and seeds are
/// bitwise identical, the solutions agree to the solver's tolerance but not bitwise (a
/// parallel solve adds up its dot products and builds its preconditioner per process), and
/// the iteration counts may differ; the file records k as solver.processes_per_sample.
/// (For the bitwise part, generate() runs OpenMP, and so OpenBLAS, on one thread while it
/// works: threaded BLAS reductions round differently for different thread counts.)
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
  /// -generate_procs_per_sample k: processes that solve one sample together (a group); the
  /// process count must be a multiple of k. k > 1 needs a family on a DMDA.
  int procs_per_sample = 1;
  std::string prefix;          ///< options prefix for the family's and the solver's options
  std::string command;         ///< command line recorded in the dataset (informational)

  /// Reads -pde, -grid, -samples, -seed, -o, -force, -progress, -inputs_only and
  /// -generate_procs_per_sample under
  /// `prefix` (listed by -help) and remembers the prefix. Does not check the values; see
  /// validate().
  PetscErrorCode SetFromOptions(MPI_Comm comm, const char* prefix);

  /// Throws pins::Error naming the first bad option and what was expected (grid at least
  /// 3 cells per direction with as many directions as the family has, samples ≥ 1, -o
  /// given, -pde registered, procs_per_sample ≥ 1).
  void validate() const;

  /// The grid for a family of dimension `dim`, slowest direction first ({ny, nx},
  /// {nz, ny, nx}) as datasets store it. Throws pins::Error if -grid has another number of
  /// directions.
  std::vector<std::int64_t> grid_for(int dim) const;
};

/// Statistics of a finished run (the same on every process: reduced over all of them).
struct GenerateSummary {
  std::int64_t samples = 0;
  bool inputs_only = false;        ///< no solves: the solver fields below are zero / empty
  std::vector<std::int64_t> grid;  ///< slowest direction first, as in the dataset
  std::string grid_text;           ///< x first, e.g. "24x16"
  int processes = 1;
  int procs_per_sample = 1;        ///< processes per group (each group solves one sample)
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
  double solve_seconds = 0;  ///< wall time of the sampling (+ solving + writing) rounds
  /// This process's wall time in the collective writes (the rounds' rows, then the metadata,
  /// the close and the rename).
  double write_seconds = 0;
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
