#include "surrogates/unet.hpp"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <numeric>
#include <string>

#include "pins/core/check.hpp"
#include "surrogates/registry.hpp"

namespace pins {

namespace {

// Two (3×3 conv → GroupNorm → GELU). The convolutions have no bias: the normalisation that
// follows would remove it.
torch::nn::Sequential conv_block(int in, int out) {
  using namespace torch::nn;
  const int groups = std::gcd(out, 8);
  return Sequential(Conv2d(Conv2dOptions(in, out, 3).padding(1).bias(false)),
                    GroupNorm(GroupNormOptions(groups, out)), GELU(),
                    Conv2d(Conv2dOptions(out, out, 3).padding(1).bias(false)),
                    GroupNorm(GroupNormOptions(groups, out)), GELU());
}

// Bounds that keep channels·2^(levels−1) far from int overflow; real U-Nets are far below.
constexpr int kMaxLevels = 10;
constexpr int64_t kMaxChannels = 1 << 16;

}  // namespace

UNetImpl::UNetImpl(UNetOptions options_) : options(std::move(options_)) {
  check_channels("unet", options.in_channels(), options.out_channels());
  check_option_min("unet", "channels", options.channels(), 1);
  check_option_min("unet", "levels", options.levels(), 1);
  PINS_CHECK(options.levels() <= kMaxLevels, "unet: levels must be at most ", kMaxLevels, ", got ",
             options.levels(), " (-unet_levels)");
  PINS_CHECK((int64_t{options.channels()} << (options.levels() - 1)) <= kMaxChannels,
             "unet: channels·2^(levels-1) must be at most ", kMaxChannels, ", got channels ",
             options.channels(), " and levels ", options.levels(),
             " (-unet_channels, -unet_levels)");
  reset();
}

void UNetImpl::reset() {
  const int L = options.levels(), c = options.channels();
  down_.clear();
  up_.clear();
  merge_.clear();
  for (int l = 0; l < L; ++l) {
    const int in = l == 0 ? options.in_channels() : c << (l - 1);
    down_.push_back(register_module("down" + std::to_string(l), conv_block(in, c << l)));
  }
  for (int l = 0; l + 1 < L; ++l) {
    up_.push_back(
        register_module("up" + std::to_string(l),
                        torch::nn::ConvTranspose2d(
                            torch::nn::ConvTranspose2dOptions(c << (l + 1), c << l, 2).stride(2))));
    merge_.push_back(
        register_module("merge" + std::to_string(l), conv_block(2 * (c << l), c << l)));
  }
  head_ = register_module(
      "head", torch::nn::Conv2d(torch::nn::Conv2dOptions(c, options.out_channels(), 1)));
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x) {
  check_surrogate_input(x, options.in_channels(), "unet");
  const int64_t ny = x.size(2), nx = x.size(3);
  const int64_t m = int64_t{1} << (options.levels() - 1);
  const int64_t py = (m - ny % m) % m, px = (m - nx % m) % m;
  auto h = (py || px) ? torch::replication_pad2d(x, {0, px, 0, py}) : x;
  std::vector<torch::Tensor> skips;
  for (std::size_t l = 0; l < down_.size(); ++l) {
    h = down_[l]->forward(h);
    if (l + 1 < down_.size()) {
      skips.push_back(h);
      h = torch::max_pool2d(h, {2, 2});
    }
  }
  for (std::size_t l = up_.size(); l-- > 0;) {
    h = merge_[l]->forward(torch::cat({skips[l], up_[l](h)}, 1));
  }
  h = head_(h);
  return (py || px) ? h.slice(2, 0, ny).slice(3, 0, nx) : h;
}

nlohmann::json UNetImpl::options_json() const {
  return {{"channels", options.channels()}, {"levels", options.levels()}};
}

const SurrogateType& unet_surrogate_type() {
  static const SurrogateType entry = [] {
    const UNetOptions d(1, 1);
    return SurrogateType{
        "unet",
        "U-Net encoder-decoder CNN with skip connections; evaluates on any grid",
        {{"channels", std::to_string(d.channels()),
          "channels at the finest level (doubled per coarser level)"},
         {"levels", std::to_string(d.levels()), "number of resolutions (1 = no down-sampling)"}},
        [](const OptionMap& o, int in, int out) -> std::shared_ptr<Surrogate> {
          UNetOptions opt(in, out);
          opt.channels(o.get_int("-unet_channels", opt.channels()))
              .levels(o.get_int("-unet_levels", opt.levels()));
          return UNet(opt).ptr();
        }};
  }();
  return entry;
}

}  // namespace pins
