// pins verify: recompute every sample's residual with the Kokkos operator.

#include <cstdio>
#include <string>

#include "commands.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/family.hpp"
#include "pins/core/kokkos_runtime.hpp"
#include "pins/petsc/verify.hpp"

namespace pins::cli {

int run_verify(MPI_Comm comm, const std::string&) {
  char data[PETSC_MAX_PATH_LEN] = "";
  PetscReal rtol = -1;
  PetscBool help = PETSC_FALSE;
  read_options([&]() -> PetscErrorCode {
    PetscFunctionBeginUser;
    PetscOptionsBegin(comm, nullptr, "pins verify: check a dataset with the Kokkos operator",
                      "pins");
    PetscCall(PetscOptionsString("-data", "Dataset file (HDF5), required", "pins verify", data,
                                 data, sizeof data, nullptr));
    PetscCall(PetscOptionsReal("-rtol",
                               "Tolerance on ||f - A u||/||f|| (default: the dataset's rtol)",
                               "pins verify", rtol, &rtol, nullptr));
    PetscOptionsEnd();
    PetscCall(PetscOptionsHasHelp(nullptr, &help));
    PetscFunctionReturn(0);
  });
  if (help) return 0;
  on_rank0(comm, [&] {
    const std::string path = data;
    PINS_CHECK(!path.empty(), "-data <file.h5> is required: the dataset to verify");
    PINS_CHECK(rtol == -1 || (rtol >= 0 && rtol == rtol), "-rtol must be >= 0, got ", rtol);
    const Dataset d = read_dataset(path);
    require_labelled(d.info, path, "pins verify checks stored solutions");
    pins::petsc::VerifyReport r;
    try {
      r = pins::petsc::verify_dataset(d, rtol);
    } catch (const std::exception& e) {
      throw Error(path + ": " + e.what());
    }
    std::printf("pins verify: %s: %lld samples of -pde %s on a %s grid\n", path.c_str(),
                (long long)r.samples, d.info.pde.c_str(), d.info.grid_string().c_str());
    const bool nonlinear = find_family(d.info.pde).nonlinear();
    if (nonlinear)
      std::printf("  residual F  the family's Kokkos kernel (%s), independent of PETSc's SNES\n",
                  kokkos_execution_space_name().c_str());
    else
      std::printf(
          "  operator    Kokkos %s (%s), independent of the PETSc matrix\n",
          d.info.operator_description.empty() ? "stencil" : d.info.operator_description.c_str(),
          kokkos_execution_space_name().c_str());
    std::printf("  residual    max %.3g (sample %lld), mean %.3g  (%s)\n", r.max_residual,
                (long long)r.worst_sample, r.mean_residual,
                find_family(d.info.pde).time_dependent()
                    ? "max over steps of ||G(u^{t+1})||/||u^t||, G the one-step residual"
                : nonlinear ? "||F(u)||/||F(0)||"
                            : "||f - A u||/||f||");
    std::printf("  tolerance   %.3g%s + rounding allowance (at most %.2g)\n", r.tolerance,
                rtol < 0 ? " (the dataset's solver.rtol)" : "", r.max_allowance);
    std::printf("  stored      recomputed residuals differ from the stored ones by <= %.2g\n",
                r.max_stored_difference);
    std::fflush(stdout);
    if (r.failures > 0)
      throw Error(path + ": " + std::to_string(r.failures) + " of " + std::to_string(r.samples) +
                  " samples exceed the tolerance " + to_string(AttributeValue(r.tolerance)) +
                  "; the first is sample " + std::to_string(r.first_failure) +
                  " with relative residual " +
                  to_string(AttributeValue(r.residuals[size_t(r.first_failure)])));
    std::printf("  OK\n");
  });
  return 0;
}

}  // namespace pins::cli
