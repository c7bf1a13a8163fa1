#include "surrogates/fno.hpp"

#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "pins/core/check.hpp"
#include "surrogates/layers_nd.hpp"
#include "surrogates/registry.hpp"

namespace pins {

namespace {

// Weight name of sign pattern `block`: one "pos"/"neg" per non-last axis, slowest first.
std::string weight_name(int block, int dims) {
  std::string name = "weight";
  for (int a = 0; a + 1 < dims; ++a) name += (block >> (dims - 2 - a)) & 1 ? "_neg" : "_pos";
  return name;
}

// The frequencies a spectral convolution keeps per axis on a grid of sizes n: `modes` clamped
// to what the grid has — per non-last axis per sign (the k ≥ 0 and k < 0 blocks must not
// overlap), along the last axis of the half spectrum.
std::vector<int64_t> kept_modes(int modes, const std::vector<int64_t>& n) {
  std::vector<int64_t> m(n.size());
  for (size_t a = 0; a + 1 < n.size(); ++a) m[a] = std::min<int64_t>(modes, n[a] / 2);
  m.back() = std::min<int64_t>(modes, n.back() / 2 + 1);
  return m;
}

}  // namespace

SpectralConvImpl::SpectralConvImpl(int in, int out, int modes, int dims)
    : in_(in), out_(out), modes_(modes), dims_(dims) {
  PINS_CHECK(dims == 2 || dims == 3, "spectral convolution: dims must be 2 or 3, got ", dims);
  reset();
}

void SpectralConvImpl::reset() {
  // Initialisation of the reference implementation: uniform [0, 1) real and imaginary parts
  // scaled by 1/(in·out).
  const double scale = 1.0 / (static_cast<double>(in_) * out_);
  std::vector<int64_t> shape{in_, out_};
  shape.insert(shape.end(), dims_, modes_);
  shape.push_back(2);
  weights.clear();
  for (int b = 0; b < 1 << (dims_ - 1); ++b)
    weights.push_back(register_parameter(weight_name(b, dims_), torch::rand(shape) * scale));
}

namespace {

// A complex tensor as its real and imaginary parts. The spectral convolution multiplies
// complex numbers by real matrix products only: one real GEMM does a complex product's flops,
// and where the BLAS sums a GEMM in the same order on any thread count (OpenBLAS's Zen
// kernels; not its Haswell ones) a model gives the same bits on any thread count, which
// LibTorch's complex products never did (they differed in the 8th digit on 1 and 2 threads).
struct Complex {
  torch::Tensor re, im;
  Complex t() const { return {re.t(), im.t()}; }
  Complex conj() const { return {re, -im}; }
};

// exp(−2πi k x / n) for the frequencies k and the points x: [k.size, x.size], in `dtype`.
Complex dft_phases(const torch::Tensor& k, const torch::Tensor& x, int64_t n,
                   torch::ScalarType dtype) {
  const torch::Tensor angle = torch::outer(k, x) * (-2.0 * M_PI / static_cast<double>(n));
  return {torch::cos(angle).to(dtype), torch::sin(angle).to(dtype)};
}

// The real matrix of a complex one, acting on [re | im] stacked along dim 0 and giving
// [re | im] along dim 1: [[b.re, b.im], [−b.im, b.re]]. One real product with it has the
// complex product's flops; four separate real products (or einsums) cost up to 3× more here.
torch::Tensor real_block(const Complex& b) {
  return torch::cat({torch::cat({b.re, b.im}, 1), torch::cat({-b.im, b.re}, 1)}, 0);
}

// The two parts as one real tensor, stacked along `dim`, and back.
torch::Tensor stacked(const Complex& c, int64_t dim) {
  return torch::cat({c.re, c.im}, dim);
}
Complex unstacked(const torch::Tensor& t, int64_t dim) {
  const int64_t half = t.size(dim) / 2;
  return {t.narrow(dim, 0, half), t.narrow(dim, half, half)};
}

// c with its axis `axis` (of size map.re.size(0)) mapped by `map` (to size map.re.size(1)).
Complex contract_axis(const Complex& c, int64_t axis, const Complex& map) {
  const Complex moved{c.re.movedim(axis, -1), c.im.movedim(axis, -1)};
  return unstacked(torch::matmul(stacked(moved, -1), real_block(map)).movedim(-1, axis), axis);
}

}  // namespace

torch::Tensor SpectralConvImpl::forward(const torch::Tensor& x) {
  const std::vector<int64_t> n = nd::grid_sizes(x, dims_);
  return transform(x, n, std::vector<int64_t>(size_t(dims_), 0), nullptr);
}

torch::Tensor SpectralConvImpl::forward_piece(const torch::Tensor& x, int64_t n1, int64_t n2,
                                              int64_t y0, int64_t x0, const PieceSum& sum) {
  PINS_CHECK(dims_ == 2, "spectral convolution: forward on a piece of the grid is 2-D only");
  PINS_CHECK(x.dim() == 4 && x.size(1) == in_, "spectral convolution: a piece must be [B, ", in_,
             ", h, w], got ", x.sizes());
  const int64_t h = x.size(2), w = x.size(3);
  PINS_CHECK(y0 >= 0 && x0 >= 0 && y0 + h <= n1 && x0 + w <= n2, "spectral convolution: piece [",
             y0, ", ", y0 + h, ") x [", x0, ", ", x0 + w, ") is not inside the ", n1, " x ", n2,
             " grid");
  return transform(x, {n1, n2}, {y0, x0}, &sum);
}

// The kept frequencies by a truncated DFT, one axis at a time as matrix products, rather
// than rfftn/irfftn of the whole grid: only 2·modes of n frequencies per axis survive, so
// a line of n points costs n·modes multiply-adds at GEMM speed, where pocketfft runs at a
// few GFLOP/s and 2–3× slower still on sizes with a large prime factor (85 + 4 = 89).
// Equal to rfftn → multiply → irfftn up to rounding (tests/surrogates/test_spectral_dft.cpp).
torch::Tensor SpectralConvImpl::transform(const torch::Tensor& x, const std::vector<int64_t>& n,
                                          const std::vector<int64_t>& offset, const PieceSum* sum) {
  const int d = dims_;
  std::vector<int64_t> points(static_cast<size_t>(d));
  for (int a = 0; a < d; ++a) points[size_t(a)] = x.size(2 + a);
  const std::vector<int64_t> m = kept_modes(modes_, n);
  std::vector<int64_t> out_shape{x.size(0), out_};
  out_shape.insert(out_shape.end(), points.begin(), points.end());
  if (*std::min_element(m.begin(), m.end()) == 0) {  // a grid with no frequency to keep
    if (sum) {
      torch::Tensor none = torch::zeros({0}, x.options());
      (*sum)(none);
    }
    return torch::zeros(out_shape, x.options());
  }
  const auto real = x.scalar_type();
  const auto f64 = x.options().dtype(torch::kFloat64);
  // Per axis the phases [kept, points] of this piece's points: along a non-last axis the
  // k ≥ 0 block then the k < 0 block (as n − m … n − 1), along the last 0 … m − 1.
  std::vector<Complex> e(static_cast<size_t>(d));
  for (int a = 0; a < d; ++a) {
    const size_t i = size_t(a);
    const torch::Tensor k =
        a + 1 < d ? torch::cat({torch::arange(m[i], f64), torch::arange(n[i] - m[i], n[i], f64)})
                  : torch::arange(m[i], f64);
    e[i] = dft_phases(k, torch::arange(offset[i], offset[i] + points[i], f64), n[i], real);
  }
  // Forward: the last axis of the real input by one real product (cosines and sines side by
  // side: the input, the largest operand, is read once), then the others.
  const torch::Tensor last = torch::cat({e.back().re, e.back().im}, 0);  // [2·kept, points]
  Complex c = unstacked(torch::matmul(x, last.t()), -1);
  for (int a = d - 2; a >= 0; --a) c = contract_axis(c, 2 + a, e[size_t(a)].t());
  if (sum) {  // this piece's share of the kept coefficients, then everyone's
    torch::Tensor shares = stacked(c, -1);
    (*sum)(shares);
    c = unstacked(shares, -1);
  }
  // Multiply: one weight per sign pattern of the non-last axes' frequencies, the channels
  // in → out per frequency with [re | im] stacked along the channel axis.
  std::vector<int64_t> kept_shape{x.size(0), 2 * out_};
  for (int a = 0; a < d; ++a) kept_shape.push_back(a + 1 < d ? 2 * m[size_t(a)] : m.back());
  const torch::Tensor cst = stacked(c, 1);
  torch::Tensor yst = torch::zeros(kept_shape, x.options());
  const std::string idx = std::string("xyz").substr(0, size_t(d));
  const std::string equation = "bi" + idx + ",io" + idx + "->bo" + idx;
  for (int b = 0; b < 1 << (d - 1); ++b) {
    const torch::Tensor& wb = weights[size_t(b)];  // [in, out, modes…, 2]
    torch::Tensor cs = cst, ys = yst;
    Complex w{wb.select(-1, 0), wb.select(-1, 1)};
    for (int a = 0; a < d; ++a) {
      const int64_t axis = 2 + a, ma = m[size_t(a)];
      const bool negative = a + 1 < d && (b >> (d - 2 - a)) & 1;
      // Frequency k = −j uses row modes − j of the weight on every grid.
      const int64_t from = negative ? ma : 0, to = negative ? 2 * ma : ma;
      const int64_t w_from = negative ? modes_ - ma : 0, w_to = negative ? modes_ : ma;
      cs = cs.slice(axis, from, to);
      ys = ys.slice(axis, from, to);
      w = {w.re.slice(axis, w_from, w_to), w.im.slice(axis, w_from, w_to)};
    }
    ys.copy_(torch::einsum(equation, {cs, real_block(w)}));
  }
  Complex yf = unstacked(yst, 1);
  // Inverse (irfftn of a half spectrum): every last-axis column k > 0 stands for itself and
  // its mirror, except a kept Nyquist column (k = n/2); only the real part survives.
  const int64_t nl = n.back(), ml = m.back();
  torch::Tensor weight = torch::full({ml}, 2.0, f64);
  weight[0] = 1.0;
  if (nl % 2 == 0 && ml - 1 == nl / 2) weight[ml - 1] = 1.0;
  double total = 1;
  for (const int64_t na : n) total *= double(na);
  const torch::Tensor scale = (weight / total).to(real);
  yf = {yf.re * scale, yf.im * scale};
  for (int a = 0; a + 1 < d; ++a) yf = contract_axis(yf, 2 + a, e[size_t(a)].conj());
  // Re(yf · conj(e)) = Re(yf)·Re(e) + Im(yf)·Im(e) along the last axis, one product.
  return torch::matmul(stacked(yf, -1), last).contiguous();
}

FNOImpl::FNOImpl(FNOOptions options_) : options(std::move(options_)) {
  const std::string t = type();
  PINS_CHECK(options.dims() == 2 || options.dims() == 3, "fno: dims must be 2 or 3, got ",
             options.dims());
  check_channels(t, options.in_channels(), options.out_channels());
  check_option_min(t, "modes", options.modes(), 1);
  check_option_min(t, "width", options.width(), 1);
  check_option_min(t, "layers", options.layers(), 1);
  check_option_min(t, "padding", options.padding(), 0);
  check_option_min(t, "hidden", options.hidden(), 1);
  reset();
}

void FNOImpl::reset() {
  const int w = options.width(), d = options.dims();
  lift_ = nd::conv(d, options.in_channels() + d, w, 1);
  register_module("lift", lift_.ptr());
  spectral_.clear();
  pointwise_.clear();
  for (int l = 0; l < options.layers(); ++l) {
    spectral_.push_back(
        register_module("spectral" + std::to_string(l), SpectralConv(w, w, options.modes(), d)));
    pointwise_.push_back(nd::conv(d, w, w, 1));
    register_module("pointwise" + std::to_string(l), pointwise_.back().ptr());
  }
  project_hidden_ = nd::conv(d, w, options.hidden(), 1);
  register_module("project_hidden", project_hidden_.ptr());
  project_out_ = nd::conv(d, options.hidden(), options.out_channels(), 1);
  register_module("project_out", project_out_.ptr());
}

torch::Tensor FNOImpl::forward(const torch::Tensor& x) {
  const int d = options.dims();
  check_surrogate_input(x, options.in_channels(), type(), d);
  const std::vector<int64_t> n = nd::grid_sizes(x, d);
  std::vector<int64_t> coords_shape{x.size(0), d};
  coords_shape.insert(coords_shape.end(), n.begin(), n.end());
  auto coords = cell_centre_coordinates(n, x).unsqueeze(0).expand(coords_shape);
  auto h = lift_.forward(torch::cat({x, coords}, 1));
  h = nd::pad_high(h, std::vector<int64_t>(d, options.padding()), /*replicate=*/false);
  for (std::size_t l = 0; l < spectral_.size(); ++l) {
    h = spectral_[l](h) + pointwise_[l].forward(h);
    if (l + 1 < spectral_.size()) h = torch::gelu(h);  // the last layer is linear, as in the paper
  }
  h = nd::crop(h, n);
  return project_out_.forward(torch::gelu(project_hidden_.forward(h)));
}

torch::Tensor FNOImpl::forward_piece(const torch::Tensor& x, const GridPiece& piece,
                                     const PieceExchanges& exchanges) {
  PINS_CHECK(options.dims() == 2, "fno3d: forward on a piece of the grid is 2-D only");
  check_surrogate_input(x, options.in_channels(), type(), 2);
  const int64_t h = x.size(2), w = x.size(3), pad = options.padding();
  PINS_CHECK(piece.y0 >= 0 && piece.x0 >= 0 && piece.y0 + h <= piece.ny && piece.x0 + w <= piece.nx,
             "fno: piece rows [", piece.y0, ", ", piece.y0 + h, ") and columns [", piece.x0, ", ",
             piece.x0 + w, ") are not inside the ", piece.ny, " x ", piece.nx, " grid");
  // The cell-centre coordinates of the piece's points on the whole grid (x first, as
  // cell_centre_coordinates orders them).
  const auto opts = x.options().requires_grad(false);
  const torch::Tensor cx = (torch::arange(piece.x0, piece.x0 + w, opts) + 0.5) / double(piece.nx);
  const torch::Tensor cy = (torch::arange(piece.y0, piece.y0 + h, opts) + 0.5) / double(piece.ny);
  const torch::Tensor coords = torch::stack({cx.view({1, w}).expand({h, w}),
                                             cy.view({h, 1}).expand({h, w})})
                                   .unsqueeze(0)
                                   .expand({x.size(0), 2, h, w});
  torch::Tensor hidden = lift_.forward(torch::cat({x, coords}, 1));
  // The padding cells beyond the grid's high side of an axis belong to the pieces there.
  hidden = nd::pad_high(hidden, {piece.y0 + h == piece.ny ? pad : 0, piece.x0 + w == piece.nx ? pad : 0},
                        /*replicate=*/false);
  for (std::size_t l = 0; l < spectral_.size(); ++l) {
    hidden = spectral_[l]->forward_piece(hidden, piece.ny + pad, piece.nx + pad, piece.y0,
                                         piece.x0, exchanges.sum) +
             pointwise_[l].forward(hidden);
    if (l + 1 < spectral_.size()) hidden = torch::gelu(hidden);
  }
  hidden = nd::crop(hidden, {h, w});
  return project_out_.forward(torch::gelu(project_hidden_.forward(hidden)));
}

nlohmann::json FNOImpl::options_json() const {
  return {{"modes", options.modes()},
          {"width", options.width()},
          {"layers", options.layers()},
          {"padding", options.padding()},
          {"hidden", options.hidden()}};
}

namespace {

template <int Dims>
std::shared_ptr<Surrogate> make_fno(const OptionMap& o, int in, int out) {
  const std::string p = Dims == 3 ? "-fno3d_" : "-fno_";
  FNOOptions opt(in, out, Dims);
  opt.modes(o.get_int(p + "modes", opt.modes()))
      .width(o.get_int(p + "width", opt.width()))
      .layers(o.get_int(p + "layers", opt.layers()))
      .padding(o.get_int(p + "padding", opt.padding()))
      .hidden(o.get_int(p + "hidden", opt.hidden()));
  return FNO(opt).ptr();
}

SurrogateType fno_entry(int dims) {
  const FNOOptions d(1, 1, dims);
  SurrogateTraits traits;
  traits.dims = dims;
  traits.grid_independent = true;  // weights per frequency
  traits.tasks = {"solution", "precondition"};
  return SurrogateType{
      dims == 3 ? "fno3d" : "fno",
      dims == 3 ? "3-D Fourier neural operator, [B, C, nz, ny, nx]; evaluates on any grid"
                : "2-D Fourier neural operator; evaluates on any grid",
      traits,
      {{"modes", std::to_string(d.modes()),
        "Fourier modes kept per axis (clamped to what the grid has)"},
       {"width", std::to_string(d.width()), "channels of the Fourier layers"},
       {"layers", std::to_string(d.layers()), "number of Fourier layers"},
       {"padding", std::to_string(d.padding()),
        "zero-padding cells for the Fourier layers (non-periodic problems)"},
       {"hidden", std::to_string(d.hidden()), "channels of the projection's hidden layer"}},
      dims == 3 ? &make_fno<3> : &make_fno<2>};
}

}  // namespace

const SurrogateType& fno_surrogate_type() {
  static const SurrogateType entry = fno_entry(2);
  return entry;
}

const SurrogateType& fno3d_surrogate_type() {
  static const SurrogateType entry = fno_entry(3);
  return entry;
}

}  // namespace pins
