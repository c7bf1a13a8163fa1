#pragma once
/// \file
/// Fourier neural operator in 2-D ("fno") and 3-D ("fno3d") (Li et al., "Fourier Neural
/// Operator for Parametric Partial Differential Equations", ICLR 2021). Lifting (1×1 conv of
/// the input channels plus the cell-centre coordinates), `layers` Fourier layers (spectral
/// convolution on the lowest `modes` frequencies per axis + 1×1 conv, GELU), projection (1×1
/// conv → hidden → GELU → 1×1 conv). The domain is zero-padded by `padding` cells on the high
/// side of every axis for the Fourier layers, since the problems are not periodic, and
/// cropped back. The 3-D variant is the same code with Conv3d and a 3-D transform.
///
/// The spectral weights are indexed by frequency, so the same model evaluates on any grid:
/// on a grid with fewer frequencies than `modes` only the ones it has are used.
///
/// Example:
/// \code
///   pins::FNO fno(pins::FNOOptions(1, 1).modes(8).width(16));
///   auto y = fno(torch::randn({4, 1, 32, 32}));  // [4, 1, 32, 32]
///   auto z = fno(torch::randn({1, 1, 48, 40}));  // another grid: [1, 1, 48, 40]
///   pins::FNO fno3d(pins::FNOOptions(1, 1, 3));  // 3-D defaults
///   auto v = fno3d(torch::randn({2, 1, 16, 20, 24}));  // [2, 1, 16, 20, 24]
/// \endcode

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <vector>

#include "surrogates/grid_piece.hpp"
#include "surrogates/surrogate.hpp"

namespace pins {

struct SurrogateType;

/// Options of pins::FNO (command line: -fno_<name>, or -fno3d_<name> for dims 3).
struct FNOOptions {
  /// Defaults for `dims` 2 ("fno") or 3 ("fno3d"; smaller, as a 3-D Fourier layer holds
  /// 4·width²·modes³ complex weights: 0.8 M at the 3-D defaults, 7.1 M at the 2-D ones).
  FNOOptions(int in_channels, int out_channels, int dims = 2)
      : in_channels_(in_channels), out_channels_(out_channels), dims_(dims) {
    if (dims == 3) modes_ = 8, width_ = 20, padding_ = 6;
  }
  /// Input channels Cin (the coordinates are appended to these).
  TORCH_ARG(int, in_channels);
  /// Output channels Cout.
  TORCH_ARG(int, out_channels);
  /// Spatial dimensions: 2 (x [B, Cin, ny, nx]) or 3 ([B, Cin, nz, ny, nx]); set by the
  /// registry name, not an option.
  TORCH_ARG(int, dims);
  /// Frequencies kept per axis (per sign, except along the last axis).
  TORCH_ARG(int, modes) = 12;
  /// Channels of the Fourier layers.
  TORCH_ARG(int, width) = 32;
  /// Number of Fourier layers.
  TORCH_ARG(int, layers) = 4;
  /// Zero-padding cells added on the high side of every axis for the Fourier layers.
  TORCH_ARG(int, padding) = 9;
  /// Channels of the projection's hidden layer.
  TORCH_ARG(int, hidden) = 128;
};

/// Spectral convolution over the last `dims` axes: rfftn, multiply the frequencies |k| <
/// modes along every axis but the last and 0 ≤ k < modes along the last by learned complex
/// matrices (in × out per frequency), irfftn — computed as a truncated DFT (matrix products
/// with the kept frequencies' phases, one axis at a time), which only forms those
/// frequencies and runs at matrix-product speed on any grid size. The complex weights are kept as
/// real tensors [in, out, modes, …, modes, 2] (real, imaginary) so any real-valued optimiser and
/// the model file treat them like other parameters; one per sign pattern of the non-last axes.
class SpectralConvImpl : public torch::nn::Cloneable<SpectralConvImpl> {
 public:
  /// A spectral convolution from `in` to `out` channels keeping `modes` frequencies per axis
  /// on `dims`-dimensional grids (2 or 3).
  SpectralConvImpl(int in, int out, int modes, int dims = 2);
  /// (Re)initialises the weights; called by the constructor and by clone().
  void reset() override;
  /// x [B, in, (D,) H, W] → [B, out, (D,) H, W].
  torch::Tensor forward(const torch::Tensor& x);
  /// forward() of a 2-D grid of n1 × n2 points evaluated on one piece of it, x [B, in, h, w]
  /// at rows [y0, y0 + h), columns [x0, x0 + w): the kept frequencies by a truncated DFT of
  /// the piece, added over all pieces by one `sum` ([B, in, 2·m1, m2, 2] values), multiplied
  /// by the weights, and evaluated back on the piece's points only. Equals forward() on the
  /// whole grid restricted to the piece (up to rounding).
  torch::Tensor forward_piece(const torch::Tensor& x, int64_t n1, int64_t n2, int64_t y0,
                              int64_t x0, const PieceSum& sum);

  /// The weights per sign pattern, named by the signs of the non-last axes' frequencies:
  /// 2-D "weight_pos" (ky = 0 … modes−1), "weight_neg" (ky = −modes … −1: row r is
  /// ky = r − modes); 3-D "weight_pos_pos", "weight_pos_neg", "weight_neg_pos",
  /// "weight_neg_neg" (signs of kz, ky). Each is [in, out, modes (per axis), 2].
  std::vector<torch::Tensor> weights;

 private:
  // forward() on the grid of sizes n, evaluated at the points of x starting at `offset` per
  // axis; with `sum`, the kept coefficients are summed over all pieces before the multiply.
  torch::Tensor transform(const torch::Tensor& x, const std::vector<int64_t>& n,
                          const std::vector<int64_t>& offset, const PieceSum* sum);

  int in_, out_, modes_, dims_;
};
TORCH_MODULE(SpectralConv);

/// The Fourier neural operator; see the file comment.
class FNOImpl : public torch::nn::Cloneable<FNOImpl>, public Surrogate, public PiecewiseSurrogate {
 public:
  /// Builds an FNO; throws pins::Error naming a bad option.
  explicit FNOImpl(FNOOptions options);
  /// (Re)builds the submodules from `options`; called by the constructor and by clone().
  void reset() override;
  /// x [B, Cin, (nz,) ny, nx] → [B, Cout, (nz,) ny, nx], any grid sizes.
  torch::Tensor forward(const torch::Tensor& x) override;
  /// The 2-D FNO on one piece of a grid whose pieces are evaluated together
  /// (PiecewiseSurrogate): `exchanges.sum` adds over all pieces once per Fourier layer; no
  /// halo. No piece holds more than its points, its share of the padding and the kept
  /// frequencies, so a grid split over processes is never gathered.
  torch::Tensor forward_piece(const torch::Tensor& x, const GridPiece& piece,
                              const PieceExchanges& exchanges) override;
  bool runs_in_pieces() const override { return options.dims() == 2; }
  int64_t piece_alignment() const override { return 1; }
  std::string type() const override { return options.dims() == 3 ? "fno3d" : "fno"; }
  nlohmann::json options_json() const override;
  int in_channels() const override { return options.in_channels(); }
  int out_channels() const override { return options.out_channels(); }
  torch::nn::Module& module() override { return *this; }
  const torch::nn::Module& module() const override { return *this; }
  /// Overrides both Surrogate's and torch::nn::Module's pretty_print.
  void pretty_print(std::ostream& stream) const override { Surrogate::pretty_print(stream); }

  FNOOptions options;

 private:
  // 1×1 convolutions, Conv2d or Conv3d by options.dims().
  torch::nn::AnyModule lift_;
  std::vector<SpectralConv> spectral_;
  std::vector<torch::nn::AnyModule> pointwise_;
  torch::nn::AnyModule project_hidden_, project_out_;
};
TORCH_MODULE(FNO);

/// The registry entry "fno" (2-D).
const SurrogateType& fno_surrogate_type();
/// The registry entry "fno3d" (3-D).
const SurrogateType& fno3d_surrogate_type();

}  // namespace pins
