#pragma once
// Small Darcy problems for the trainer tests: κ and f from pins' sampler, u from a dense
// solve of the same stencil operator (so no PETSc is needed).
#include "doctest_torch.hpp"
#include "test_helpers.hpp"  // device(): where pins' Kokkos kernels read their tensors

#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pde/darcy/darcy_sampler.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/registry.hpp"

namespace pins::test {

/// n samples on an n_grid² grid; u solved exactly (float64) unless `with_u` is false.
inline TrainingData darcy_data(int n, int grid, bool with_u = true, int f_seed_offset = 0) {
  darcy::SamplerOptions so;
  so.seed = 7 + std::uint64_t(f_seed_offset);
  so.forcing = darcy::ForcingKind::kRandomField;
  darcy::Sampler sampler(so, grid, grid);
  TrainingData d;
  const torch::Tensor kappa = torch::empty({n, grid, grid}, torch::kFloat64);
  const torch::Tensor f = torch::empty({n, grid, grid}, torch::kFloat64);
  for (int i = 0; i < n; ++i)
    sampler.sample(std::uint64_t(i), kappa[i].data_ptr<double>(), f[i].data_ptr<double>());
  d.inputs = {{"kappa", kappa}, {"f", f}};
  if (with_u) {
    const int64_t m = int64_t(grid) * grid;
    const torch::Device at = device();  // the kernels' device: these tests run on a GPU build too
    const torch::Tensor coeffs = darcy::stencil_coefficients(kappa.to(at));
    const torch::Tensor eye = torch::eye(m, torch::kFloat64).view({m, grid, grid}).to(at);
    d.u = torch::empty_like(f);
    for (int i = 0; i < n; ++i) {
      // Column j of A is A e_j.
      const torch::Tensor cols =
          stencil_apply(coeffs[i].unsqueeze(0).expand({m, 5, grid, grid}).contiguous(), eye);
      const torch::Tensor A = cols.view({m, m}).t().to(torch::kCPU);
      d.u[i] = torch::linalg_solve(A, f[i].reshape({m, 1})).view({grid, grid});
    }
  }
  d.fingerprint = "test-" + std::to_string(n) + "-" + std::to_string(grid);
  return d;
}

/// A small FNO for (log κ, f) → u, or with `in_channels` inputs (e.g. kPreconditionChannels:
/// the preconditioner's couplings and residual).
inline std::shared_ptr<Surrogate> small_fno(std::uint64_t seed = 0,
                                            int in_channels = kFeatureChannels) {
  torch::manual_seed(seed);
  return make_surrogate("fno",
                        OptionMap::from_args({"-fno_modes", "4", "-fno_width", "8", "-fno_layers",
                                              "2", "-fno_padding", "2", "-fno_hidden", "16"}),
                        in_channels, 1);
}

/// Copies of a model's parameters and buffers.
inline std::vector<torch::Tensor> weights(Surrogate& s) {
  std::vector<torch::Tensor> w;
  for (const auto& p : s.module().parameters()) w.push_back(p.detach().clone());
  for (const auto& b : s.module().buffers()) w.push_back(b.detach().clone());
  return w;
}

inline bool same_weights(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

inline bool all_finite(Surrogate& s) {
  for (const auto& p : s.module().parameters())
    if (!torch::isfinite(p).all().item<bool>()) return false;
  return true;
}

/// A fresh, empty folder for one test's files.
inline std::string scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("pins_training_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

/// Options for quick runs: quiet, two threads, one step per epoch unless changed.
inline TrainOptions quick_options() {
  TrainOptions o;
  o.epochs = 3;
  o.batch_size = 64;
  o.lr = 1e-3;
  o.schedule = "constant";
  o.threads = 2;
  o.monitor = 0;
  o.seed = 3;
  o.val_fraction = 0.25;
  return o;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace pins::test
