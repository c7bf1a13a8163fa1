#pragma once
/// \file
/// A small U-Net (Ronneberger et al. 2015) in 2-D ("unet") and 3-D ("unet3d"): `levels`
/// resolutions, each with a block of two (3×3(×3) conv → GroupNorm → GELU), 2-per-axis
/// max-pooling down, 2-per-axis transposed convolutions up, skip connections by
/// concatenation, and a 1×1 conv to the output channels. Level l has channels·2^l channels.
/// Grids whose sides are not multiples of 2^(levels−1) are padded (replicating the edge) on
/// the high side of every axis and cropped back. The 3-D variant is the same code with
/// Conv3d, MaxPool3d and ConvTranspose3d.
///
/// Example:
/// \code
///   pins::UNet unet(pins::UNetOptions(3, 1).channels(16).levels(3));
///   auto y = unet(torch::randn({2, 3, 30, 41}));  // [2, 1, 30, 41]
///   pins::UNet unet3d(pins::UNetOptions(1, 1, 3));
///   auto v = unet3d(torch::randn({2, 1, 9, 16, 13}));  // [2, 1, 9, 16, 13]
/// \endcode

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "surrogates/grid_piece.hpp"
#include "surrogates/surrogate.hpp"

namespace pins {

struct SurrogateType;

/// Options of pins::UNet (command line: -unet_<name>, or -unet3d_<name> for dims 3).
struct UNetOptions {
  UNetOptions(int in_channels, int out_channels, int dims = 2)
      : in_channels_(in_channels), out_channels_(out_channels), dims_(dims) {}
  /// Input channels Cin.
  TORCH_ARG(int, in_channels);
  /// Output channels Cout.
  TORCH_ARG(int, out_channels);
  /// Spatial dimensions: 2 (x [B, Cin, ny, nx]) or 3 ([B, Cin, nz, ny, nx]); set by the
  /// registry name, not an option.
  TORCH_ARG(int, dims);
  /// Channels at the finest level (doubled at each coarser one).
  TORCH_ARG(int, channels) = 16;
  /// Number of resolutions, the finest included (1 = no down-sampling).
  TORCH_ARG(int, levels) = 3;
};

/// The U-Net; see the file comment.
class UNetImpl : public torch::nn::Cloneable<UNetImpl>, public Surrogate, public PiecewiseSurrogate {
 public:
  /// Builds a UNet; throws pins::Error naming a bad option.
  explicit UNetImpl(UNetOptions options);
  /// (Re)builds the submodules from `options`; called by the constructor and by clone().
  void reset() override;
  /// x [B, Cin, (nz,) ny, nx] → [B, Cout, (nz,) ny, nx], any grid sizes.
  torch::Tensor forward(const torch::Tensor& x) override;
  /// The 2-D U-Net on one piece of a grid whose pieces are evaluated together
  /// (PiecewiseSurrogate): every 3×3 convolution takes a one-cell `exchanges.halo` of its
  /// input, every GroupNorm its group statistics by two `exchanges.sum`s (mean, then squared
  /// deviations); pooling, up-sampling, skips and the head are the piece's own, which is why
  /// pieces are aligned to 2^(levels−1) cells. The high side's replicated padding belongs to
  /// the pieces there.
  torch::Tensor forward_piece(const torch::Tensor& x, const GridPiece& piece,
                              const PieceExchanges& exchanges) override;
  bool runs_in_pieces() const override { return options.dims() == 2; }
  int64_t piece_alignment() const override { return int64_t{1} << (options.levels() - 1); }
  std::string type() const override { return options.dims() == 3 ? "unet3d" : "unet"; }
  nlohmann::json options_json() const override;
  int in_channels() const override { return options.in_channels(); }
  int out_channels() const override { return options.out_channels(); }
  torch::nn::Module& module() override { return *this; }
  const torch::nn::Module& module() const override { return *this; }
  /// Overrides both Surrogate's and torch::nn::Module's pretty_print.
  void pretty_print(std::ostream& stream) const override { Surrogate::pretty_print(stream); }

  UNetOptions options;

 private:
  std::vector<torch::nn::Sequential> down_;   // one block per level
  std::vector<torch::nn::AnyModule> up_;      // level l+1 → l: ConvTranspose2d or 3d
  std::vector<torch::nn::Sequential> merge_;  // block after concatenating the skip
  torch::nn::AnyModule head_;                 // 1×1 Conv2d or Conv3d
};
TORCH_MODULE(UNet);

/// The registry entry "unet" (2-D).
const SurrogateType& unet_surrogate_type();
/// The registry entry "unet3d" (3-D).
const SurrogateType& unet3d_surrogate_type();

}  // namespace pins
