// doctest runner for the pins::petsc tests: PETSc (and MPI) live for the whole run.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <petscsys.h>

#include "pins/petsc/error.hpp"

int main(int argc, char** argv) {
  // PETSc gets no arguments: doctest's own (-tc=..., -s) are not PETSc options.
  int petsc_argc = 1;
  char* petsc_args[] = {argv[0], nullptr};
  char** petsc_argv = petsc_args;
  if (PetscInitialize(&petsc_argc, &petsc_argv, nullptr, nullptr) != 0) return 1;
  int rc = 0;
  {
    pins::petsc::ErrorCapture capture;  // PETSc errors become pins::Error messages
    doctest::Context context(argc, argv);
    rc = context.run();
  }
  PetscFinalize();
  return rc;
}
