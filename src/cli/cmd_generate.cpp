// pins generate: options, the run, and the summary printed on rank 0.

#include <cstdio>

#include "commands.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/generate.hpp"

namespace pins::cli {

int run_generate(MPI_Comm comm, const std::string& command_line) {
  PetscBool help = PETSC_FALSE;
  PINS_PETSC_CALL(PetscOptionsHasHelp(nullptr, &help));
  if (help) {
    read_options([&] { return pins::petsc::generate_help(comm, nullptr); });
    return 0;
  }
  pins::petsc::GenerateOptions options;
  read_options([&] { return options.SetFromOptions(comm, nullptr); });
  options.command = command_line;
  const pins::petsc::GenerateSummary s = pins::petsc::generate(comm, options);

  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    std::printf("pins generate: wrote %s\n", s.output.c_str());
    std::printf("  samples     %lld of -pde %s on a %s grid (nx x ny ...), %d process%s",
                (long long)s.samples, options.pde.c_str(), s.grid_text.c_str(), s.processes,
                s.processes == 1 ? "" : "es");
    if (s.procs_per_sample > 1)
      std::printf(" in %d group%s of %d (one sample per group)", s.processes / s.procs_per_sample,
                  s.processes == s.procs_per_sample ? "" : "s", s.procs_per_sample);
    std::printf("\n");
    if (s.inputs_only) {
      std::printf("  contents    inputs only (-inputs_only): no solver was run, no solutions\n");
    } else if (!s.ts_type.empty()) {
      std::printf(
          "  solver      TS %s, dt %g, %d steps; SNES %s (linear solves %s + %s), rtol %g\n",
          s.ts_type.c_str(), s.dt, s.steps, s.snes_type.c_str(), s.ksp_type.c_str(),
          s.pc_type.c_str(), s.rtol);
      std::printf(
          "  iterations  Newton per trajectory: min %lld, mean %.1f, max %lld (%.1f per step)\n",
          (long long)s.iterations_min, s.iterations_mean, (long long)s.iterations_max,
          s.iterations_mean / s.steps);
      std::printf("  residual    max %.3g (largest step's ||G(u^{t+1})||/||u^t||)\n",
                  s.residual_max);
    } else if (!s.snes_type.empty()) {
      std::printf("  solver      SNES %s (linear solves %s + %s), rtol %g\n", s.snes_type.c_str(),
                  s.ksp_type.c_str(), s.pc_type.c_str(), s.rtol);
      std::printf("  iterations  Newton: min %lld, mean %.1f, max %lld\n",
                  (long long)s.iterations_min, s.iterations_mean, (long long)s.iterations_max);
      std::printf("  residual    max %.3g (true relative residual ||F(u)||/||F(0)||)\n",
                  s.residual_max);
    } else {
      std::printf("  solver      %s + %s, rtol %g\n", s.ksp_type.c_str(), s.pc_type.c_str(),
                  s.rtol);
      std::printf("  iterations  min %lld, mean %.1f, max %lld\n", (long long)s.iterations_min,
                  s.iterations_mean, (long long)s.iterations_max);
      std::printf("  residual    max %.3g (true relative residual ||f - A u||/||f||)\n",
                  s.residual_max);
    }
    std::printf("  time        %.2f s (%s %.2f s, %.1f samples/s)\n", s.seconds,
                s.inputs_only ? "sampling" : "solving", s.solve_seconds,
                s.solve_seconds > 0 ? double(s.samples) / s.solve_seconds : 0.0);
    std::printf("  writing     %.2f s in collective parallel-HDF5 writes (rank 0's share)\n",
                s.write_seconds);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace pins::cli
