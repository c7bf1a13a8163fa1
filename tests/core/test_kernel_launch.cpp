// Kernels in order with LibTorch (pins/core/kernel_launch.hpp). On a CUDA build they run on
// LibTorch's current stream: here a side stream, with LibTorch operations making their
// inputs before them and reading their outputs after them and no fence in between, and the
// answers must be the serial reference's. On a host build a kernel is done when it returns.
#include <torch/cuda.h>

#include "doctest_torch.hpp"

#ifdef PINS_TORCH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include "pins/core/stencil.hpp"
#include "test_helpers.hpp"

using pins::test::opts;
using pins::test::random_coeffs;
using pins::test::reference_apply;
using pins::test::row_tolerance;

namespace {

// Twenty rounds of LibTorch → kernel → LibTorch on one stream, each round's input different,
// checked against the reference after the stream has finished.
void check_rounds(const torch::Tensor& c, const torch::Tensor& u0) {
  std::vector<torch::Tensor> outs;
  for (int i = 0; i < 20; ++i) {
    const torch::Tensor u = u0 * float(i + 1);         // LibTorch makes the kernel's input
    outs.push_back(pins::stencil_apply(c, u) + 0.0f);  // and reads its output
  }
  if (u0.is_cuda()) torch::cuda::synchronize();
  for (int i = 0; i < 20; ++i) {
    CAPTURE(i);
    const torch::Tensor u = u0 * float(i + 1);
    const double tol = row_tolerance(c.select(1, 0), u, c.scalar_type());
    const torch::Tensor error = outs[size_t(i)].to(torch::kFloat64) - reference_apply(c, u);
    CHECK(error.abs().max().item<double>() <= tol);
  }
}

}  // namespace

TEST_CASE("kernels run in order with the LibTorch operations around them") {
  torch::manual_seed(5);
  const torch::Tensor c = random_coeffs(8, 128, 128, torch::kFloat32);
  const torch::Tensor u0 = torch::randn({8, 128, 128}, opts(torch::kFloat32));
  check_rounds(c, u0);  // the default stream on a GPU; the host otherwise
  if (pins::kokkos_uses_host_memory() || !torch::cuda::is_available()) {
    MESSAGE(
        "host Kokkos: kernels run on Kokkos' default instance and are fenced; no stream to "
        "switch");
    return;
  }
#ifdef PINS_TORCH_CUDA
  torch::cuda::synchronize();  // c and u0 were made on the default stream
  c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
  c10::cuda::CUDAStreamGuard guard(side);
  check_rounds(c, u0);
#else
  FAIL("a CUDA Kokkos beside a LibTorch without CUDA: kernels cannot follow LibTorch's stream");
#endif
}
