#include "surrogates/unet.hpp"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
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

namespace {

// torch::group_norm over all pieces: the statistics of each (sample, group) over the whole
// grid level, `points` cells in all, by two sums (the mean first, then the squared
// deviations from it: no cancellation, as GroupNorm computes them). Biased variance, as
// GroupNorm.
torch::Tensor group_norm_piece(const torch::Tensor& x, const torch::nn::GroupNormImpl& norm,
                               int64_t points, const PieceSum& sum) {
  const int64_t b = x.size(0), c = x.size(1), groups = norm.options.num_groups();
  const torch::Tensor grouped = x.reshape({b, groups, -1});
  const double count = double(c / groups) * double(points);
  torch::Tensor total = grouped.sum(2).contiguous();
  sum(total);
  const torch::Tensor centred = grouped - (total / count).unsqueeze(2);
  torch::Tensor deviations = centred.square().sum(2).contiguous();
  sum(deviations);
  torch::Tensor y =
      (centred * torch::rsqrt(deviations / count + norm.options.eps()).unsqueeze(2)).view(x.sizes());
  if (norm.options.affine())
    y = y * norm.weight.view({1, c, 1, 1}) + norm.bias.view({1, c, 1, 1});
  return y;
}

// A conv_block on a piece: the convolutions on the piece and its halo (no padding of their
// own), the normalisations over all pieces, the activations as they are.
torch::Tensor block_piece(torch::nn::Sequential& block, torch::Tensor x, int64_t points,
                          const PieceExchanges& exchanges) {
  for (auto& layer : *block) {
    if (auto* conv = layer.ptr()->as<torch::nn::Conv2d>()) {
      const torch::Tensor& w = conv->weight;
      PINS_CHECK(w.size(2) == 3 && w.size(3) == 3, "unet: a piece's convolutions must be 3x3");
      x = torch::conv2d(exchanges.halo(x), w, conv->bias);
    } else if (auto* norm = layer.ptr()->as<torch::nn::GroupNorm>()) {
      x = group_norm_piece(x, *norm, points, exchanges.sum);
    } else {
      x = layer.forward(x);
    }
  }
  return x;
}

}  // namespace

torch::Tensor UNetImpl::forward_piece(const torch::Tensor& x, const GridPiece& piece,
                                      const PieceExchanges& exchanges) {
  PINS_CHECK(options.dims() == 2, "unet3d: forward on a piece of the grid is 2-D only");
  check_surrogate_input(x, options.in_channels(), type(), 2);
  const int64_t h = x.size(2), w = x.size(3), m = piece_alignment();
  PINS_CHECK(piece.y0 >= 0 && piece.x0 >= 0 && piece.y0 + h <= piece.ny && piece.x0 + w <= piece.nx,
             "unet: piece rows [", piece.y0, ", ", piece.y0 + h, ") and columns [", piece.x0, ", ",
             piece.x0 + w, ") are not inside the ", piece.ny, " x ", piece.nx, " grid");
  const bool top = piece.y0 + h == piece.ny, right = piece.x0 + w == piece.nx;
  PINS_CHECK(piece.y0 % m == 0 && piece.x0 % m == 0 && (top || h % m == 0) && (right || w % m == 0),
             "unet: with ", options.levels(), " levels a piece must start at multiples of ", m,
             " cells and span a multiple of ", m, " unless it ends at the grid's edge; got rows [",
             piece.y0, ", ", piece.y0 + h, ") and columns [", piece.x0, ", ", piece.x0 + w,
             ") of the ", piece.ny, " x ", piece.nx, " grid");
  // forward()'s padding to whole blocks, on the pieces at the high edges.
  const int64_t pad_y = (m - piece.ny % m) % m, pad_x = (m - piece.nx % m) % m;
  torch::Tensor hidden = nd::pad_high(x, {top ? pad_y : 0, right ? pad_x : 0}, /*replicate=*/true);
  // Cells of the whole (padded) grid at level l, for the normalisations' counts.
  const auto points = [&](std::size_t l) {
    return ((piece.ny + pad_y) >> l) * ((piece.nx + pad_x) >> l);
  };
  std::vector<torch::Tensor> skips;
  for (std::size_t l = 0; l < down_.size(); ++l) {
    hidden = block_piece(down_[l], hidden, points(l), exchanges);
    if (l + 1 < down_.size()) {
      skips.push_back(hidden);
      hidden = nd::max_pool2x(hidden, 2);
    }
  }
  for (std::size_t l = up_.size(); l-- > 0;) {
    hidden = block_piece(merge_[l], torch::cat({skips[l], up_[l].forward(hidden)}, 1), points(l),
                         exchanges);
  }
  return nd::crop(head_.forward(hidden), {h, w});
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
