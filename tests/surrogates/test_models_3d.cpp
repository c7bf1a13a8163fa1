// The 3-D variants fno3d and unet3d: shapes on odd and even grids, batch independence,
// gradients, model file round trips, clones, parameter counts, spectral refinement, errors.
#include "helpers.hpp"

#include <cmath>
#include <limits>

#include "pins/core/model_file.hpp"
#include "surrogates/fno.hpp"
#include "surrogates/unet.hpp"

using pins::test::dtype_of;
using pins::test::shape_of;
using pins::test::small_model;
using pins::test::TempDir;
using pins::test::throws_with;

namespace {

const char* const kTypes3d[] = {"fno3d", "unet3d"};

// Even, odd and mixed sides, including sides that are no multiple of the U-Net's 4.
const std::vector<std::vector<int64_t>> kGrids = {{8, 8, 8}, {5, 7, 6}, {9, 4, 11}};

std::vector<int64_t> batch_shape(int64_t B, int64_t C, const std::vector<int64_t>& grid) {
  std::vector<int64_t> s{B, C};
  s.insert(s.end(), grid.begin(), grid.end());
  return s;
}

int64_t parameter_count(const pins::Surrogate& s) {
  int64_t n = 0;
  for (const auto& p : s.module().parameters()) n += p.numel();
  return n;
}

}  // namespace

TEST_CASE("3-D surrogates map [B, Cin, nz, ny, nx] to [B, Cout, nz, ny, nx]") {
  torch::manual_seed(31);
  for (const std::string type : kTypes3d) {
    INFO("type " << type);
    auto model = small_model(type, 3, 2);
    CHECK(model->type() == type);
    CHECK(model->traits().dims == 3);
    for (const auto& grid : kGrids) {
      for (int64_t B : {1, 3}) {
        INFO("B " << B << " grid " << shape_of(grid));
        auto y = model->forward(torch::randn(batch_shape(B, 3, grid)));
        CHECK(shape_of(y) == shape_of(batch_shape(B, 2, grid)));
        CHECK(dtype_of(y) == dtype_of(torch::kFloat32));
        CHECK(torch::isfinite(y).all().item<bool>());
      }
    }
    model->module().to(torch::kFloat64);
    auto y = model->forward(torch::randn(batch_shape(2, 3, kGrids[1]), torch::kFloat64));
    CHECK(dtype_of(y) == dtype_of(torch::kFloat64));
    CHECK(shape_of(y) == shape_of(batch_shape(2, 2, kGrids[1])));
  }
}

TEST_CASE("3-D surrogates depend on each batch member's own input only") {
  torch::manual_seed(32);
  const double eps = std::numeric_limits<double>::epsilon();
  for (const std::string type : kTypes3d) {
    INFO("type " << type);
    auto model = small_model(type, 2, 1);
    model->module().to(torch::kFloat64);
    auto x = torch::randn(batch_shape(3, 2, kGrids[1]), torch::kFloat64);
    auto batched = model->forward(x);
    for (int64_t b = 0; b < 3; ++b) {
      auto single = model->forward(x.slice(0, b, b + 1));
      CHECK(torch::allclose(batched.slice(0, b, b + 1), single, 1e4 * eps, 1e4 * eps));
    }
  }
}

TEST_CASE("gradients reach every parameter of the 3-D surrogates") {
  torch::manual_seed(33);
  for (const std::string type : kTypes3d) {
    INFO("type " << type);
    auto model = small_model(type, 2, 2);
    auto y = model->forward(torch::randn(batch_shape(2, 2, kGrids[2])));
    (y * torch::randn_like(y)).sum().backward();
    std::size_t count = 0;
    for (const auto& p : model->module().named_parameters()) {
      INFO("parameter " << p.key());
      REQUIRE(p.value().grad().defined());
      CHECK(p.value().grad().abs().max().item<double>() > 0);
      ++count;
    }
    CHECK(count > 0);
  }
}

TEST_CASE("3-D surrogates survive a model file round trip with bitwise-identical outputs") {
  torch::manual_seed(34);
  TempDir dir;
  for (const std::string type : kTypes3d) {
    for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
      INFO("type " << type << " dtype " << dtype);
      auto model = small_model(type, 2, 3);
      model->module().to(dtype);
      model->module().eval();
      const std::string path = dir.file(type + ".pins");
      pins::save_model(path, *model, pins::ModelManifest{}, /*force=*/true);
      pins::LoadedModel loaded = pins::load_model(path);
      CHECK(loaded.model->type() == type);
      CHECK(loaded.manifest.architecture == type);
      CHECK(loaded.manifest.architecture_options == model->options_json());
      auto x = torch::randn(batch_shape(2, 2, kGrids[1]), dtype);
      auto got = loaded.model->forward(x);
      CHECK(dtype_of(got) == dtype_of(dtype));
      CHECK(torch::equal(got, model->forward(x)));
    }
  }
}

TEST_CASE("3-D surrogates can be cloned into an independent copy") {
  torch::manual_seed(35);
  for (const std::string type : kTypes3d) {
    INFO("type " << type);
    auto model = small_model(type, 1, 1);
    auto copy = std::dynamic_pointer_cast<pins::Surrogate>(model->module().clone());
    REQUIRE(copy != nullptr);
    CHECK(copy->type() == type);
    auto x = torch::randn(batch_shape(1, 1, kGrids[0]));
    CHECK(torch::equal(copy->forward(x), model->forward(x)));
    {
      torch::NoGradGuard no_grad;
      for (auto& p : copy->module().parameters()) p.add_(1.0);
    }
    CHECK_FALSE(torch::equal(copy->forward(x), model->forward(x)));
  }
}

TEST_CASE("3-D parameter counts follow from the layer sizes") {
  // fno3d: lift (Cin + 3 coordinates → w), per layer 4 sign blocks of w·w·m³ complex weights
  // and a 1×1 conv, projection w → h → Cout; all 1×1 convs with bias.
  const int64_t cin = 2, cout = 3;
  {
    const int64_t w = 5, m = 3, L = 2, h = 6;
    const int64_t expected = (cin + 3) * w + w + L * (4 * w * w * m * m * m * 2 + w * w + w) +
                             w * h + h + h * cout + cout;
    CHECK(parameter_count(*small_model("fno3d", cin, cout)) == expected);
    // The defaults: modes 8, width 20, 4 layers, hidden 128.
    const int64_t W = 20, M = 8, H = 128;
    const int64_t defaults =
        (1 + 3) * W + W + 4 * (4 * W * W * M * M * M * 2 + W * W + W) + W * H + H + H * 1 + 1;
    CHECK(parameter_count(*pins::make_surrogate("fno3d", pins::OptionMap{}, 1, 1)) == defaults);
  }
  {
    // unet3d: per block two bias-free 3×3×3 convs with GroupNorm (weight and bias) each;
    // 2×2×2 transposed convs with bias; a 1×1×1 head with bias.
    auto block = [](int64_t in, int64_t out) { return in * out * 27 + out * out * 27 + 4 * out; };
    const int64_t c = 4;  // 3 levels: c, 2c, 4c
    const int64_t expected = block(cin, c) + block(c, 2 * c) + block(2 * c, 4 * c) +
                             (2 * c * c * 8 + c) + (4 * c * 2 * c * 8 + 2 * c) + block(2 * c, c) +
                             block(4 * c, 2 * c) + c * cout + cout;
    CHECK(parameter_count(*small_model("unet3d", cin, cout)) == expected);
  }
}

TEST_CASE("3-D spectral convolution acts on frequencies, so it commutes with refinement") {
  // As in 2-D: a periodic field band-limited below the clamped modes gives the same output on
  // 8³ as on 16³ sampled at every other point, so every sign block, including the negative kz
  // and ky rows that shift when `modes` is clamped, weighs each frequency the same.
  torch::manual_seed(36);
  pins::SpectralConv conv(2, 3, 6, 3);  // on 8³, kz and ky are clamped to 4 per sign
  conv->to(torch::kFloat64);
  auto field = [](int64_t n) {
    auto t = torch::arange(n, torch::kFloat64) / static_cast<double>(n);
    auto z = t.view({n, 1, 1}), y = t.view({1, n, 1}), x = t.view({1, 1, n});
    const double pi = std::acos(-1.0);
    auto a = torch::cos(2 * pi * (x + 2 * y - 3 * z)) + 0.5 * torch::sin(2 * pi * (3 * x - y + z));
    auto b = torch::sin(2 * pi * (-2 * x + 3 * y + 2 * z)) - 0.25 * torch::cos(2 * pi * 2 * z);
    return torch::stack({a, b}).unsqueeze(0);  // [1, 2, n, n, n]
  };
  auto coarse = conv(field(8));
  auto fine = conv(field(16));
  CHECK(coarse.abs().max().item<double>() > 1e-3);  // not trivially zero
  const double eps = std::numeric_limits<double>::epsilon();
  CHECK(torch::allclose(fine.slice(2, 0, 16, 2).slice(3, 0, 16, 2).slice(4, 0, 16, 2), coarse, 0,
                        1e3 * eps));
  // The named weights: one per sign pattern of (kz, ky).
  std::vector<std::string> names;
  for (const auto& p : conv->named_parameters()) names.push_back(p.key());
  CHECK(names == std::vector<std::string>{"weight_pos_pos", "weight_pos_neg", "weight_neg_pos",
                                          "weight_neg_neg"});
}

TEST_CASE("cell-centre coordinates of a 3-D grid") {
  auto like = torch::zeros({1}, torch::kFloat64);
  auto c = pins::cell_centre_coordinates({2, 3, 4}, like);  // nz 2, ny 3, nx 4
  CHECK(shape_of(c) == shape_of({3, 2, 3, 4}));
  CHECK(c[0][1][2][3].item<double>() == 3.5 / 4);  // x along the last axis
  CHECK(c[1][1][2][3].item<double>() == 2.5 / 3);  // y
  CHECK(c[2][1][2][3].item<double>() == 1.5 / 2);  // z along the first
  // The general form equals the 2-D one.
  CHECK(torch::equal(pins::cell_centre_coordinates(std::vector<int64_t>{5, 6}, like),
                     pins::cell_centre_coordinates(5, 6, like)));
}

TEST_CASE("3-D surrogates reject bad inputs and options with messages naming them") {
  auto fno3d = small_model("fno3d", 2, 1);
  CHECK(throws_with(
      [&] {
        fno3d->forward(torch::randn({1, 2, 8, 8}));
      },
      "fno3d: input must have shape [B, 2, nz, ny, nx], got [1, 2, 8, 8]"));
  CHECK(throws_with(
      [&] {
        fno3d->forward(torch::randn({1, 2, 0, 8, 8}));
      },
      "fno3d: input must have shape [B, 2, nz, ny, nx], got [1, 2, 0, 8, 8]"));
  auto unet3d = small_model("unet3d", 1, 1);
  CHECK(throws_with(
      [&] {
        unet3d->forward(torch::randint(0, 3, {1, 1, 4, 4, 4}));
      },
      "unet3d: input must be float32 or float64"));
  auto fno = small_model("fno", 2, 1);
  CHECK(throws_with(
      [&] {
        fno->forward(torch::randn({1, 2, 8, 8, 8}));
      },
      "fno: input must have shape [B, 2, ny, nx], got [1, 2, 8, 8, 8]"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("fno3d", pins::OptionMap{{"-fno3d_modes", "0"}}, 1, 1);
      },
      "fno3d: modes must be at least 1, got 0 (-fno3d_modes)"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("unet3d", pins::OptionMap{{"-unet3d_levels", "40"}}, 1, 1);
      },
      "unet3d: levels must be at most 10, got 40 (-unet3d_levels)"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("unet3d", pins::OptionMap{{"-unet3d_depth", "2"}}, 1, 1);
      },
      "unknown option -unet3d_depth for surrogate type 'unet3d' (known: -unet3d_channels, "
      "-unet3d_levels)"));
  CHECK(
      throws_with([] { pins::FNO(pins::FNOOptions(1, 1, 4)); }, "fno: dims must be 2 or 3, got 4"));
  CHECK(throws_with([] { pins::UNet(pins::UNetOptions(1, 1, 1)); },
                    "unet: dims must be 2 or 3, got 1"));
}
