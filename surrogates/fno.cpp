#include "surrogates/fno.hpp"

#include <torch/fft.h>
#include <torch/types.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "surrogates/registry.hpp"

namespace pins {

SpectralConv2dImpl::SpectralConv2dImpl(int in, int out, int modes)
    : in_(in), out_(out), modes_(modes) {
  reset();
}

void SpectralConv2dImpl::reset() {
  // Initialisation of the reference implementation: uniform [0, 1) real and imaginary parts
  // scaled by 1/(in·out).
  const double scale = 1.0 / (static_cast<double>(in_) * out_);
  weight_pos =
      register_parameter("weight_pos", torch::rand({in_, out_, modes_, modes_, 2}) * scale);
  weight_neg =
      register_parameter("weight_neg", torch::rand({in_, out_, modes_, modes_, 2}) * scale);
}

torch::Tensor SpectralConv2dImpl::forward(const torch::Tensor& x) {
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3), Wf = W / 2 + 1;
  // Clamp to the frequencies this grid has; the ky ≥ 0 and ky < 0 blocks must not overlap.
  const int64_t my = std::min<int64_t>(modes_, H / 2);
  const int64_t mx = std::min<int64_t>(modes_, Wf);
  auto xf = torch::fft::rfft2(x);  // [B, in, H, Wf], complex
  auto out = torch::zeros({B, out_, H, Wf}, xf.options());
  if (my == 0) return torch::fft::irfft2(out, torch::IntArrayRef{H, W});
  // Frequency ky = −k uses row modes − k of weight_neg on every grid.
  auto wp = torch::view_as_complex(weight_pos).slice(2, 0, my).slice(3, 0, mx);
  auto wn = torch::view_as_complex(weight_neg).slice(2, modes_ - my, modes_).slice(3, 0, mx);
  out.slice(2, 0, my).slice(3, 0, mx).copy_(
      torch::einsum("bixy,ioxy->boxy", {xf.slice(2, 0, my).slice(3, 0, mx), wp}));
  out.slice(2, H - my, H)
      .slice(3, 0, mx)
      .copy_(torch::einsum("bixy,ioxy->boxy", {xf.slice(2, H - my, H).slice(3, 0, mx), wn}));
  return torch::fft::irfft2(out, torch::IntArrayRef{H, W});
}

FNOImpl::FNOImpl(FNOOptions options_) : options(std::move(options_)) {
  check_channels("fno", options.in_channels(), options.out_channels());
  check_option_min("fno", "modes", options.modes(), 1);
  check_option_min("fno", "width", options.width(), 1);
  check_option_min("fno", "layers", options.layers(), 1);
  check_option_min("fno", "padding", options.padding(), 0);
  check_option_min("fno", "hidden", options.hidden(), 1);
  reset();
}

void FNOImpl::reset() {
  using torch::nn::Conv2dOptions;
  const int w = options.width();
  lift_ =
      register_module("lift", torch::nn::Conv2d(Conv2dOptions(options.in_channels() + 2, w, 1)));
  spectral_.clear();
  pointwise_.clear();
  for (int l = 0; l < options.layers(); ++l) {
    spectral_.push_back(
        register_module("spectral" + std::to_string(l), SpectralConv2d(w, w, options.modes())));
    pointwise_.push_back(register_module("pointwise" + std::to_string(l),
                                         torch::nn::Conv2d(Conv2dOptions(w, w, 1))));
  }
  project_hidden_ =
      register_module("project_hidden", torch::nn::Conv2d(Conv2dOptions(w, options.hidden(), 1)));
  project_out_ = register_module(
      "project_out", torch::nn::Conv2d(Conv2dOptions(options.hidden(), options.out_channels(), 1)));
}

torch::Tensor FNOImpl::forward(const torch::Tensor& x) {
  check_surrogate_input(x, options.in_channels(), "fno");
  const int64_t B = x.size(0), ny = x.size(2), nx = x.size(3);
  auto coords = cell_centre_coordinates(ny, nx, x).unsqueeze(0).expand({B, 2, ny, nx});
  auto h = lift_(torch::cat({x, coords}, 1));
  const int64_t p = options.padding();
  if (p > 0) h = torch::constant_pad_nd(h, {0, p, 0, p});
  for (std::size_t l = 0; l < spectral_.size(); ++l) {
    h = spectral_[l](h) + pointwise_[l](h);
    if (l + 1 < spectral_.size()) h = torch::gelu(h);  // the last layer is linear, as in the paper
  }
  if (p > 0) h = h.slice(2, 0, ny).slice(3, 0, nx);
  return project_out_(torch::gelu(project_hidden_(h)));
}

nlohmann::json FNOImpl::options_json() const {
  return {{"modes", options.modes()},
          {"width", options.width()},
          {"layers", options.layers()},
          {"padding", options.padding()},
          {"hidden", options.hidden()}};
}

const SurrogateType& fno_surrogate_type() {
  static const SurrogateType entry = [] {
    const FNOOptions d(1, 1);
    return SurrogateType{
        "fno",
        "2-D Fourier neural operator; evaluates on any grid",
        {{"modes", std::to_string(d.modes()),
          "Fourier modes kept per direction (clamped to what the grid has)"},
         {"width", std::to_string(d.width()), "channels of the Fourier layers"},
         {"layers", std::to_string(d.layers()), "number of Fourier layers"},
         {"padding", std::to_string(d.padding()),
          "zero-padding cells for the Fourier layers (non-periodic problems)"},
         {"hidden", std::to_string(d.hidden()), "channels of the projection's hidden layer"}},
        [](const OptionMap& o, int in, int out) -> std::shared_ptr<Surrogate> {
          FNOOptions opt(in, out);
          opt.modes(o.get_int("-fno_modes", opt.modes()))
              .width(o.get_int("-fno_width", opt.width()))
              .layers(o.get_int("-fno_layers", opt.layers()))
              .padding(o.get_int("-fno_padding", opt.padding()))
              .hidden(o.get_int("-fno_hidden", opt.hidden()));
          return FNO(opt).ptr();
        }};
  }();
  return entry;
}

}  // namespace pins
