#pragma once
/// \file
/// An MLP applied to every entry of a sparse matrix: x [B, Cin, nnz] (the features of each
/// stored entry) → y [B, Cout, nnz], the same small network on every entry, so one model
/// serves matrices of any size, pattern and number of processes (each process runs it on its
/// own rows). It is the network of the learned sparse smoother (pins/core/smoother.hpp,
/// `pins train -task smoother`).
///
/// Example:
/// \code
///   pins::EntryMLP net(pins::EntryMLPOptions(6, 1).width(32).depth(2));
///   auto y = net(features);  // features [1, 6, nnz] → [1, 1, nnz]
/// \endcode

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "surrogates/surrogate.hpp"

namespace pins {

struct SurrogateType;

/// Options of pins::EntryMLP (command line: -entry_mlp_<name>).
struct EntryMLPOptions {
  EntryMLPOptions(int in_channels, int out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  /// Input channels Cin (features per entry).
  TORCH_ARG(int, in_channels);
  /// Output channels Cout.
  TORCH_ARG(int, out_channels);
  /// Units per hidden layer.
  TORCH_ARG(int, width) = 32;
  /// Hidden layers.
  TORCH_ARG(int, depth) = 2;
};

/// The entry-wise MLP; see the file comment.
class EntryMLPImpl : public torch::nn::Cloneable<EntryMLPImpl>, public Surrogate {
 public:
  /// Builds the network; throws pins::Error naming a bad option.
  explicit EntryMLPImpl(EntryMLPOptions options);
  /// (Re)builds the submodules from `options`; called by the constructor and by clone().
  void reset() override;
  /// x [B, Cin, nnz] → [B, Cout, nnz].
  torch::Tensor forward(const torch::Tensor& x) override;
  std::string type() const override { return "entry_mlp"; }
  nlohmann::json options_json() const override;
  int in_channels() const override { return options.in_channels(); }
  int out_channels() const override { return options.out_channels(); }
  torch::nn::Module& module() override { return *this; }
  const torch::nn::Module& module() const override { return *this; }
  /// Overrides both Surrogate's and torch::nn::Module's pretty_print.
  void pretty_print(std::ostream& stream) const override { Surrogate::pretty_print(stream); }

  EntryMLPOptions options;

 private:
  torch::nn::Sequential net_{nullptr};
};
TORCH_MODULE(EntryMLP);

/// The registry entry "entry_mlp".
const SurrogateType& entry_mlp_surrogate_type();

}  // namespace pins
