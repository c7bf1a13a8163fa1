// Aggregation coarsening of 3-D 7-point stencils for pins::MultigridCycle (aggregation_3d.hpp).
#include "aggregation_3d.hpp"

#include <torch/torch.h>

#include "pins/core/check.hpp"
#include "pins/core/stencil_operator.hpp"

namespace pins::agg3d {

namespace {

// Channels of the 3-D star of width 1 (StencilOperator's order).
enum Channel : int64_t { kC = 0, kWest = 1, kEast = 2, kSouth = 3, kNorth = 4, kDown = 5, kUp = 6 };

// t [B, (K,) nz, ny, nx] padded with zeros on the high side to even sides.
torch::Tensor pad_even(const torch::Tensor& t) {
  const int64_t nx = t.size(-1), ny = t.size(-2), nz = t.size(-3);
  if (nx % 2 == 0 && ny % 2 == 0 && nz % 2 == 0) return t;
  return torch::constant_pad_nd(t, {0, nx % 2, 0, ny % 2, 0, nz % 2}, 0);
}

// Sums of t [B, Z2, Y2, X2] (even sides) over 2 × 2 × 2 blocks: [B, Z2/2, Y2/2, X2/2].
torch::Tensor block_sum(const torch::Tensor& t) {
  const int64_t B = t.size(0), Z = t.size(1) / 2, Y = t.size(2) / 2, X = t.size(3) / 2;
  return t.reshape({B, Z, 2, Y, 2, X, 2}).sum({2, 4, 6});
}

// 1 where the index along `axis` of a [.., nz, ny, nx] grid has the given parity, else 0,
// shaped to broadcast against [B, nz, ny, nx].
torch::Tensor parity(const torch::Tensor& like, int64_t axis, int64_t p) {
  const int64_t n = like.size(axis);
  torch::Tensor m = (torch::arange(n, like.options().dtype(torch::kLong)) % 2 == p).to(like.dtype());
  std::vector<int64_t> shape(size_t(like.dim()), 1);
  shape[size_t(axis)] = n;
  return m.view(shape);
}

}  // namespace

torch::Tensor without_outside_couplings(const torch::Tensor& c) {
  torch::Tensor out = c.clone();
  out.select(1, kWest).select(3, 0).zero_();
  out.select(1, kEast).select(3, -1).zero_();
  out.select(1, kSouth).select(2, 0).zero_();
  out.select(1, kNorth).select(2, -1).zero_();
  out.select(1, kDown).select(1, 0).zero_();
  out.select(1, kUp).select(1, -1).zero_();
  return out;
}

std::vector<int64_t> coarse_grid(const std::vector<int64_t>& fine) {
  std::vector<int64_t> out;
  for (int64_t n : fine) out.push_back((n + 1) / 2);
  return out;
}

torch::Tensor galerkin(const torch::Tensor& c) {
  PINS_CHECK(c.dim() == 5 && c.size(1) == 7,
             "aggregation: expected 7-point coefficients [B, 7, nz, ny, nx], got ", c.sizes());
  const torch::Tensor p = pad_even(c);
  auto ch = [&](int64_t k) { return p.select(1, k); };  // [B, Z2, Y2, X2]
  const torch::Tensor like = ch(kC);
  const torch::Tensor even_x = parity(like, 3, 0), odd_x = parity(like, 3, 1);
  const torch::Tensor even_y = parity(like, 2, 0), odd_y = parity(like, 2, 1);
  const torch::Tensor even_z = parity(like, 1, 0), odd_z = parity(like, 1, 1);
  // Couplings between the two cells of an aggregate along an axis: −x from an odd cell,
  // +x from an even one (and likewise in y, z). They fold into the aggregate's centre.
  const torch::Tensor centre = ch(kC) + ch(kWest) * odd_x + ch(kEast) * even_x +
                               ch(kSouth) * odd_y + ch(kNorth) * even_y + ch(kDown) * odd_z +
                               ch(kUp) * even_z;
  // Couplings that cross an aggregate's face: −x from its even cells, +x from its odd ones.
  return torch::stack({block_sum(centre), block_sum(ch(kWest) * even_x),
                       block_sum(ch(kEast) * odd_x), block_sum(ch(kSouth) * even_y),
                       block_sum(ch(kNorth) * odd_y), block_sum(ch(kDown) * even_z),
                       block_sum(ch(kUp) * odd_z)},
                      1)
      .contiguous();
}

torch::Tensor restrict_sum(const torch::Tensor& r) { return block_sum(pad_even(r)); }

torch::Tensor prolong_constant(const torch::Tensor& xc, const std::vector<int64_t>& fine) {
  const int64_t B = xc.size(0), Z = xc.size(1), Y = xc.size(2), X = xc.size(3);
  return xc.reshape({B, Z, 1, Y, 1, X, 1})
      .expand({B, Z, 2, Y, 2, X, 2})
      .reshape({B, 2 * Z, 2 * Y, 2 * X})
      .narrow(1, 0, fine[0])
      .narrow(2, 0, fine[1])
      .narrow(3, 0, fine[2]);
}

torch::Tensor dense_inverse(const torch::Tensor& c, int64_t max_unknowns) {
  const int64_t B = c.size(0), nz = c.size(2), ny = c.size(3), nx = c.size(4), n = nz * ny * nx;
  PINS_CHECK(n <= max_unknowns, "aggregation: the coarsest level has ", n,
             " unknowns, more than the dense solve's ", max_unknowns);
  const Stencil star{3, StencilShape::kStar, 1, 1};
  const torch::Tensor c64 = c.to(torch::kFloat64);
  const torch::Tensor eye =
      torch::eye(n, c64.options()).view({n, nz, ny, nx});  // probes e_j, one per unknown
  std::vector<torch::Tensor> inverses;
  for (int64_t b = 0; b < B; ++b) {
    const StencilOperator one(star, c64[b].unsqueeze(0).expand({n, -1, -1, -1, -1}).contiguous());
    const torch::Tensor M = one.apply(eye).reshape({n, n}).t();  // column j: A e_j
    torch::Tensor inv, info;
    std::tie(inv, info) = torch::linalg_inv_ex(M);
    PINS_CHECK(info.item<int64_t>() == 0,
               "aggregation: the coarsest operator is singular (sample ", b, ")");
    inverses.push_back(inv);
  }
  return torch::stack(inverses).to(c.scalar_type());
}

}  // namespace pins::agg3d
