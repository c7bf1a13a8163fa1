// The Darcy family's core pieces: stencil coefficients and the parameter sampler.
#include "doctest_torch.hpp"

#include <set>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pde/darcy/darcy_sampler.hpp"
#include "pins/core/stencil.hpp"
#include "test_helpers.hpp"

using pins::test::opts;
using pins::test::throws_with;

TEST_CASE("Darcy coefficients for kappa = 1 are the cell-centred 5-point Laplacian") {
  const int n = 4;
  auto c = pins::darcy::stencil_coefficients(torch::ones({1, n, n}, opts()));
  const double h2 = 1.0 / (n * n);
  // Interior cell: four interior faces of coefficient 1.
  CHECK(c[0][0][1][1].item<double>() == doctest::Approx(4.0 / h2));
  CHECK(c[0][1][1][1].item<double>() == doctest::Approx(-1.0 / h2));
  // Corner cell: two interior faces (1 each) + two boundary faces (2 each).
  CHECK(c[0][0][0][0].item<double>() == doctest::Approx(6.0 / h2));
  CHECK(c[0][1][0][0].item<double>() == 0.0);  // no west neighbour
  CHECK(c[0][3][0][0].item<double>() == 0.0);  // no south neighbour
  // Edge cell (i=0, j=1): three interior faces + one boundary face.
  CHECK(c[0][0][0][1].item<double>() == doctest::Approx(5.0 / h2));
}

TEST_CASE("Darcy coefficients: harmonic faces, symmetric operator, float32 and float64") {
  torch::manual_seed(20);
  auto kappa = torch::where(torch::rand({2, 9, 7}) > 0.5, 12.0, 3.0).to(opts());
  auto c = pins::darcy::stencil_coefficients(kappa);
  // W(i,j) = E(i,j-1) and S(i,j) = N(i-1,j): the matrix is symmetric.
  CHECK(torch::equal(c.select(1, 1).slice(2, 1), c.select(1, 2).slice(2, 0, 6)));
  CHECK(torch::equal(c.select(1, 3).slice(1, 1), c.select(1, 4).slice(1, 0, 8)));
  // A face between 12 and 3 has coefficient 2·12·3/15 = 4.8 (times 1/h² = 49 in x).
  const auto kappa_cpu = kappa.cpu(), c_cpu = c.cpu();
  auto k = kappa_cpu.accessor<double, 3>();
  auto ca = c_cpu.accessor<double, 4>();
  for (int i = 0; i < 9; ++i)
    for (int j = 1; j < 7; ++j) {
      const double a = k[0][i][j], b = k[0][i][j - 1];
      CHECK(ca[0][1][i][j] == doctest::Approx(-2 * a * b / (a + b) * 49.0));
    }
  auto c32 = pins::darcy::stencil_coefficients(kappa.to(torch::kFloat32));
  const bool is_float32 = c32.scalar_type() == torch::kFloat32;
  CHECK(is_float32);
  CHECK(torch::allclose(c32.to(torch::kFloat64), c, 1e-6, 0));
}

TEST_CASE("Darcy coefficients reject non-positive or non-finite kappa and bad shapes") {
  auto k = torch::ones({1, 4, 4}, opts());
  k[0][1][1] = 0.0;
  CHECK(throws_with([&] { pins::darcy::stencil_coefficients(k); }, "finite and positive"));
  k[0][1][1] = std::nan("");
  CHECK(throws_with([&] { pins::darcy::stencil_coefficients(k); }, "finite and positive"));
  CHECK(throws_with([&] { pins::darcy::stencil_coefficients(torch::ones({4, 4})); },
                    "[B, ny, nx]"));
}

TEST_CASE("sampler: FNO thresholded field, deterministic per (seed, index)") {
  pins::darcy::SamplerOptions opt;
  opt.seed = 7;
  pins::darcy::Sampler s(opt, 32, 32);
  std::vector<double> k1(32 * 32), f1(32 * 32), k2(32 * 32), f2(32 * 32), k3(32 * 32);
  s.sample(5, k1.data(), f1.data());
  s.sample(5, k2.data(), f2.data());
  s.sample(6, k3.data(), f2.data());
  CHECK(k1 == k2);
  CHECK(k1 != k3);
  std::set<double> values(k1.begin(), k1.end());
  CHECK(values == std::set<double>{3.0, 12.0});
  CHECK(std::all_of(f1.begin(), f1.end(), [](double v) { return v == 1.0; }));
  // A different sampler object (as on another MPI rank) gives the same sample.
  pins::darcy::Sampler other(opt, 32, 32);
  other.sample(5, k2.data(), f2.data());
  CHECK(k1 == k2);
}

TEST_CASE("sampler: the field is zero-mean with roughly balanced thresholding") {
  pins::darcy::SamplerOptions opt;
  pins::darcy::Sampler s(opt, 24, 24);
  double high = 0, total = 0, mean = 0;
  for (int idx = 0; idx < 200; ++idx) {
    auto g = s.gaussian_field(idx, 0);
    double m = 0;
    for (double v : g) {
      m += v;
      high += v >= 0;
      total += 1;
    }
    mean += m / g.size();
  }
  // The (0,0) mode is removed, so each field's cell average is zero up to rounding.
  CHECK(std::abs(mean / 200) < 1e-12);
  CHECK(high / total > 0.4);
  CHECK(high / total < 0.6);
}

TEST_CASE("sampler: lognormal kappa, random forcing with unit RMS, contrast values") {
  pins::darcy::SamplerOptions opt;
  opt.kappa_kind = pins::darcy::KappaKind::kLogNormal;
  opt.sigma = 1.5;
  opt.forcing = pins::darcy::ForcingKind::kRandomField;
  pins::darcy::Sampler s(opt, 16, 20);
  std::vector<double> k(16 * 20), f(16 * 20);
  s.sample(0, k.data(), f.data());
  CHECK(std::all_of(k.begin(), k.end(), [](double v) { return v > 0 && std::isfinite(v); }));
  double ss = 0;
  for (double v : f) ss += v * v;
  CHECK(std::sqrt(ss / f.size()) == doctest::Approx(1.0).epsilon(1e-12));

  pins::darcy::SamplerOptions contrast;
  contrast.kappa_low = 1.0;
  contrast.kappa_high = 1e4;
  pins::darcy::Sampler sc(contrast, 16, 16);
  std::vector<double> kc(256), fc(256);
  sc.sample(3, kc.data(), fc.data());
  CHECK(std::set<double>(kc.begin(), kc.end()) == std::set<double>{1.0, 1e4});
}

TEST_CASE("sampler options are validated with the option name in the message") {
  pins::darcy::SamplerOptions opt;
  opt.kappa_low = 0;
  CHECK(throws_with([&] { pins::darcy::Sampler(opt, 8, 8); }, "-kappa_low"));
  opt = {};
  opt.kappa_high = -4;
  CHECK(throws_with([&] { opt.validate(); }, "-kappa_high"));
  opt = {};
  opt.tau = 0;
  CHECK(throws_with([&] { opt.validate(); }, "-grf_tau"));
  CHECK(throws_with([] { pins::darcy::parse_kappa_kind("gaussian"); }, "-kappa_type"));
}
