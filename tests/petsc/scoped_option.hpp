#pragma once
// A PETSc option set for the lifetime of the object (tests that drive families and solvers
// through the options database, as the CLI does).

#include <petscsys.h>

struct ScopedOption {
  const char* name;
  ScopedOption(const char* n, const char* value) : name(n) {
    PetscOptionsSetValue(nullptr, n, value);
  }
  ~ScopedOption() { PetscOptionsClearValue(nullptr, name); }
  ScopedOption(const ScopedOption&) = delete;
  ScopedOption& operator=(const ScopedOption&) = delete;
};
