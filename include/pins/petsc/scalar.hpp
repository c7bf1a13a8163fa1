#pragma once
/// \file
/// pins reads and writes PETSc's vector and matrix arrays as float64 tensors in place (the
/// surrogate PC and KSPGuess, operators read out of matrices, generated samples), so it needs
/// a PETSc built with real double-precision scalars. Including this header checks that at
/// compile time; pins/petsc/error.hpp includes it, so every PETSc-facing file is checked.

#include <petscsystypes.h>

#include <type_traits>

static_assert(std::is_same_v<PetscScalar, double> && std::is_same_v<PetscReal, double>,
              "pins needs a PETSc built with real double-precision scalars "
              "(--with-scalar-type=real --with-precision=double): it shares PetscScalar "
              "arrays with float64 tensors without converting them");
