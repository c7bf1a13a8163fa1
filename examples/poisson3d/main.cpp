// Bring your own problem family: a 3-D Poisson problem defined entirely outside pins
// (poisson3d_family.cpp: its operator for the physics loss, its sampler and DMDA assembly),
// registered with pins and taken through the whole pipeline with pins' public API:
//
//   1. generate  sample sources f, solve each with PETSc (CG + GAMG), write an HDF5 dataset
//   2. verify    recompute every stored solution's residual with pins' Kokkos 7-point kernel
//   3. train     an FNO-3D on the training set, data loss + the family's physics loss
//   4. evaluate  the model on an unseen test set against PETSc: accuracy, residual, time
//
// Built against the installed package (find_package(pins), see CMakeLists.txt). Sample runs:
//
//   poisson3d                                   # 12³ grid, 64 + 16 samples, 30 epochs
//   poisson3d -grid 16 -samples 256 -train_epochs 100 -o out/poisson3d16
//
// Options: -grid n, -samples N (training; a quarter as many test samples), -o folder,
// -surrogate_type (fno3d or unet3d) and every -train_* / -fno3d_* option of `pins train`,
// -poisson3d_modes (sine modes per source). Exit status 0 only if every step succeeded,
// the data verified, and the model beat a trivial guess (relative L2 error below 1).
#include <petscsys.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/options.hpp"
#include "pins/core/train_job.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/evaluate.hpp"
#include "pins/petsc/generate.hpp"
#include "pins/petsc/verify.hpp"
#include "poisson3d_family.hpp"

namespace {

// Every "-name value" pair of the PETSc options database whose name starts with one of
// `prefixes`, as pins' OptionMap (what `pins train` hands the trainer).
pins::OptionMap options_with(const std::vector<std::string>& prefixes) {
  std::vector<std::string> words;
  int argc = 0;
  char** argv = nullptr;
  PetscGetArgs(&argc, &argv);
  for (int i = 1; i < argc; ++i) {
    const std::string w = argv[i];
    bool wanted = false;
    for (const auto& p : prefixes) wanted = wanted || w.rfind(p, 0) == 0;
    if (!wanted) continue;
    words.push_back(w);
    if (i + 1 < argc && argv[i + 1][0] != '-') words.push_back(argv[++i]);
  }
  return pins::OptionMap::from_args(words);
}

int run(MPI_Comm comm) {
  PetscInt grid = 12, samples = 64;
  char out_buf[PETSC_MAX_PATH_LEN] = "poisson3d_out", type_buf[32] = "fno3d";
  PetscOptionsGetInt(nullptr, nullptr, "-grid", &grid, nullptr);
  PetscOptionsGetInt(nullptr, nullptr, "-samples", &samples, nullptr);
  PetscOptionsGetString(nullptr, nullptr, "-o", out_buf, sizeof out_buf, nullptr);
  PetscOptionsGetString(nullptr, nullptr, "-surrogate_type", type_buf, sizeof type_buf, nullptr);
  const std::string out = out_buf, type = type_buf;
  std::filesystem::create_directories(out);

  // The family is ours, not pins': register both halves before anything looks it up.
  poisson3d::register_poisson3d();

  // 1. Generate a training and a test set (different seeds: unseen samples).
  const std::string train_path = out + "/train.h5", test_path = out + "/test.h5";
  for (const auto& [path, n, seed] : {std::tuple{train_path, std::int64_t(samples), 1},
                                      std::tuple{test_path, std::int64_t(samples / 4), 2}}) {
    pins::petsc::GenerateOptions g;
    g.pde = "poisson3d";
    g.grid = {grid};
    g.samples = std::max<std::int64_t>(n, 4);
    g.seed = std::uint64_t(seed);
    g.output = path;
    g.force = true;
    g.progress = false;
    const pins::petsc::GenerateSummary s = pins::petsc::generate(comm, g);
    std::printf("1. generate  %s: %lld samples on %s, CG+GAMG %.1f iterations on average, "
                "max residual %.2g\n",
                path.c_str(), (long long)s.samples, s.grid_text.c_str(), s.iterations_mean,
                s.residual_max);
  }
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0) return 0;  // training and evaluation run on one process

  // 2. Verify: pins' own 7-point kernel must reproduce PETSc's residuals.
  const pins::Dataset train = pins::read_dataset(train_path);
  const pins::Dataset test = pins::read_dataset(test_path);
  for (const pins::Dataset* d : {&train, &test}) {
    const pins::petsc::VerifyReport r = pins::petsc::verify_dataset(*d, -1);
    std::printf("2. verify    %lld samples: max relative residual %.2g (tolerance %.2g), "
                "%lld failures\n",
                (long long)r.samples, r.max_residual, r.tolerance, (long long)r.failures);
    PINS_CHECK(r.failures == 0, "verify: ", r.failures, " samples exceed the tolerance");
  }
  std::printf("            dataset: inputs %s, u %s per sample, operator '%s'\n",
              train.info.input_list().c_str(), train.info.grid_string().c_str(),
              train.info.operator_description.c_str());

  // 3. Train: the trainer reaches the family's operator through pins::Family only.
  pins::OptionMap options = options_with({"-train_", "-" + type + "_"});
  if (!options.has("-train_epochs")) options.set("-train_epochs", "30");
  if (!options.has("-train_physics_weight")) options.set("-train_physics_weight", "0.01");
  if (!options.has("-train_lr")) options.set("-train_lr", "0.003");
  if (!options.has("-train_monitor")) options.set("-train_monitor", "0");
  pins::TrainJob job;
  job.surrogate_type = type;
  job.options = options;
  job.train = pins::TrainOptions::from_options(options);
  job.data = &train;
  job.data_path = train_path;
  job.command = "examples/poisson3d";
  const pins::TrainedModel t = pins::run_train_job(job);
  const std::string model_path = out + "/poisson3d_" + type + ".pins";
  pins::save_model(model_path, *t.model, t.manifest, /*force=*/true);
  const pins::EpochRecord& last = t.result.history.back();
  std::printf("3. train     %s, %d epochs: validation relative L2 %.3g (best %.3g, epoch %d) "
              "-> %s\n",
              type.c_str(), last.epoch, last.val_rel_l2, t.result.best_val, t.result.best_epoch,
              model_path.c_str());

  // 4. Evaluate on the unseen test set against PETSc.
  const pins::ModelManifest manifest = pins::read_model_manifest(model_path);
  pins::LoadedModel loaded = pins::load_model(
      model_path, pins::petsc::evaluation_requirements(manifest.architecture, test.info));
  const pins::petsc::Evaluation e = pins::petsc::evaluate_model(
      *loaded.model, manifest, model_path, test, test_path, 4, "poisson3d_evaluate_");
  std::printf("4. evaluate  %lld test samples: relative L2 error mean %.3g (max %.3g); "
              "relative residual of the predictions %.3g; %.3g ms per sample (PETSc %.3g ms)\n",
              (long long)test.samples, e.error.mean, e.error.max, e.residual.mean,
              e.seconds_single * 1e3, e.seconds_petsc * 1e3);
  PINS_CHECK(e.error.mean < 1, "the trained model is no better than predicting zero (relative "
             "L2 error ", e.error.mean, ")");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  PetscCall(PetscInitialize(&argc, &argv, nullptr,
                            "An out-of-tree pins problem family: 3-D Poisson, end to end.\n"));
  int status = 0;
  try {
    status = run(PETSC_COMM_WORLD);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "poisson3d: error: %s\n", e.what());
    status = 1;
  }
  PetscCall(PetscFinalize());
  return status;
}
