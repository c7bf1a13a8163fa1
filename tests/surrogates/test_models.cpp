// Every architecture: output shapes, dtypes, gradients, save/load round trip; FNO on other
// resolutions.
#include "helpers.hpp"

#include <cmath>

#include "pins/core/model_file.hpp"
#include "surrogates/fno.hpp"

using pins::test::dtype_of;
using pins::test::shape_of;
using pins::test::small_model;
using pins::test::TempDir;
using pins::test::throws_with;

namespace {

const char* const kTypes[] = {"fno", "unet", "deeponet", "mlp"};

// The grids each type is evaluated on: DeepONet only on the grid it was built for.
std::vector<std::pair<int64_t, int64_t>> grids_of(const std::string& type) {
  if (type == "deeponet") return {{12, 10}};
  return {{12, 10}, {13, 21}, {8, 8}};
}

}  // namespace

TEST_CASE("every surrogate maps [B, Cin, ny, nx] to [B, Cout, ny, nx] in float32 and float64") {
  torch::manual_seed(1);
  for (const std::string type : kTypes) {
    INFO("type " << type);
    auto model = small_model(type, 3, 2);
    CHECK(model->type() == type);
    CHECK(&model->module() == dynamic_cast<torch::nn::Module*>(model.get()));
    CHECK(model->in_channels() == 3);
    CHECK(model->out_channels() == 2);
    for (auto [ny, nx] : grids_of(type)) {
      for (int64_t B : {1, 3}) {
        INFO("B " << B << " grid " << ny << " x " << nx);
        auto y = model->forward(torch::randn({B, 3, ny, nx}));
        CHECK(shape_of(y) == shape_of({B, 2, ny, nx}));
        CHECK(dtype_of(y) == dtype_of(torch::kFloat32));
        CHECK(torch::isfinite(y).all().item<bool>());
      }
    }
    model->module().to(torch::kFloat64);
    auto [ny, nx] = grids_of(type).front();
    auto y = model->forward(torch::randn({2, 3, ny, nx}, torch::kFloat64));
    CHECK(dtype_of(y) == dtype_of(torch::kFloat64));
    CHECK(shape_of(y) == shape_of({2, 2, ny, nx}));
  }
}

TEST_CASE("every surrogate depends on each batch member's own input only") {
  // Guards against reshapes that mix the batch with the grid or the channels.
  torch::manual_seed(2);
  for (const std::string type : kTypes) {
    INFO("type " << type);
    auto model = small_model(type, 2, 1);
    model->module().to(torch::kFloat64);
    auto [ny, nx] = grids_of(type).front();
    auto x = torch::randn({3, 2, ny, nx}, torch::kFloat64);
    auto batched = model->forward(x);
    for (int64_t b = 0; b < 3; ++b) {
      auto single = model->forward(x.slice(0, b, b + 1));
      CHECK(torch::allclose(batched.slice(0, b, b + 1), single, 1e-12, 1e-12));
    }
  }
}

TEST_CASE("gradients reach every parameter of every surrogate") {
  torch::manual_seed(3);
  for (const std::string type : kTypes) {
    INFO("type " << type);
    auto model = small_model(type, 2, 2);
    auto [ny, nx] = grids_of(type).front();
    auto y = model->forward(torch::randn({2, 2, ny, nx}));
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

TEST_CASE("every surrogate survives a model file round trip with bitwise-identical outputs") {
  torch::manual_seed(4);
  TempDir dir;
  for (const std::string type : kTypes) {
    for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
      INFO("type " << type << " dtype " << dtype);
      auto model = small_model(type, 2, 3);
      model->module().to(dtype);
      const std::string path = dir.file(type + ".pins");
      pins::save_model(path, *model, pins::ModelManifest{}, /*force=*/true);
      pins::LoadedModel loaded = pins::load_model(path);
      CHECK(loaded.model->type() == type);
      CHECK(loaded.manifest.architecture_options == model->options_json());
      CHECK_FALSE(loaded.model->module().is_training());
      auto [ny, nx] = grids_of(type).front();
      auto x = torch::randn({2, 2, ny, nx}, dtype);
      auto expected = model->forward(x);
      auto got = loaded.model->forward(x);
      CHECK(dtype_of(got) == dtype_of(dtype));
      CHECK(torch::equal(got, expected));
    }
  }
}

TEST_CASE("FNO evaluates on grids other than its training grid") {
  torch::manual_seed(5);
  pins::FNO fno(pins::FNOOptions(1, 1).modes(6).width(8).layers(2).padding(4).hidden(8));
  for (int64_t n : {16, 24}) {
    auto y = fno(torch::randn({2, 1, n, n}));
    CHECK(shape_of(y) == shape_of({2, 1, n, n}));
    CHECK(torch::isfinite(y).all().item<bool>());
  }
  // A grid with fewer frequencies than `modes`: they are clamped, not an error.
  pins::FNO coarse(pins::FNOOptions(1, 1).modes(12).width(4).layers(1).padding(0).hidden(4));
  auto y = coarse(torch::randn({1, 1, 5, 7}));
  CHECK(shape_of(y) == shape_of({1, 1, 5, 7}));
  CHECK(torch::isfinite(y).all().item<bool>());
}

TEST_CASE("spectral convolution acts on frequencies, so it commutes with refinement") {
  // For a periodic input band-limited below `modes`, the output on a 32 × 32 grid sampled at
  // every other point equals the output on the 16 × 16 grid: each frequency, including the
  // negative ky ones whose weight rows shift when `modes` is clamped, gets the same weight.
  torch::manual_seed(6);
  pins::SpectralConv conv(2, 3, 12);  // on 16 × 16, ky is clamped to 8 per sign
  conv->to(torch::kFloat64);
  auto field = [](int64_t n) {
    auto t = torch::arange(n, torch::kFloat64) / static_cast<double>(n);
    auto y = t.view({n, 1}), x = t.view({1, n});
    const double pi = std::acos(-1.0);
    auto a = torch::cos(2 * pi * (x + 2 * y)) + 0.5 * torch::sin(2 * pi * (3 * x - y));
    auto b = torch::sin(2 * pi * (-2 * x + 3 * y)) - 0.25 * torch::cos(2 * pi * 2 * y);
    return torch::stack({a, b}).unsqueeze(0);  // [1, 2, n, n]
  };
  auto coarse = conv(field(16));
  auto fine = conv(field(32));
  CHECK(coarse.abs().max().item<double>() > 1e-3);  // not trivially zero
  const double eps = std::numeric_limits<double>::epsilon();
  CHECK(torch::allclose(fine.slice(2, 0, 32, 2).slice(3, 0, 32, 2), coarse, 0, 1e3 * eps));
}

TEST_CASE("surrogates reject inputs of the wrong shape with a message naming the model") {
  auto fno = small_model("fno", 2, 1);
  CHECK(throws_with(
      [&] {
        fno->forward(torch::randn({1, 3, 8, 8}));
      },
      "fno: input must have shape [B, 2, ny, nx], got [1, 3, 8, 8]"));
  CHECK(throws_with([&] { fno->forward(torch::randn({2, 8, 8})); }, "fno: input must have shape"));
  auto deeponet = small_model("deeponet", 1, 1);
  CHECK(throws_with(
      [&] {
        deeponet->forward(torch::randn({1, 1, 16, 16}));
      },
      "deeponet: built for a 12 x 10 (ny x nx) input grid, got 16 x 16"));
  auto mlp = small_model("mlp", 1, 1);
  CHECK(throws_with(
      [&] {
        mlp->forward(torch::randint(0, 3, {1, 1, 4, 4}));
      },
      "mlp: input must be float32 or float64"));
}

TEST_CASE("the MLP without input features depends on the coordinates only") {
  auto mlp = pins::make_surrogate(
      "mlp", pins::OptionMap::from_args({"-mlp_inputs", "false", "-mlp_activation", "gelu"}), 2, 1);
  auto a = mlp->forward(torch::randn({1, 2, 5, 6}));
  auto b = mlp->forward(torch::randn({1, 2, 5, 6}));
  CHECK(torch::equal(a, b));
  CHECK_FALSE(torch::equal(a.select(2, 0), a.select(2, 1)));  // but varies in space
}

TEST_CASE("every surrogate can be cloned into an independent copy") {
  // The trainer keeps best-so-far snapshots with clone(); module().clone() is Cloneable's, and
  // its copy is again a Surrogate.
  torch::manual_seed(7);
  for (const std::string type : kTypes) {
    INFO("type " << type);
    auto model = small_model(type, 1, 1);
    auto copy = std::dynamic_pointer_cast<pins::Surrogate>(model->module().clone());
    REQUIRE(copy != nullptr);
    auto [ny, nx] = grids_of(type).front();
    auto x = torch::randn({1, 1, ny, nx});
    CHECK(torch::equal(copy->forward(x), model->forward(x)));
    {
      torch::NoGradGuard no_grad;
      for (auto& p : copy->module().parameters()) p.add_(1.0);
    }
    CHECK_FALSE(torch::equal(copy->forward(x), model->forward(x)));
  }
}
