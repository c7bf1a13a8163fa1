// The surrogate as Newton's initial guess (pins/petsc/snes_guess.hpp): a per-SNES context
// (in a PetscContainer composed on the SNES, so it dies with it), the compute-initial-guess
// callback, a convergence test that keeps -snes_rtol relative to ‖F(0)‖, the options checker
// and the C entry point. Every function PETSc calls runs behind pins' error boundary.
#include "pins/petsc/snes_guess.hpp"

#include <petsc/private/snesimpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include "collective.hpp"
#include "grid_gather.hpp"
#include "network_threads.hpp"
#include "pde/nonlinear_darcy/nonlinear_darcy_guess_inputs.hpp"
#include "pins/core/calibration.hpp"
#include "pins/core/check.hpp"
#include "pins/core/family.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/error.hpp"
#include "stencil_from_matrix.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::petsc {

namespace {

constexpr char kWho[] = "-snes_surrogate_guess";
constexpr char kContextName[] = "pins_surrogate_guess";

// Families whose inputs the guess can read from a program's equation (F(0), J(0)).
// nonlinear_darcy: f = −F(0), κ from J(0) = A(κ).
bool readable_family(const std::string& name) {
  return name == "nonlinear_darcy";
}

// Families the guess serves: those above, and time-dependent ones, whose state input is the
// point the SNES starts from (a TS's implicit step starts from the previous state) and whose
// other inputs the program gives.
bool served_family(const std::string& name) {
  return readable_family(name) || find_family(name).time_dependent();
}

using Clock = std::chrono::steady_clock;

}  // namespace

class SurrogateGuessModel {
 public:
  SurrogateGuessModel(const std::string& path) : path_(path) {
    const ModelManifest m = read_model_manifest(path);
    PINS_CHECK(m.task == "solution", "model file '", path, "' is a '", m.task,
               "' model; the SNES initial guess needs a solution model of nonlinear_darcy "
               "(pins train -data <nonlinear_darcy dataset>) or a one-step model of a "
               "time-dependent family");
    PINS_CHECK(served_family(m.problem_family), "model file '", path, "' was trained for ",
               m.problem_family,
               "; the SNES initial guess serves solution models of nonlinear_darcy (the "
               "family whose inputs it can read from a SNES) and one-step models of "
               "time-dependent families (e.g. allen_cahn)");
    const Family& family = find_family(m.problem_family);
    ModelRequirements need;
    need.problem_family = m.problem_family;
    need.task = "solution";
    need.in_channels = family.input_channels();
    need.out_channels = family.stencil().dof;
    LoadedModel loaded = load_model(path, need);
    model_ = loaded.model;
    manifest_ = loaded.manifest;
    model_->module().eval();
    try {
      norm_ = Normalisation::from_json(manifest_.normalisation);
    } catch (const Error& e) {
      throw Error("model file '" + path + "': " + e.what());
    }
    // pins calibrate's input flag, when the model carries one.
    if (manifest_.metrics.is_object() && manifest_.metrics.contains("calibration")) {
      try {
        input_flag_ = ErrorCalibration::from_json(manifest_.metrics.at("calibration")).inputs;
      } catch (const Error& e) {
        throw Error("model file '" + path + "': " + e.what());
      }
    }
    grid_independent_ = surrogate_traits(manifest_.architecture).grid_independent;
    // The inputs a program gives (or the equation yields); a time-dependent family's state
    // is the SNES's starting point instead.
    for (const auto& f : family.dataset_inputs()) input_names_.push_back(f.name);
    state_input_ = family.state_input();
    readable_ = readable_family(m.problem_family);
  }

  const std::string& path() const { return path_; }
  const ModelManifest& manifest() const { return manifest_; }
  const std::vector<std::string>& input_names() const { return input_names_; }
  /// The state input of a time-dependent family's one-step model (empty otherwise).
  const std::string& state_input() const { return state_input_; }
  /// Whether the inputs can be read from the program's equation (else they must be given).
  bool readable() const { return readable_; }

  // Throws unless the model may run on an nx × ny grid.
  void check_grid(PetscInt nx, PetscInt ny) const {
    PINS_CHECK(grid_independent_ || (manifest_.grid_nx == nx && manifest_.grid_ny == ny),
               "model file '", path_, "' (", manifest_.architecture, ") was trained on ",
               manifest_.grid_nx, " x ", manifest_.grid_ny,
               " and is not grid-independent; this SNES's DMDA is ", nx, " x ", ny);
  }

  /// Whether the model carries a calibrated input flag.
  bool has_input_flag() const { return input_flag_.fitted(); }
  /// The input flag's relative score (> 1: flagged) of whole-grid inputs [1, ny, nx] each.
  double input_score(const FieldMap& inputs) const {
    return input_flag_.relative_scores(input_statistics(norm_.features(inputs, torch::kFloat64)))
        .item<double>();
  }

  // u [ny, nx] for whole-grid inputs [ny, nx] each (rank 0).
  torch::Tensor predict(const FieldMap& inputs) const {
    return pins::predict(*model_, norm_, inputs, 1)
        .reshape({inputs.begin()->second.size(1), inputs.begin()->second.size(2)});
  }

 private:
  std::string path_;
  ModelManifest manifest_;
  std::shared_ptr<Surrogate> model_;
  Normalisation norm_;
  bool grid_independent_ = false;
  InputFlag input_flag_;
  std::vector<std::string> input_names_;
  std::string state_input_;
  bool readable_ = false;
};

namespace {

struct GuessContext {
  std::shared_ptr<const SurrogateGuessModel> model;
  std::vector<Vec> inputs;  // referenced; empty: read from the equation
  SurrogateGuessSettings settings;
  SurrogateGuessStats stats;
  PetscReal fnorm0 = -1;  // ‖F(0)‖ of the current solve, for the convergence test
  DM gather_dm = nullptr;
  std::unique_ptr<GridGather> gather;
  bool reported_nonfinite = false, reported_flagged = false;

  void release_inputs() {
    for (Vec& v : inputs) VecDestroy(&v);
    inputs.clear();
  }
  ~GuessContext() { release_inputs(); }
};

PetscErrorCode destroy_context(void* ptr) {
  delete static_cast<GuessContext*>(ptr);
  return 0;
}

PetscErrorCode context_of(SNES snes, GuessContext** ctx) {
  PetscContainer container = nullptr;
  PetscFunctionBeginUser;
  PetscCall(PetscObjectQuery((PetscObject)snes, kContextName, (PetscObject*)&container));
  *ctx = nullptr;
  if (container) PetscCall(PetscContainerGetPointer(container, (void**)ctx));
  PetscFunctionReturn(0);
}

// The SNES's DMDA, checked like the surrogate PC's grid (2-D, one dof, width ≥ 1, bounded).
PetscErrorCode snes_grid(SNES snes, Mat P, DM* da) {
  DM dm = nullptr;
  PetscBool is_da = PETSC_FALSE;
  PetscFunctionBeginUser;
  PetscCall(SNESGetDM(snes, &dm));
  PetscCall(PetscObjectTypeCompare((PetscObject)dm, DMDA, &is_da));
  DMType type = nullptr;
  PetscCall(DMGetType(dm, &type));
  PetscCheck(is_da, PetscObjectComm((PetscObject)snes), PETSC_ERR_ARG_WRONG,
             "-snes_surrogate_guess needs a SNES on a 2-D DMDA (SNESSetDM) whose grid the "
             "model was trained for; this SNES's DM is of type %s",
             type ? type : "(none)");
  PetscCheck(P, PetscObjectComm((PetscObject)snes), PETSC_ERR_ORDER,
             "-snes_surrogate_guess: the SNES has no Jacobian matrix");
  PetscCall(find_grid(dm, P, kWho, da));
  PetscFunctionReturn(0);
}

// The compute-initial-guess callback: inputs (given, or from F(0) and J(0)) to rank 0, the
// network, the guess scattered into x.
PetscErrorCode form_guess(SNES snes, Vec x, void* ptr) {
  GuessContext& c = *static_cast<GuessContext*>(ptr);
  PetscFunctionBeginUser;
  const Clock::time_point t0 = Clock::now();
  MPI_Comm comm = PetscObjectComm((PetscObject)snes);
  PetscMPIInt rank;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  Mat J = nullptr, P = nullptr;
  PetscCall(SNESGetJacobian(snes, &J, &P, nullptr, nullptr));
  DM da;
  PetscCall(snes_grid(snes, P, &da));
  PetscInt nx, ny;
  PetscCall(DMDAGetInfo(da, nullptr, &nx, &ny, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr, nullptr));
  {
    std::optional<detail::Failure> failure;
    detail::record_failure(failure, -1, [&] { c.model->check_grid(nx, ny); });
    if (const auto m = detail::agree(comm, failure))
      SETERRQ(comm, PETSC_ERR_ARG_WRONG, "%s: %s", kWho, m->c_str());
  }
  if (c.gather_dm != da || !c.gather) {
    c.gather = std::make_unique<GridGather>();
    PetscCall(c.gather->setup(da));
    c.gather_dm = da;
  }
  const std::vector<std::string>& names = c.model->input_names();
  PetscCheck(c.inputs.empty() || c.inputs.size() == names.size(), comm, PETSC_ERR_ARG_SIZ,
             "%s: the model needs %zu input fields, %zu were given", kWho, names.size(),
             c.inputs.size());
  // The whole-grid inputs on rank 0, in the family's order.
  FieldMap fields;
  auto grid_tensor = [&](const PetscScalar* grid, double sign) {
    return (torch::from_blob(const_cast<PetscScalar*>(grid), {1, ny, nx}, torch::kFloat64) * sign)
        .contiguous();
  };
  Vec r;
  PetscCall(VecDuplicate(x, &r));
  PetscReal fnorm0 = -1;
  PetscCheck(!c.inputs.empty() || c.model->readable(), comm, PETSC_ERR_ARG_WRONGSTATE,
             "%s: a one-step model of %s needs its input fields given by the program "
             "(pins::petsc::snes_set_surrogate_guess or PinsSNESSetSurrogateGuess)",
             kWho, c.model->manifest().problem_family.c_str());
  if (!c.model->state_input().empty()) {
    // One implicit time step: the SNES starts from the previous state, which is the state
    // input; "from zero" means from that start here, as the solve without a guess would.
    const PetscScalar* grid = nullptr;
    PetscCall(c.gather->begin_read(x, &grid));
    if (rank == 0) fields[c.model->state_input()] = grid_tensor(grid, 1.0);
    PetscCall(c.gather->end_read(x, &grid));
    if (c.settings.rtol_from_zero) {
      PetscCall(SNESComputeFunction(snes, x, r));
      PetscCall(VecNorm(r, NORM_2, &fnorm0));
    }
  }
  if (!c.inputs.empty()) {
    for (size_t k = 0; k < names.size(); ++k) {
      const PetscScalar* grid = nullptr;
      PetscCall(c.gather->begin_read(c.inputs[k], &grid));
      if (rank == 0) fields[names[k]] = grid_tensor(grid, 1.0);
      PetscCall(c.gather->end_read(c.inputs[k], &grid));
    }
    if (c.settings.rtol_from_zero && c.model->state_input().empty()) {
      PetscCall(VecZeroEntries(x));
      PetscCall(SNESComputeFunction(snes, x, r));
      PetscCall(VecNorm(r, NORM_2, &fnorm0));
    }
  } else {
    // The program's own equation at u = 0: F(0) = −f, and J(0) = A(κ).
    PetscCall(VecZeroEntries(x));
    PetscCall(SNESComputeFunction(snes, x, r));
    PetscCall(VecNorm(r, NORM_2, &fnorm0));
    const PetscScalar* grid = nullptr;
    PetscCall(c.gather->begin_read(r, &grid));
    if (rank == 0) fields["f"] = grid_tensor(grid, -1.0);
    PetscCall(c.gather->end_read(r, &grid));
    PetscCall(SNESComputeJacobian(snes, x, J, P));
    torch::Tensor coeffs;
    PetscCall(stencil_from_matrix(P, da, *c.gather, kWho, &coeffs));
    std::optional<detail::Failure> failure;
    if (rank == 0)
      detail::record_failure(failure, -1, [&] {
        fields["kappa"] = nonlinear_darcy::kappa_from_jacobian_at_zero(coeffs).unsqueeze(0);
      });
    if (const auto m = detail::agree(comm, failure)) {
      PetscCall(VecDestroy(&r));
      SETERRQ(comm, PETSC_ERR_ARG_WRONG, "%s: %s", kWho, m->c_str());
    }
  }
  c.fnorm0 = fnorm0;
  // Inputs unlike the model's calibration inputs: no guess (rank 0 decides for all).
  c.stats.input_score = 0;
  if (c.settings.input_check && c.model->has_input_flag()) {
    std::optional<detail::Failure> failure;
    if (rank == 0)
      detail::record_failure(failure, -1, [&] { c.stats.input_score = c.model->input_score(fields); });
    if (const auto m = detail::agree(comm, failure)) {
      PetscCall(VecDestroy(&r));
      SETERRQ(comm, PETSC_ERR_LIB, "%s: the input flag failed: %s", kWho, m->c_str());
    }
    PetscCallMPI(MPI_Bcast(&c.stats.input_score, 1, MPI_DOUBLE, 0, comm));
  }
  if (c.stats.input_score > 1) {
    ++c.stats.flagged;
    if (!c.reported_flagged)
      PetscCall(PetscPrintf(comm,
                            "pins: -snes_surrogate_guess: the inputs are unlike the model's "
                            "calibration inputs (input score %.3g > 1); Newton starts without "
                            "the network's guess\n",
                            c.stats.input_score));
    c.reported_flagged = true;
    PetscCall(VecDestroy(&r));
    PetscFunctionReturn(0);
  }
  // The network on rank 0; a failure there stops every rank with its message.
  PetscScalar* out = nullptr;
  PetscCall(c.gather->begin_write(x, &out));
  int finite = 1;
  std::optional<detail::Failure> failure;
  if (rank == 0) {
    detail::record_failure(failure, -1, [&] {
      const torch::Tensor u = c.model->predict(fields).to(torch::kFloat64).contiguous();
      finite = torch::isfinite(u).all().item<bool>() ? 1 : 0;
      if (finite) std::memcpy(out, u.data_ptr<double>(), sizeof(double) * size_t(nx * ny));
    });
    if (failure || !finite) std::memset(out, 0, sizeof(double) * size_t(nx * ny));
  }
  PetscCall(c.gather->end_write(x, &out));
  if (const auto m = detail::agree(comm, failure)) {
    PetscCall(VecDestroy(&r));
    SETERRQ(comm, PETSC_ERR_LIB,
            "%s: the network failed on the %" PetscInt_FMT " x %" PetscInt_FMT " grid: %s", kWho,
            nx, ny, m->c_str());
  }
  PetscCallMPI(MPI_Bcast(&finite, 1, MPI_INT, 0, comm));
  c.stats.seconds_last = std::chrono::duration<double>(Clock::now() - t0).count();
  c.stats.seconds_total += c.stats.seconds_last;
  ++c.stats.guesses;
  if (!finite) {
    c.stats.nonfinite = true;
    if (!c.reported_nonfinite)
      PetscCall(PetscPrintf(comm,
                            "pins: -snes_surrogate_guess: the network's output contains "
                            "NaN or Inf; starting from zero instead\n"));
    c.reported_nonfinite = true;
  }
  c.stats.residual_ratio = -1;
  if (c.settings.view) {
    // Measured outside the guess's time: it is a diagnostic, not part of the method.
    PetscReal fnorm;
    PetscCall(SNESComputeFunction(snes, x, r));
    PetscCall(VecNorm(r, NORM_2, &fnorm));
    c.stats.residual_ratio = fnorm0 > 0 ? fnorm / fnorm0 : -1;
    const ModelManifest& m = c.model->manifest();
    PetscCall(PetscPrintf(comm,
                          "pins: -snes_surrogate_guess: %s (%s, %s, trained on %d x %d) on the "
                          "%" PetscInt_FMT " x %" PetscInt_FMT " grid: guess in %.3g ms, "
                          "||F(u0)||/||F(0)|| = %.4g (inputs %s)\n",
                          c.model->path().c_str(), m.architecture.c_str(), m.problem_family.c_str(),
                          m.grid_nx, m.grid_ny, nx, ny, c.stats.seconds_last * 1e3,
                          (double)c.stats.residual_ratio,
                          c.inputs.empty() ? "read from F(0) and the Jacobian at u = 0"
                                           : "given by the program"));
  }
  PetscCall(VecDestroy(&r));
  PetscFunctionReturn(0);
}

// PETSc's default test, with the relative tolerance measured against ‖F(0)‖ (the guess's
// callback computed it) instead of ‖F(u₀)‖.
PetscErrorCode converged_from_zero(SNES snes, PetscInt it, PetscReal xnorm, PetscReal snorm,
                                   PetscReal fnorm, SNESConvergedReason* reason, void* ptr) {
  const GuessContext& c = *static_cast<const GuessContext*>(ptr);
  PetscFunctionBeginUser;
  PetscCall(SNESConvergedDefault(snes, it, xnorm, snorm, fnorm, reason, nullptr));
  if (it == 0 && c.fnorm0 > 0) snes->ttol = c.fnorm0 * snes->rtol;
  PetscFunctionReturn(0);
}

PetscErrorCode install(SNES snes, std::shared_ptr<const SurrogateGuessModel> model,
                       const std::vector<Vec>& inputs, const SurrogateGuessSettings& settings) {
  PetscFunctionBeginUser;
  GuessContext* c = nullptr;
  PetscCall(context_of(snes, &c));
  if (!c) {
    PetscContainer container;
    PetscCallCXX(c = new GuessContext());
    PetscCall(PetscContainerCreate(PetscObjectComm((PetscObject)snes), &container));
    PetscCall(PetscContainerSetPointer(container, c));
    PetscCall(PetscContainerSetUserDestroy(container, destroy_context));
    PetscCall(PetscObjectCompose((PetscObject)snes, kContextName, (PetscObject)container));
    PetscCall(PetscContainerDestroy(&container));  // the SNES holds the reference now
  }
  for (Vec v : inputs) PetscCall(PetscObjectReference((PetscObject)v));
  c->release_inputs();
  c->inputs = inputs;
  c->model = std::move(model);
  c->settings = settings;
  PetscCall(SNESSetComputeInitialGuess(snes, guarded<kWho, form_guess>, c));
  if (settings.rtol_from_zero && snes->ops->converged == SNESConvergedDefault)
    PetscCall(SNESSetConvergenceTest(snes, guarded<kWho, converged_from_zero>, c, nullptr));
  PetscFunctionReturn(0);
}

}  // namespace

PetscErrorCode load_surrogate_guess_model(MPI_Comm comm, const std::string& path,
                                          const char* option, PetscInt threads,
                                          std::shared_ptr<const SurrogateGuessModel>* model) {
  PetscFunctionBeginUser;
  try {
    *model = std::make_shared<const SurrogateGuessModel>(path);
  } catch (const FileNotFound& e) {
    SETERRQ(comm, PETSC_ERR_FILE_OPEN, "%s: %s", option, exception_message(e).c_str());
  } catch (const std::exception& e) {
    SETERRQ(comm, PETSC_ERR_ARG_WRONG, "%s: %s", option, exception_message(e).c_str());
  }
  PetscCall(set_network_threads(comm, threads));
  PetscFunctionReturn(0);
}

PetscErrorCode snes_set_surrogate_guess(SNES snes, std::shared_ptr<const SurrogateGuessModel> model,
                                        const std::vector<Vec>& inputs,
                                        const SurrogateGuessSettings& settings) {
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)snes);
  PetscCheck(model, comm, PETSC_ERR_ARG_NULL, "%s: no model", kWho);
  const size_t needed = model->input_names().size();
  PetscCheck(inputs.empty() || inputs.size() == needed, comm, PETSC_ERR_ARG_SIZ,
             "%s: model '%s' takes %zu input fields (%s), %zu were given", kWho,
             model->path().c_str(), needed, model->manifest().problem_family.c_str(),
             inputs.size());
  for (Vec v : inputs) PetscCheck(v, comm, PETSC_ERR_ARG_NULL, "%s: an input vector is NULL", kWho);
  PetscCall(install(snes, std::move(model), inputs, settings));
  PetscFunctionReturn(0);
}

PetscErrorCode snes_get_surrogate_guess_stats(SNES snes, SurrogateGuessStats* stats) {
  GuessContext* c = nullptr;
  PetscFunctionBeginUser;
  PetscCall(context_of(snes, &c));
  *stats = c ? c->stats : SurrogateGuessStats{};
  PetscFunctionReturn(0);
}

namespace {

PetscErrorCode from_options(SNES snes) {
  PetscFunctionBeginUser;
  GuessContext* c = nullptr;
  PetscCall(context_of(snes, &c));
  char path[PETSC_MAX_PATH_LEN] = "";
  if (c && c->model) PetscCall(PetscStrncpy(path, c->model->path().c_str(), sizeof path));
  SurrogateGuessSettings settings = c ? c->settings : SurrogateGuessSettings{};
  PetscBool set = PETSC_FALSE, view = settings.view ? PETSC_TRUE : PETSC_FALSE;
  PetscBool from_zero = settings.rtol_from_zero ? PETSC_TRUE : PETSC_FALSE;
  PetscBool input_check = settings.input_check ? PETSC_TRUE : PETSC_FALSE;
  PetscInt threads = 0;
  const char* prefix = nullptr;
  PetscCall(SNESGetOptionsPrefix(snes, &prefix));
  MPI_Comm comm = PetscObjectComm((PetscObject)snes);
  PetscOptionsBegin(comm, prefix, "pins surrogate initial guess (libpins_petsc)", "SNES");
  PetscCall(PetscOptionsString("-snes_surrogate_guess",
                               "Start Newton from this pins solution model's prediction "
                               "(nonlinear_darcy; inputs read from F(0) and J(0))",
                               "SNESSetComputeInitialGuess", path, path, sizeof path, &set));
  PetscCall(PetscOptionsBool("-snes_surrogate_guess_view",
                             "Print the guess's time and ||F(u0)||/||F(0)|| at every solve",
                             "SNESSetComputeInitialGuess", view, &view, nullptr));
  PetscCall(PetscOptionsBool("-snes_surrogate_guess_rtol_from_zero",
                             "Keep -snes_rtol relative to ||F(0)|| (as from a zero guess)",
                             "SNESSetComputeInitialGuess", from_zero, &from_zero, nullptr));
  PetscCall(PetscOptionsBool("-snes_surrogate_guess_input_check",
                             "Start without the guess when the model's calibrated input flag "
                             "marks the inputs as unlike its calibration inputs",
                             "SNESSetComputeInitialGuess", input_check, &input_check, nullptr));
  PetscCall(PetscOptionsInt("-snes_surrogate_guess_threads",
                            "LibTorch threads for the network (0: the cores bound to the process)",
                            "SNESSetComputeInitialGuess", threads, &threads, nullptr));
  PetscOptionsEnd();
  if (!set) PetscFunctionReturn(0);
  PetscCheck(path[0], comm, PETSC_ERR_ARG_NULL,
             "-snes_surrogate_guess needs a model file: -snes_surrogate_guess <model.pins> (a "
             "nonlinear_darcy solution model from pins train)");
  PetscCheck(threads >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-snes_surrogate_guess_threads must be >= 0 (0: automatic), got %" PetscInt_FMT,
             threads);
  std::shared_ptr<const SurrogateGuessModel> model;
  if (c && c->model && c->model->path() == path)
    model = c->model;
  else
    PetscCall(load_surrogate_guess_model(comm, path, "-snes_surrogate_guess", threads, &model));
  settings.view = view;
  settings.rtol_from_zero = from_zero;
  settings.input_check = input_check;
  PetscCall(install(snes, model, c ? c->inputs : std::vector<Vec>{}, settings));
  PetscFunctionReturn(0);
}

}  // namespace

PetscErrorCode snes_surrogate_guess_from_options(SNES snes) {
  return petsc_boundary(kWho, [&] { return from_options(snes); });
}

}  // namespace pins::petsc

extern "C" PetscErrorCode PinsSNESSetSurrogateGuess(SNES snes, const char model[],
                                                    PetscInt n_inputs, const Vec inputs[]) {
  using namespace pins::petsc;
  return petsc_boundary(kWho, [&]() -> PetscErrorCode {
    PetscFunctionBeginUser;
    MPI_Comm comm = PetscObjectComm((PetscObject)snes);
    PetscCheck(model && model[0], comm, PETSC_ERR_ARG_NULL,
               "PinsSNESSetSurrogateGuess: no model file given");
    PetscCheck(n_inputs >= 0 && (n_inputs == 0 || inputs), comm, PETSC_ERR_ARG_NULL,
               "PinsSNESSetSurrogateGuess: %" PetscInt_FMT " inputs but no array", n_inputs);
    std::shared_ptr<const SurrogateGuessModel> m;
    PetscCall(load_surrogate_guess_model(comm, model, kWho, 0, &m));
    PetscCall(snes_set_surrogate_guess(snes, m, std::vector<Vec>(inputs, inputs + n_inputs)));
    PetscFunctionReturn(0);
  });
}
