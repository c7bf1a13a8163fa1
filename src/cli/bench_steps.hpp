#pragma once
// The steps of a pins bench suite that make its datasets and models: pins generate, train
// and calibrate run as child processes of this pins (under mpiexec for more than one
// process), their output in a log file each. A step whose output exists with the same
// command recorded beside it (<output>.command) is reused, so rerunning a suite after
// changing one model retrains that model alone.

#include <string>
#include <vector>

namespace pins::cli {

struct BenchStep {
  std::string label;                    ///< e.g. "generate test"
  std::vector<std::vector<std::string>> commands;  ///< run in order (pins arguments, no argv[0])
  int procs = 1;                        ///< MPI processes of the first command
  std::string output;                   ///< the file the step makes
  std::string log;                      ///< where its stdout and stderr go
  /// What the output also depends on (e.g. the recorded commands of the datasets a model
  /// trains on): recorded with the command, so a changed dataset retrains the model.
  std::string depends;
};

struct BenchStepResult {
  std::string label, command, output, log;
  double seconds = 0;  ///< wall time of the step (0 when reused)
  bool reused = false;
};

/// Runs `step` (or reuses its output, see above). Throws pins::Error naming the step, its
/// exit status, the last line of its log and the log's path if a command fails; the output
/// and its recorded command are then removed, so a failed step is never reused.
BenchStepResult run_bench_step(const BenchStep& step);

}  // namespace pins::cli
