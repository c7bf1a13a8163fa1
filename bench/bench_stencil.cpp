// Benchmark: the Kokkos 5-point residual operator against (1) the same operator written
// with LibTorch tensor ops (padding + slicing) and (2) the memory-bandwidth bound, i.e. the
// bytes the operator must move divided by the bandwidth of a plain copy measured in the
// same run. Forward (r = A u − f) and forward + backward (gradients for u and coefficients).
//
//   ./build/bench/bench_stencil                 # B = 32, n = 256, 1 thread, median of 15
//   ./build/bench/bench_stencil -B 8 -n 128 -reps 5
//
// Prints a Markdown table; bench/RESULTS.md records a run with the command and machine.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "pins/core/kokkos_runtime.hpp"
#include "pins/core/stencil.hpp"

namespace {

namespace F = torch::nn::functional;

// Kokkos' device decides where the tensors live (CPU for Serial/OpenMP, GPU for CUDA).
torch::Device kernel_device() {
  return pins::kokkos_uses_host_memory() ? torch::Device(torch::kCPU) : torch::Device(torch::kCUDA);
}

// Wait for queued GPU work, so a timer measures the work and not its launch.
void synchronize() {
  if (kernel_device().is_cuda()) torch::cuda::synchronize();
}

double median_seconds(int reps, const std::function<void()>& fn) {
  fn();  // warm-up: first-touch page faults, allocator, Kokkos initialisation
  synchronize();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    synchronize();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

// The same operator with tensor ops: zero-pad u by one cell, take shifted slices.
torch::Tensor torch_ops_residual(const torch::Tensor& c, const torch::Tensor& u,
                                 const torch::Tensor& f) {
  const auto up = F::pad(u, F::PadFuncOptions({1, 1, 1, 1}));  // [B, ny+2, nx+2]
  using torch::indexing::Slice;
  const auto mid = Slice(1, -1);
  return c.select(1, 0) * u + c.select(1, 1) * up.index({Slice(), mid, Slice(0, -2)}) +
         c.select(1, 2) * up.index({Slice(), mid, Slice(2, torch::indexing::None)}) +
         c.select(1, 3) * up.index({Slice(), Slice(0, -2), mid}) +
         c.select(1, 4) * up.index({Slice(), Slice(2, torch::indexing::None), mid}) - f;
}

struct Args {
  int64_t B = 32, n = 256;
  int reps = 15, threads = 1;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "-B") a.B = std::stoll(argv[i + 1]);
    else if (k == "-n") a.n = std::stoll(argv[i + 1]);
    else if (k == "-reps") a.reps = std::stoi(argv[i + 1]);
    else if (k == "-threads") a.threads = std::stoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "bench_stencil: unknown option %s (expected -B, -n, -reps, -threads)\n",
                   k.c_str());
      std::exit(2);
    }
  }
  return a;
}

void run(const Args& a, torch::ScalarType dtype, const char* name) {
  torch::manual_seed(0);
  const auto opt = torch::TensorOptions().dtype(dtype).device(kernel_device());
  const auto c = (torch::rand({a.B, 5, a.n, a.n}, opt) - 1).contiguous();
  const auto u = torch::randn({a.B, a.n, a.n}, opt);
  const auto f = torch::randn({a.B, a.n, a.n}, opt);
  const auto g = torch::randn({a.B, a.n, a.n}, opt);
  const double field_bytes = double(a.B) * a.n * a.n * torch::elementSize(dtype);

  // Copy bandwidth: one read + one write of an array as large as the coefficients.
  auto src = torch::rand({a.B, 5, a.n, a.n}, opt), dst = torch::empty_like(src);
  const double t_copy = median_seconds(a.reps, [&] { dst.copy_(src); });
  const double bandwidth = 2.0 * 5 * field_bytes / t_copy;

  // Forward: read C,W,E,S,N,u,f and write r = 8 fields. Backward: read g,u and the
  // 5 coefficients, write grad_u and 5 coefficient gradients = 13 fields.
  const double bound_fwd = 8 * field_bytes / bandwidth;
  const double bound_fb = (8 + 13) * field_bytes / bandwidth;

  const double t_kokkos_fwd = median_seconds(a.reps, [&] { pins::stencil_residual(c, u, f); });
  const double t_torch_fwd = median_seconds(a.reps, [&] { torch_ops_residual(c, u, f); });

  auto cg = c.clone().requires_grad_(), ug = u.clone().requires_grad_();
  const double t_kokkos_fb = median_seconds(a.reps, [&] {
    cg.mutable_grad() = torch::Tensor();
    ug.mutable_grad() = torch::Tensor();
    pins::stencil_residual(cg, ug, f).backward(g);
  });
  const double t_torch_fb = median_seconds(a.reps, [&] {
    cg.mutable_grad() = torch::Tensor();
    ug.mutable_grad() = torch::Tensor();
    torch_ops_residual(cg, ug, f).backward(g);
  });
  // Both implementations must agree, or the timing is meaningless.
  const double diff =
      (pins::stencil_residual(c, u, f) - torch_ops_residual(c, u, f)).abs().max().item<double>();

  auto ms = [](double s) { return s * 1e3; };
  std::printf("| %s | forward | %.2f | %.2f | %.2f | %.1fx | %.0f%% |\n", name, ms(t_kokkos_fwd),
              ms(t_torch_fwd), ms(bound_fwd), t_torch_fwd / t_kokkos_fwd,
              100 * bound_fwd / t_kokkos_fwd);
  std::printf("| %s | forward+backward | %.2f | %.2f | %.2f | %.1fx | %.0f%% |\n", name,
              ms(t_kokkos_fb), ms(t_torch_fb), ms(bound_fb), t_torch_fb / t_kokkos_fb,
              100 * bound_fb / t_kokkos_fb);
  std::fprintf(stderr, "%s: copy bandwidth %.1f GB/s, max |kokkos - torch ops| = %.2e\n", name,
               bandwidth / 1e9, diff);
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  torch::set_num_threads(a.threads);
  pins::ensure_kokkos_initialized();
  std::printf("B = %lld, n = %lld, LibTorch threads = %d, Kokkos space = %s, device = %s, "
              "median of %d\n\n",
              static_cast<long long>(a.B), static_cast<long long>(a.n), a.threads,
              pins::kokkos_execution_space_name().c_str(), kernel_device().str().c_str(), a.reps);
  std::printf("| dtype | pass | Kokkos ms | LibTorch ops ms | bandwidth bound ms | "
              "speed-up vs ops | %% of bound |\n|---|---|---|---|---|---|---|\n");
  run(a, torch::kFloat64, "float64");
  run(a, torch::kFloat32, "float32");
  return 0;
}
