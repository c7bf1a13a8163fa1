// Kernel launches ordered with LibTorch (kernel_launch.hpp). A Kokkos::Cuda instance owns
// scratch memory (cudaMalloc'd when it is made), so there is one per stream, kept until
// Kokkos is finalised (a finalize hook drops them before Kokkos' own spaces go).
#include "pins/core/kernel_launch.hpp"

#if defined(KOKKOS_ENABLE_CUDA) && defined(PINS_TORCH_CUDA)
#include <c10/cuda/CUDAStream.h>

#include <map>
#include <memory>
#include <mutex>
#define PINS_LAUNCH_ON_TORCH_STREAM 1
#endif

namespace pins::kernels {

#ifdef PINS_LAUNCH_ON_TORCH_STREAM
namespace {
std::mutex instances_mutex;
std::unique_ptr<std::map<cudaStream_t, LaunchSpace>> instances;
}  // namespace

LaunchSpace launch_space() {
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  // LibTorch's default stream is the legacy stream Kokkos' default instance runs on.
  if (stream == nullptr) return LaunchSpace();
  std::lock_guard<std::mutex> lock(instances_mutex);
  if (!instances) {
    instances = std::make_unique<std::map<cudaStream_t, LaunchSpace>>();
    Kokkos::push_finalize_hook([] {
      std::lock_guard<std::mutex> hook_lock(instances_mutex);
      instances.reset();
    });
  }
  auto it = instances->find(stream);
  if (it == instances->end()) it = instances->emplace(stream, LaunchSpace(stream)).first;
  return it->second;
}

void finish(const LaunchSpace&) {}

#else
LaunchSpace launch_space() {
  return LaunchSpace();
}

void finish(const LaunchSpace& space) {
  space.fence();
}

#endif

}  // namespace pins::kernels
