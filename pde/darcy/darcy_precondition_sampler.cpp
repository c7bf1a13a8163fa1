// Training problems for neural preconditioners (pins/core/precondition.hpp): 2-D 5-point
// Darcy operators drawn with this family's κ samplers (several kinds), and residuals with
// mixed spectra, without any solve. It lives with the Darcy family because every operator it
// draws is one; preconditioner training on other families' operators is issue 14's.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pde/darcy/darcy_sampler.hpp"
#include "pins/core/check.hpp"
#include "pins/core/galerkin_coarsening.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/random.hpp"
#include "pins/core/smoother.hpp"
#include "pins/core/smoother_train.hpp"
#include "pins/core/smoother_two_grid.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/stencil_operator.hpp"

namespace pins {

namespace {

// Streams of pins::sample_seed, one per random choice.
constexpr std::uint64_t kOperatorStream = 0x4f50;       // "OP"
constexpr std::uint64_t kResidualStream = 0x5253;       // "RS"
constexpr std::uint64_t kFieldStream = 101;             // smooth residuals / errors
constexpr std::uint64_t kFrameStream = 0x4652;          // "FR": decoupled boundary rows
constexpr std::uint64_t kFieldOperatorStream = 0x464f;  // "FO": the operators of fields > 0
constexpr std::uint64_t kCouplingStream = 0x4350;       // "CP": the fields' coupling blocks

darcy::SamplerOptions sampler_options(const std::string& kind, std::uint64_t seed) {
  darcy::SamplerOptions o;
  o.seed = seed;
  if (kind == "darcy") {
    o.kappa_kind = darcy::KappaKind::kThreshold;  // 12 / 3
  } else if (kind == "contrast") {
    o.kappa_kind = darcy::KappaKind::kThreshold;
    o.kappa_high = 1e4;
    o.kappa_low = 1;
  } else if (kind == "lognormal" || kind == "anisotropic") {
    o.kappa_kind = darcy::KappaKind::kLogNormal;
    o.sigma = 1;
  } else {
    std::string known;
    for (const auto& k : operator_kinds()) known += (known.empty() ? "" : ", ") + k;
    PINS_CHECK(false, "unknown preconditioner training operator '", kind, "' (known: ", known, ")");
  }
  return o;
}

}  // namespace

std::vector<std::string> operator_kinds() {
  return {"darcy", "lognormal", "contrast", "anisotropic"};
}

namespace {

// Darcy operators of the given kinds (cycled) on `grid` ({n, n} or {n, n, n}) as stencil
// coefficients [count, 2·dim + 1, grid...]: κ^p from the kind's sampler (p ∈ [0.5, 2] for
// the log-normal kinds), x couplings scaled by a ∈ [0.1, 10] for "anisotropic". The frame
// draw (a quarter of the operators) goes to `frame` when given.
torch::Tensor sampled_coefficients(const std::vector<std::string>& kinds,
                                   const std::vector<int>& grid, int count, std::uint64_t seed,
                                   std::uint64_t first, std::vector<double>* frame) {
  PINS_CHECK(!kinds.empty(), "no operator kinds to sample from");
  PINS_CHECK(grid.front() >= 4 && count >= 1, "preconditioner batch: grid ", grid.front(),
             " and count ", count, " must be at least 4 and 1");
  std::map<std::string, std::unique_ptr<darcy::Sampler>> samplers;
  for (const auto& k : kinds)
    if (!samplers.count(k))
      samplers[k] = std::make_unique<darcy::Sampler>(sampler_options(k, seed), grid);

  std::vector<int64_t> shape{count};
  int64_t points = 1;
  for (int n : grid) shape.push_back(n), points *= n;
  torch::Tensor kappa = torch::empty(shape, torch::kFloat64);
  torch::Tensor unused = torch::empty({points}, torch::kFloat64);
  std::vector<double> power(size_t(count), 1.0), aniso(size_t(count), 1.0);
  if (frame) frame->assign(size_t(count), 0.0);
  for (int i = 0; i < count; ++i) {
    const std::uint64_t index = first + std::uint64_t(i);
    const std::string& kind = kinds[index % kinds.size()];
    samplers[kind]->sample(index, kappa[i].data_ptr<double>(), unused.data_ptr<double>());
    Rng rng(sample_seed(seed, index, kOperatorStream));
    if (kind == "lognormal" || kind == "anisotropic") power[size_t(i)] = 0.5 + 1.5 * rng.uniform();
    if (kind == "anisotropic") aniso[size_t(i)] = std::exp(std::log(10.0) * (2 * rng.uniform() - 1));
    if (frame)
      (*frame)[size_t(i)] = Rng(sample_seed(seed, index, kFrameStream)).uniform() < 0.25 ? 1.0 : 0.0;
  }
  std::vector<int64_t> per_operator(grid.size() + 1, 1);
  per_operator[0] = -1;  // [count, 1, ...]: one number per operator, broadcast over the grid
  const torch::Tensor p = torch::tensor(power, torch::kFloat64).view(per_operator);
  torch::Tensor coeffs = darcy::stencil_coefficients(kappa.pow(p).contiguous());
  // Anisotropy: scale the x couplings (channels W, E in 2-D and 3-D) by a; the centre keeps
  // the row sum (and the boundary terms) so the operator stays a symmetric diagonally
  // dominant M-matrix.
  const torch::Tensor a = torch::tensor(aniso, torch::kFloat64).view(per_operator);
  const torch::Tensor w = coeffs.select(1, 1).clone(), e = coeffs.select(1, 2).clone();
  coeffs.select(1, 0).sub_((a - 1) * (w + e));
  coeffs.select(1, 1).mul_(a);
  coeffs.select(1, 2).mul_(a);
  return coeffs;
}

}  // namespace

PreconditionBatch sample_precondition_batch(const std::vector<std::string>& kinds, int grid,
                                            int count, std::uint64_t seed, std::uint64_t first) {
  const int64_t n = grid;
  std::vector<double> frame;
  torch::Tensor coeffs = sampled_coefficients(kinds, {grid, grid}, count, seed, first, &frame);
  std::vector<int64_t> residual_kind(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i)
    residual_kind[size_t(i)] =
        int64_t(Rng(sample_seed(seed, first + std::uint64_t(i), kResidualStream)).next_u64() % 3);
  // Decoupled Dirichlet frames: the ring's rows keep only their centre, and the rows next
  // to it lose the coupling into it (their centre keeps the boundary term, as before).
  const torch::Tensor has_frame = torch::tensor(frame, torch::kFloat64).view({-1, 1, 1});
  {
    using torch::indexing::Slice;
    torch::Tensor keep = torch::ones({count, 4, n, n}, torch::kFloat64);
    torch::Tensor ring = torch::zeros({n, n}, torch::kFloat64);
    ring.index_put_({Slice(), 0}, 1);
    ring.index_put_({Slice(), n - 1}, 1);
    ring.index_put_({0, Slice()}, 1);
    ring.index_put_({n - 1, Slice()}, 1);
    keep.mul_(1 - has_frame.unsqueeze(1) * ring);              // the ring's own couplings
    keep.select(1, 0).select(2, 1).mul_(1 - has_frame.squeeze(2));  // W of column 1
    keep.select(1, 1).select(2, n - 2).mul_(1 - has_frame.squeeze(2));  // E of column n-2
    keep.select(1, 2).select(1, 1).mul_(1 - has_frame.squeeze(1));  // S of row 1
    keep.select(1, 3).select(1, n - 2).mul_(1 - has_frame.squeeze(1));  // N of row n-2
    coeffs.narrow(1, 1, 4).mul_(keep);
  }
  PreconditionBatch b;
  b.scaled_coeffs = scaled_stencil(coeffs);

  // Residuals: white noise, a smooth random field, or Â e for a smooth error e.
  b.rhat = torch::empty({count, n, n}, torch::kFloat64);
  // Smooth fields from the sampler of the alphabetically first kind (as before the operator
  // sampling moved into sampled_coefficients: the draws are unchanged).
  std::vector<std::string> sorted_kinds(kinds);
  std::sort(sorted_kinds.begin(), sorted_kinds.end());
  const darcy::Sampler smooth(sampler_options(sorted_kinds.front(), seed), grid, grid);
  for (int i = 0; i < count; ++i) {
    const std::uint64_t index = first + std::uint64_t(i);
    torch::Tensor r = b.rhat[i];
    if (residual_kind[size_t(i)] == 0) {
      Rng rng(sample_seed(seed, index, kResidualStream + 1));
      double* d = r.data_ptr<double>();
      for (int64_t k = 0; k < n * n; ++k) d[k] = rng.normal();
    } else {
      const auto g = smooth.gaussian_field(index, kFieldStream);
      std::copy(g.begin(), g.end(), r.data_ptr<double>());
    }
  }
  const torch::Tensor from_error = torch::tensor(residual_kind, torch::kInt64) == 2;
  if (from_error.any().item<bool>()) {
    const torch::Tensor idx = from_error.nonzero().squeeze(1);
    const torch::Tensor ae =
        stencil_apply(b.scaled_coeffs.index_select(0, idx), b.rhat.index_select(0, idx));
    b.rhat.index_copy_(0, idx, ae);
  }
  return b;
}

}  // namespace pins

namespace pins {

namespace {
// The aggregate of every row of a side^dim grid with `dof` fields (field-major rows, points
// in C order): boxes of kSmootherAggregateSide points per side, each field its own.
torch::Tensor box_aggregates(int dim, int side, int dof) {
  const int64_t boxes = (side + kSmootherAggregateSide - 1) / kSmootherAggregateSide;
  int64_t points = 1, per_field = 1;
  for (int k = 0; k < dim; ++k) points *= side, per_field *= boxes;
  const torch::Tensor row = torch::arange(points * dof, torch::kInt64);
  const torch::Tensor field = row.div(points, "floor");
  torch::Tensor point = row.remainder(points), box = torch::zeros_like(row);
  for (int64_t stride = 1, k = 0; k < dim; ++k, stride *= boxes) {  // fastest axis first
    box += point.remainder(side).div(kSmootherAggregateSide, "floor") * stride;
    point = point.div(side, "floor");
  }
  return field * per_field + box;
}

// Errors z [count, rows] of standard normal entries, sample i from its own stream.
torch::Tensor white_noise(int count, int64_t rows, std::uint64_t seed, std::uint64_t first,
                          std::uint64_t stream) {
  torch::Tensor z = torch::empty({count, rows}, torch::kFloat64);
  for (int i = 0; i < count; ++i) {
    Rng rng(sample_seed(seed, first + std::uint64_t(i), stream));
    double* d = z[i].data_ptr<double>();
    for (int64_t k = 0; k < rows; ++k) d[k] = rng.normal();
  }
  return z;
}
}  // namespace

SmootherBatch sample_smoother_batch(const std::vector<std::string>& kinds, int dim, int side,
                                    int count, std::uint64_t seed, std::uint64_t first, int dof) {
  PINS_CHECK(dim == 2 || dim == 3, "smoother batch: dimension must be 2 or 3, got ", dim);
  PINS_CHECK(dof >= 1 && dof <= 4, "smoother batch: fields per point must be in [1, 4], got ", dof);
  const std::vector<int> grid(size_t(dim), side);
  const Stencil stencil{dim, StencilShape::kStar, 1, dof};
  torch::Tensor coeffs;
  if (dof == 1) {
    coeffs = sampled_coefficients(kinds, grid, count, seed, first, nullptr);
  } else {
    // One Darcy operator per field: field 0 from `seed` (as a scalar batch), the others from
    // seeds of their own, each scaled by δ_f; then the coupling block added at the centre.
    std::vector<int64_t> shape{count, int64_t(stencil.channels())};
    for (int n : grid) shape.push_back(n);
    coeffs = torch::zeros(shape, torch::kFloat64);
    std::vector<int64_t> per_operator(grid.size() + 1, 1);
    per_operator[0] = -1;
    torch::Tensor centre_mean;
    for (int f = 0; f < dof; ++f) {
      const std::uint64_t field_seed = f == 0 ? seed : sample_seed(seed, f, kFieldOperatorStream);
      torch::Tensor c = sampled_coefficients(kinds, grid, count, field_seed, first, nullptr);
      if (f > 0) {  // δ_f in [0.1, 10]
        std::vector<double> scale(static_cast<size_t>(count));
        for (int i = 0; i < count; ++i) {
          Rng rng(sample_seed(field_seed, first + std::uint64_t(i), kCouplingStream));
          scale[size_t(i)] = std::pow(10.0, 2 * rng.uniform() - 1);
        }
        std::vector<int64_t> per_channel(per_operator);
        per_channel.push_back(1);  // c is [count, points, grid...]
        c.mul_(torch::tensor(scale, torch::kFloat64).view(per_channel));
      }
      for (int p = 0; p < stencil.points(); ++p)
        coeffs.select(1, stencil.channel(p, f, f)).copy_(c.select(1, p));
      centre_mean = f == 0 ? c.select(1, 0).clone() : centre_mean + c.select(1, 0);
    }
    centre_mean.div_(dof);
    std::vector<int64_t> field_shape{count, dof};
    for (int n : grid) field_shape.push_back(n);
    std::vector<double> gamma(static_cast<size_t>(count));
    torch::Tensor v = torch::empty(field_shape, torch::kFloat64);  // v(x) per operator
    for (int i = 0; i < count; ++i) {
      Rng rng(sample_seed(seed, first + std::uint64_t(i), kCouplingStream));
      gamma[size_t(i)] = std::pow(10.0, 3 * rng.uniform() - 2);  // [0.01, 10]
      double* d = v[i].data_ptr<double>();
      for (int64_t k = 0; k < v[i].numel(); ++k) d[k] = rng.normal();
    }
    v.div_(v.norm(2, 1, true).clamp_min(1e-12));
    const torch::Tensor weight =
        torch::tensor(gamma, torch::kFloat64).view(per_operator) * centre_mean;
    for (int r = 0; r < dof; ++r)
      for (int c = 0; c < dof; ++c)
        coeffs.select(1, stencil.channel(0, r, c)).add_(weight * v.select(1, r) * v.select(1, c));
  }
  const StencilOperator A(stencil, coeffs);
  auto [pattern, values] = stencil_to_csr(A);
  SmootherBatch b;
  b.pattern = pattern;
  b.values = values;
  if (dof > 1)  // field-major rows: field f holds the f-th block of n / dof rows
    b.field = torch::arange(pattern.rows(), torch::kInt64).div(pattern.rows() / dof, "floor");
  b.aggregate = box_aggregates(dim, side, dof);
  b.z = white_noise(count, pattern.rows(), seed, first, kResidualStream + 2);
  return b;
}

SmootherBatch sample_galerkin_smoother_batch(const std::vector<std::string>& kinds, int dim,
                                             int side, int count, std::uint64_t seed,
                                             std::uint64_t first) {
  const SmootherBatch fine = sample_smoother_batch(kinds, dim, 2 * side + 1, count, seed, first);
  CoarseOperators coarse = galerkin_coarsen(fine.pattern, fine.values, dim, 2 * side + 1);
  SmootherBatch b;
  b.pattern = coarse.pattern;
  b.values = coarse.values;
  b.aggregate = box_aggregates(dim, side, 1);
  b.z = white_noise(count, b.pattern.rows(), seed, first, kResidualStream + 3);
  return b;
}

}  // namespace pins
