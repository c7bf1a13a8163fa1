// What one MgNet preconditioner application costs, and where the time goes, on one sampled
// operator: the Galerkin hierarchy (float32 and float64), the first application (set-up:
// hierarchy, smoother CNNs, coarse inverse, one cycle), a cached application (the cycle
// only, what every Krylov iteration pays), and the residual one application leaves.
//
//   bench_mgnet <model.pins> [grid 256] [operator kind darcy] [repeats 20]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "pins/core/model_file.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/multigrid.hpp"
#include "surrogates/surrogate.hpp"

namespace {

template <class F>
double milliseconds(F f, int repeats) {
  f();  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
         repeats;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_mgnet <model.pins> [grid] [kind] [repeats]\n");
    return 2;
  }
  try {
    const std::string path = argv[1];
    const int grid = argc > 2 ? std::stoi(argv[2]) : 256;
    const std::string kind = argc > 3 ? argv[3] : "darcy";
    const int repeats = argc > 4 ? std::stoi(argv[4]) : 20;
    pins::set_training_threads(0);
    pins::ModelRequirements need;
    need.task = pins::kPreconditionTask;
    pins::LoadedModel loaded = pins::load_model(path, need);
    pins::Surrogate& model = *loaded.model;
    const pins::PreconditionBatch b = pins::sample_precondition_batch({kind}, grid, 1, 1000, 0);
    const torch::Tensor c = b.scaled_coeffs.to(torch::kFloat32), r = b.rhat.to(torch::kFloat32);
    const torch::Tensor x = pins::precondition_input(c, r);
    torch::NoGradGuard no_grad;
    std::printf("%s, %s operator on %d x %d, %d threads\n", path.c_str(), kind.c_str(), grid, grid,
                torch::get_num_threads());
    for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
      const torch::Tensor A = pins::mg::stencil_from_couplings(x.narrow(1, 1, 4).to(dtype));
      const double w = milliseconds([&] { pins::mg::prolongation_weights(A); }, repeats);
      const torch::Tensor W = pins::mg::prolongation_weights(A);
      const double g = milliseconds([&] { pins::mg::galerkin(A, W); }, repeats);
      const double h = milliseconds([&] { pins::mg::build_hierarchy(A, 8); }, repeats);
      std::printf("  hierarchy in %s: prolongation %.2f ms, finest Galerkin product %.2f ms, "
                  "all levels + coarse inverse %.2f ms\n",
                  dtype == torch::kFloat32 ? "float32" : "float64", w, g, h);
    }
    // Alternating between two operators defeats the cache: the set-up cost.
    const torch::Tensor other = x.clone();
    other.narrow(1, 0, 4).mul_(0.999);
    int calls = 0;
    const double first =
        milliseconds([&] { model.forward(++calls % 2 ? other : x); }, repeats);
    const double cached = milliseconds([&] { model.forward(x); }, 5 * repeats);
    const torch::Tensor z = pins::precondition_step(model, c, r);
    const double left = torch::sqrt(pins::precondition_loss(c, r, z)).item<double>();
    std::printf("  application with set-up %.2f ms, cached application %.2f ms; one application "
                "leaves %.3f of the residual\n",
                first, cached, left);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mgnet: %s\n", e.what());
    return 1;
  }
  return 0;
}
