#pragma once
/// \file
/// Kokkos lifetime for a library: pins initialises Kokkos on first use unless the
/// application already did, and finalises it at exit only if pins initialised it.

#include <string>

namespace pins {

/// Initialise Kokkos if nobody has yet (idempotent, cheap after the first call).
/// Every pins entry point that launches a Kokkos kernel calls this.
void ensure_kokkos_initialized();

/// Name of the Kokkos execution space pins' kernels run on (e.g. "Serial", "OpenMP", "Cuda").
std::string kokkos_execution_space_name();

/// Whether Kokkos' default execution space works on host memory (Serial, OpenMP, Threads);
/// if not (CUDA, HIP), tensors handed to pins' kernels must live on the GPU.
bool kokkos_uses_host_memory();

/// Kokkos version as "major.minor.patch".
std::string kokkos_version_string();

/// Waits for all Kokkos work on every execution space instance (a device-wide
/// synchronisation on a GPU) — what pins' launchers did after every kernel before they ran
/// on LibTorch's stream (kernel_launch.hpp); for callers compiled without Kokkos, such as
/// bench_stencil's measurement of that fence's cost.
void kokkos_fence();

}  // namespace pins
