// The gradient sum of data-parallel training on MPI (pins::petsc::MpiProcessGroup, what
// `mpiexec -n P pins train` uses): seconds per sum of a float32 buffer of each size, the
// median of `repeats` after a warm-up. bench/allreduce_gloo.py times LibTorch's Gloo process
// group on the same sizes; bench/bench_data_parallel.sh runs both side by side.
//   mpiexec -n 2 build/bin/bench_allreduce [repeats]
#include <petscsys.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "pins/petsc/mpi_process_group.hpp"

int main(int argc, char** argv) {
  PetscCall(PetscInitialize(&argc, &argv, nullptr, nullptr));
  {
    const int repeats = argc > 1 ? std::atoi(argv[1]) : 20;
    const pins::petsc::MpiProcessGroup group(PETSC_COMM_WORLD);
    if (group.rank() == 0)
      std::printf("| floats | MB | MPI_Allreduce (ms), %d processes |\n|---|---|---|\n",
                  group.size());
    for (std::size_t n : {std::size_t(1) << 14, std::size_t(1) << 18, std::size_t(1) << 20,
                          std::size_t(1) << 22, std::size_t(1) << 24}) {
      std::vector<float> buffer(n, 1.0f);
      std::vector<double> seconds;
      for (int r = 0; r < repeats + 2; ++r) {
        MPI_Barrier(PETSC_COMM_WORLD);
        const double t = MPI_Wtime();
        group.sum(buffer.data(), n);
        if (r >= 2) seconds.push_back(MPI_Wtime() - t);
      }
      std::sort(seconds.begin(), seconds.end());
      if (group.rank() == 0)
        std::printf("| %zu | %.1f | %.3f |\n", n, 4.0 * double(n) / 1e6,
                    1e3 * seconds[seconds.size() / 2]);
    }
  }
  PetscCall(PetscFinalize());
  return 0;
}
