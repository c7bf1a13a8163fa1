#pragma once
/// \file
/// MgNet: a learned multigrid V-cycle, the preconditioner architecture (`-task precondition`).
///
/// Input x [B, 5, ny, nx]: the couplings W, E, S, N of the diagonally scaled 5-point
/// operator Â (unit centre) and a residual r̂; output [B, 1, ny, nx]: an approximation of
/// Â⁻¹ r̂. The output is linear in r̂, so the network is a fixed linear preconditioner for a
/// given operator and Krylov methods see a consistent operator.
///
/// The cycle is multigrid whose coarse operators are Galerkin products of Â with an
/// operator-dependent interpolation (multigrid.hpp) and whose smoothers are learned: at every level a
/// small CNN reads the local stencil (divided by its centre) and writes, at every grid
/// point, a 3×3 pre- and a 3×3 post-smoothing stencil M. A sweep is
///   z ← z + M ⋆ D⁻¹(r − A z)
/// (M ⋆ v: the 3×3 weighted sum of v around each point). The CNN's last layer starts at
/// zero, where M is damped Jacobi (ω = 2/3): the untrained MgNet is a classical V-cycle and
/// training can only be measured against it. One CNN serves level 0 (5-point) and one all
/// coarser levels (9-point), so the network runs on grids of any size, also ones it was not
/// trained on. The coarsest level (both sides ≤ `coarsest`) is solved exactly (dense).
///
/// Cost: the operator-dependent work (Galerkin hierarchy, the CNNs, the coarse inverse)
/// depends on the couplings only. Outside autograd (inference) it is computed once per
/// operator and reused while the couplings and the weights stay the same, so a Krylov
/// method's repeated applications cost only the cycle's stencil sweeps.
///
/// Example:
/// \code
///   pins::MgNet net(pins::MgNetOptions(5, 1).width(16).smooth(2));
///   auto z = net->forward(torch::cat({couplings, rhat.unsqueeze(1)}, 1));  // [B,1,ny,nx]
/// \endcode

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "surrogates/surrogate.hpp"

namespace pins {

struct SurrogateType;

/// Options of pins::MgNet (command line: -mgnet_<name>).
struct MgNetOptions {
  MgNetOptions(int in_channels, int out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  /// Input channels: must be 5 (4 couplings and the residual).
  TORCH_ARG(int, in_channels);
  /// Output channels: must be 1.
  TORCH_ARG(int, out_channels);
  /// Hidden channels of the smoother CNNs.
  TORCH_ARG(int, width) = 16;
  /// Pre- and post-smoothing sweeps per level.
  TORCH_ARG(int, smooth) = 2;
  /// Coarsen while both grid sides exceed this; the last level is solved exactly.
  TORCH_ARG(int, coarsest) = 8;
};

/// The learned V-cycle; see the file comment.
class MgNetImpl : public torch::nn::Cloneable<MgNetImpl>, public Surrogate {
 public:
  /// Builds an MgNet; throws pins::Error naming a bad option.
  explicit MgNetImpl(MgNetOptions options);
  void reset() override;
  /// x [B, 5, ny, nx] → [B, 1, ny, nx].
  torch::Tensor forward(const torch::Tensor& x) override;
  std::string type() const override { return "mgnet"; }
  nlohmann::json options_json() const override;
  int in_channels() const override { return options.in_channels(); }
  int out_channels() const override { return options.out_channels(); }
  torch::nn::Module& module() override { return *this; }
  const torch::nn::Module& module() const override { return *this; }
  void pretty_print(std::ostream& stream) const override { Surrogate::pretty_print(stream); }

  /// Number of levels the cycle uses on an ny × nx grid (1: the dense solve only).
  int levels_for(int64_t ny, int64_t nx) const;

  /// The pre- and post-smoothing stencils [B, 18, ny, nx] (pre: channels 0–8) of a level
  /// (0: the fine one) whose stencil is `stencil` [B, 9, ny, nx]. Each point's output reads
  /// the stencils within two points of it (two 3 × 3 convolutions): on a patch of a larger
  /// grid with two points of halo it is exact inside the halo.
  torch::Tensor smoothers(const torch::Tensor& stencil, int level);

  MgNetOptions options;

 private:
  // Everything the cycle needs for one batch of operators.
  struct Setup {
    std::vector<torch::Tensor> ops;      // stencils [B,9,ny,nx] per level
    std::vector<torch::Tensor> prolongations;  // level l+1 → l, as stencils on level l
    std::vector<torch::Tensor> inv_diag; // 1 / centre per level
    std::vector<torch::Tensor> pre, post;  // smoothing stencils per level (not the last)
    torch::Tensor coarse_inverse;
  };
  Setup make_setup(const torch::Tensor& couplings);
  // The set-up for `couplings` without autograd, from the inference cache when the
  // couplings and the weights are unchanged.
  std::shared_ptr<const Setup> inference_setup(const torch::Tensor& couplings);
  torch::Tensor cycle(const Setup& s, std::size_t level, const torch::Tensor& r) const;

  torch::nn::Sequential fine_{nullptr}, coarse_{nullptr};

  // Inference cache: the last couplings, the weights' identity it was made with, its Setup.
  torch::Tensor cached_couplings_;
  std::vector<std::pair<const void*, uint32_t>> cached_weights_;
  std::shared_ptr<Setup> cached_;
};
TORCH_MODULE(MgNet);

/// The registry entry "mgnet".
const SurrogateType& mgnet_surrogate_type();

}  // namespace pins
