#pragma once
/// \file
/// DeepONet (Lu et al., "Learning nonlinear operators via DeepONet", Nat. Mach. Intell.
/// 2021), unstacked with one branch net for all output channels. The branch net, an MLP over
/// the whole input field on a fixed ny × nx grid, gives p coefficients per output channel;
/// the trunk net, an MLP over the cell-centre coordinates (x, y), gives p basis values at
/// each point (with the activation on its last layer too, as in the paper); the output is
/// y[b, c, i, j] = Σ_k branch[b, c, k] · trunk[i, j, k] + bias[c].
///
/// The branch net fixes the input grid: the model evaluates only on the ny × nx it was built
/// for (the registry options -deeponet_nx and -deeponet_ny must be given).
///
/// Example:
/// \code
///   pins::DeepONet net(pins::DeepONetOptions(1, 1, 32, 32).width(64).basis(32));
///   auto y = net(torch::randn({8, 1, 32, 32}));  // [8, 1, 32, 32]
/// \endcode

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "surrogates/surrogate.hpp"

namespace pins {

struct SurrogateType;

/// Options of pins::DeepONet (command line: -deeponet_<name>).
struct DeepONetOptions {
  DeepONetOptions(int in_channels, int out_channels, int ny, int nx)
      : in_channels_(in_channels), out_channels_(out_channels), ny_(ny), nx_(nx) {}
  /// Input channels Cin.
  TORCH_ARG(int, in_channels);
  /// Output channels Cout.
  TORCH_ARG(int, out_channels);
  /// Cells along y of the (only) grid the branch net reads.
  TORCH_ARG(int, ny);
  /// Cells along x of that grid.
  TORCH_ARG(int, nx);
  /// Hidden width of the branch and trunk MLPs.
  TORCH_ARG(int, width) = 64;
  /// Hidden layers of each MLP.
  TORCH_ARG(int, depth) = 3;
  /// Number p of basis functions.
  TORCH_ARG(int, basis) = 32;
};

/// The DeepONet; see the file comment.
class DeepONetImpl : public torch::nn::Cloneable<DeepONetImpl>, public Surrogate {
 public:
  /// Builds a DeepONet; throws pins::Error naming a bad option.
  explicit DeepONetImpl(DeepONetOptions options);
  /// (Re)builds the submodules from `options`; called by the constructor and by clone().
  void reset() override;
  /// x [B, Cin, ny, nx] → [B, Cout, ny, nx] on the grid given in the options.
  torch::Tensor forward(const torch::Tensor& x) override;
  std::string type() const override { return "deeponet"; }
  nlohmann::json options_json() const override;
  int in_channels() const override { return options.in_channels(); }
  int out_channels() const override { return options.out_channels(); }
  torch::nn::Module& module() override { return *this; }
  const torch::nn::Module& module() const override { return *this; }
  /// Overrides both Surrogate's and torch::nn::Module's pretty_print.
  void pretty_print(std::ostream& stream) const override { Surrogate::pretty_print(stream); }

  DeepONetOptions options;

 private:
  torch::nn::Sequential branch_{nullptr}, trunk_{nullptr};
  torch::Tensor bias_;  // [Cout]
};
TORCH_MODULE(DeepONet);

/// The registry entry "deeponet".
const SurrogateType& deeponet_surrogate_type();

}  // namespace pins
