#pragma once
/// \file
/// Where Kokkos kernels on LibTorch tensors run, so that they run in order with LibTorch:
/// pins' own kernels launch here, and so should a family's (pde/darcy/darcy_coefficients.cpp
/// is an example). Only sources compiled with Kokkos' compiler include it.
//
// The tensors a kernel reads are made, and those it writes are read, by LibTorch operations.
// On the host (Serial, OpenMP) LibTorch runs on the calling thread, so a kernel must be done
// when its launcher returns: launch_space() is Kokkos' default instance and finish() fences
// it. With CUDA on both sides, LibTorch queues its operations on its current CUDA stream:
// launch_space() is a Kokkos::Cuda instance on that stream, so a kernel is queued behind the
// operations that made its inputs and before those that read its outputs, and finish() waits
// for nothing — no device-wide fence on the hot path. (A CUDA Kokkos beside a LibTorch
// without CUDA launches on Kokkos' default instance and fences it.)
#include <Kokkos_Core.hpp>

namespace pins::kernels {

using LaunchSpace = Kokkos::DefaultExecutionSpace;

/// The execution space instance the next kernel runs on (see the file comment).
LaunchSpace launch_space();

/// Ends a launch on `space`: fences it unless it is ordered on LibTorch's stream.
void finish(const LaunchSpace& space);

}  // namespace pins::kernels
