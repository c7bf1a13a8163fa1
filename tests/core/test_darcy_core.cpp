// The Darcy family's core pieces: stencil coefficients and the parameter sampler.
#include "doctest_torch.hpp"

#include <cmath>
#include <set>
#include <vector>

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

// ---- darcy3d: the same face rules on a 3-D grid, 7-point stencil (C, W, E, S, N, D, U) ----

TEST_CASE("darcy3d coefficients for kappa = 1 are the cell-centred 7-point Laplacian") {
  const int nz = 3, ny = 4, nx = 5;
  auto c = pins::darcy::stencil_coefficients(torch::ones({1, nz, ny, nx}, opts()));
  REQUIRE(c.sizes() == torch::IntArrayRef({1, 7, nz, ny, nx}));
  const double ix2 = nx * nx, iy2 = ny * ny, iz2 = nz * nz;
  // Interior cell (1,1,1): six interior faces of coefficient 1.
  CHECK(c[0][0][1][1][1].item<double>() == doctest::Approx(2 * (ix2 + iy2 + iz2)));
  CHECK(c[0][1][1][1][1].item<double>() == doctest::Approx(-ix2));
  CHECK(c[0][4][1][1][1].item<double>() == doctest::Approx(-iy2));
  CHECK(c[0][5][1][1][1].item<double>() == doctest::Approx(-iz2));
  CHECK(c[0][6][1][1][1].item<double>() == doctest::Approx(-iz2));
  // Corner cell (0,0,0): each direction one interior face (1) and one wall face (2).
  CHECK(c[0][0][0][0][0].item<double>() == doctest::Approx(3 * (ix2 + iy2 + iz2)));
  CHECK(c[0][5][0][0][0].item<double>() == 0.0);  // no neighbour below
  CHECK(c[0][6][nz - 1][0][0].item<double>() == 0.0);  // no neighbour above the top layer
  // Every row sums to the wall faces' weight only: zero in the interior.
  CHECK(c.sum(1)[0][1][1][1].item<double>() == doctest::Approx(0.0).epsilon(1e-12));
}

TEST_CASE("darcy3d coefficients: harmonic faces, symmetric, and each z layer of a 2-D "
          "conductivity reproduces the 2-D x/y couplings") {
  torch::manual_seed(21);
  const int nz = 4, ny = 5, nx = 6;
  auto kappa = torch::where(torch::rand({2, nz, ny, nx}) > 0.5, 12.0, 3.0).to(opts());
  auto c = pins::darcy::stencil_coefficients(kappa);
  // Symmetry: W(x) = E(x - e_x), S(x) = N(x - e_y), D(x) = U(x - e_z).
  CHECK(torch::equal(c.select(1, 1).slice(3, 1), c.select(1, 2).slice(3, 0, nx - 1)));
  CHECK(torch::equal(c.select(1, 3).slice(2, 1), c.select(1, 4).slice(2, 0, ny - 1)));
  CHECK(torch::equal(c.select(1, 5).slice(1, 1), c.select(1, 6).slice(1, 0, nz - 1)));
  // A z face between 12 and 3: 2·12·3/15 = 4.8, times 1/hz² = 16.
  const auto k = kappa.accessor<double, 4>();
  const auto ca = c.accessor<double, 5>();
  for (int p = 1; p < nz; ++p) {
    const double a = k[1][p][2][3], b = k[1][p - 1][2][3];
    CHECK(ca[1][5][p][2][3] == doctest::Approx(-2 * a * b / (a + b) * 16.0));
  }
  // The x and y couplings of one layer are the 2-D operator's on that layer (nz does not
  // enter them), bit for bit.
  auto c2 = pins::darcy::stencil_coefficients(kappa.select(1, 2).contiguous());
  for (int ch = 1; ch <= 4; ++ch) CHECK(torch::equal(c.select(1, ch).select(1, 2), c2.select(1, ch)));
  CHECK(throws_with([&] { pins::darcy::stencil_coefficients(torch::ones({1, 2, 3, 4, 5}, opts())); },
                    "[B, nz, ny, nx]"));
}

TEST_CASE("darcy3d sampler: deterministic per (seed, index), balanced 12/3 threshold, "
          "continuity bound alpha > 1.5") {
  pins::darcy::SamplerOptions opt;
  opt.seed = 4;
  pins::darcy::Sampler s(opt, std::vector<int>{10, 12, 14});
  CHECK(s.dim() == 3);
  CHECK(s.points() == size_t(10 * 12 * 14));
  std::vector<double> k(s.points()), f(s.points()), k2(s.points()), f2(s.points());
  s.sample(7, k.data(), f.data());
  pins::darcy::Sampler(opt, std::vector<int>{10, 12, 14}).sample(7, k2.data(), f2.data());
  CHECK(k == k2);
  CHECK(std::set<double>(k.begin(), k.end()) == std::set<double>{3.0, 12.0});
  CHECK(std::set<double>(f.begin(), f.end()) == std::set<double>{1.0});
  // Zero-mean field: over 20 samples the fraction of κ = 12 is near one half.
  double high = 0;
  for (int i = 0; i < 20; ++i) {
    s.sample(i, k.data(), f.data());
    for (double v : k) high += v == 12.0;
  }
  high /= 20.0 * s.points();
  CHECK(high > 0.35);
  CHECK(high < 0.65);
  // The field varies along z (it is not a 2-D field repeated).
  const auto g = s.gaussian_field(3, 0);
  const size_t plane = 12 * 14;
  double diff = 0;
  for (size_t q = 0; q < plane; ++q) diff += std::abs(g[q] - g[9 * plane + q]);
  CHECK(diff > 0);
  // α = 1.2 gives a continuous field in 2-D but not in 3-D.
  opt.alpha = 1.2;
  CHECK_NOTHROW(pins::darcy::Sampler(opt, 8, 8));
  CHECK(throws_with([&] { pins::darcy::Sampler(opt, std::vector<int>{8, 8, 8}); },
                    "-grf_alpha must be > 1.5"));
  opt.alpha = 2;
  CHECK(throws_with([&] { pins::darcy::Sampler(opt, std::vector<int>{8}); }, "2-D or 3-D"));
}
