// Unlabelled samples (-train_unlabelled) and the choice of physics loss in the trainer: what
// the unlabelled set changes, and the refusals that keep a run from training on nonsense.
#include <cmath>

#include "helpers.hpp"

using namespace pins;
using namespace pins::test;

TEST_CASE("unlabelled samples train through the physics loss and change the result") {
  const TrainingData labelled = darcy_data(6, 8);
  const TrainingData unlabelled = darcy_data(10, 8, /*with_u=*/false, /*f_seed_offset=*/11);
  TrainOptions o = quick_options();
  o.epochs = 3;
  o.batch_size = 2;
  o.physics_weight = 1;
  o.physics_loss = "preconditioned";

  auto a = small_fno(3);
  const TrainResult without = train_surrogate(*a, labelled, o);
  auto b = small_fno(3);
  const TrainResult with = train_surrogate(*b, labelled, o, nullptr, &unlabelled);
  CHECK(without.unlabelled_samples == 0);
  CHECK(with.unlabelled_samples == 10);
  // The same labelled split and steps; only the unlabelled rows differ.
  CHECK(with.train_samples == without.train_samples);
  CHECK(with.history.size() == 3);
  CHECK(std::isfinite(with.history.back().physics_loss));
  CHECK(std::isfinite(with.history.back().val_rel_l2));
  CHECK(!same_weights(weights(*a), weights(*b)));
  CHECK(with.metrics().at("unlabelled_samples") == 10);
}

TEST_CASE("unlabelled data must be of the training data's family and grid") {
  const TrainingData labelled = darcy_data(4, 8);
  const TrainingData other_grid = darcy_data(4, 6, /*with_u=*/false);
  TrainOptions o = quick_options();
  o.physics_weight = 1;
  auto model = small_fno();
  const std::string grid = error_of([&] { train_surrogate(*model, labelled, o, nullptr, &other_grid); });
  INFO(grid);
  CHECK(grid.find("must be [M, 8, 8] like the training data, got [4, 6, 6]") != std::string::npos);
  TrainingData other_family = darcy_data(4, 8, false);
  other_family.pde = "poisson";
  CHECK(error_of([&] { train_surrogate(*model, labelled, o, nullptr, &other_family); })
            .find("unlabelled data is for -pde poisson") != std::string::npos);
}

TEST_CASE("physics-loss options: kinds, cycles and unlabelled data without a physics weight") {
  auto parse = [](std::vector<std::string> args) {
    return TrainOptions::from_options(OptionMap::from_args(args));
  };
  CHECK(parse({"-train_physics_loss", "preconditioned"}).physics_loss == "preconditioned");
  CHECK(parse({"-train_physics_cycles", "3"}).physics_cycles == 3);
  CHECK(error_of([&] { parse({"-train_physics_loss", "h1"}); })
            .find("must be residual, energy or preconditioned, got 'h1'") != std::string::npos);
  CHECK(error_of([&] { parse({"-train_physics_cycles", "0"}); })
            .find("-train_physics_cycles must be at least 1") != std::string::npos);
  CHECK(error_of([&] { parse({"-train_unlabelled", "u.h5"}); })
            .find("set -train_physics_weight > 0") != std::string::npos);
  CHECK(error_of([&] { parse({"-train_unlabelled_batch_size", "-1"}); })
            .find("-train_unlabelled_batch_size must be >= 0") != std::string::npos);
  const TrainOptions o = parse({"-train_unlabelled", "u.h5", "-train_physics_weight", "0.5",
                                "-train_unlabelled_batch_size", "32"});
  CHECK(o.unlabelled == "u.h5");
  CHECK(o.unlabelled_batch_size == 32);
}

TEST_CASE("each physics loss trains the Darcy family, physics only") {
  const TrainingData d = darcy_data(8, 8, /*with_u=*/false);
  for (const char* kind : {"residual", "energy", "preconditioned"}) {
    CAPTURE(kind);
    auto model = small_fno(1);
    TrainOptions o = quick_options();
    o.data_weight = 0;
    o.physics_weight = 1;
    o.physics_loss = kind;
    o.epochs = 2;
    o.batch_size = 4;
    const TrainResult r = train_surrogate(*model, d, o);
    CHECK(std::isfinite(r.history.back().physics_loss));
    CHECK(std::isfinite(r.history.back().val_physics));
  }
}

namespace {

// −εΔu + b·∇u = f with upwind differences on an n × n grid (any dimension `dim` of the
// stencil, the operator built for 2-D): a non-symmetric family, and a 1-D one that the
// multigrid cycle does not coarsen. Inputs kappa (ε per cell) and f, like Darcy's.
class TestFamily final : public Family {
 public:
  TestFamily(std::string name, int dim) : name_(std::move(name)), dim_(dim) {}
  std::string name() const override { return name_; }
  std::string summary() const override { return "-eps Lap u + b.grad u = f (upwind)"; }
  Stencil stencil() const override { return {dim_, StencilShape::kStar, 1, 1}; }
  std::vector<InputField> inputs() const override {
    return {{"kappa", FieldTransform::kLogStandardise, "diffusion"},
            {"f", FieldTransform::kScale, "source"}};
  }
  OperatorPtr make_operator(const FieldMap& in) const override {
    const torch::Tensor k = in.at("kappa");
    const int points = stencil().points();
    std::vector<int64_t> shape = k.sizes().vec();  // [B, grid...] -> [B, points, grid...]
    shape.insert(shape.begin() + 1, points);
    torch::Tensor c = torch::empty(shape, k.options());  // every channel is set below
    // Centre 2·dim·ε + 1 (upwind), west −ε − 1, every other neighbour −ε.
    c.select(1, 0).copy_(2 * dim_ * k + 1);
    for (int p = 1; p < points; ++p) c.select(1, p).copy_(-k);
    c.select(1, 1).sub_(1);
    return std::make_shared<StencilOperator>(stencil(), c.contiguous());
  }
  torch::Tensor rhs(const FieldMap& in) const override { return in.at("f"); }

 private:
  std::string name_;
  int dim_;
};

TrainingData with_family(TrainingData d, const std::string& pde) {
  d.pde = pde;
  return d;
}

}  // namespace

TEST_CASE("a physics loss the operator cannot give is refused before training") {
  register_family(std::make_shared<TestFamily>("test_upwind2d", 2));
  register_family(std::make_shared<TestFamily>("test_upwind1d", 1));
  const TrainingData d2 = with_family(darcy_data(4, 8, false), "test_upwind2d");
  auto model = small_fno();
  TrainOptions o = quick_options();
  o.data_weight = 0;
  o.physics_weight = 1;
  o.physics_loss = "energy";
  const std::string energy = error_of([&] { train_surrogate(*model, d2, o); });
  CHECK(energy.find("-train_physics_loss energy needs a symmetric operator, but the "
                    "test_upwind2d family's is not") != std::string::npos);
  // The residual and the multigrid-preconditioned losses do not need symmetry.
  o.epochs = 1;
  for (const char* kind : {"residual", "preconditioned"}) {
    CAPTURE(kind);
    o.physics_loss = kind;
    CHECK_NOTHROW(train_surrogate(*model, d2, o));
  }
  // A 1-D grid: no multigrid cycle.
  TrainingData d1;
  d1.pde = "test_upwind1d";
  d1.inputs = {{"kappa", torch::ones({4, 16}, torch::kFloat64)},
               {"f", torch::ones({4, 16}, torch::kFloat64)}};
  d1.fingerprint = "1d";
  o.physics_loss = "preconditioned";
  const std::string pre = error_of([&] { train_surrogate(*model, d1, o); });
  CHECK(pre.find("-train_physics_loss preconditioned is not available for the test_upwind1d "
                 "family: the operator is a stencil dim=1") != std::string::npos);
}
