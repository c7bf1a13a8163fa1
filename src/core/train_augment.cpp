// Grid-symmetry augmentation (train_augment.hpp).
#include "train_augment.hpp"

#include <torch/torch.h>

#include "pins/core/check.hpp"
#include "pins/core/random.hpp"

namespace pins::detail {

GridSymmetry grid_symmetry(unsigned index) {
  PINS_CHECK(index < 8, "grid symmetry index must be 0..7, got ", index);
  return {(index & 1u) != 0, (index & 2u) != 0, (index & 4u) != 0};
}

GridSymmetry draw_grid_symmetry(std::uint64_t seed, bool square_grid) {
  Rng rng(seed);
  return grid_symmetry(unsigned(rng.next_u64() % (square_grid ? 8 : 4)));
}

torch::Tensor apply_to_field(const torch::Tensor& field, GridSymmetry s) {
  PINS_CHECK(field.dim() >= 2, "grid symmetry: a field needs at least 2 dimensions, got ",
             field.sizes());
  torch::Tensor t = field;
  if (s.flip_x) t = t.flip({-1});
  if (s.flip_y) t = t.flip({-2});
  if (s.transpose) {
    PINS_CHECK(t.size(-1) == t.size(-2), "grid symmetry: swapping x and y needs a square grid, got ",
               t.sizes());
    t = t.transpose(-1, -2);
  }
  return t.contiguous();
}

torch::Tensor apply_to_stencil(const torch::Tensor& coeffs, GridSymmetry s) {
  PINS_CHECK(coeffs.dim() == 4 && coeffs.size(1) == 5,
             "grid symmetry: stencil coefficients must be [B, 5, ny, nx], got ", coeffs.sizes());
  // Channel c of the result is channel order[c] of the moved coefficients: C, W, E, S, N.
  int64_t order[5] = {0, 1, 2, 3, 4};
  if (s.flip_x) std::swap(order[1], order[2]);  // west and east trade places
  if (s.flip_y) std::swap(order[3], order[4]);  // south and north
  if (s.transpose) {  // x <-> y: the west neighbour becomes the south one, east the north
    std::swap(order[1], order[3]);
    std::swap(order[2], order[4]);
  }
  const torch::Tensor moved = apply_to_field(coeffs, s);
  return moved
      .index_select(1, torch::tensor({order[0], order[1], order[2], order[3], order[4]},
                                     torch::kInt64)
                           .to(coeffs.device()))
      .contiguous();
}

}  // namespace pins::detail
