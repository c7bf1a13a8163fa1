// Benchmark: the Kokkos stencil residual operator (2-D 5/9-point, 3-D 7/27-point) against (1) the
// same operator written with LibTorch tensor ops (padding + slicing) and (2) the memory-bandwidth
// bound, i.e. the bytes the operator must move divided by the bandwidth of a plain copy measured in
// the same run. Forward (r = A u − f) and forward + backward (gradients for u and coefficients).
//
//   ./build/bin/bench_stencil                     # 2-D 5-point, B = 32, n = 256, 1 thread
//   ./build/bin/bench_stencil -stencil 3d7 -B 8 -n 64    # 3-D 7-point on 64³
//   (-stencil 2d5|2d9|3d7|3d27, -B, -n grid points per axis, -reps, -threads, -clock cpu|wall:
//   the thread's CPU time by default on the host with one thread, else wall-clock time,
//   -chain: residuals per chain in the fence line)
//
// Then the cost of a device-wide fence per kernel: a chain of -chain forward residuals
// launched back to back (as pins runs them: on LibTorch's stream, one wait at the end) against
// the same chain with Kokkos::fence() after every launch (as before kernel_launch.hpp). On the
// host both fence (the kernels must be done when their launchers return), so the two agree.
//
// Prints a Markdown table; bench/RESULTS.md records a run with the command and machine.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "pins/core/kokkos_runtime.hpp"
#include "pins/core/stencil_operator.hpp"

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

// The clock: on the host with one LibTorch thread, this thread's CPU time (Kokkos Serial and
// LibTorch both run on the calling thread), so time the scheduler gives to other processes of
// a shared machine is not counted; on a GPU, with more threads, or with -wall, wall-clock time.
bool g_cpu_clock = false;
double now_seconds() {
  if (!g_cpu_clock)
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

double median_seconds(int reps, const std::function<void()>& fn) {
  fn();  // warm-up: first-touch page faults, allocator, Kokkos initialisation
  synchronize();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_seconds();
    fn();
    synchronize();
    t.push_back(now_seconds() - t0);
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

// The same operator with tensor ops: zero-pad u by the stencil width, add shifted windows.
torch::Tensor torch_ops_residual(const pins::Stencil& s, const torch::Tensor& c,
                                 const torch::Tensor& u, const torch::Tensor& f) {
  using torch::indexing::Slice;
  const int w = s.width;
  const int64_t d = u.dim();
  std::vector<int64_t> pad;  // last axis first, as torch's pad wants it
  for (int a = 0; a < s.dim; ++a) pad.insert(pad.end(), {w, w});
  const auto up = F::pad(u, F::PadFuncOptions(pad));
  torch::Tensor out = -f;
  const auto offsets = s.offsets();
  for (int p = 0; p < s.points(); ++p) {
    std::vector<at::indexing::TensorIndex> idx(d - s.dim, Slice());
    for (int a = 0; a < s.dim; ++a) {
      const int off = offsets[p][3 - s.dim + a];
      const int64_t n = u.size(d - s.dim + a);
      idx.push_back(Slice(w + off, w + off + n));
    }
    out = out + c.select(1, p) * up.index(idx);  // scalar stencils (dof = 1)
  }
  return out;
}

struct Args {
  int64_t B = 32, n = 256;
  int reps = 15, threads = 1, chain = 20;
  std::string stencil = "2d5";
  bool wall = false;  // -clock wall
};

pins::Stencil stencil_of(const std::string& name) {
  if (name == "2d5") return {2, pins::StencilShape::kStar, 1, 1};
  if (name == "2d9") return {2, pins::StencilShape::kBox, 1, 1};
  if (name == "3d7") return {3, pins::StencilShape::kStar, 1, 1};
  if (name == "3d27") return {3, pins::StencilShape::kBox, 1, 1};
  std::fprintf(stderr, "bench_stencil: -stencil must be 2d5, 2d9, 3d7 or 3d27, got %s\n",
               name.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "-B") a.B = std::stoll(argv[i + 1]);
    else if (k == "-n") a.n = std::stoll(argv[i + 1]);
    else if (k == "-reps") a.reps = std::stoi(argv[i + 1]);
    else if (k == "-threads") a.threads = std::stoi(argv[i + 1]);
    else if (k == "-chain")
      a.chain = std::max(1, std::stoi(argv[i + 1]));
    else if (k == "-stencil") a.stencil = argv[i + 1];
    else if (k == "-clock" && (std::string(argv[i + 1]) == "wall" ||
                               std::string(argv[i + 1]) == "cpu"))
      a.wall = std::string(argv[i + 1]) == "wall";
    else {
      std::fprintf(stderr,
                   "bench_stencil: unknown option %s (expected -B, -n, -reps, -threads, "
                   "-stencil, -clock cpu|wall, -chain)\n",
                   k.c_str());
      std::exit(2);
    }
  }
  return a;
}

// Returns the fence line for this dtype (printed after the table).
std::string run(const Args& a, torch::ScalarType dtype, const char* name) {
  torch::manual_seed(0);
  const pins::Stencil s = stencil_of(a.stencil);
  const int K = s.channels();
  const auto opt = torch::TensorOptions().dtype(dtype).device(kernel_device());
  std::vector<int64_t> grid(s.dim, a.n), field{a.B}, coeff{a.B, K};
  field.insert(field.end(), grid.begin(), grid.end());
  coeff.insert(coeff.end(), grid.begin(), grid.end());
  const auto c = (torch::rand(coeff, opt) - 1).contiguous();
  const auto u = torch::randn(field, opt);
  const auto f = torch::randn(field, opt);
  const auto g = torch::randn(field, opt);
  const double field_bytes = double(u.numel()) * torch::elementSize(dtype);

  // Copy bandwidth: one read + one write of an array as large as the coefficients.
  auto src = torch::rand(coeff, opt), dst = torch::empty_like(src);
  const double t_copy = median_seconds(a.reps, [&] { dst.copy_(src); });
  const double bandwidth = 2.0 * K * field_bytes / t_copy;

  // Forward: read K coefficients, u, f and write r = K + 3 fields. Backward: read g, u and
  // the K coefficients, write grad_u and K coefficient gradients = 2K + 3 fields.
  const double bound_fwd = (K + 3) * field_bytes / bandwidth;
  const double bound_fb = (K + 3 + 2 * K + 3) * field_bytes / bandwidth;

  const double t_kokkos_fwd = median_seconds(a.reps, [&] { pins::stencil_residual(s, c, u, f); });
  const double t_torch_fwd = median_seconds(a.reps, [&] { torch_ops_residual(s, c, u, f); });

  auto cg = c.clone().requires_grad_(), ug = u.clone().requires_grad_();
  const double t_kokkos_fb = median_seconds(a.reps, [&] {
    cg.mutable_grad() = torch::Tensor();
    ug.mutable_grad() = torch::Tensor();
    pins::stencil_residual(s, cg, ug, f).backward(g);
  });
  const double t_torch_fb = median_seconds(a.reps, [&] {
    cg.mutable_grad() = torch::Tensor();
    ug.mutable_grad() = torch::Tensor();
    torch_ops_residual(s, cg, ug, f).backward(g);
  });
  // Both implementations must agree, or the timing is meaningless.
  const double diff = (pins::stencil_residual(s, c, u, f) - torch_ops_residual(s, c, u, f))
                          .abs().max().item<double>();

  auto ms = [](double t) { return t * 1e3; };
  std::printf("| %s | %s | forward | %.2f | %.2f | %.2f | %.1fx | %.0f%% |\n", a.stencil.c_str(),
              name, ms(t_kokkos_fwd), ms(t_torch_fwd), ms(bound_fwd), t_torch_fwd / t_kokkos_fwd,
              100 * bound_fwd / t_kokkos_fwd);
  std::printf("| %s | %s | forward+backward | %.2f | %.2f | %.2f | %.1fx | %.0f%% |\n",
              a.stencil.c_str(), name, ms(t_kokkos_fb), ms(t_torch_fb), ms(bound_fb),
              t_torch_fb / t_kokkos_fb, 100 * bound_fb / t_kokkos_fb);
  std::fprintf(stderr, "%s %s: copy bandwidth %.1f GB/s, max |kokkos - torch ops| = %.2e\n",
               a.stencil.c_str(), name, bandwidth / 1e9, diff);

  const double t_chain = median_seconds(a.reps, [&] {
    for (int k = 0; k < a.chain; ++k) pins::stencil_residual(s, c, u, f);
  });
  const double t_fenced = median_seconds(a.reps, [&] {
    for (int k = 0; k < a.chain; ++k) {
      pins::stencil_residual(s, c, u, f);
      pins::kokkos_fence();
    }
  });
  char line[256];
  std::snprintf(line, sizeof line,
                "%s %s: %d forward residuals back to back %.3f ms, with a device-wide fence "
                "after each %.3f ms (%.1f us per fence)\n",
                a.stencil.c_str(), name, a.chain, ms(t_chain), ms(t_fenced),
                1e6 * (t_fenced - t_chain) / a.chain);
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  torch::set_num_threads(a.threads);
  pins::ensure_kokkos_initialized();
  g_cpu_clock = !a.wall && a.threads == 1 && kernel_device().is_cpu() &&
                pins::kokkos_execution_space_name() == "Serial";
  std::printf("B = %lld, n = %lld, LibTorch threads = %d, Kokkos space = %s, device = %s, "
              "median of %d, %s\n\n",
              static_cast<long long>(a.B), static_cast<long long>(a.n), a.threads,
              pins::kokkos_execution_space_name().c_str(), kernel_device().str().c_str(), a.reps,
              g_cpu_clock ? "thread CPU time" : "wall clock");
  std::printf("| stencil | dtype | pass | Kokkos ms | LibTorch ops ms | bandwidth bound ms | "
              "speed-up vs ops | %% of bound |\n|---|---|---|---|---|---|---|---|\n");
  const std::string fence64 = run(a, torch::kFloat64, "float64");
  const std::string fence32 = run(a, torch::kFloat32, "float32");
  std::printf("\n%s%s", fence64.c_str(), fence32.c_str());
  return 0;
}
