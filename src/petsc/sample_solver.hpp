#pragma once
/// \file
/// Solving one sample on PETSC_COMM_SELF (or on a group of processes): assemble A(inputs)
/// and b(inputs), solve with a freshly configured KSP, and certify the solution by its true
/// residual; for a nonlinear family (ProblemFamily::nonlinear()), solve F(u) = 0 from u = 0
/// with a freshly configured SNES and certify by ‖F(u)‖ / ‖F(0)‖; for a time-dependent family
/// (ProblemFamily::time_dependent()), step the initial state with a freshly configured TS
/// (backward Euler) and certify every step by the family's one-step residual. Private to
/// pins::petsc.

#include <petscksp.h>
#include <petscsnes.h>
#include <petscts.h>

#include <functional>
#include <string>
#include <vector>

#include "pde/problem_family.hpp"
#include "pins/petsc/convergence_history.hpp"

namespace pins::petsc::detail {

/// Applies pins' solver defaults (CG, GAMG, rtol 1e-10, unpreconditioned residual norm)
/// to `ksp`, then its options (-ksp_*, -pc_* under `prefix`) on top.
PetscErrorCode configure_solver(KSP ksp, const char* prefix);

/// Applies pins' nonlinear solver defaults to `snes` — Newton with a backtracking line
/// search (newtonls, bt), rtol 1e-10 on ‖F(u)‖ / ‖F(0)‖ (the solve starts from u = 0), no
/// step-size test (stol 0), GMRES + GAMG for the non-symmetric Jacobians with rtol 1e-8 —
/// then its options (-snes_*, -ksp_*, -pc_* under `prefix`) on top.
PetscErrorCode configure_nonlinear_solver(SNES snes, const char* prefix);

/// Applies pins' time-stepping defaults to `ts` (whose DM is set): backward Euler (TSBEULER)
/// with the fixed step `dt` for exactly `steps` steps (no step adaptivity; the final time
/// 2 (steps + 2)·dt is never reached, so no step is shortened to match it), one SNES failure
/// ends the run, and its SNES configured by configure_nonlinear_solver — then the options
/// (-ts_*, -snes_*, -ksp_*, -pc_* under `prefix`) on top. Refuses, naming the option,
/// another -ts_type (the family's equation is the backward Euler step), step adaptivity
/// (-ts_adapt_type), and -ts_dt / -ts_max_steps that differ from the family's -dt / -steps.
PetscErrorCode configure_time_stepper(TS ts, const char* prefix, double dt, int steps);

/// The solver the options select, as recorded in datasets. For a nonlinear solve, rtol and
/// max_it are the SNES's and ksp_type, pc_type, norm_type, ksp_rtol those of its linear solves.
struct SolverDescription {
  bool nonlinear = false;
  std::string ksp_type, pc_type, norm_type;
  double rtol = 0;
  int max_it = 0;
  std::string snes_type, linesearch_type;  ///< nonlinear only
  double atol = 0, ksp_rtol = 0;           ///< nonlinear only: SNES atol, linear rtol
  std::string ts_type;                     ///< time-dependent only: "beuler"
  double dt = 0;                           ///< time-dependent only: the fixed step
  int steps = 0;                           ///< time-dependent only: steps per trajectory
};

/// Configures a throw-away KSP (a SNES if `nonlinear`) on `comm` and reports its settings
/// (under -help, this is what lists the solver options). Throws pins::Error on bad solver
/// options.
SolverDescription describe_solver(MPI_Comm comm, const std::string& prefix, bool nonlinear = false);

/// The same for a time-dependent family: configures a throw-away TS (configure_time_stepper,
/// on a DM of `family`) and reports its SNES and KSP settings with ts_type, dt and steps.
/// Here rtol is the tolerance of every step's relative residual ‖G(u^{t+1})‖/‖u^t‖ (see
/// SampleSolver::solve) and atol is not used. Throws pins::Error on bad options.
SolverDescription describe_time_stepper(MPI_Comm comm, const std::string& prefix,
                                        const ProblemFamily& family);

/// Outcome of one sample: iterations (all restarts together; Newton iterations for a
/// nonlinear family, all steps' Newton iterations for a time-dependent one), the true
/// relative residual (‖F(u)‖/‖F(0)‖ for a nonlinear family, the largest step's for a
/// time-dependent one), and an empty `failure` unless the sample must fail the run (then a
/// one-line reason).
struct SampleResult {
  int iterations = 0;
  double residual = 0;
  std::string failure;
};

/// Owns the DM, matrix and vectors of one grid, reused from sample to sample; the KSP is
/// created anew for every sample, so no sample's result depends on the ones before it.
///
/// On a communicator of several processes (a group of `pins generate
/// -generate_procs_per_sample k`) the DM, matrix and solver are distributed over them: every
/// process passes the whole-grid inputs (and initial state), and u comes back on the
/// communicator's rank 0 alone, gathered in the natural order. The family's DM must then be
/// a DMDA.
class SampleSolver {
 public:
  /// `family` must be set up; `dof` is the solution's components per grid point. Collective
  /// on `comm`.
  SampleSolver(const ProblemFamily& family, int dof, std::string prefix,
               MPI_Comm comm = PETSC_COMM_SELF);
  ~SampleSolver();
  SampleSolver(const SampleSolver&) = delete;
  SampleSolver& operator=(const SampleSolver&) = delete;

  /// Solves A(inputs) u = b(inputs), or F(u; inputs) = 0 for a nonlinear family; writes u
  /// ([dof][grid...], component-major; on rank 0 of the communicator). Collective. Throws
  /// pins::Error on PETSc errors.
  ///
  /// A time-dependent family: `inputs` are its dataset inputs (no state), u is
  /// [steps + 1][dof][grid...] and holds the initial state in u[0] on entry; every backward
  /// Euler step t → t+1 (a TS from configure_time_stepper) is written to u[t+1]. Each step's
  /// SNES stops when ‖G(u^{t+1})‖ ≤ rtol ‖u^t‖, G = dt · F(u, (u − u^t)/dt) the family's
  /// one-step residual (pins::Family::residual, whose G(0) = −u^t) and rtol -snes_rtol: its
  /// atol is set to rtol ‖u^t‖ / dt before the step and its own rtol test is off. The
  /// residual reported is the largest step's ‖G(u^{t+1})‖/‖u^t‖, recomputed after the step
  /// with TSComputeIFunction; a diverged step or one above rtol is a failure naming it.
  SampleResult solve(const std::vector<const double*>& inputs, double* u);

  /// The same solve, recording at every iteration how far the iterate is from `reference`
  /// (the stored solution, [dof][grid...] like u) into `history` (cleared first). The
  /// monitor's own cost is kept out of history->seconds, but it still slows the solve's
  /// total wall time down. Linear families only.
  SampleResult solve(const std::vector<const double*>& inputs, double* u, const double* reference,
                     ConvergenceHistory* history);

  /// Nonlinear families: `before` is called with each sample's SNES once its options are set,
  /// just before SNESSolve (e.g. to install an initial guess), `after` once it has solved.
  /// Time-dependent families: the same with the SNES of each trajectory's TS, before and
  /// after TSSolve (a guess installed there predicts every step). Either may be empty; both
  /// run inside the solve's time.
  void set_snes_hooks(std::function<void(SNES)> before, std::function<void(SNES)> after) {
    before_solve_ = std::move(before);
    after_solve_ = std::move(after);
  }

  /// Linear families: keep one KSP from sample to sample, as an application keeps its
  /// solver (configured from the options once, its operator's new values set before every
  /// solve, so the PC sets itself up again; a surrogate PC or KSPGuess keeps its loaded
  /// network). Off by default: then every sample gets a fresh KSP. Not with histories.
  void keep_solver(bool keep) { keep_solver_ = keep; }

 private:
  void destroy();
  // The global vector x ([grid...][dof] per process) → u ([dof][grid...], whole grid) on rank 0.
  void store(Vec x, double* u) const;
  // The whole-grid u ([dof][grid...]) → this process's part of x.
  void load(const double* u, Vec x) const;
  SampleResult solve_nonlinear(const std::vector<const double*>& inputs);
  SampleResult solve_trajectory(const std::vector<const double*>& inputs, double* u);

  const ProblemFamily& family_;
  int dof_;
  std::string prefix_;
  MPI_Comm comm_;
  int comm_size_ = 1, comm_rank_ = 0;
  Vec natural_ = nullptr, gathered_ = nullptr;  // several processes: natural order, on rank 0
  VecScatter to_zero_ = nullptr;
  DM da_ = nullptr;
  Mat A_ = nullptr;
  Vec b_ = nullptr, x_ = nullptr, r_ = nullptr;
  Vec reference_ = nullptr, work_ = nullptr;  // for the history only, made on first use
  Vec state_ = nullptr, rate_ = nullptr;      // time-dependent only: u^t and (u − u^t)/dt
  std::function<void(SNES)> before_solve_, after_solve_;
  bool keep_solver_ = false;
  KSP kept_ksp_ = nullptr;  // keep_solver(true): the KSP of the samples so far
};

}  // namespace pins::petsc::detail
