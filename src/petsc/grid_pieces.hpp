#pragma once
// The pieces of a 2-D DMDA's grid on which a network runs piece by piece, one per process
// (surrogates/grid_piece.hpp): boxes on the DMDA's process grid whose edges are moved to
// multiples of the network's alignment (a U-Net's 2^(levels−1); an FNO's 1 keeps the
// DMDA's own boxes). A process's box differs from the rows it owns by strips along its
// edges only, moved by one PETSc scatter; the halos of the network's convolutions go
// between neighbouring processes. Nothing grid-sized goes anywhere but its own process.
#include <petscdmda.h>
#include <torch/types.h>

#include "surrogates/grid_piece.hpp"

namespace pins::petsc {

class GridPieces {
 public:
  GridPieces() = default;
  GridPieces(const GridPieces&) = delete;
  GridPieces& operator=(const GridPieces&) = delete;
  ~GridPieces();

  /// Collective on the DMDA (2-D, one dof). Fails naming `who`, the grid and the alignment
  /// when an axis has fewer blocks of `alignment` cells than processes along it.
  PetscErrorCode setup(DM da, PetscInt alignment, const char* who);
  /// Whether setup() was done for this DMDA and alignment (its grid and process layout).
  bool matches(DM da, PetscInt alignment) const;
  /// Back to the state before setup().
  PetscErrorCode reset();

  /// This process's box on the whole grid.
  const GridPiece& piece() const { return piece_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }

  /// This process's box of `global` as [1, 1, rows, cols] float64 (a copy). Collective.
  PetscErrorCode read(Vec global, torch::Tensor* box);
  /// The same for the C channels of this process's owned rows, owned [1, C, ym, xm]
  /// float64 (the DMDA's box) → [1, C, rows, cols], through `work` (a global vector of the
  /// DMDA, overwritten). Collective.
  PetscErrorCode read_owned(const torch::Tensor& owned, Vec work, torch::Tensor* box);
  /// `box` ([rows · cols] float64 values, row-major) into this process's box of `global`.
  /// Collective.
  PetscErrorCode write(const torch::Tensor& box, Vec global);

  /// x [B, C, rows', cols'] (a level of the network on this box) with a ring of one cell
  /// from the neighbouring processes, zeros beyond the grid (surrogates' PieceHalo).
  /// Collective with the neighbours; throws pins::Error if MPI fails.
  torch::Tensor halo(const torch::Tensor& x) const;

 private:
  DM da_ = nullptr;
  PetscInt alignment_ = 0, nx_ = 0, ny_ = 0;
  MPI_Comm comm_ = MPI_COMM_NULL;  // a duplicate of the DMDA's, for the halos' messages
  int left_ = MPI_PROC_NULL, right_ = MPI_PROC_NULL, down_ = MPI_PROC_NULL, up_ = MPI_PROC_NULL;
  GridPiece piece_;
  int64_t rows_ = 0, cols_ = 0;
  VecScatter to_box_ = nullptr;  // owned rows → box, when they differ anywhere
  Vec box_ = nullptr;            // this process's box (sequential), with to_box_
};

}  // namespace pins::petsc
