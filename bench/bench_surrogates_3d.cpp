// What the 3-D surrogates cost to train: forward and forward+backward time per sample of
// fno3d and unet3d (default options) on a B × Cin × n³ float32 batch, and their parameter
// counts, as a Markdown table.
//
//   bench_surrogates_3d [n 32] [batch 4] [threads 2] [repeats 5]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "pins/core/options.hpp"
#include "surrogates/registry.hpp"

namespace {

// Median wall time of `repeats` calls after one warm-up, in milliseconds.
template <class F>
double median_ms(F f, int repeats) {
  f();
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int64_t n = argc > 1 ? std::stoi(argv[1]) : 32;
    const int64_t B = argc > 2 ? std::stoi(argv[2]) : 4;
    const int threads = argc > 3 ? std::stoi(argv[3]) : 2;
    const int repeats = argc > 4 ? std::stoi(argv[4]) : 5;
    torch::set_num_threads(threads);
    const int cin = 2, cout = 1;  // the solution task's features (κ, f) → u
    std::printf(
        "3-D surrogates, default options, float32, B = %lld, %lld^3 grid, Cin %d, Cout %d, "
        "%d threads, median of %d\n\n",
        (long long)B, (long long)n, cin, cout, torch::get_num_threads(), repeats);
    std::printf(
        "| architecture | parameters | forward ms/sample | forward+backward ms/sample |\n"
        "|---|---|---|---|\n");
    for (const auto& type : pins::surrogate_types_for("solution", 3)) {
      torch::manual_seed(0);
      auto model = pins::make_surrogate(type, pins::OptionMap{}, cin, cout);
      int64_t parameters = 0;
      for (const auto& p : model->module().parameters()) parameters += p.numel();
      const torch::Tensor x = torch::randn({B, cin, n, n, n});
      const double forward = median_ms(
          [&] {
            torch::NoGradGuard no_grad;
            model->forward(x);
          },
          repeats);
      const double train = median_ms(
          [&] {
            for (auto& p : model->module().parameters()) p.mutable_grad() = torch::Tensor();
            model->forward(x).square().mean().backward();
          },
          repeats);
      std::printf("| %s | %lld | %.1f | %.1f |\n", type.c_str(), (long long)parameters,
                  forward / double(B), train / double(B));
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_surrogates_3d: %s\n", e.what());
    return 1;
  }
  return 0;
}
