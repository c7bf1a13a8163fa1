#include "surrogates/mlp.hpp"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include "pins/core/check.hpp"
#include "surrogates/registry.hpp"

namespace pins {

MLPImpl::MLPImpl(MLPOptions options_) : options(std::move(options_)) {
  check_channels("mlp", options.in_channels(), options.out_channels());
  check_option_min("mlp", "width", options.width(), 1);
  check_option_min("mlp", "depth", options.depth(), 1);
  PINS_CHECK(options.activation() == "tanh" || options.activation() == "gelu",
             "mlp: activation must be tanh or gelu, got '", options.activation(),
             "' (-mlp_activation)");
  reset();
}

void MLPImpl::reset() {
  const int features = 2 + (options.inputs() ? options.in_channels() : 0);
  net_ = torch::nn::Sequential();
  for (int l = 0; l < options.depth(); ++l) {
    net_->push_back(torch::nn::Linear(l == 0 ? features : options.width(), options.width()));
    if (options.activation() == "tanh") {
      net_->push_back(torch::nn::Tanh());
    } else {
      net_->push_back(torch::nn::GELU());
    }
  }
  net_->push_back(torch::nn::Linear(options.width(), options.out_channels()));
  register_module("net", net_);
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  check_surrogate_input(x, options.in_channels(), "mlp");
  const int64_t B = x.size(0), ny = x.size(2), nx = x.size(3);
  // Point features [B, ny, nx, F]: (x, y), then the input channels.
  auto features =
      cell_centre_coordinates(ny, nx, x).permute({1, 2, 0}).unsqueeze(0).expand({B, ny, nx, 2});
  if (options.inputs()) features = torch::cat({features, x.permute({0, 2, 3, 1})}, 3);
  auto y = net_->forward(features.reshape({B * ny * nx, -1}));
  return y.view({B, ny, nx, options.out_channels()}).permute({0, 3, 1, 2}).contiguous();
}

nlohmann::json MLPImpl::options_json() const {
  return {{"width", options.width()},
          {"depth", options.depth()},
          {"activation", options.activation()},
          {"inputs", options.inputs()}};
}

const SurrogateType& mlp_surrogate_type() {
  static const SurrogateType entry = [] {
    const MLPOptions d(1, 1);
    return SurrogateType{
        "mlp",
        "point-wise MLP of (x, y) and the input channels at each point (PINN-style)",
        // A function of the continuous coordinates: any grid, the same map. Point-wise, it
        // couples no grid points, so it cannot precondition.
        {/*dims=*/2, /*grid_independent=*/true, /*tasks=*/{"solution"},
         /*linear_in_input=*/false, /*smooths=*/false},
        {{"width", std::to_string(d.width()), "units per hidden layer"},
         {"depth", std::to_string(d.depth()), "hidden layers"},
         {"activation", d.activation(), "tanh or gelu"},
         {"inputs", d.inputs() ? "true" : "false",
          "use the input channels at each point as features (else only (x, y))"}},
        [](const OptionMap& o, int in, int out) -> std::shared_ptr<Surrogate> {
          MLPOptions opt(in, out);
          opt.width(o.get_int("-mlp_width", opt.width()))
              .depth(o.get_int("-mlp_depth", opt.depth()))
              .activation(o.get_string("-mlp_activation", opt.activation()))
              .inputs(o.get_bool("-mlp_inputs", opt.inputs()));
          return MLP(opt).ptr();
        }};
  }();
  return entry;
}

}  // namespace pins
