#include "surrogates/surrogate.hpp"

#include <torch/types.h>

#include <nlohmann/json.hpp>

#include "pins/core/check.hpp"

namespace pins {

void Surrogate::pretty_print(std::ostream& stream) const {
  stream << "pins::" << type() << "(in=" << in_channels() << ", out=" << out_channels() << ", "
         << options_json().dump() << ")";
}

torch::Tensor cell_centre_coordinates(int64_t ny, int64_t nx, const torch::Tensor& like) {
  const auto opts = like.options().requires_grad(false);
  auto x = (torch::arange(nx, opts) + 0.5) / static_cast<double>(nx);
  auto y = (torch::arange(ny, opts) + 0.5) / static_cast<double>(ny);
  return torch::stack({x.view({1, nx}).expand({ny, nx}), y.view({ny, 1}).expand({ny, nx})});
}

void check_surrogate_input(const torch::Tensor& x, int channels, const std::string& who) {
  PINS_CHECK(x.defined(), who, ": input is an undefined tensor");
  PINS_CHECK(x.dim() == 4 && x.size(1) == channels && x.size(2) > 0 && x.size(3) > 0, who,
             ": input must have shape [B, ", channels, ", ny, nx], got ", x.sizes());
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
