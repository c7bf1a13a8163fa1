// -train_device: the option, its refusals, and training on a GPU against the CPU. The GPU
// case runs where LibTorch sees a CUDA device and pins' Kokkos kernels were built for it
// (bench/gpu/run_device_check.sh); on a CPU build it checks the refusal instead.
#include <torch/cuda.h>

#include <cmath>

#include "helpers.hpp"
#include "pins/core/kokkos_runtime.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/smoother.hpp"
#include "pins/core/smoother_train.hpp"
#include "surrogates/surrogate.hpp"

using namespace pins;
using namespace pins::test;

namespace {

bool gpu_build() { return torch::cuda::is_available() && !kokkos_uses_host_memory(); }

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Small solve-free runs (-task precondition, -task smoother): quiet (one interval, so the
// history holds the final step's loss and validation loss), one thread.
PreconditionTrainOptions quick_precondition(const std::string& device) {
  PreconditionTrainOptions o;
  o.grid = 16;
  o.steps = 6;
  o.batch_size = 4;
  o.val_samples = 4;
  o.threads = 1;
  o.monitor_every = 0;
  o.device = device;
  return o;
}

SmootherTrainOptions quick_smoother(const std::string& device, const std::string& loss) {
  SmootherTrainOptions o = SmootherTrainOptions::from_options(
      OptionMap::from_args({"-grid", "10", "-smoother_grid3d", "5", "-smoother_loss", loss}));
  o.loop.steps = 8;  // two rounds of 2-D and 3-D: fine and Galerkin coarse operators
  o.loop.batch_size = 3;
  o.loop.val_samples = 4;
  o.loop.threads = 1;
  o.loop.monitor_every = 0;
  o.loop.device = device;
  return o;
}

std::shared_ptr<Surrogate> small_entry_mlp() {
  torch::manual_seed(0);
  return make_surrogate("entry_mlp", OptionMap{}, kSmootherFeatures, 1);
}

// The validation losses of two runs agree interval by interval to `tolerance` (relative).
void same_history(const PreconditionTrainResult& cpu, const PreconditionTrainResult& gpu,
                  double tolerance) {
  CHECK(gpu.bare_val_loss == doctest::Approx(cpu.bare_val_loss).epsilon(tolerance));
  CHECK(gpu.initial_val_loss == doctest::Approx(cpu.initial_val_loss).epsilon(tolerance));
  REQUIRE(cpu.history.size() == gpu.history.size());
  for (size_t i = 0; i < cpu.history.size(); ++i) {
    CAPTURE(i);
    CHECK(gpu.history[i].loss == doctest::Approx(cpu.history[i].loss).epsilon(tolerance));
    CHECK(gpu.history[i].val_loss == doctest::Approx(cpu.history[i].val_loss).epsilon(tolerance));
  }
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
// augmentation, in float64 so the two devices agree to rounding (cuBLAS against OpenBLAS in
// the FNO's DFT products, atomic sums: 1e-5 after six Adam steps, where a wrong device path
// throws).
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

TEST_CASE("-train_device for the solve-free tasks: parsed, checked, refused before any work") {
  const auto pc =
      PreconditionTrainOptions::from_options(OptionMap::from_args({"-train_device", "cpu"}));
  CHECK(pc.device == "cpu");
  CHECK(PreconditionTrainOptions{}.device == "auto");
  CHECK(contains(
      error_of([] {
        PreconditionTrainOptions::from_options(OptionMap::from_args({"-train_device", "gpu"}));
      }),
      "-train_device must be auto, cpu or cuda, got 'gpu'"));
  CHECK(
      contains(error_of([] {
                 SmootherTrainOptions::from_options(OptionMap::from_args({"-train_device", "tpu"}));
               }),
               "-train_device must be auto, cpu or cuda, got 'tpu'"));
  CHECK(contains(PreconditionTrainOptions::help(), "-train_device"));
  CHECK(contains(SmootherTrainOptions::help(), "-train_device"));
  if (gpu_build()) return;  // cuda is no refusal there
  auto pc_model = small_fno(0, kPreconditionChannels);
  const auto pc_before = weights(*pc_model);
  CHECK(contains(error_of([&] { train_preconditioner(*pc_model, quick_precondition("cuda")); }),
                 "-train_device cuda:"));
  CHECK(same_weights(pc_before, weights(*pc_model)));
  auto sm_model = small_entry_mlp();
  const auto sm_before = weights(*sm_model);
  CHECK(contains(error_of([&] { train_smoother(*sm_model, quick_smoother("cuda", "one_step")); }),
                 "-train_device cuda:"));
  CHECK(same_weights(sm_before, weights(*sm_model)));
}

TEST_CASE("-train_device cpu and auto train the solve-free tasks on the host") {
  // On a CPU build auto is cpu: the two runs are the same run, bit for bit.
  auto a = small_fno(0, kPreconditionChannels);
  auto b = small_fno(0, kPreconditionChannels);
  const PreconditionTrainResult ra = train_preconditioner(*a, quick_precondition("cpu"));
  const PreconditionTrainResult rb = train_preconditioner(*b, quick_precondition("auto"));
  CHECK(parameter_device(a->module()).is_cpu());
  CHECK(parameter_device(b->module()).is_cuda() == gpu_build());
  if (!gpu_build()) {
    CHECK(same_weights(weights(*a), weights(*b)));
    CHECK(ra.final_val_loss == rb.final_val_loss);
  }
  auto s = small_entry_mlp();
  const PreconditionTrainResult rs = train_smoother(*s, quick_smoother("cpu", "two_grid"));
  CHECK(parameter_device(s->module()).is_cpu());
  CHECK(std::isfinite(rs.final_val_loss));
}

// Both solve-free tasks on the GPU: the 5-point preconditioner's cycle (Kokkos stencil
// kernels, FFTs), the smoother's one-step and two-grid losses on fine and Galerkin coarse
// operators in 2-D and 3-D (Kokkos sparse kernels, the coarse Cholesky factors). They train
// in float32, so the devices agree to float32's rounding carried through a few Adam steps
// (1e-3), where a wrong device path throws and wrong problems differ by far more.
TEST_CASE(
    "solve-free training on the GPU follows the CPU's run (needs a CUDA LibTorch and Kokkos)") {
  if (!gpu_build()) {
    MESSAGE("no CUDA device for LibTorch and Kokkos here: the CPU-only path is checked above");
    return;
  }
  {
    auto cpu = small_fno(0, kPreconditionChannels);
    auto gpu = small_fno(0, kPreconditionChannels);
    const PreconditionTrainResult rc = train_preconditioner(*cpu, quick_precondition("cpu"));
    const PreconditionTrainResult rg = train_preconditioner(*gpu, quick_precondition("cuda"));
    CHECK(parameter_device(gpu->module()).is_cuda());
    same_history(rc, rg, 1e-3);
  }
  for (const std::string loss : {"one_step", "two_grid"}) {
    CAPTURE(loss);
    auto cpu = small_entry_mlp();
    auto gpu = small_entry_mlp();
    const PreconditionTrainResult rc = train_smoother(*cpu, quick_smoother("cpu", loss));
    const PreconditionTrainResult rg = train_smoother(*gpu, quick_smoother("cuda", loss));
    CHECK(parameter_device(gpu->module()).is_cuda());
    same_history(rc, rg, 1e-3);
  }
}
