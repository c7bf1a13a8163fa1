// The spectral convolution computes its kept frequencies by a truncated DFT (matrix products
// per axis); these tests hold it to the textbook definition — rfftn, multiply the kept
// frequencies by the weights, irfftn — written here with torch::fft, in values and in
// gradients, on the grid sizes where the two could part: odd and prime sizes, a kept Nyquist
// column, modes clamped by a small grid, 2-D and 3-D.
#include "doctest_torch.hpp"
// After torch (doctest_torch.hpp): fft.h uses its Tensor without including it.
#include <torch/fft.h>

#include <string>
#include <vector>

#include "surrogates/fno.hpp"

namespace {

// rfftn → weights on |k| < m (non-last axes, per sign) and 0 ≤ k < m (last axis) → irfftn.
torch::Tensor fft_reference(pins::SpectralConv& conv, const torch::Tensor& x, int modes, int d) {
  std::vector<int64_t> n, axes;
  for (int a = 0; a < d; ++a) {
    n.push_back(x.size(2 + a));
    axes.push_back(2 + a);
  }
  std::vector<int64_t> m(static_cast<size_t>(d));
  for (int a = 0; a + 1 < d; ++a) m[size_t(a)] = std::min<int64_t>(modes, n[size_t(a)] / 2);
  m.back() = std::min<int64_t>(modes, n.back() / 2 + 1);
  const torch::Tensor xf = torch::fft::rfftn(x, c10::nullopt, axes);
  std::vector<int64_t> shape{x.size(0), conv->weights[0].size(1)};
  shape.insert(shape.end(), n.begin(), n.end() - 1);
  shape.push_back(n.back() / 2 + 1);
  torch::Tensor out = torch::zeros(shape, xf.options());
  const std::string idx = std::string("xyz").substr(0, size_t(d));
  for (int b = 0; b < 1 << (d - 1); ++b) {
    torch::Tensor xs = xf, os = out, w = torch::view_as_complex(conv->weights[size_t(b)]);
    for (int a = 0; a < d; ++a) {
      const int64_t axis = 2 + a, ma = m[size_t(a)], na = n[size_t(a)];
      if (a + 1 < d && (b >> (d - 2 - a)) & 1) {
        xs = xs.slice(axis, na - ma, na);
        os = os.slice(axis, na - ma, na);
        w = w.slice(axis, modes - ma, modes);
      } else {
        xs = xs.slice(axis, 0, ma);
        os = os.slice(axis, 0, ma);
        w = w.slice(axis, 0, ma);
      }
    }
    os.copy_(torch::einsum("bi" + idx + ",io" + idx + "->bo" + idx, {xs, w}));
  }
  return torch::fft::irfftn(out, n, axes);
}

// Values and the gradients of a fixed functional with respect to the input and the weights,
// by the convolution and by the reference, agree to `tol` relative to their size.
void check_against_reference(int modes, const std::vector<int64_t>& grid) {
  const int d = int(grid.size());
  CAPTURE(modes);
  CAPTURE(grid);
  torch::manual_seed(3);
  pins::SpectralConv conv(2, 3, modes, d);
  conv->to(torch::kFloat64);
  std::vector<int64_t> shape{2, 2};
  shape.insert(shape.end(), grid.begin(), grid.end());
  const torch::Tensor x = torch::randn(shape, torch::kFloat64).requires_grad_(true);
  const torch::Tensor probe = torch::randn({2, 3}, torch::kFloat64);
  auto run = [&](bool reference) {
    conv->zero_grad();
    if (x.grad().defined()) x.grad().zero_();
    const torch::Tensor y = reference ? fft_reference(conv, x, modes, d) : conv(x);
    (y * y).sum().backward();
    std::vector<torch::Tensor> out{y.detach().clone(), x.grad().clone()};
    for (const auto& w : conv->weights) out.push_back(w.grad().clone());
    return out;
  };
  const auto mine = run(false), reference = run(true);
  REQUIRE(mine.size() == reference.size());
  for (size_t i = 0; i < mine.size(); ++i) {
    CAPTURE(i);
    CHECK(mine[i].sizes() == reference[i].sizes());
    const double scale = reference[i].abs().max().item<double>();
    CHECK(scale > 1e-6);  // not trivially zero
    CHECK((mine[i] - reference[i]).abs().max().item<double>() <= 1e-11 * scale);
  }
}

}  // namespace

TEST_CASE("the spectral convolution's truncated DFT equals rfftn, multiply, irfftn (2-D)") {
  check_against_reference(4, {12, 16});  // even sizes, modes below n/2
  check_against_reference(8, {89, 89});  // 85 + padding 4: a prime size
  check_against_reference(5, {9, 7});    // odd sizes
  check_against_reference(6, {8, 10});   // last axis keeps its Nyquist column k = 5
  check_against_reference(12, {6, 5});   // modes clamped by the grid on both axes
}

TEST_CASE("the spectral convolution's truncated DFT equals rfftn, multiply, irfftn (3-D)") {
  check_against_reference(3, {8, 9, 10});
  check_against_reference(6, {8, 7, 6});  // clamped; the last axis keeps its Nyquist column
}

TEST_CASE("the spectral convolution in float32 stays within float32 rounding of the reference") {
  torch::manual_seed(5);
  pins::SpectralConv conv(4, 4, 8);
  const torch::Tensor x = torch::randn({3, 4, 89, 89});
  const torch::Tensor y = conv(x);
  CHECK(y.dtype() == torch::kFloat32);
  conv->to(torch::kFloat64);
  const torch::Tensor ref = fft_reference(conv, x.to(torch::kFloat64), 8, 2);
  CHECK(((y.to(torch::kFloat64) - ref).norm() / ref.norm()).item<double>() < 1e-5);
}

// A model trained or calibrated on one thread must give the same answer on two, to float32
// rounding and no more (a race or a wrong split of the work among threads would be far
// larger). Not to the bit: whether a GEMM sums in the same order on 1 and 2 threads is the
// BLAS's choice — OpenBLAS's Zen kernels do, its Haswell kernels (OPENBLAS_CORETYPE=Haswell,
// and most Intel machines) do not.
TEST_CASE("the spectral convolution agrees on one thread and on two to float32 rounding") {
  const int threads = torch::get_num_threads();
  for (const auto& grid : std::vector<std::vector<int64_t>>{{89, 89}, {12, 10, 9}}) {
    CAPTURE(grid);
    const int d = int(grid.size());
    torch::manual_seed(7);
    pins::SpectralConv conv(8, 8, 6, d);
    std::vector<int64_t> shape{4, 8};
    shape.insert(shape.end(), grid.begin(), grid.end());
    const torch::Tensor x = torch::randn(shape).requires_grad_(true);
    auto run = [&](int n) {
      torch::set_num_threads(n);
      conv->zero_grad();
      if (x.grad().defined()) x.grad().zero_();
      const torch::Tensor y = conv(x);
      (y * y).sum().backward();
      std::vector<torch::Tensor> out{y.detach().clone(), x.grad().clone()};
      for (const auto& w : conv->weights) out.push_back(w.grad().clone());
      return out;
    };
    const auto one = run(1), two = run(2);
    for (size_t i = 0; i < one.size(); ++i) {
      CAPTURE(i);
      const double change = ((one[i] - two[i]).norm() / one[i].norm()).item<double>();
      CAPTURE(change);
      CHECK(change < 1e-5);  // measured 2–3e-7 with OpenBLAS's Haswell kernels
    }
  }
  torch::set_num_threads(threads);
}
