// What this shows: the PDE's own discrete residual as a differentiable LibTorch operation.
// We draw Darcy conductivities κ with pins' sampler, turn them into 5-point stencil
// coefficients (exactly the operator PETSc assembles), and then "train" the solution field u
// itself — a tensor of free parameters — by minimising a physics loss with a LibTorch
// optimiser. Forward passes are Kokkos kernels; backward passes are the adjoint kernels.
// Nothing here needs PETSc: this is pins::core alone.
//
// Sample runs:
//   build/bin/example_physics_loss                     # 4 samples on a 32x32 grid
//   build/bin/example_physics_loss -grid 64 -samples 8 -iters 400
//
// Expected output: minimising the energy drives the relative residual ‖A u − f‖/‖f‖ down
// by orders of magnitude; the residual loss's autograd gradient equals 2 Aᵀ r / N to
// rounding.
#include <torch/torch.h>

#include <cstdio>
#include <string>
#include <vector>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pde/darcy/darcy_sampler.hpp"
#include "pins/core/losses.hpp"
#include "pins/core/stencil.hpp"

namespace {

struct Args {
  int grid = 32, samples = 4, iters = 200;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::stoi(argv[i + 1]);
    if (k == "-grid") a.grid = v;
    else if (k == "-samples") a.samples = v;
    else if (k == "-iters") a.iters = v;
    else {
      std::fprintf(stderr, "example_physics_loss: unknown option %s (-grid, -samples, -iters)\n",
                   k.c_str());
      std::exit(2);
    }
  }
  if (a.grid < 3 || a.samples < 1 || a.iters < 1) {
    std::fprintf(stderr, "example_physics_loss: need -grid >= 3, -samples >= 1, -iters >= 1\n");
    std::exit(2);
  }
  return a;
}

double relative_residual(const torch::Tensor& coeffs, const torch::Tensor& u,
                         const torch::Tensor& f) {
  torch::NoGradGuard no_grad;
  return (pins::stencil_residual(coeffs, u, f).norm() / f.norm()).item<double>();
}

// Minimise the energy over u with L-BFGS and report the residual as it goes.
void solve_by_energy_minimisation(const torch::Tensor& coeffs, const torch::Tensor& f, int iters) {
  auto u = torch::zeros_like(f).requires_grad_();
  torch::optim::LBFGS opt({u}, torch::optim::LBFGSOptions(1.0).max_iter(iters / 10 + 1)
                                   .history_size(20)
                                   // The losses are tiny in absolute terms (r/diag ~ 1e-4):
                                   // stop on the iteration budget, not on PyTorch's default
                                   // gradient and change tolerances.
                                   .tolerance_grad(0)
                                   .tolerance_change(0)
                                   .line_search_fn("strong_wolfe"));
  std::printf("energy loss:\n  step  0: relative residual %.3e\n",
              relative_residual(coeffs, u, f));
  for (int step = 1; step <= 10; ++step) {
    opt.step([&] {
      opt.zero_grad();
      auto l = pins::energy_loss(coeffs, u, f);
      l.backward();  // adjoint Kokkos kernels
      return l;
    });
    if (step % 2 == 0)
      std::printf("  step %2d: relative residual %.3e\n", step, relative_residual(coeffs, u, f));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);

  // 1. Sample conductivities: thresholded Gaussian random fields, κ ∈ {3, 12}, f = 1.
  pins::darcy::SamplerOptions sampler_options;
  sampler_options.seed = 42;
  pins::darcy::Sampler sampler(sampler_options, a.grid, a.grid);
  auto kappa = torch::empty({a.samples, a.grid, a.grid}, torch::kFloat64);
  auto f = torch::empty_like(kappa);
  for (int s = 0; s < a.samples; ++s)
    sampler.sample(s, kappa[s].data_ptr<double>(), f[s].data_ptr<double>());

  // 2. The discrete operator as stencil coefficients [B, 5, n, n] (C, W, E, S, N).
  const auto coeffs = pins::darcy::stencil_coefficients(kappa);
  std::printf("grid %dx%d, %d samples, coefficients %s\n\n", a.grid, a.grid, a.samples,
              c10::str(coeffs.sizes()).c_str());

  // 3. The energy ½uᵀAu − fᵀu: its gradient is A u − f, so its minimiser solves A u = f.
  solve_by_energy_minimisation(coeffs, f, a.iters);

  // 4. The mean squared residual, the physics loss surrogates train on. Minimising it
  //    directly is the normal equations (condition number squared), so instead of solving
  //    with it we look at its gradient: autograd through the Kokkos adjoint must give
  //    dL/du = 2 Aᵀ(A u − f) / N.
  auto u = torch::rand_like(f).requires_grad_();
  auto loss = pins::residual_loss(coeffs, u, f);
  loss.backward();
  const auto r = pins::stencil_residual(coeffs, u.detach(), f);
  const auto expected = 2.0 * pins::stencil_apply_transpose(coeffs, r) / double(r.numel());
  std::printf("\nresidual loss %.6e; |autograd dL/du - 2 A^T r / N| / |2 A^T r / N| = %.2e\n",
              loss.item<double>(), ((u.grad() - expected).norm() / expected.norm()).item<double>());
  return 0;
}
