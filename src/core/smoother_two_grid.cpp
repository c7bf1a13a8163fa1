// The two-grid training loss of the learned smoother (pins/core/smoother_two_grid.hpp).
#include "pins/core/smoother_two_grid.hpp"

#include <torch/torch.h>

#include "pins/core/check.hpp"
#include "pins/core/sparse_operator.hpp"

namespace pins {

namespace {

// A X for one operator's values [nnz] and a dense X [n, k]: [n, k] (X's columns as a batch
// of vectors sharing A's values).
torch::Tensor apply_to_columns(const SparsePattern& p, const torch::Tensor& values,
                               const torch::Tensor& x) {
  return sparse_apply(p, values.unsqueeze(0), x.t().contiguous()).t();
}

// ρ(D⁻¹A) of one operator by power iteration: the Rayleigh quotient ⟨x, Ax⟩ / ⟨x, Dx⟩ of the
// symmetric D^{-1/2} A D^{-1/2} at the last iterate.
double jacobi_spectral_radius(const SparsePattern& p, const torch::Tensor& a,
                              const torch::Tensor& d) {
  torch::Tensor x = torch::ones({1, p.rows()}, a.options());
  x.index_put_({0, torch::indexing::Slice(torch::indexing::None, torch::indexing::None, 2)}, -1.0);
  x = x + 0.01 * torch::arange(p.rows(), a.options()).unsqueeze(0).sin();
  for (int it = 0; it < 20; ++it) {
    x = sparse_apply(p, a, x) / d;
    x = x / x.norm();
  }
  const torch::Tensor ax = sparse_apply(p, a, x);
  return ((x * ax).sum() / (x * x * d).sum()).item<double>();
}

// ⟨u, v⟩ per batch row.
torch::Tensor batch_dot(const torch::Tensor& u, const torch::Tensor& v) { return (u * v).sum(1); }

}  // namespace

SmootherCoarseSpace smoother_coarse_space(const SparsePattern& p, const torch::Tensor& a_values,
                                          const torch::Tensor& aggregate) {
  torch::NoGradGuard no_grad;
  PINS_CHECK(p.rows() == p.cols(), "smoother_coarse_space: needs a square pattern, got ",
             p.describe());
  PINS_CHECK(a_values.dim() == 2 && a_values.size(1) == p.nnz() &&
                 a_values.scalar_type() == torch::kFloat64,
             "smoother_coarse_space: A's values must be float64 [B, ", p.nnz(), "], got ",
             a_values.sizes());
  PINS_CHECK(aggregate.dim() == 1 && aggregate.size(0) == p.rows() &&
                 aggregate.scalar_type() == torch::kInt64,
             "smoother_coarse_space: the aggregates must be int64 [", p.rows(), "], got ",
             aggregate.sizes());
  PINS_CHECK(aggregate.min().item<int64_t>() >= 0,
             "smoother_coarse_space: aggregate ids must be non-negative");
  const int64_t n = p.rows(), nc = aggregate.max().item<int64_t>() + 1, B = a_values.size(0);
  PINS_CHECK(torch::bincount(aggregate).min().item<int64_t>() > 0,
             "smoother_coarse_space: every aggregate id in 0 … ", nc - 1, " must hold a row");
  const torch::Tensor rows = p.row_indices(), cols = p.col_idx().to(torch::kInt64);
  const torch::Tensor tentative =
      torch::zeros({n, nc}, a_values.options())
          .index_put_({torch::arange(n, aggregate.options()), aggregate}, 1.0);
  SmootherCoarseSpace c;
  c.prolongation = torch::empty({B, n, nc}, a_values.options());
  torch::Tensor coarse = torch::empty({B, nc, nc}, a_values.options());
  const torch::Tensor diagonal = sparse_diagonal(p, a_values);
  for (int64_t b = 0; b < B; ++b) {
    const torch::Tensor a = a_values[b], d = diagonal[b];
    // A P_tent: entry (i, j) adds a_ij to column aggregate(j) of row i.
    const torch::Tensor a_tent = torch::zeros({n * nc}, a.options())
                                     .index_add_(0, rows * nc + aggregate.index_select(0, cols), a)
                                     .view({n, nc});
    const double omega = 4.0 / (3.0 * jacobi_spectral_radius(p, a.unsqueeze(0), d.unsqueeze(0)));
    const torch::Tensor prolongation = tentative - omega * a_tent / d.unsqueeze(1);
    c.prolongation[b].copy_(prolongation);
    // Pᵀ A P = P_tentᵀ (I − ω A D⁻¹) A P for a symmetric A: sparse products and a sum over
    // each aggregate's rows instead of a dense n × nc × nc product.
    const torch::Tensor ap = apply_to_columns(p, a, prolongation);
    const torch::Tensor smoothed = ap - omega * apply_to_columns(p, a, ap / d.unsqueeze(1));
    coarse[b].zero_().index_add_(0, aggregate, smoothed);
  }
  coarse = (coarse + coarse.transpose(1, 2)) / 2;  // symmetric up to rounding
  auto [factor, info] = torch::linalg_cholesky_ex(coarse);
  PINS_CHECK(info.max().item<int64_t>() == 0,
             "smoother_coarse_space: the coarse operator Pᵀ A P is not positive definite "
             "(A must be symmetric positive definite)");
  c.coarse_factor = factor;
  return c;
}

torch::Tensor coarse_correction(const SparsePattern& p, const torch::Tensor& a_values,
                                const SmootherCoarseSpace& c, const torch::Tensor& v) {
  const torch::Tensor r = torch::bmm(c.prolongation.transpose(1, 2),
                                     sparse_apply(p, a_values, v.contiguous()).unsqueeze(2));
  return v - torch::bmm(c.prolongation, torch::cholesky_solve(r, c.coarse_factor)).squeeze(2);
}

torch::Tensor smoother_spectrum_estimate(const SparsePattern& p, const torch::Tensor& a_values,
                                         const torch::Tensor& m_values, const torch::Tensor& z,
                                         int iterations) {
  torch::Tensor x = z.detach();
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor m = m_values.detach();
    for (int it = 0; it < iterations; ++it) {
      x = sparse_apply(p, m, sparse_apply(p, a_values, x));
      x = x / x.norm(2, 1, true).clamp_min(1e-300);
    }
  }
  const torch::Tensor ax = sparse_apply(p, a_values, x);
  return batch_dot(ax, sparse_apply(p, m_values, ax)) / batch_dot(x, ax).clamp_min(1e-300);
}

torch::Tensor chebyshev_smooth(const SparsePattern& p, const torch::Tensor& a_values,
                               const torch::Tensor& m_values, const torch::Tensor& lambda,
                               const torch::Tensor& v) {
  // T₂ on [lo, hi] mapped to [−1, 1]: p(t) = T₂((θ − t)/δ) / T₂(θ/δ), T₂(x) = 2x² − 1.
  const torch::Tensor lo = 0.1 * lambda.unsqueeze(1), hi = 1.1 * lambda.unsqueeze(1);
  const torch::Tensor theta = (hi + lo) / 2, delta = (hi - lo) / 2;
  const auto ma = [&](const torch::Tensor& u) {
    return sparse_apply(p, m_values, sparse_apply(p, a_values, u));
  };
  const torch::Tensor y = (theta * v - ma(v)) / delta;          // T₁ of the map, applied to v
  const torch::Tensor t2 = 2 * (theta * y - ma(y)) / delta - v;  // T₂ of the map, applied to v
  const torch::Tensor norm = 2 * (theta / delta).square() - 1;   // T₂(θ/δ)
  return t2 / norm;
}

torch::Tensor smoother_two_grid_loss(const SparsePattern& p, const torch::Tensor& a_values,
                                     const torch::Tensor& m_values, const torch::Tensor& z,
                                     const SmootherCoarseSpace& coarse) {
  PINS_CHECK(p.rows() == p.cols(), "smoother_two_grid_loss: needs a square pattern, got ",
             p.describe());
  PINS_CHECK(coarse.prolongation.defined() && coarse.prolongation.size(0) == z.size(0) &&
                 coarse.prolongation.size(1) == p.rows(),
             "smoother_two_grid_loss: the coarse space must be [", z.size(0), ", ", p.rows(),
             ", nc]");
  const torch::Tensor zc = z.contiguous();
  const torch::Tensor lambda = smoother_spectrum_estimate(p, a_values, m_values, zc);
  const torch::Tensor s1 = chebyshev_smooth(p, a_values, m_values, lambda, zc);
  const torch::Tensor e = chebyshev_smooth(p, a_values, m_values, lambda,
                                           coarse_correction(p, a_values, coarse, s1));
  const torch::Tensor energy = batch_dot(e, sparse_apply(p, a_values, e.contiguous()));
  return (energy / batch_dot(zc, sparse_apply(p, a_values, zc)).clamp_min(1e-300)).mean();
}

}  // namespace pins
