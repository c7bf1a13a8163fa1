// pins train: train a surrogate on a dataset and write a model file.

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli_options.hpp"
#include "commands.hpp"
#include "pins/core/calibration.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/smoother.hpp"
#include "pins/core/smoother_train.hpp"
#include "pins/core/train_job.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/error.hpp"     // exception_message
#include "pins/petsc/evaluate.hpp"  // calibrate_model
#include "pins/petsc/generate.hpp"  // CollectiveError
#include "pins/petsc/mpi_process_group.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::cli {

int run_train(MPI_Comm comm, const std::string& command_line) {
  char data[PETSC_MAX_PATH_LEN] = "", output[PETSC_MAX_PATH_LEN] = "";
  char type[64] = "fno", task[64] = "solution";
  char calibrate_data[PETSC_MAX_PATH_LEN] = "", calibrate_score[32] = "auto";
  PetscReal calibrate_level = 0.9;
  PetscBool force = PETSC_FALSE, help = PETSC_FALSE, type_set = PETSC_FALSE;
  read_options([&]() -> PetscErrorCode {
    PetscFunctionBeginUser;
    PetscOptionsBegin(comm, nullptr, "pins train: train a surrogate", "pins");
    PetscCall(PetscOptionsString("-data",
                                 "Labelled training dataset (HDF5); required unless "
                                 "-train_unlabelled alone (physics only)",
                                 "pins train",
                                 data, data, sizeof data, nullptr));
    PetscCall(PetscOptionsString("-o", "Model file to write, required", "pins train", output,
                                 output, sizeof output, nullptr));
    PetscCall(PetscOptionsBool("-force", "Overwrite an existing model file and checkpoint",
                               "pins train", force, &force, nullptr));
    PetscCall(PetscOptionsString("-surrogate_type",
                                 "Architecture (fno, unet, deeponet, mlp; -task precondition: "
                                 "mgnet by default, or fno, unet)",
                                 "pins train", type, type, sizeof type, &type_set));
    PetscCall(PetscOptionsString("-task",
                                 "solution (kappa, f -> u from -data), precondition (r -> A^-1 r "
                                 "for -pc_type surrogate, no data needed) or smoother (a sparse "
                                 "M ~ A^-1 for -pc_type surrogate_smoother, no data needed)",
                                 "pins train", task, task, sizeof task, nullptr));
    PetscCall(PetscOptionsString("-calibrate_data",
                                 "Held-out labelled dataset: calibrate the model's error bound and "
                                 "out-of-distribution flag on it right after training, into the "
                                 "model file (as pins calibrate; solution models)",
                                 "pins train", calibrate_data, calibrate_data,
                                 sizeof calibrate_data, nullptr));
    PetscCall(PetscOptionsReal("-calibrate_level", "With -calibrate_data: the bound's coverage",
                               "pins train", calibrate_level, &calibrate_level, nullptr));
    PetscCall(PetscOptionsString("-calibrate_score",
                                 "With -calibrate_data: auto, residual or error_estimate (as "
                                 "pins calibrate)",
                                 "pins train", calibrate_score, calibrate_score,
                                 sizeof calibrate_score, nullptr));
    PetscOptionsEnd();
    PetscCall(PetscOptionsHasHelp(nullptr, &help));
    PetscFunctionReturn(0);
  });
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (help) {
    if (rank == 0)
      std::printf("\n%s\n%s\nArchitectures (-surrogate_type) and their options:\n%s\n"
                  "Training is data parallel on every MPI process (mpiexec -n P): each takes "
                  "its share of\nevery -train_batch_size mini-batch (or step's problems) and "
                  "the gradients are summed;\nthe result is the 1-process run's up to "
                  "floating-point summation order.\n",
                  TrainOptions::help().c_str(),
                  (PreconditionTrainOptions::help() + "\n" + SmootherTrainOptions::help()).c_str(),
                  surrogate_help().c_str());
    return 0;
  }
  const std::string surrogate = type;
  const std::string task_name = task;
  if (task_name == kPreconditionTask)
    return run_train_precondition(comm, command_line, output, force,
                                  type_set ? surrogate : kDefaultPreconditionSurrogate);
  if (task_name == kSmootherTask)
    return run_train_smoother(comm, command_line, output, force,
                              type_set ? surrogate : kDefaultSmootherSurrogate);
  PINS_CHECK(task_name == "solution", "-task must be solution, precondition or smoother, got '",
             task_name, "'");
  const std::string cal_path = calibrate_data, cal_score = calibrate_score;
  const OptionMap options = options_with_prefixes({"-train_", "-" + surrogate + "_"});
  // Every process trains (data parallel over `comm`): each reads the datasets, takes its
  // share of every global mini-batch, and the gradients are summed with MPI_Allreduce.
  // Process 0 prints, writes checkpoints, the log and the model file.
  const pins::petsc::MpiProcessGroup group(comm);
  const bool root = group.rank() == 0;
  const std::string path = data, out = output;
  TrainOptions opts;
  Dataset labelled, validation, unlabelled;  // -data, -train_val_data, -train_unlabelled
  bool streamed = false;
  std::string device;  // -train_device resolved, for the header
  std::int64_t budget = 0;
  on_all_ranks(comm, [&] {
    opts = TrainOptions::from_options(options);
    PINS_CHECK(!path.empty() || !opts.unlabelled.empty(),
               "-data <file.h5> is required: the training dataset (or -train_unlabelled "
               "<inputs.h5> with -train_data_weight 0 for physics-only training)");
    check_output_path(out, "-o", force);
    device = training_device(opts.device).str();  // refused here, before any data is read
    if (!cal_path.empty()) {  // checked before training, not after it
      PINS_CHECK(calibrate_level > 0 && calibrate_level < 1,
                 "-calibrate_level must be in (0, 1), got ", double(calibrate_level));
      PINS_CHECK(is_calibration_score(cal_score),
                 "-calibrate_score must be auto, residual or error_estimate, got '", cal_score,
                 "'");
      require_labelled(read_dataset_info(cal_path).info, cal_path,
                       "-calibrate_data compares the model's answers with solutions");
    }
    opts.force = force;
    if (opts.checkpoint.empty()) opts.checkpoint = out + ".ckpt";
    if (group.size() > 1) opts.group = &group;
    // Fail on the task and the architecture options before reading data (the grid's
    // dimension is checked against the architecture once the data is read).
    check_surrogate_traits(surrogate, {"solution", 0, false, ""});
    make_surrogate(surrogate, options, kFeatureChannels, 1);
    // Whole, or (larger than -train_memory) their attributes only, streamed while training.
    budget = training_memory_budget(opts.memory_mb, group.size());
    std::vector<Dataset> sets =
        read_training_datasets({path, opts.val_data, opts.unlabelled}, budget, &streamed);
    labelled = std::move(sets[0]);
    validation = std::move(sets[1]);
    unlabelled = std::move(sets[2]);
    if (group.size() > 1) {
      const Dataset& d = path.empty() ? unlabelled : labelled;
      PINS_CHECK(d.samples >= group.size(), path.empty() ? opts.unlabelled : path, " holds ",
                 d.samples, " samples, fewer than the ", group.size(),
                 " processes training on it: run on at most ", d.samples, " processes");
    }
  });

  const Dataset& dataset = path.empty() ? unlabelled : labelled;
  const std::string& dataset_path = path.empty() ? opts.unlabelled : path;
  TrainJob job;
  job.surrogate_type = surrogate;
  job.options = options;
  job.train = opts;
  if (!path.empty()) {
    job.data = &labelled;
    job.data_path = path;
  }
  if (!opts.unlabelled.empty()) {
    job.unlabelled = &unlabelled;
    job.unlabelled_path = opts.unlabelled;
  }
  if (!opts.val_data.empty()) {
    job.validation = &validation;
    job.validation_path = opts.val_data;
  }
  job.command = command_line;
  job.on_start = [&](const Surrogate& model, const TrainingData& td, const TrainingData* vd) {
    if (opts.monitor < 1 || !root) return;
    int64_t parameters = 0;
    for (const auto& p : model.module().parameters()) parameters += p.numel();
    // Trajectories are trained on as their steps: say both counts.
    auto rows = [](const Dataset& d, const TrainingData& t) {
      return d.info.times > 0 ? std::to_string(d.samples) + " trajectories (" +
                                    std::to_string(t.samples()) + " steps)"
                              : std::to_string(d.samples) + " samples";
    };
    std::printf("pins train: %s: %s of -pde %s on %s\n", dataset_path.c_str(),
                rows(dataset, td).c_str(), dataset.info.pde.c_str(),
                dataset.info.grid_string().c_str());
    std::printf("  model       %s, %lld parameters, %s on %s, %d threads%s\n",
                surrogate.c_str(), (long long)parameters, opts.dtype.c_str(), device.c_str(),
                torch::get_num_threads(),
                group.size() > 1 ? (" per process, " + std::to_string(group.size()) +
                                    " processes (data parallel)").c_str()
                                 : "");
    std::printf("  loss        %g x relative L2 + %g x %s physics loss; %s, lr %g, %s\n",
                opts.data_weight, opts.physics_weight, opts.physics_loss.c_str(),
                opts.optimizer.c_str(), opts.lr, opts.schedule.c_str());
    if (job.unlabelled && job.data)
      std::printf("  unlabelled  %s (%lld inputs-only samples): physics loss only, %d per "
                  "mini-batch\n",
                  opts.unlabelled.c_str(), (long long)unlabelled.samples,
                  opts.unlabelled_batch_size > 0 ? opts.unlabelled_batch_size : opts.batch_size);
    else if (job.unlabelled)
      std::printf("  physics only: no labelled samples\n");
    if (vd)
      std::printf("  validation  %s (%s); all %s trained on\n", opts.val_data.c_str(),
                  rows(validation, *vd).c_str(), rows(dataset, td).c_str());
    if (streamed)
      std::printf("  streamed    from the file%s, a mini-batch at a time: the datasets' %.3g MB "
                  "(x2 in memory) exceed -train_memory %.3g MB\n",
                  job.validation || job.unlabelled ? "s" : "",
                  double(dataset_value_bytes(labelled) + dataset_value_bytes(validation) +
                         dataset_value_bytes(unlabelled)) / 1048576.0,
                  double(budget) / 1048576.0);
    if (opts.augment != "none")
      std::printf("  augment     %s (each mini-batch in a random orientation of the grid)\n",
                  opts.augment.c_str());
    std::fflush(stdout);
  };
  // Collective inside: every failure is agreed on by all processes, so each throws the same
  // message, printed once.
  TrainedModel t;
  try {
    t = run_train_job(job);
  } catch (const std::exception& e) {
    if (group.size() == 1) throw;
    throw pins::petsc::CollectiveError(pins::petsc::exception_message(e));
  }
  const TrainResult& r = t.result;
  on_all_ranks(comm, [&] {
    if (!root) return;
    if (!cal_path.empty()) {
      // Calibrated at training time: what pins calibrate -model out -data cal_path does.
      const Dataset cal = read_training_datasets({cal_path}, budget).front();
      check_model_requirements(
          t.manifest, pins::petsc::evaluation_requirements(t.manifest.architecture, cal.info),
          cal_path);
      const ErrorCalibration c =
          pins::petsc::calibrate_model(*t.model, t.manifest, out, cal, cal_path,
                                       double(calibrate_level), cal_score, budget);
      t.manifest.metrics["calibration"] = c.to_json();
      t.manifest.metrics["calibration"]["command"] = command_line;
      if (opts.monitor >= 1)
        std::printf("pins train: calibrated on %s: %.0f %% error bound = %.4g x %s\n",
                    cal_path.c_str(), 100 * c.level, c.quantile,
                    c.uses_estimate() ? "error estimate" : "relative residual");
    }
    save_model(out, *t.model, t.manifest, force);
  });
  if (opts.monitor >= 1 && root) {
    std::printf("pins train: wrote %s (best epoch %d, validation %s %.4g; peak memory %.0f MB "
                "per process)\n",
                out.c_str(), r.best_epoch, r.val_samples > 0 && !r.history.empty() && std::isfinite(r.history.back().val_rel_l2) ? "relative L2" : "loss", r.best_val,
                r.peak_memory_mb);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace pins::cli
