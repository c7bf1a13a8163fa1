#pragma once
/// \file
/// Layers and tensor helpers of either spatial dimension (2 or 3), so that one implementation
/// of an architecture builds its 2-D or its 3-D variant (fno / fno3d, unet / unet3d). The
/// modules are the LibTorch ones (Conv2d or Conv3d, ...), wrapped in a torch::nn::AnyModule:
/// parameter names, shapes and initialisation are those of the underlying layer, so 2-D
/// model files written before the 3-D variants existed still load.

#include <torch/nn/modules/container/any.h>
#include <torch/types.h>

#include <vector>

namespace pins::nd {

/// Conv2d (dims 2) or Conv3d (dims 3): `kernel` per axis, zero `padding` per side.
torch::nn::AnyModule conv(int dims, int in, int out, int kernel, int padding = 0, bool bias = true);

/// ConvTranspose2d or ConvTranspose3d with kernel and stride `factor` (exact up-sampling).
torch::nn::AnyModule conv_transpose(int dims, int in, int out, int factor);

/// 2-per-axis max-pooling over the trailing `dims` axes.
torch::Tensor max_pool2x(const torch::Tensor& x, int dims);

/// Pads the trailing axes on their high side by `pad[a]` cells (pad in tensor order, slowest
/// spatial axis first), replicating the edge or with zeros.
torch::Tensor pad_high(const torch::Tensor& x, const std::vector<int64_t>& pad, bool replicate);

/// The first `sizes[a]` entries of each trailing axis (the inverse of pad_high).
torch::Tensor crop(const torch::Tensor& x, c10::IntArrayRef sizes);

/// The trailing `dims` sizes of x (its grid: {ny, nx} or {nz, ny, nx}).
std::vector<int64_t> grid_sizes(const torch::Tensor& x, int dims);

}  // namespace pins::nd
