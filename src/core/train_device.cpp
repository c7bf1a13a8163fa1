// -train_device: where training runs. The model and every batch tensor go to one device;
// the physics loss calls pins' Kokkos kernels on those tensors, and the kernels read the
// memory of the execution space Kokkos was built for (Serial/OpenMP: the host; Cuda: the
// GPU), so a CUDA device needs both a LibTorch that sees the GPU and a CUDA Kokkos.
#include <torch/cuda.h>

#include "pins/core/check.hpp"
#include "pins/core/kokkos_runtime.hpp"
#include "pins/core/trainer.hpp"
#include "train_device.hpp"

namespace pins {

void detail::check_train_device_name(const std::string& name) {
  PINS_CHECK(name == "auto" || name == "cpu" || name == "cuda",
             "-train_device must be auto, cpu or cuda, got '", name, "'");
}

torch::Device training_device(const std::string& name) {
  detail::check_train_device_name(name);
  if (name == "cpu") return torch::kCPU;
  const bool torch_gpu = torch::cuda::is_available();
  const bool kokkos_gpu = !kokkos_uses_host_memory();
  if (name == "auto") return torch_gpu && kokkos_gpu ? torch::Device(torch::kCUDA) : torch::kCPU;
  PINS_CHECK(torch_gpu, "-train_device cuda: this LibTorch sees no CUDA device "
             "(torch::cuda::is_available() is false: a CPU-only LibTorch, or no GPU visible); "
             "use -train_device cpu");
  PINS_CHECK(kokkos_gpu, "-train_device cuda: pins' Kokkos kernels run on ",
             kokkos_execution_space_name(),
             " (host memory), and the physics loss runs them on the batch tensors; build pins "
             "with a CUDA Kokkos (bench/gpu/run_device_check.sh) or use -train_device cpu");
  return torch::Device(torch::kCUDA);
}

}  // namespace pins
