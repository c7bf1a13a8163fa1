#pragma once
/// \file
/// A network evaluated piece by piece on a 2-D grid split over processes (a DMDA's boxes):
/// every piece runs the same forward on its own points and meets the others only through
/// the exchanges named here — sums over all pieces (an FNO's kept frequencies, a GroupNorm's
/// statistics) and one-cell halos from the neighbouring pieces (a 3×3 convolution) — so the
/// grid is never gathered anywhere. On one process the pieces are threads in the tests; on
/// several they are MPI processes (src/petsc/grid_pieces.hpp).

#include <torch/types.h>

#include <functional>
#include <vector>

namespace pins {

/// Where one piece of a 2-D grid lies: rows [y0, y0 + h) and columns [x0, x0 + w) of an
/// ny × nx grid (h, w: the piece's tensor). The pieces of a tensor-product split — a
/// DMDA's — tile the grid; the pieces on the high side of an axis also hold the network's
/// padding cells along it.
struct GridPiece {
  int64_t ny = 0, nx = 0, y0 = 0, x0 = 0;
};

/// Adds a tensor over all pieces of the grid, in place (on several processes: an MPI
/// all-reduce). Called with real, contiguous tensors of the same shape on every piece.
using PieceSum = std::function<void(torch::Tensor&)>;

/// x [B, C, h, w] with a ring of one cell around it, [B, C, h + 2, w + 2]: the neighbouring
/// pieces' cells next to this piece (corners included), zeros beyond the grid. Called by
/// every piece together, each with its own x (same B and C everywhere).
using PieceHalo = std::function<torch::Tensor(const torch::Tensor&)>;

/// The exchanges a piece's forward may make. A network that needs only one of them never
/// calls the other.
struct PieceExchanges {
  PieceSum sum;
  PieceHalo halo;
};

/// A network that can run piece by piece (FNO, U-Net in 2-D).
class PiecewiseSurrogate {
 public:
  virtual ~PiecewiseSurrogate() = default;
  /// Whether this instance runs in pieces (the 2-D variants only).
  virtual bool runs_in_pieces() const = 0;
  /// Pieces must start at multiples of this many cells along each axis and span a multiple
  /// of it, except at the grid's high edge (a U-Net's 2^(levels−1); 1 for an FNO).
  virtual int64_t piece_alignment() const = 0;
  /// The network on one piece: x [B, Cin, h, w] the piece's inputs → [B, Cout, h, w], equal
  /// to forward() on the whole grid restricted to the piece (up to rounding). Collective
  /// over the pieces through `exchanges`. Throws pins::Error naming a piece it cannot serve.
  virtual torch::Tensor forward_piece(const torch::Tensor& x, const GridPiece& piece,
                                      const PieceExchanges& exchanges) = 0;
};

/// One exchange of a piece's forward: what kind, and the shape of the tensor it passes.
struct PieceExchange {
  enum class Kind { kSum, kHalo } kind;
  std::vector<int64_t> shape;
};

/// The exchanges forward_piece makes on this piece for input x, in order, found by running
/// it once with exchanges that stay on this piece (sums of itself alone, zero halos). They
/// depend on the shapes only, never on the values: a piece that fails half-way through a
/// later forward can make the rest of them with zeros, so that the others never wait for it.
std::vector<PieceExchange> record_piece_exchanges(PiecewiseSurrogate& network,
                                                  const torch::Tensor& x, const GridPiece& piece);

/// Makes `exchanges[first…]` through `to` with zero tensors of their shapes and `dtype`.
void finish_piece_exchanges(const std::vector<PieceExchange>& exchanges, std::size_t first,
                            torch::ScalarType dtype, const PieceExchanges& to);

}  // namespace pins
