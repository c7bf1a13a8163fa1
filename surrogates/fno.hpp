#pragma once
/// \file
/// 2-D Fourier neural operator (Li et al., "Fourier Neural Operator for Parametric Partial
/// Differential Equations", ICLR 2021). Lifting (1×1 conv of the input channels plus the
/// cell-centre coordinates), `layers` Fourier layers (spectral convolution on the lowest
/// `modes` × `modes` frequencies + 1×1 conv, GELU), projection (1×1 conv → hidden → GELU →
/// 1×1 conv). The domain is zero-padded by `padding` cells on the high-x and high-y sides
/// for the Fourier layers, since the problems are not periodic, and cropped back.
///
/// The spectral weights are indexed by frequency, so the same model evaluates on any grid:
/// on a grid with fewer frequencies than `modes` only the ones it has are used.
///
/// Example:
/// \code
///   pins::FNO fno(pins::FNOOptions(1, 1).modes(8).width(16));
///   auto y = fno(torch::randn({4, 1, 32, 32}));  // [4, 1, 32, 32]
///   auto z = fno(torch::randn({1, 1, 48, 40}));  // another grid: [1, 1, 48, 40]
/// \endcode

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "surrogates/surrogate.hpp"

namespace pins {

struct SurrogateType;

/// Options of pins::FNO (command line: -fno_<name>).
struct FNOOptions {
  FNOOptions(int in_channels, int out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  /// Input channels Cin (the coordinates are appended to these).
  TORCH_ARG(int, in_channels);
  /// Output channels Cout.
  TORCH_ARG(int, out_channels);
  /// Frequencies kept per direction (per sign for ky).
  TORCH_ARG(int, modes) = 12;
  /// Channels of the Fourier layers.
  TORCH_ARG(int, width) = 32;
  /// Number of Fourier layers.
  TORCH_ARG(int, layers) = 4;
  /// Zero-padding cells added on the high-x and high-y sides for the Fourier layers.
  TORCH_ARG(int, padding) = 9;
  /// Channels of the projection's hidden layer.
  TORCH_ARG(int, hidden) = 128;
};

/// Spectral convolution: rfft2, multiply the frequencies |ky| ≤ modes, 0 ≤ kx < modes by
/// learned complex matrices (in × out per frequency), irfft2. The complex weights are kept
/// as real tensors [in, out, modes, modes, 2] (real, imaginary) so any real-valued optimiser
/// and the model file treat them like other parameters.
class SpectralConv2dImpl : public torch::nn::Cloneable<SpectralConv2dImpl> {
 public:
  /// A spectral convolution from `in` to `out` channels keeping `modes` frequencies.
  SpectralConv2dImpl(int in, int out, int modes);
  /// (Re)initialises the weights; called by the constructor and by clone().
  void reset() override;
  /// x [B, in, H, W] → [B, out, H, W].
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight_pos;  ///< frequencies ky = 0 … modes−1: [in, out, modes, modes, 2]
  torch::Tensor weight_neg;  ///< ky = −modes … −1 (row r is ky = r − modes), same shape

 private:
  int in_, out_, modes_;
};
TORCH_MODULE(SpectralConv2d);

/// The Fourier neural operator; see the file comment.
class FNOImpl : public torch::nn::Cloneable<FNOImpl>, public Surrogate {
 public:
  /// Builds an FNO; throws pins::Error naming a bad option.
  explicit FNOImpl(FNOOptions options);
  /// (Re)builds the submodules from `options`; called by the constructor and by clone().
  void reset() override;
  /// x [B, Cin, ny, nx] → [B, Cout, ny, nx], any ny, nx.
  torch::Tensor forward(const torch::Tensor& x) override;
  std::string type() const override { return "fno"; }
  nlohmann::json options_json() const override;
  int in_channels() const override { return options.in_channels(); }
  int out_channels() const override { return options.out_channels(); }
  torch::nn::Module& module() override { return *this; }
  const torch::nn::Module& module() const override { return *this; }
  /// Overrides both Surrogate's and torch::nn::Module's pretty_print.
  void pretty_print(std::ostream& stream) const override { Surrogate::pretty_print(stream); }

  FNOOptions options;

 private:
  torch::nn::Conv2d lift_{nullptr};
  std::vector<SpectralConv2d> spectral_;
  std::vector<torch::nn::Conv2d> pointwise_;
  torch::nn::Conv2d project_hidden_{nullptr}, project_out_{nullptr};
};
TORCH_MODULE(FNO);

/// The registry entry "fno".
const SurrogateType& fno_surrogate_type();

}  // namespace pins
