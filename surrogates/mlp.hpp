#pragma once
/// \file
/// Point-wise MLP for PINN-style models: at every grid point, features = the cell-centre
/// coordinates (x, y), plus the Cin input channels at that point unless `inputs` is false;
/// `depth` hidden layers of `width` units with tanh or GELU; Cout outputs. It is applied to
/// all points of a [B, Cin, ny, nx] batch at once and the result laid out as
/// [B, Cout, ny, nx], so it shares the interface of the grid models.
///
/// Example:
/// \code
///   pins::MLP net(pins::MLPOptions(1, 1).width(64).depth(4).activation("tanh"));
///   auto u = net(kappa);  // [B, 1, ny, nx]
/// \endcode

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <string>

#include "surrogates/surrogate.hpp"

namespace pins {

struct SurrogateType;

/// Options of pins::MLP (command line: -mlp_<name>).
struct MLPOptions {
  MLPOptions(int in_channels, int out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  /// Input channels Cin.
  TORCH_ARG(int, in_channels);
  /// Output channels Cout.
  TORCH_ARG(int, out_channels);
  /// Units per hidden layer.
  TORCH_ARG(int, width) = 64;
  /// Hidden layers.
  TORCH_ARG(int, depth) = 4;
  /// "tanh" or "gelu".
  TORCH_ARG(std::string, activation) = "tanh";
  /// Whether the input channel values at a point are features too (else only (x, y)).
  TORCH_ARG(bool, inputs) = true;
};

/// The point-wise MLP; see the file comment.
class MLPImpl : public torch::nn::Cloneable<MLPImpl>, public Surrogate {
 public:
  /// Builds an MLP; throws pins::Error naming a bad option.
  explicit MLPImpl(MLPOptions options);
  /// (Re)builds the submodules from `options`; called by the constructor and by clone().
  void reset() override;
  /// x [B, Cin, ny, nx] → [B, Cout, ny, nx], any ny, nx.
  torch::Tensor forward(const torch::Tensor& x) override;
  std::string type() const override { return "mlp"; }
  nlohmann::json options_json() const override;
  int in_channels() const override { return options.in_channels(); }
  int out_channels() const override { return options.out_channels(); }
  torch::nn::Module& module() override { return *this; }
  const torch::nn::Module& module() const override { return *this; }
  /// Overrides both Surrogate's and torch::nn::Module's pretty_print.
  void pretty_print(std::ostream& stream) const override { Surrogate::pretty_print(stream); }

  MLPOptions options;

 private:
  torch::nn::Sequential net_{nullptr};
};
TORCH_MODULE(MLP);

/// The registry entry "mlp".
const SurrogateType& mlp_surrogate_type();

}  // namespace pins
