#pragma once
// Data augmentation by the symmetries of the grid (the trainer's -train_augment option).
//
// On a uniform grid with the same boundary condition on every side, mirroring the domain in
// x or y (and, on a square grid, swapping x and y) maps a discrete problem A(κ) u = f onto
// another one of the same kind: A(Tκ) Tu = Tf. Every mini-batch can therefore be drawn in
// one of the 8 (square grid) or 4 (rectangular grid) orientations at no cost and without
// changing what the model is asked to learn. The tests check that the operator commutes
// with these maps, so a problem family that breaks the symmetry is caught there.
#include <torch/types.h>

#include <cstdint>

namespace pins::detail {

/// One element of the grid's symmetry group: mirror x, mirror y, then swap x and y.
struct GridSymmetry {
  bool flip_x = false, flip_y = false, transpose = false;
  bool identity() const { return !flip_x && !flip_y && !transpose; }
};

/// The symmetry with index 0..7 (bit 0: flip x, bit 1: flip y, bit 2: transpose).
GridSymmetry grid_symmetry(unsigned index);

/// A symmetry drawn from `seed`: one of 8 on a square grid, of 4 (no transpose) otherwise.
GridSymmetry draw_grid_symmetry(std::uint64_t seed, bool square_grid);

/// Applies `s` to fields laid out [..., ny, nx] (features, solutions, right-hand sides).
torch::Tensor apply_to_field(const torch::Tensor& field, GridSymmetry s);

/// Applies `s` to stencil coefficients [B, 5, ny, nx] (C, W, E, S, N): the fields move like
/// any other field, and the neighbour channels follow the directions they point in.
torch::Tensor apply_to_stencil(const torch::Tensor& coeffs, GridSymmetry s);

}  // namespace pins::detail
