#include "surrogates/surrogate.hpp"

#include <torch/types.h>

#include <nlohmann/json.hpp>

#include "pins/core/check.hpp"
#include "surrogates/registry.hpp"

namespace pins {

bool SurrogateTraits::serves(const std::string& task) const {
  for (const auto& t : tasks) {
    if (t == task) return true;
  }
  return false;
}

const SurrogateTraits& Surrogate::traits() const {
  return surrogate_traits(type());
}

void Surrogate::set_graph(const MeshGraph& /*graph*/) {
  throw Error(detail::concat(type(), ": runs on grids, not on a mesh graph"));
}

void Surrogate::pretty_print(std::ostream& stream) const {
  stream << "pins::" << type() << "(in=" << in_channels() << ", out=" << out_channels() << ", "
         << options_json().dump() << ")";
}

torch::ScalarType parameter_dtype(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.scalar_type();
  return torch::kFloat32;
}

torch::Device parameter_device(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.device();
  return torch::kCPU;
}

torch::Tensor cell_centre_coordinates(int64_t ny, int64_t nx, const torch::Tensor& like) {
  return cell_centre_coordinates({ny, nx}, like);
}

torch::Tensor cell_centre_coordinates(c10::IntArrayRef sizes, const torch::Tensor& like) {
  const auto opts = like.options().requires_grad(false);
  const int64_t d = static_cast<int64_t>(sizes.size());
  std::vector<torch::Tensor> channels;
  // Channel c is the coordinate along axis d − 1 − c: x along the last (fastest) axis.
  for (int64_t c = 0; c < d; ++c) {
    const int64_t axis = d - 1 - c, n = sizes[axis];
    std::vector<int64_t> shape(d, 1);
    shape[axis] = n;
    channels.push_back(
        ((torch::arange(n, opts) + 0.5) / static_cast<double>(n)).view(shape).expand(sizes));
  }
  return torch::stack(channels);
}

void check_surrogate_input(const torch::Tensor& x, int channels, const std::string& who, int dims) {
  PINS_CHECK(x.defined(), who, ": input is an undefined tensor");
  bool ok = x.dim() == dims + 2 && x.size(1) == channels;
  for (int64_t a = 2; ok && a < x.dim(); ++a) ok = x.size(a) > 0;
  PINS_CHECK(ok, who, ": input must have shape [B, ", channels,
             dims == 3 ? ", nz, ny, nx], got " : ", ny, nx], got ", x.sizes());
  PINS_CHECK(x.is_floating_point(), who, ": input must be float32 or float64, got ",
             x.scalar_type());
}

void check_option_min(const std::string& type, const std::string& option, int64_t value,
                      int64_t minimum) {
  PINS_CHECK(value >= minimum, type, ": ", option, " must be at least ", minimum, ", got ", value,
             " (-", type, "_", option, ")");
}

void check_channels(const std::string& type, int in_channels, int out_channels) {
  PINS_CHECK(in_channels >= 1, type, ": in_channels must be at least 1, got ", in_channels);
  PINS_CHECK(out_channels >= 1, type, ": out_channels must be at least 1, got ", out_channels);
}

}  // namespace pins
