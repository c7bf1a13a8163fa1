#pragma once
/// \file
/// A small U-Net (Ronneberger et al. 2015): `levels` resolutions, each with a block of two
/// (3×3 conv → GroupNorm → GELU), 2×2 max-pooling down, 2×2 transposed convolutions up,
/// skip connections by concatenation, and a 1×1 conv to the output channels. Level l has
/// channels·2^l channels. Grids whose sides are not multiples of 2^(levels−1) are padded
/// (replicating the edge) on the high-x and high-y sides and cropped back.
///
/// Example:
/// \code
///   pins::UNet unet(pins::UNetOptions(3, 1).channels(16).levels(3));
///   auto y = unet(torch::randn({2, 3, 30, 41}));  // [2, 1, 30, 41]
/// \endcode

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "surrogates/surrogate.hpp"

namespace pins {

struct SurrogateType;

/// Options of pins::UNet (command line: -unet_<name>).
struct UNetOptions {
  UNetOptions(int in_channels, int out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  /// Input channels Cin.
  TORCH_ARG(int, in_channels);
  /// Output channels Cout.
  TORCH_ARG(int, out_channels);
  /// Channels at the finest level (doubled at each coarser one).
  TORCH_ARG(int, channels) = 16;
  /// Number of resolutions, the finest included (1 = no down-sampling).
  TORCH_ARG(int, levels) = 3;
};

/// The U-Net; see the file comment.
class UNetImpl : public torch::nn::Cloneable<UNetImpl>, public Surrogate {
 public:
  /// Builds a UNet; throws pins::Error naming a bad option.
  explicit UNetImpl(UNetOptions options);
  /// (Re)builds the submodules from `options`; called by the constructor and by clone().
  void reset() override;
  /// x [B, Cin, ny, nx] → [B, Cout, ny, nx], any ny, nx.
  torch::Tensor forward(const torch::Tensor& x) override;
  std::string type() const override { return "unet"; }
  nlohmann::json options_json() const override;
  int in_channels() const override { return options.in_channels(); }
  int out_channels() const override { return options.out_channels(); }
  torch::nn::Module& module() override { return *this; }
  const torch::nn::Module& module() const override { return *this; }
  /// Overrides both Surrogate's and torch::nn::Module's pretty_print.
  void pretty_print(std::ostream& stream) const override { Surrogate::pretty_print(stream); }

  UNetOptions options;

 private:
  std::vector<torch::nn::Sequential> down_;     // one block per level
  std::vector<torch::nn::ConvTranspose2d> up_;  // level l+1 → l
  std::vector<torch::nn::Sequential> merge_;    // block after concatenating the skip
  torch::nn::Conv2d head_{nullptr};
};
TORCH_MODULE(UNet);

/// The registry entry "unet".
const SurrogateType& unet_surrogate_type();

}  // namespace pins
