#include "surrogates/deeponet.hpp"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <string>

#include "pins/core/check.hpp"
#include "surrogates/registry.hpp"

namespace pins {

namespace {

// in → width → … (depth hidden layers, GELU) → out, GELU after the last layer if asked.
torch::nn::Sequential mlp(int64_t in, int width, int depth, int64_t out, bool last_activation) {
  torch::nn::Sequential net;
  for (int l = 0; l < depth; ++l) {
    net->push_back(torch::nn::Linear(l == 0 ? in : width, width));
    net->push_back(torch::nn::GELU());
  }
  net->push_back(torch::nn::Linear(width, out));
  if (last_activation) net->push_back(torch::nn::GELU());
  return net;
}

}  // namespace

DeepONetImpl::DeepONetImpl(DeepONetOptions options_) : options(std::move(options_)) {
  check_channels("deeponet", options.in_channels(), options.out_channels());
  check_option_min("deeponet", "ny", options.ny(), 1);
  check_option_min("deeponet", "nx", options.nx(), 1);
  check_option_min("deeponet", "width", options.width(), 1);
  check_option_min("deeponet", "depth", options.depth(), 1);
  check_option_min("deeponet", "basis", options.basis(), 1);
  reset();
}

void DeepONetImpl::reset() {
  const int64_t field = int64_t{options.in_channels()} * options.ny() * options.nx();
  branch_ =
      register_module("branch", mlp(field, options.width(), options.depth(),
                                    int64_t{options.out_channels()} * options.basis(), false));
  trunk_ =
      register_module("trunk", mlp(2, options.width(), options.depth(), options.basis(), true));
  bias_ = register_parameter("bias", torch::zeros({options.out_channels()}));
}

torch::Tensor DeepONetImpl::forward(const torch::Tensor& x) {
  check_surrogate_input(x, options.in_channels(), "deeponet");
  const int64_t B = x.size(0), ny = x.size(2), nx = x.size(3);
  PINS_CHECK(ny == options.ny() && nx == options.nx(), "deeponet: built for a ", options.ny(),
             " x ", options.nx(), " (ny x nx) input grid, got ", ny, " x ", nx,
             " (-deeponet_ny, -deeponet_nx)");
  const int64_t C = options.out_channels(), p = options.basis();
  auto coeffs = branch_->forward(x.reshape({B, -1})).view({B, C, p});
  auto basis = trunk_->forward(cell_centre_coordinates(ny, nx, x).reshape({2, ny * nx}).t());
  auto y = torch::einsum("bcp,np->bcn", {coeffs, basis}).view({B, C, ny, nx});
  return y + bias_.view({1, C, 1, 1});
}

nlohmann::json DeepONetImpl::options_json() const {
  return {{"ny", options.ny()},
          {"nx", options.nx()},
          {"width", options.width()},
          {"depth", options.depth()},
          {"basis", options.basis()}};
}

const SurrogateType& deeponet_surrogate_type() {
  static const SurrogateType entry = [] {
    const DeepONetOptions d(1, 1, 0, 0);
    return SurrogateType{
        "deeponet",
        "DeepONet: branch MLP over the input field on a fixed grid, trunk MLP over (x, y)",
        // The branch net reads one grid; the surrogate PC runs on the user's grid.
        {/*dims=*/2, /*grid_independent=*/false, /*tasks=*/{"solution"},
         /*linear_in_input=*/false, /*smooths=*/false},
        {{"ny", "required", "cells along y of the grid the branch net reads"},
         {"nx", "required", "cells along x of the grid the branch net reads"},
         {"width", std::to_string(d.width()), "hidden width of the branch and trunk MLPs"},
         {"depth", std::to_string(d.depth()), "hidden layers of each MLP"},
         {"basis", std::to_string(d.basis()), "number p of basis functions"}},
        [](const OptionMap& o, int in, int out) -> std::shared_ptr<Surrogate> {
          // No default grid: a wrong one would only show up as a shape error at the first batch.
          for (const char* name : {"-deeponet_ny", "-deeponet_nx"}) {
            PINS_CHECK(o.has(name), name,
                       " is required: the grid size the DeepONet branch net reads (e.g. ", name,
                       " 64)");
          }
          DeepONetOptions opt(in, out, o.get_int("-deeponet_ny", 0), o.get_int("-deeponet_nx", 0));
          opt.width(o.get_int("-deeponet_width", opt.width()))
              .depth(o.get_int("-deeponet_depth", opt.depth()))
              .basis(o.get_int("-deeponet_basis", opt.basis()));
          return DeepONet(opt).ptr();
        }};
  }();
  return entry;
}

}  // namespace pins
