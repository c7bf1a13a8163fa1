// Classical black-box multigrid as CG's preconditioner on the unseen Darcy samples that
// bench_precondition solves (Darcy 12/3 and 1:1e4, the same sampler and seeds).
//
// The cycle is pins::MultigridCycle: Dendy's operator-dependent prolongation, Galerkin coarse
// operators and a dense coarsest solve (the coarse correction MgNet's cycle is built on, from
// surrogates/multigrid.hpp), with damped Jacobi as its smoother instead of MgNet's learned ones.
// Beside the MgNet rows of bench/RESULTS.md it tells apart where the MgNet's stalls at 1:1e4
// come from: if this cycle converges there without stalls, the coarse correction serves those
// operators and the learned smoothers do not; if it stalls too, the coarse correction is the
// part to change.
//
//   bench_blackbox_mg [-grids 256,1024] [-samples 2] [-seed 1000] [-smoothing 2] [-rtol 1e-8]
//
// b = 1 on every grid point (bench_precondition's right-hand side), CG in float64 on one
// thread until ‖b − A x‖ ≤ rtol ‖b‖. Prints a markdown table: iterations, stalled iterations
// (the residual fell by less than 5 %) and the seconds of set-up + solve per sample.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pde/darcy/darcy_sampler.hpp"
#include "pins/core/multigrid_cycle.hpp"
#include "pins/core/stencil_operator.hpp"

namespace {

struct Options {
  std::vector<int> grids{256, 1024};
  int samples = 2;
  long seed = 1000;
  int smoothing = 2;
  double rtol = 1e-8;
};

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr, "bench_blackbox_mg: %s\n", what.c_str());
  std::exit(2);
}

long number(const std::string& option, const char* text, long lo) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (!*text || *end || v < lo)
    usage_error(option + " " + text + ": expected an integer >= " + std::to_string(lo));
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage_error(a + ": missing value (options: -grids -samples -seed -smoothing -rtol)");
    const char* v = argv[++i];
    if (a == "-grids") {
      o.grids.clear();
      std::stringstream ss(v);
      for (std::string g; std::getline(ss, g, ',');) o.grids.push_back(int(number(a, g.c_str(), 8)));
      if (o.grids.empty()) usage_error("-grids: expected sizes such as 256,1024");
    } else if (a == "-samples") {
      o.samples = int(number(a, v, 1));
    } else if (a == "-seed") {
      o.seed = number(a, v, 0);
    } else if (a == "-smoothing") {
      o.smoothing = int(number(a, v, 1));
    } else if (a == "-rtol") {
      char* end = nullptr;
      o.rtol = std::strtod(v, &end);
      if (!*v || *end || !(o.rtol > 0 && o.rtol < 1))
        usage_error(std::string("-rtol ") + v + ": expected a number in (0, 1)");
    } else {
      usage_error("unknown option " + a + " (options: -grids -samples -seed -smoothing -rtol)");
    }
  }
  return o;
}

struct Result {
  int iterations = 0, stalled = 0;
  double residual = 0, seconds = 0;
  bool converged = false;
};

Result solve(const torch::Tensor& kappa, const Options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const pins::StencilOperator A(pins::Stencil{2, pins::StencilShape::kStar, 1, 1},
                                pins::darcy::stencil_coefficients(kappa));
  pins::MultigridSettings settings;
  settings.smoothing = o.smoothing;
  const pins::MultigridCycle B(A, settings);
  const torch::Tensor b = torch::ones_like(kappa);
  const double bn = b.norm().item<double>();
  torch::Tensor x = torch::zeros_like(b), r = b.clone(), z = B.apply(r), p = z.clone();
  double rz = (r * z).sum().item<double>(), rn = bn;
  Result out;
  for (int k = 1; k <= 2000; ++k) {
    const torch::Tensor Ap = A.apply(p);
    const double alpha = rz / (p * Ap).sum().item<double>();
    x.add_(p, alpha);
    r.sub_(Ap, alpha);
    const double next = r.norm().item<double>();
    out.iterations = k;
    out.stalled += next > 0.95 * rn;
    rn = next;
    if (rn <= o.rtol * bn) {
      out.converged = true;
      break;
    }
    z = B.apply(r);
    const double rz_next = (r * z).sum().item<double>();
    p = z + (rz_next / rz) * p;
    rz = rz_next;
  }
  out.residual = (b - A.apply(x)).norm().item<double>() / bn;  // the true residual
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  torch::set_num_threads(1);
  std::printf("black-box multigrid (Dendy prolongation, Galerkin, %d+%d damped Jacobi) + CG, "
              "%d unseen samples per set (seed %ld), b = 1, rtol %g\n",
              o.smoothing, o.smoothing, o.samples, o.seed, o.rtol);
  std::printf("\n| grid | set | sample | iterations | stalled (< 5 %% drop) | true rel. residual | "
              "set-up + solve (s) |\n|---|---|---|---|---|---|---|\n");
  for (const int n : o.grids) {
    for (const bool contrast : {false, true}) {
      pins::darcy::SamplerOptions so;
      so.seed = std::uint64_t(o.seed);
      if (contrast) so.kappa_high = 1e4, so.kappa_low = 1;
      const pins::darcy::Sampler sampler(so, n, n);
      std::vector<double> kappa(size_t(n) * size_t(n)), f(size_t(n) * size_t(n));
      for (int s = 0; s < o.samples; ++s) {
        sampler.sample(std::uint64_t(s), kappa.data(), f.data());
        const torch::Tensor k =
            torch::from_blob(kappa.data(), {1, n, n}, torch::kFloat64).clone();
        const Result res = solve(k, o);
        std::printf("| %d² | %s | %d | %d%s | %d | %.1e | %.3f |\n", n,
                    contrast ? "1:1e4" : "12/3", s, res.iterations,
                    res.converged ? "" : " (not converged)", res.stalled, res.residual,
                    res.seconds);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
