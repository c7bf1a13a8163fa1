#pragma once
// Include this instead of <doctest/doctest.h> in tests that use LibTorch: <torch/torch.h>
// pulls in glog, whose CHECK/CHECK_EQ/... macros would silently replace doctest's (a glog
// CHECK aborts instead of recording a failure). Torch first, glog's names dropped, then
// doctest defines its own.
#include <torch/torch.h>

#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LT
#undef CHECK_LE
#undef CHECK_GT
#undef CHECK_GE
#undef CHECK_FALSE
#include <doctest/doctest.h>
