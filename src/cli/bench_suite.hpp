#pragma once
// A `pins bench` suite: a small JSON file naming datasets (existing files, or pins generate
// options), models (existing files, or pins train options on one of the datasets, optionally
// calibrated on another), PETSc solver configurations, and what to measure. Read and checked
// here, before anything runs; bench_runner.cpp runs it.
//
//   {
//     "name": "darcy32",
//     "datasets": {
//       "train": {"generate": "-pde darcy -grid 32 -samples 256 -seed 1", "procs": 2},
//       "test":  {"generate": "-pde darcy -grid 32 -samples 32 -seed 2"},
//       "mine":  {"path": "my_test.h5"}
//     },
//     "models": {
//       "fno": {"train": "-surrogate_type fno -train_epochs 20", "data": "train",
//               "calibrate": "cal"},
//       "pc":  {"train": "-task precondition -grid 32 -train_steps 300"},
//       "mine": {"path": "my.pins"}
//     },
//     "solvers": {"cg_gamg": "-ksp_type cg -pc_type gamg"},
//     "test": "test", "ood": ["mine"],
//     "solve_samples": 8, "uses": ["guess", "precondition"], "tolerances": [0.05, 0.1]
//   }
//
// Relative paths are relative to the suite file's folder.

#include <string>
#include <vector>

namespace pins::cli {

struct SuiteDataset {
  std::string name;
  std::string path;      ///< an existing dataset (resolved), or empty
  std::string generate;  ///< pins generate options (without -o), or empty
  int procs = 1;         ///< MPI processes of the generate step
};

struct SuiteModel {
  std::string name;
  std::string path;       ///< an existing model file (resolved), or empty
  std::string train;      ///< pins train options (without -data and -o), or empty
  std::string data;       ///< the dataset it trains on (a name; empty for -task precondition)
  std::string calibrate;  ///< the dataset it is calibrated on (a name), or empty
  int procs = 1;          ///< MPI processes of the train step
};

struct SuiteSolver {
  std::string name;
  std::string options;  ///< PETSc options, e.g. "-ksp_type cg -pc_type gamg"
};

struct BenchSuite {
  std::string file;  ///< the suite's path
  std::string name, description;
  std::vector<SuiteDataset> datasets;
  std::vector<SuiteModel> models;
  std::vector<SuiteSolver> solvers;
  std::string test;              ///< the in-distribution labelled test set (a dataset name)
  std::vector<std::string> ood;  ///< datasets unlike the training data (names)
  int solve_samples = 8;         ///< test samples every solver configuration solves
  int repeats = 3;               ///< each solve's time: the best of this many
  /// What precondition-task models are tried as, with every solver: "guess" (KSPGuess),
  /// "precondition" (-pc_type surrogate inside FGMRES).
  std::vector<std::string> uses = {"guess", "precondition"};
  /// Relative L2 errors a user accepts: for each, a calibrated solution model as a certified
  /// replacement of the solver — an answer is used when it is not flagged out of
  /// distribution and its bound is at most the tolerance, else the solver solves.
  std::vector<double> tolerances;

  const SuiteDataset& dataset(const std::string& name) const;
};

/// Reads and checks `path`: every key known, every name a plain identifier used once,
/// every reference to a dataset defined, a test set given. Throws pins::Error with one line
/// naming the file, the key and what was expected.
BenchSuite read_bench_suite(const std::string& path);

}  // namespace pins::cli
