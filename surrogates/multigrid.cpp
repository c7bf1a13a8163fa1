// Fixed multigrid parts of MgNet (multigrid.hpp): stencils, transfer operators, Galerkin.
#include "surrogates/multigrid.hpp"

#include <torch/torch.h>

#include "pins/core/check.hpp"

namespace pins::mg {

namespace {

using torch::indexing::Slice;

// The 1-D weights (½, 1, ½) as a 3×3 tensor product kernel [1,1,3,3].
torch::Tensor bilinear_kernel(const torch::Tensor& like) {
  const torch::Tensor w = torch::tensor({0.5, 1.0, 0.5}, like.options().dtype(torch::kFloat64));
  return torch::outer(w, w).to(like.scalar_type()).view({1, 1, 3, 3});
}

}  // namespace

torch::Tensor stencil_from_couplings(const torch::Tensor& c) {
  PINS_CHECK(c.dim() == 4 && c.size(1) == 4, "couplings must be [B, 4, ny, nx], got ", c.sizes());
  torch::Tensor A = torch::zeros({c.size(0), 9, c.size(2), c.size(3)}, c.options());
  A.select(1, kCentre).fill_(1);
  A.select(1, stencil_index(0, -1)).copy_(c.select(1, 0));  // W
  A.select(1, stencil_index(0, 1)).copy_(c.select(1, 1));   // E
  A.select(1, stencil_index(-1, 0)).copy_(c.select(1, 2));  // S
  A.select(1, stencil_index(1, 0)).copy_(c.select(1, 3));   // N
  return A;
}

torch::Tensor stencil_apply(const torch::Tensor& A, const torch::Tensor& x, bool five_point) {
  const int64_t ny = x.size(1), nx = x.size(2);
  const torch::Tensor xp = torch::constant_pad_nd(x, {1, 1, 1, 1});
  torch::Tensor y = A.select(1, kCentre) * x;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      if ((dy == 0 && dx == 0) || (five_point && dy != 0 && dx != 0)) continue;
      y = y + A.select(1, stencil_index(dy, dx)) *
                  xp.index({Slice(), Slice(1 + dy, 1 + dy + ny), Slice(1 + dx, 1 + dx + nx)});
    }
  }
  return y;
}

torch::Tensor prolong(const torch::Tensor& xc, int64_t ny, int64_t nx) {
  const torch::Tensor y =
      torch::conv_transpose2d(xc.unsqueeze(1), bilinear_kernel(xc), {}, /*stride=*/2);
  return y.index({Slice(), 0, Slice(0, ny), Slice(0, nx)});
}

torch::Tensor restrict_to_coarse(const torch::Tensor& x) {
  const int64_t ny = x.size(1), nx = x.size(2);
  // Pad the high sides to 2⌊n/2⌋+1 so the stride-2 window centred on fine 2I+1 exists for
  // every coarse I: exactly the transpose of prolong's crop.
  const torch::Tensor xp =
      torch::constant_pad_nd(x.unsqueeze(1), {0, 2 * (nx / 2) + 1 - nx, 0, 2 * (ny / 2) + 1 - ny});
  return torch::conv2d(xp, bilinear_kernel(x), {}, /*stride=*/2).select(1, 0);
}

torch::Tensor galerkin(const torch::Tensor& A) {
  const int64_t B = A.size(0), ny = A.size(2), nx = A.size(3), nc = ny / 2, mc = nx / 2;
  PINS_CHECK(nc >= 1 && mc >= 1, "galerkin: a ", ny, " x ", nx, " grid cannot be coarsened");
  // Probe c has ones on the coarse points with (I mod 3, J mod 3) = (c / 3, c % 3). Within a
  // 3×3 window each colour occurs once, so R A P probe_c at (I, J) is the coupling of (I, J)
  // to the one point of colour c in its window.
  const auto opts = A.options();
  const torch::Tensor I = torch::arange(nc, opts.dtype(torch::kLong)).view({nc, 1});
  const torch::Tensor J = torch::arange(mc, opts.dtype(torch::kLong)).view({1, mc});
  const torch::Tensor colour = (I % 3) * 3 + (J % 3);  // [nc, mc]
  const torch::Tensor probes =
      (colour.unsqueeze(0) == torch::arange(9, opts.dtype(torch::kLong)).view({9, 1, 1}))
          .to(A.scalar_type());  // [9, nc, mc]
  const torch::Tensor Ab = A.unsqueeze(1).expand({B, 9, 9, ny, nx}).reshape({B * 9, 9, ny, nx});
  const torch::Tensor pb = probes.unsqueeze(0).expand({B, 9, nc, mc}).reshape({B * 9, nc, mc});
  const torch::Tensor y =
      restrict_to_coarse(stencil_apply(Ab, prolong(pb, ny, nx))).view({B, 9, nc, mc});
  std::vector<torch::Tensor> index;
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx) index.push_back(((I + dy + 3) % 3) * 3 + ((J + dx + 3) % 3));
  const torch::Tensor idx = torch::stack(index).unsqueeze(0).expand({B, 9, nc, mc});
  torch::Tensor Ac = y.gather(1, idx);
  // Couplings out of the grid: the probe had no point there, so they are zero already up
  // to rounding; make them exactly zero.
  Ac.index_put_({Slice(), Slice(0, 3), 0}, 0);
  Ac.index_put_({Slice(), Slice(6, 9), nc - 1}, 0);
  Ac.index_put_({Slice(), Slice(0, 9, 3), Slice(), 0}, 0);
  Ac.index_put_({Slice(), Slice(2, 9, 3), Slice(), mc - 1}, 0);
  return Ac;
}

torch::Tensor dense_inverse(const torch::Tensor& A, int64_t max_unknowns) {
  const int64_t B = A.size(0), ny = A.size(2), nx = A.size(3), N = ny * nx;
  PINS_CHECK(N <= max_unknowns, "the coarsest grid ", ny, " x ", nx, " has ", N,
             " unknowns, more than the ", max_unknowns,
             " a dense coarse solve allows (grid too elongated for full coarsening)");
  const torch::Tensor A64 = A.to(torch::kFloat64);
  const auto lopts = A.options().dtype(torch::kLong);
  const torch::Tensor i = torch::arange(ny, lopts).view({ny, 1}).expand({ny, nx});
  const torch::Tensor j = torch::arange(nx, lopts).view({1, nx}).expand({ny, nx});
  torch::Tensor M = torch::zeros({B, N * N}, A64.options());
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      const torch::Tensor ok = (i + dy >= 0) & (i + dy < ny) & (j + dx >= 0) & (j + dx < nx);
      const torch::Tensor flat = ((i * nx + j) * N + (i + dy) * nx + (j + dx)).masked_select(ok);
      const torch::Tensor vals =
          A64.select(1, stencil_index(dy, dx)).masked_select(ok.unsqueeze(0)).view({B, -1});
      M.index_add_(1, flat, vals);
    }
  }
  const auto [inv, info] = torch::linalg_inv_ex(M.view({B, N, N}));
  PINS_CHECK(info.eq(0).all().item<bool>() && torch::isfinite(inv).all().item<bool>(),
             "the coarsest operator (", ny, " x ", nx, ") is singular");
  return inv.to(A.scalar_type());
}

torch::Tensor dense_apply(const torch::Tensor& Ainv, const torch::Tensor& r) {
  return torch::matmul(Ainv, r.reshape({r.size(0), -1, 1})).view_as(r);
}

Hierarchy build_hierarchy(const torch::Tensor& A, int64_t coarsest) {
  Hierarchy h;
  h.ops.push_back(A);
  while (h.ops.back().size(2) > coarsest && h.ops.back().size(3) > coarsest)
    h.ops.push_back(galerkin(h.ops.back()));
  h.coarse_inverse = dense_inverse(h.ops.back());
  return h;
}

}  // namespace pins::mg
