#pragma once
/// \file
/// The surrogate as Newton's initial guess: a solution model's prediction u₀ = G(inputs) is
/// where SNES starts (SNESSetComputeInitialGuess), so a good model leaves Newton only its
/// last, quadratically convergent steps.
///
/// From the command line of any PETSc program whose SNES lives on a 2-D DMDA and discretises
/// a family that pins knows how to read (today nonlinear_darcy: the program's F(0) = −f and
/// its Jacobian at u = 0 = A(κ) give the inputs back, pde/nonlinear_darcy/README.md):
/// \code
///   ./my_snes_program -dll_append <build>/lib/libpins_petsc.so -snes_surrogate_guess nl.pins
///       -snes_surrogate_guess_view -snes_converged_reason
/// \endcode
/// Options (under the SNES's prefix): -snes_surrogate_guess <model.pins>;
/// -snes_surrogate_guess_view (a line per solve: time, ‖F(u₀)‖/‖F(0)‖);
/// -snes_surrogate_guess_rtol_from_zero (default true: -snes_rtol stays relative to ‖F(0)‖, as
/// a solve from zero measures it, instead of ‖F(u₀)‖; only with PETSc's default convergence
/// test); -snes_surrogate_guess_threads (LibTorch threads, 0: the cores bound to the process).
///
/// Inside a time-stepper: a one-step model of a time-dependent family (e.g. allen_cahn) is
/// the predictor of each implicit step. The SNES of TS's step starts from the previous state,
/// which is the model's state input; the program gives the other inputs (κ) with
/// snes_set_surrogate_guess(TSGetSNES(ts), model, {kappa}), and -snes_rtol stays relative to
/// ‖F‖ at the previous state, where the step's Newton would have started.
///
/// A program that has the input fields itself (or whose equation is not in the family's
/// exact form) passes them: pins_snes_set_surrogate_guess below, or from C
/// PinsSNESSetSurrogateGuess (pins/petsc/snes_guess.h). The network runs on rank 0 on the
/// whole grid (inputs gathered, the guess scattered back), like the surrogate PC's.

#include <petscsnes.h>

#include <memory>
#include <string>
#include <vector>

#include "pins/petsc/snes_guess.h"

namespace pins::petsc {

/// A loaded solution model for initial guesses (opaque; share one among many SNES).
class SurrogateGuessModel;

/// Loads `path` on every process of `comm` (so a bad file fails everywhere alike) and checks
/// that it is a solution model of a family whose inputs the guess can obtain. Errors are
/// PETSc errors naming `option`: PETSC_ERR_FILE_OPEN for a missing file, PETSC_ERR_ARG_WRONG
/// for another family's or task's model. Sets LibTorch's thread count (process-wide):
/// `threads` if positive, else the cores of this process divided by the processes sharing
/// its node.
PetscErrorCode load_surrogate_guess_model(MPI_Comm comm, const std::string& path,
                                          const char* option, PetscInt threads,
                                          std::shared_ptr<const SurrogateGuessModel>* model);

/// How the guess is installed.
struct SurrogateGuessSettings {
  /// Keep -snes_rtol relative to ‖F(0)‖ (what a solve from zero measures) rather than to
  /// ‖F(u₀)‖: the guess then changes the iterations, not the tolerance. Only applied when the
  /// SNES uses PETSc's default convergence test.
  bool rtol_from_zero = true;
  /// Print one line per solve (time of the guess, ‖F(u₀)‖/‖F(0)‖).
  bool view = false;
  /// Skip the network when the model's calibrated input flag (pins calibrate's input
  /// statistics) marks a solve's inputs as unlike its calibration inputs: Newton then starts
  /// where it would without the guess (zero, or a time step's previous state), said once.
  bool input_check = true;
};

/// What the guess did on the SNES's solves so far.
struct SurrogateGuessStats {
  PetscInt guesses = 0;        ///< solves that started from the network's guess
  double seconds_last = 0;     ///< wall time of the last guess: inputs, network, scatter
  double seconds_total = 0;    ///< all guesses together
  double residual_ratio = -1;  ///< ‖F(u₀)‖/‖F(0)‖ of the last guess (-1: not computed)
  bool nonfinite = false;      ///< the network produced NaN/Inf once (then u₀ = 0)
  PetscInt flagged = 0;        ///< solves whose inputs the input flag marked (no guess)
  double input_score = 0;      ///< the last solve's input score (> 1: flagged; 0: no flag)
};

/// Installs the guess on `snes` (replacing an earlier one). `inputs`: the family's input
/// fields in its order as global vectors of the SNES's DMDA (referenced, read at every
/// solve), or empty to read them from the program's equation at every solve. Example:
/// \code
///   std::shared_ptr<const pins::petsc::SurrogateGuessModel> m;
///   PetscCall(pins::petsc::load_surrogate_guess_model(comm, "nl.pins", "my_code", 0, &m));
///   PetscCall(pins::petsc::snes_set_surrogate_guess(snes, m, {kappa, f}));
/// \endcode
PetscErrorCode snes_set_surrogate_guess(SNES snes, std::shared_ptr<const SurrogateGuessModel> model,
                                        const std::vector<Vec>& inputs = {},
                                        const SurrogateGuessSettings& settings = {});

/// The statistics of the guess on `snes` (all zero if none is installed).
PetscErrorCode snes_get_surrogate_guess_stats(SNES snes, SurrogateGuessStats* stats);

/// The SNES options checker behind -snes_surrogate_guess (registered by register_all()).
PetscErrorCode snes_surrogate_guess_from_options(SNES snes);

}  // namespace pins::petsc
