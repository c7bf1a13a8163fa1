// pins — command-line tool. `pins <subcommand> [options]`; options use PETSc's options
// database (-name value), so `pins <subcommand> -help` lists them, and solver options
// (-ksp_*, -pc_*) pass straight through.
//
//   pins generate -pde darcy -grid 64 -samples 100 -seed 1 -o darcy64.h5
//   mpiexec -n 4 pins generate -grid 128 -samples 1000 -o darcy128.h5 -ksp_rtol 1e-12
//   pins verify -data darcy64.h5
//   pins info -data darcy64.h5
//   pins train -data darcy64.h5 -surrogate_type fno -train_epochs 50 -o model.pins
//   pins evaluate -model model.pins -data test64.h5 -o report

#include <malloc.h>
#include <petscsys.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.hpp"
#include "pins/petsc/register.hpp"
#include "pde/registry.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/version.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/generate.hpp"

namespace {

struct Subcommand {
  const char* name;
  const char* summary;
  const char* help;  // shown by PETSc under -help, before the option list
  int (*run)(MPI_Comm, const std::string&);
};

const Subcommand kSubcommands[] = {
    {"generate", "sample problems, solve them with PETSc and write a dataset (HDF5)",
     "pins generate: draw samples of a problem family, solve each with PETSc (one process per\n"
     "sample, samples spread over MPI processes), check every solution's true residual and\n"
     "write a pins dataset. Example:\n"
     "  mpiexec -n 2 pins generate -pde darcy -grid 64 -samples 100 -seed 1 -o darcy64.h5\n",
     pins::cli::run_generate},
    {"verify", "recompute a dataset's residuals with the Kokkos operator",
     "pins verify: recompute every sample's relative residual ||f - A u||/||f|| with the Kokkos\n"
     "stencil operator and fail if one exceeds the tolerance. Example:\n"
     "  pins verify -data darcy64.h5 [-rtol 1e-10]\n",
     pins::cli::run_verify},
    {"info", "print a dataset's metadata",
     "pins info: print a dataset's sample count, arrays and attributes. Example:\n"
     "  pins info -data darcy64.h5\n",
     pins::cli::run_info},
    {"train", "train a surrogate on a dataset and write a model file",
     "pins train: train a neural surrogate (features log kappa and f, target u) on a dataset,\n"
     "with a relative L2 data loss and/or the physics loss of the problem's own operator, and\n"
     "write a model file (weights + manifest). Data parallel under mpiexec: every process\n"
     "takes its share of each mini-batch and the gradients are summed. Example:\n"
     "  pins train -data darcy64.h5 -surrogate_type fno -train_epochs 50 -o model.pins\n"
     "  mpiexec -n 4 pins train -data darcy64.h5 -train_epochs 50 -o model.pins\n"
     "With -task precondition it trains a preconditioner for -pc_type surrogate instead, on\n"
     "sampled 5-point operators and residuals (no dataset, no solves):\n"
     "  pins train -task precondition -grid 64 -train_steps 1500 -o pc.pins\n",
     pins::cli::run_train},
    {"evaluate", "measure a model's error, residual and speed against PETSc",
     "pins evaluate: relative L2 error and physics residual of a model's predictions on a\n"
     "dataset, inference time per sample vs PETSc re-solves, written to <o>/report.json,\n"
     "<o>/report.md and PNG figures. Runs on rank 0 only. Example:\n"
     "  pins evaluate -model model.pins -data test64.h5 -o report\n",
     pins::cli::run_evaluate},
    {"calibrate", "fit a model's error bound on held-out data, stored in the model file",
     "pins calibrate: split conformal calibration of an error bound from each answer's score:\n"
     "its error estimate (multigrid cycles on its residual) where the family offers one, else\n"
     "its certificate (relative residual); -calibrate_score chooses. On held-out labelled\n"
     "samples q is the level quantile of error / score; then P(error <= q x score) >= level for\n"
     "samples from the same distribution. Stored in the model file; pins evaluate reports its\n"
     "coverage. For a precondition model it refits the operator flag (which operators the PC's\n"
     "replace mode and the guess skip the network for) on the dataset's operators. Example:\n"
     "  pins calibrate -model model.pins -data cal64.h5 -calibrate_level 0.9\n",
     pins::cli::run_calibrate},
    {"bench", "run a benchmark suite: surrogates against PETSc solvers, with break-even",
     "pins bench: run a benchmark suite (a JSON file: datasets, models, PETSc solvers; see\n"
     "bench/suites/): make its datasets and models (pins generate/train/calibrate, reused\n"
     "while their commands are unchanged), measure every solution model's answers on the test\n"
     "and out-of-distribution sets, time every solver alone and with the preconditioner\n"
     "models as guess or preconditioner, and compute each model's break-even. Writes\n"
     "<o>/report.json, <o>/report.md and figures. Example:\n"
     "  pins bench -suite bench/suites/darcy.json -o bench_darcy\n",
     pins::cli::run_bench},
};

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "pins %s - Physics-Informed Neural Surrogates\n\n"
               "usage: pins <subcommand> [options]   (PETSc-style options: -name value)\n\n"
               "subcommands:\n",
               PINS_VERSION_STRING);
  for (const auto& s : kSubcommands) std::fprintf(out, "  %-9s %s\n", s.name, s.summary);
  std::fprintf(out, "  %-9s %s\n", "help", "this list");
  std::fprintf(
      out, "\n'pins <subcommand> -help' lists a subcommand's options.\nproblem families (-pde):\n");
  for (const auto& f : pins::problem_families())
    std::fprintf(out, "  %-9s %s\n", f.name.c_str(), f.summary.c_str());
}

// Single quotes around arguments a shell would split or expand, for the recorded command.
std::string quote(const char* arg) {
  const std::string s = arg;
  if (!s.empty() && s.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;#~") == std::string::npos) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    std::fprintf(stderr, "\npins: error: no subcommand given\n");
    return 1;
  }
  const std::string name = argv[1];
  if (name == "help" || name == "-help" || name == "--help" || name == "-h") {
    print_usage(stdout);
    return 0;
  }
  const Subcommand* sub = nullptr;
  for (const auto& s : kSubcommands)
    if (name == s.name) sub = &s;
  if (!sub) {
    std::string known;
    for (const auto& s : kSubcommands) known += std::string(s.name) + ", ";
    std::fprintf(stderr, "pins: error: unknown subcommand '%s' (known: %shelp)\n", name.c_str(),
                 known.c_str());
    return 1;
  }

  if (name == "train" || name == "evaluate") {
    // Keep freed memory in the process: glibc otherwise serves LibTorch's large buffers with
    // mmap and returns them on free, so every backward page-faults fresh gradient buffers.
    // Measured (bench/RESULTS.md, "glibc default allocator" vs "MALLOC_MMAP_MAX_=0
    // MALLOC_TRIM_THRESHOLD_=1e11"): the physics-loss backward reaches 51 % of the bandwidth
    // bound with glibc's defaults and 94 % with freed memory kept.
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }

  std::string command_line = "pins";
  for (int i = 1; i < argc; ++i) command_line += " " + quote(argv[i]);

  // PETSc sees the program name and the subcommand's options, not the subcommand itself.
  std::vector<char*> args;
  args.push_back(argv[0]);
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  int petsc_argc = argc - 1;
  char** petsc_argv = args.data();
  if (PetscInitialize(&petsc_argc, &petsc_argv, nullptr, sub->help) != 0) {
    std::fprintf(stderr, "pins %s: error: PETSc failed to initialize\n", sub->name);
    return 1;
  }

  // pins' PC and KSPGuess types, so e.g. `pins generate -pc_type surrogate ...` works too.
  if (pins::petsc::register_all() != 0) {
    std::fprintf(stderr, "pins %s: error: registering the surrogate PC/KSPGuess types failed\n",
                 sub->name);
    return 1;
  }

  // After PetscInitialize, whose handlers these replace: an interrupted `pins generate`
  // removes its temporary file instead of leaving it next to the output.
  pins::remove_dataset_temporaries_on_signal();

  int rank = 0, size = 1, rc = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  {
    pins::petsc::ErrorCapture capture;
    try {
      rc = sub->run(PETSC_COMM_WORLD, command_line);
    } catch (const pins::petsc::CollectiveError& e) {
      // Every process has this message; one copy is enough.
      if (rank == 0) std::fprintf(stderr, "pins %s: error: %s\n", sub->name, e.what());
      rc = 1;
    } catch (const std::exception& e) {
      // Only this process failed: report it, and stop the others, which may be waiting on it.
      if (size > 1)
        std::fprintf(stderr, "pins %s: error: [rank %d] %s\n", sub->name, rank, e.what());
      else
        std::fprintf(stderr, "pins %s: error: %s\n", sub->name, e.what());
      std::fflush(stderr);
      if (size > 1) MPI_Abort(PETSC_COMM_WORLD, 1);
      rc = 1;
    }
  }
  PetscFinalize();
  return rc;
}
