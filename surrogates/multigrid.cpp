// Fixed multigrid parts of MgNet (multigrid.hpp): stencils, transfer operators, Galerkin.
#include "surrogates/multigrid.hpp"

#include <torch/torch.h>

#include "pins/core/check.hpp"

namespace pins::mg {

namespace {

using torch::indexing::Slice;

// The ny × nx window of a grid padded by one on every side, moved by (dy, dx): at (i, j) it
// holds padded(i+1+dy, j+1+dx), i.e. the unpadded t(i+dy, j+dx), zero outside the grid.
torch::Tensor window(const torch::Tensor& padded, int dy, int dx, int64_t ny, int64_t nx) {
  return padded.index({Slice(), Slice(1 + dy, 1 + dy + ny), Slice(1 + dx, 1 + dx + nx)});
}

// t(i+dy, j+dx) at (i, j), zero where that point is outside the grid. t is [B, ny, nx].
torch::Tensor shifted(const torch::Tensor& t, int dy, int dx) {
  return window(torch::constant_pad_nd(t, {1, 1, 1, 1}), dy, dx, t.size(1), t.size(2));
}

// Entry (dy, dx) of a stencil, [B, ny, nx].
torch::Tensor entry(const torch::Tensor& A, int dy, int dx) {
  return A.select(1, stencil_index(dy, dx));
}

// n / d where d is not tiny against `scale`, else 0 (a line with no coupling to interpolate
// along, e.g. an anisotropy that switched one direction off: nothing to take from there).
torch::Tensor safe_ratio(const torch::Tensor& n, const torch::Tensor& d, const torch::Tensor& scale) {
  const torch::Tensor ok = d.abs() > 1e-12 * scale.abs();
  return torch::where(ok, n / torch::where(ok, d, torch::ones_like(d)), torch::zeros_like(n));
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
      y = y + entry(A, dy, dx) * window(xp, dy, dx, ny, nx);
    }
  }
  return y;
}

torch::Tensor stencil_apply_transpose(const torch::Tensor& A, const torch::Tensor& x) {
  // (Aᵀx)(p) = Σ_k A_k(p − d_k) x(p − d_k): scatter each product to the neighbour it names,
  // adding into one padded grid (one allocation, not a padded copy per entry).
  const int64_t ny = x.size(1), nx = x.size(2);
  torch::Tensor yp = torch::constant_pad_nd(A.select(1, kCentre) * x, {1, 1, 1, 1});
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx)
      if (dy != 0 || dx != 0) window(yp, dy, dx, ny, nx).add_(entry(A, dy, dx) * x);
  return window(yp, 0, 0, ny, nx);
}

torch::Tensor prolongation_weights(const torch::Tensor& A) {
  const int64_t B = A.size(0), ny = A.size(2), nx = A.size(3);
  const auto lopts = A.options().dtype(torch::kLong);
  const torch::Tensor odd_row = (torch::arange(ny, lopts) % 2 == 1).view({1, ny, 1});
  const torch::Tensor odd_col = (torch::arange(nx, lopts) % 2 == 1).view({1, 1, nx});
  const torch::Tensor c = entry(A, 0, 0);
  // Points between two coarse points on a row (odd row, even column): the stencil summed
  // over its three rows (collapsed across the row), west and east columns against the
  // centre column. The same on a column with the roles of rows and columns swapped.
  const torch::Tensor centre_col = entry(A, -1, 0) + c + entry(A, 1, 0);
  const torch::Tensor centre_row = entry(A, 0, -1) + c + entry(A, 0, 1);
  torch::Tensor row_w[2], col_w[2];  // [0]: towards −1, [1]: towards +1
  for (int s : {-1, 1}) {
    row_w[s > 0] = safe_ratio(-(entry(A, -1, s) + entry(A, 0, s) + entry(A, 1, s)), centre_col, c);
    col_w[s > 0] = safe_ratio(-(entry(A, s, -1) + entry(A, s, 0) + entry(A, s, 1)), centre_row, c);
  }
  torch::Tensor W = torch::zeros({B, 9, ny, nx}, A.options());
  const torch::Tensor zero = torch::zeros_like(c);
  const torch::Tensor on_row = odd_row & ~odd_col, on_col = ~odd_row & odd_col;
  const torch::Tensor inside = ~odd_row & ~odd_col;
  W.select(1, kCentre).copy_(torch::where(odd_row & odd_col, torch::ones_like(c), zero));
  for (int s : {-1, 1}) {
    W.select(1, stencil_index(0, s)).copy_(torch::where(on_row, row_w[s > 0], zero));
    W.select(1, stencil_index(s, 0)).copy_(torch::where(on_col, col_w[s > 0], zero));
  }
  // Points between four coarse points: (A P)ᵢ = 0 there, with the neighbours' weights above.
  for (int sy : {-1, 1}) {
    for (int sx : {-1, 1}) {
      const torch::Tensor sum = entry(A, sy, sx) + entry(A, sy, 0) * shifted(row_w[sx > 0], sy, 0) +
                                entry(A, 0, sx) * shifted(col_w[sy > 0], 0, sx);
      W.select(1, stencil_index(sy, sx)).copy_(torch::where(inside, safe_ratio(-sum, c, c), zero));
    }
  }
  return W;
}

torch::Tensor prolong(const torch::Tensor& W, const torch::Tensor& xc) {
  const int64_t B = W.size(0), ny = W.size(2), nx = W.size(3);
  torch::Tensor fine = torch::zeros({B, ny, nx}, xc.options());
  fine.index_put_({Slice(), Slice(1, 2 * (ny / 2), 2), Slice(1, 2 * (nx / 2), 2)}, xc);
  return stencil_apply(W, fine);
}

torch::Tensor restrict_to_coarse(const torch::Tensor& W, const torch::Tensor& x) {
  const int64_t ny = x.size(1), nx = x.size(2);
  return stencil_apply_transpose(W, x)
      .index({Slice(), Slice(1, 2 * (ny / 2), 2), Slice(1, 2 * (nx / 2), 2)});
}

torch::Tensor galerkin(const torch::Tensor& A, const torch::Tensor& W) {
  const int64_t B = A.size(0), ny = A.size(2), nx = A.size(3), nc = ny / 2, mc = nx / 2;
  PINS_CHECK(nc >= 1 && mc >= 1, "galerkin: a ", ny, " x ", nx, " grid cannot be coarsened");
  // Probe c has ones on the coarse points with (I mod 3, J mod 3) = (c / 3, c % 3). Within a
  // 3×3 window each colour occurs once, so Pᵀ A P probe_c at (I, J) is the coupling of
  // (I, J) to the one point of colour c in its window.
  const auto opts = A.options();
  const torch::Tensor I = torch::arange(nc, opts.dtype(torch::kLong)).view({nc, 1});
  const torch::Tensor J = torch::arange(mc, opts.dtype(torch::kLong)).view({1, mc});
  const torch::Tensor colour = (I % 3) * 3 + (J % 3);  // [nc, mc]
  const torch::Tensor probes =
      (colour.unsqueeze(0) == torch::arange(9, opts.dtype(torch::kLong)).view({9, 1, 1}))
          .to(A.scalar_type());  // [9, nc, mc]
  auto repeat9 = [&](const torch::Tensor& S) {
    return S.unsqueeze(1).expand({B, 9, 9, ny, nx}).reshape({B * 9, 9, ny, nx});
  };
  const torch::Tensor Ab = repeat9(A), Wb = repeat9(W);
  const torch::Tensor pb = probes.unsqueeze(0).expand({B, 9, nc, mc}).reshape({B * 9, nc, mc});
  const torch::Tensor y =
      restrict_to_coarse(Wb, stencil_apply(Ab, prolong(Wb, pb))).view({B, 9, nc, mc});
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
  while (coarsens(h.ops.back().size(2), h.ops.back().size(3), coarsest)) {
    h.prolongations.push_back(prolongation_weights(h.ops.back()));
    h.ops.push_back(galerkin(h.ops.back(), h.prolongations.back()));
  }
  h.coarse_inverse = dense_inverse(h.ops.back());
  return h;
}

}  // namespace pins::mg
