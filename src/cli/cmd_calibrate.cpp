// pins calibrate: fit a model's error bound on held-out labelled data and store it in the
// model file (pins/core/calibration.hpp).

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "commands.hpp"
#include "pins/core/calibration.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/train_job.hpp"  // read_training_datasets, training_memory_budget
#include "pins/core/trainer.hpp"
#include "pins/petsc/evaluate.hpp"

namespace pins::cli {

int run_calibrate(MPI_Comm comm, const std::string& command_line) {
  char model_path[PETSC_MAX_PATH_LEN] = "", data[PETSC_MAX_PATH_LEN] = "";
  char output[PETSC_MAX_PATH_LEN] = "";
  PetscReal level = 0.9, memory = 0;
  PetscInt threads = 0;
  char score[32] = "auto";
  PetscBool force = PETSC_FALSE, help = PETSC_FALSE;
  read_options([&]() -> PetscErrorCode {
    PetscFunctionBeginUser;
    PetscOptionsBegin(comm, nullptr, "pins calibrate: a model's error bound (rank 0)", "pins");
    PetscCall(PetscOptionsString("-model", "Model file (pins train -o), required",
                                 "pins calibrate", model_path, model_path, sizeof model_path,
                                 nullptr));
    PetscCall(PetscOptionsString("-data",
                                 "Held-out labelled dataset (HDF5), not trained on, from the "
                                 "distribution the model will be used on; required",
                                 "pins calibrate", data, data, sizeof data, nullptr));
    PetscCall(PetscOptionsString("-o", "Model file to write (default: -model itself, replaced "
                                 "atomically)", "pins calibrate", output, output, sizeof output,
                                 nullptr));
    PetscCall(PetscOptionsBool("-force", "Overwrite an existing -o", "pins calibrate", force,
                               &force, nullptr));
    PetscCall(PetscOptionsReal("-calibrate_level",
                               "Coverage of the bound: P(error <= bound) >= level",
                               "pins calibrate", level, &level, nullptr));
    PetscCall(PetscOptionsString("-calibrate_score",
                                 "What the bound multiplies: residual (the certificate), "
                                 "error_estimate (multigrid cycles on the residual) or auto "
                                 "(the estimate where the family offers one)",
                                 "pins calibrate", score, score, sizeof score, nullptr));
    PetscCall(PetscOptionsReal("-calibrate_memory",
                               "MB of dataset values to hold (0: auto); a larger dataset is "
                               "streamed", "pins calibrate", memory, &memory, nullptr));
    PetscCall(PetscOptionsInt("-calibrate_threads", "LibTorch threads (0: the cores available)",
                              "pins calibrate", threads, &threads, nullptr));
    PetscOptionsEnd();
    PetscCall(PetscOptionsHasHelp(nullptr, &help));
    PetscFunctionReturn(0);
  });
  if (help) return 0;
  on_rank0(comm, [&] {
    const std::string mpath = model_path, dpath = data;
    const std::string out = output[0] ? std::string(output) : mpath;
    PINS_CHECK(!mpath.empty(), "-model <file.pins> is required: the model to calibrate");
    PINS_CHECK(!dpath.empty(), "-data <file.h5> is required: held-out labelled samples (for "
               "a precondition model: any samples of the operators it will meet)");
    PINS_CHECK(level > 0 && level < 1, "-calibrate_level must be in (0, 1), got ",
               double(level));
    const std::string score_name = score;
    PINS_CHECK(is_calibration_score(score_name),
               "-calibrate_score must be auto, residual or error_estimate, got '", score_name, "'");
    PINS_CHECK(memory >= 0, "-calibrate_memory must be >= 0 (MB; 0: auto), got ",
               double(memory));
    // In place (the default) replaces the model file; another -o must not exist unless forced.
    if (out != mpath) check_output_path(out, "-o", force);
    set_training_threads(int(threads));
    const std::int64_t budget = training_memory_budget(double(memory), 1);
    const Dataset d = read_training_datasets({dpath}, budget).front();
    LoadedModel loaded = load_model(mpath);
    if (loaded.manifest.task == kPreconditionTask) {
      // A preconditioner model: its operator flag refitted on these operators (the user's
      // own), in place of the one fitted at training time on pins' samplers. No solutions
      // needed.
      InputFlag flag;
      try {
        flag.fit(dataset_operator_statistics(d, dpath));
      } catch (const Error& err) {
        throw Error(dpath + ": " + err.what());
      }
      ModelManifest m = loaded.manifest;
      m.metrics[kOperatorFlagKey] = flag.to_json(kOperatorFlagWhat);
      m.metrics[kOperatorFlagKey]["data"] = dpath;
      m.metrics[kOperatorFlagKey]["command"] = command_line;
      save_model(out, *loaded.model, m, /*force=*/out == mpath || force);
      std::printf("pins calibrate: %s: operator flag refitted on the %lld operators of %s "
                  "(threshold %.4g; replace mode and the guess skip the network above it)\n",
                  out.c_str(), (long long)flag.samples, dpath.c_str(), flag.threshold);
      std::fflush(stdout);
      return;
    }
    require_labelled(d.info, dpath, "calibration compares the model's answers with solutions");
    PINS_CHECK(loaded.manifest.task == "solution", "model file '", mpath, "' is a ",
               loaded.manifest.task, " model; pins calibrate bounds the errors of solution "
               "models and refits the operator flag of precondition models");
    const ModelRequirements need =
        petsc::evaluation_requirements(loaded.manifest.architecture, d.info);
    check_model_requirements(loaded.manifest, need, mpath);
    petsc::Evaluation e;
    const ErrorCalibration c = petsc::calibrate_model(*loaded.model, loaded.manifest, mpath, d,
                                                      dpath, double(level), score_name, budget,
                                                      &e);
    ModelManifest m = loaded.manifest;
    m.metrics["calibration"] = c.to_json();
    m.metrics["calibration"]["command"] = command_line;
    save_model(out, *loaded.model, m, /*force=*/out == mpath || force);
    std::printf("pins calibrate: %s: %.0f %% error bound = %.4g x %s (split "
                "conformal on %lld samples of %s; relative L2 error of the answers: mean %.3g, "
                "max %.3g); out of distribution: relative residual > %.4g or input score > "
                "%.4g\n",
                out.c_str(), 100 * c.level, c.quantile,
                c.uses_estimate() ? "error estimate" : "relative residual",
                (long long)c.samples, dpath.c_str(),
                e.error.mean, e.error.max, c.residual_threshold, c.inputs.threshold);
    std::fflush(stdout);
  });
  return 0;
}

}  // namespace pins::cli
