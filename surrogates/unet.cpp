#include "surrogates/unet.hpp"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <numeric>
#include <string>

#include "pins/core/check.hpp"
#include "surrogates/layers_nd.hpp"
#include "surrogates/registry.hpp"

namespace pins {

namespace {

// Two (3×3(×3) conv → GroupNorm → GELU). The convolutions have no bias: the normalisation
// that follows would remove it.
torch::nn::Sequential conv_block(int dims, int in, int out) {
  using namespace torch::nn;
  const int groups = std::gcd(out, 8);
  // The second convolution draws its initial weights first, as in earlier versions (which
  // built both as arguments of one call, evaluated right to left), so that a given seed
  // still gives a 2-D U-Net the same initial weights.
  auto second = nd::conv(dims, out, out, 3, 1, /*bias=*/false);
  auto first = nd::conv(dims, in, out, 3, 1, /*bias=*/false);
  Sequential block;
  block->push_back(first);
  block->push_back(GroupNorm(GroupNormOptions(groups, out)));
  block->push_back(GELU());
  block->push_back(second);
  block->push_back(GroupNorm(GroupNormOptions(groups, out)));
  block->push_back(GELU());
  return block;
}

// Bounds that keep channels·2^(levels−1) far from int overflow; real U-Nets are far below.
constexpr int kMaxLevels = 10;
constexpr int64_t kMaxChannels = 1 << 16;

}  // namespace

UNetImpl::UNetImpl(UNetOptions options_) : options(std::move(options_)) {
  const std::string t = type();
  PINS_CHECK(options.dims() == 2 || options.dims() == 3, "unet: dims must be 2 or 3, got ",
             options.dims());
  check_channels(t, options.in_channels(), options.out_channels());
  check_option_min(t, "channels", options.channels(), 1);
  check_option_min(t, "levels", options.levels(), 1);
  PINS_CHECK(options.levels() <= kMaxLevels, t, ": levels must be at most ", kMaxLevels, ", got ",
             options.levels(), " (-", t, "_levels)");
  PINS_CHECK((int64_t{options.channels()} << (options.levels() - 1)) <= kMaxChannels, t,
             ": channels·2^(levels-1) must be at most ", kMaxChannels, ", got channels ",
             options.channels(), " and levels ", options.levels(), " (-", t, "_channels, -", t,
             "_levels)");
  reset();
}

void UNetImpl::reset() {
  const int L = options.levels(), c = options.channels(), d = options.dims();
  down_.clear();
  up_.clear();
  merge_.clear();
  for (int l = 0; l < L; ++l) {
    const int in = l == 0 ? options.in_channels() : c << (l - 1);
    down_.push_back(register_module("down" + std::to_string(l), conv_block(d, in, c << l)));
  }
  for (int l = 0; l + 1 < L; ++l) {
    up_.push_back(nd::conv_transpose(d, c << (l + 1), c << l, 2));
    register_module("up" + std::to_string(l), up_.back().ptr());
    merge_.push_back(
        register_module("merge" + std::to_string(l), conv_block(d, 2 * (c << l), c << l)));
  }
  head_ = nd::conv(d, c, options.out_channels(), 1);
  register_module("head", head_.ptr());
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x) {
  const int d = options.dims();
  check_surrogate_input(x, options.in_channels(), type(), d);
  const std::vector<int64_t> n = nd::grid_sizes(x, d);
  const int64_t m = int64_t{1} << (options.levels() - 1);
  std::vector<int64_t> pad;
  for (int64_t size : n) pad.push_back((m - size % m) % m);
  auto h = nd::pad_high(x, pad, /*replicate=*/true);
  std::vector<torch::Tensor> skips;
  for (std::size_t l = 0; l < down_.size(); ++l) {
    h = down_[l]->forward(h);
    if (l + 1 < down_.size()) {
      skips.push_back(h);
      h = nd::max_pool2x(h, d);
    }
  }
  for (std::size_t l = up_.size(); l-- > 0;) {
    h = merge_[l]->forward(torch::cat({skips[l], up_[l].forward(h)}, 1));
  }
  return nd::crop(head_.forward(h), n);
}

nlohmann::json UNetImpl::options_json() const {
  return {{"channels", options.channels()}, {"levels", options.levels()}};
}

namespace {

template <int Dims>
std::shared_ptr<Surrogate> make_unet(const OptionMap& o, int in, int out) {
  const std::string p = Dims == 3 ? "-unet3d_" : "-unet_";
  UNetOptions opt(in, out, Dims);
  opt.channels(o.get_int(p + "channels", opt.channels()))
      .levels(o.get_int(p + "levels", opt.levels()));
  return UNet(opt).ptr();
}

SurrogateType unet_entry(int dims) {
  const UNetOptions d(1, 1, dims);
  SurrogateTraits traits;
  traits.dims = dims;
  traits.grid_independent = false;  // runs on any grid, but its kernels are sized in cells
  traits.tasks = {"solution", "precondition"};
  return SurrogateType{
      dims == 3 ? "unet3d" : "unet",
      dims == 3 ? "3-D U-Net, [B, C, nz, ny, nx]; runs on any grid"
                : "U-Net encoder-decoder CNN with skip connections; evaluates on any grid",
      traits,
      {{"channels", std::to_string(d.channels()),
        "channels at the finest level (doubled per coarser level)"},
       {"levels", std::to_string(d.levels()), "number of resolutions (1 = no down-sampling)"}},
      dims == 3 ? &make_unet<3> : &make_unet<2>};
}

}  // namespace

const SurrogateType& unet_surrogate_type() {
  static const SurrogateType entry = unet_entry(2);
  return entry;
}

const SurrogateType& unet3d_surrogate_type() {
  static const SurrogateType entry = unet_entry(3);
  return entry;
}

}  // namespace pins
