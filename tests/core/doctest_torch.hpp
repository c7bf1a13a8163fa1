#pragma once
// The one doctest header of all pins tests that see LibTorch (tests/core, tests/petsc,
// tests/surrogates, tests/training). Include it instead of <doctest/doctest.h>: the torch headers
// pull in glog, whose CHECK/CHECK_EQ/... macros would replace doctest's (a glog CHECK aborts
// instead of recording a failure). Torch first, glog's names dropped, then doctest.
#include <torch/types.h>

#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LT
#undef CHECK_LE
#undef CHECK_GT
#undef CHECK_GE
#undef CHECK_FALSE
#include <doctest/doctest.h>
