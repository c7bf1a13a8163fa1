// Layers of either spatial dimension (layers_nd.hpp).
#include "surrogates/layers_nd.hpp"

#include <torch/nn/functional/padding.h>
#include <torch/nn/modules/conv.h>

#include "pins/core/check.hpp"

namespace pins::nd {

namespace {

void check_dims(int dims) {
  PINS_CHECK(dims == 2 || dims == 3, "dims must be 2 or 3, got ", dims);
}

}  // namespace

torch::nn::AnyModule conv(int dims, int in, int out, int kernel, int padding, bool bias) {
  check_dims(dims);
  if (dims == 2)
    return torch::nn::AnyModule(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(padding).bias(bias)));
  return torch::nn::AnyModule(
      torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, kernel).padding(padding).bias(bias)));
}

torch::nn::AnyModule conv_transpose(int dims, int in, int out, int factor) {
  check_dims(dims);
  if (dims == 2)
    return torch::nn::AnyModule(torch::nn::ConvTranspose2d(
        torch::nn::ConvTranspose2dOptions(in, out, factor).stride(factor)));
  return torch::nn::AnyModule(torch::nn::ConvTranspose3d(
      torch::nn::ConvTranspose3dOptions(in, out, factor).stride(factor)));
}

torch::Tensor max_pool2x(const torch::Tensor& x, int dims) {
  check_dims(dims);
  return dims == 2 ? torch::max_pool2d(x, {2, 2}) : torch::max_pool3d(x, {2, 2, 2});
}

torch::Tensor pad_high(const torch::Tensor& x, const std::vector<int64_t>& pad, bool replicate) {
  bool any = false;
  // torch's pad lists run from the last axis: {low, high} of the last, then the one before.
  std::vector<int64_t> list;
  for (auto it = pad.rbegin(); it != pad.rend(); ++it) {
    list.push_back(0);
    list.push_back(*it);
    any = any || *it > 0;
  }
  if (!any) return x;
  if (!replicate) return torch::constant_pad_nd(x, list);
  namespace F = torch::nn::functional;
  return F::pad(x, F::PadFuncOptions(list).mode(torch::kReplicate));
}

torch::Tensor crop(const torch::Tensor& x, c10::IntArrayRef sizes) {
  torch::Tensor y = x;
  const int64_t first = x.dim() - static_cast<int64_t>(sizes.size());
  for (std::size_t a = 0; a < sizes.size(); ++a) {
    const int64_t axis = first + static_cast<int64_t>(a);
    if (y.size(axis) != sizes[a]) y = y.slice(axis, 0, sizes[a]);
  }
  return y;
}

std::vector<int64_t> grid_sizes(const torch::Tensor& x, int dims) {
  std::vector<int64_t> sizes;
  for (int64_t a = x.dim() - dims; a < x.dim(); ++a) sizes.push_back(x.size(a));
  return sizes;
}

}  // namespace pins::nd
