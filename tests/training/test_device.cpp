// -train_device: the option, its refusals, and training on a GPU against the CPU. The GPU
// case runs where LibTorch sees a CUDA device and pins' Kokkos kernels were built for it
// (bench/gpu/run_device_check.sh); on a CPU build it checks the refusal instead.
#include <torch/cuda.h>

#include <cmath>

#include "helpers.hpp"
#include "pins/core/kokkos_runtime.hpp"
#include "surrogates/surrogate.hpp"

using namespace pins;
using namespace pins::test;

namespace {

bool gpu_build() { return torch::cuda::is_available() && !kokkos_uses_host_memory(); }

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("-train_device: parsed, checked and resolved") {
  auto parse = [](std::vector<std::string> args) {
    return TrainOptions::from_options(OptionMap::from_args(args));
  };
  CHECK(TrainOptions{}.device == "auto");
  CHECK(parse({"-train_device", "cpu"}).device == "cpu");
  CHECK(parse({"-train_device", "cuda"}).device == "cuda");  // resolved when training starts
  CHECK(contains(error_of([&] { parse({"-train_device", "gpu"}); }),
                 "-train_device must be auto, cpu or cuda, got 'gpu'"));
  CHECK(contains(TrainOptions::help(), "-train_device <auto>"));
  CHECK(training_device("cpu") == torch::Device(torch::kCPU));
  CHECK(training_device("auto") ==
        (gpu_build() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU)));
  const std::string cuda = error_of([] { training_device("cuda"); });
  INFO(cuda);
  if (!torch::cuda::is_available())
    CHECK(contains(cuda, "-train_device cuda: this LibTorch sees no CUDA device"));
  else if (kokkos_uses_host_memory())
    CHECK(contains(cuda, "-train_device cuda: pins' Kokkos kernels run on"));
  else
    CHECK(cuda == "(no error)");
}

TEST_CASE("a refused device stops training before the model or the data is touched") {
  if (gpu_build()) return;  // cuda is no refusal there
  const TrainingData d = darcy_data(4, 8);
  TrainOptions o = quick_options();
  o.device = "cuda";
  auto model = small_fno();
  const auto before = weights(*model);
  CHECK(contains(error_of([&] { train_surrogate(*model, d, o); }), "-train_device cuda:"));
  CHECK(same_weights(before, weights(*model)));
}

TEST_CASE("predict answers on the inputs' device with the model where it was trained") {
  const TrainingData d = darcy_data(4, 8);
  TrainOptions o = quick_options();
  o.device = "cpu";
  auto model = small_fno();
  const TrainResult r = train_surrogate(*model, d, o);
  CHECK(parameter_device(model->module()).is_cpu());
  const torch::Tensor u = predict(*model, r.normalisation, d.inputs, 3);
  CHECK(u.device().is_cpu());
  CHECK(u.sizes() == d.u.sizes());
  CHECK(torch::isfinite(u).all().item<bool>());
}

// Every loss path on the GPU: data, the energy and preconditioned physics losses (Kokkos
// kernels and the multigrid cycle on device tensors), unlabelled rows and the symmetry
// augmentation, in float64 so the two devices agree to rounding (cuFFT against pocketfft,
// atomic sums: 1e-5 after six Adam steps, where a wrong device path throws).
TEST_CASE("training on the GPU follows the CPU's run (needs a CUDA LibTorch and Kokkos)") {
  if (!gpu_build()) {
    MESSAGE("no CUDA device for LibTorch and Kokkos here: the CPU-only path is checked above");
    return;
  }
  const TrainingData labelled = darcy_data(8, 16);
  const TrainingData unlabelled = darcy_data(8, 16, /*with_u=*/false, /*f_seed_offset=*/5);
  for (const std::string loss : {"energy", "preconditioned"}) {
    CAPTURE(loss);
    TrainOptions o = quick_options();
    o.batch_size = 4;
    o.dtype = "float64";
    o.physics_weight = 1;
    o.physics_loss = loss;
    o.augment = "symmetries";
    std::vector<std::shared_ptr<Surrogate>> models;
    std::vector<TrainResult> runs;
    for (const std::string device : {"cpu", "cuda"}) {
      o.device = device;
      models.push_back(small_fno(4));
      runs.push_back(train_surrogate(*models.back(), labelled, o, nullptr, &unlabelled));
    }
    CHECK(parameter_device(models[1]->module()).is_cuda());
    REQUIRE(runs[0].history.size() == runs[1].history.size());
    for (size_t e = 0; e < runs[0].history.size(); ++e) {
      const EpochRecord &c = runs[0].history[e], &g = runs[1].history[e];
      CHECK(g.loss == doctest::Approx(c.loss).epsilon(1e-5));
      CHECK(g.physics_loss == doctest::Approx(c.physics_loss).epsilon(1e-5));
      CHECK(g.val_rel_l2 == doctest::Approx(c.val_rel_l2).epsilon(1e-5));
    }
    const torch::Tensor uc = predict(*models[0], runs[0].normalisation, labelled.inputs);
    const torch::Tensor ug = predict(*models[1], runs[1].normalisation, labelled.inputs);
    CHECK(ug.device().is_cpu());
    CHECK(((ug - uc).norm() / uc.norm()).item<double>() < 1e-5);
  }
}
