// The FNO accuracy run of issue 17 (item 5) on a machine with pins::core alone: no PETSc to
// generate data, no HDF5 to read it. The datasets are generated with PETSc elsewhere
// (pins generate), packed by bench/gpu/pack_darcy.py into torch.save files (κ as a mask of
// its two values, f as its constant, u in float32 or float16), carried to the GPU machine and
// read here with torch::pickle_load; training is pins::train_surrogate, the same code as
// `pins train`, with every -train_* and -<surrogate>_* option of the command line
// (-train_device auto: the GPU when LibTorch and pins' Kokkos run there).
//
//   bench_train_packed -train train.pt -val val.pt -test test.pt [-surrogate_type fno]
//                      [-train_* ...] [-fno_* ...] [-o model.pins] [-infer_batches 1,10,100]
//
// Prints the run's setting, a line per epoch (-train_monitor), and the unseen test set's
// relative L2 error (mean, median, 95th percentile, max) with the training's wall time;
// then (issue 17 item 6) the trained model's answers per second on the test inputs for each
// batch size of -infer_batches (0: none), from host memory to host memory (a PETSc
// program's query) and with inputs and answers left on the model's device.
// A missing or malformed file, or sets that disagree, stop with a one-line error (exit 1).
#include <torch/torch.h>

#include <torch/cuda.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pins/core/check.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/train_job.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"

namespace {

using pins::Error;

// One packed set as training data: κ = low + (high − low)·mask, f = its constant, u.
pins::TrainingData read_packed(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  PINS_CHECK(in.good(), what, " '", path, "': cannot open (expected a file written by "
             "bench/gpu/pack_darcy.py)");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  c10::IValue v;
  try {
    v = torch::pickle_load(bytes);
  } catch (const std::exception&) {
    throw Error(what + " '" + path + "': not a torch.save file (expected one written by "
                "bench/gpu/pack_darcy.py)");
  }
  PINS_CHECK(v.isGenericDict(), what, " '", path, "': expected a dict of packed arrays");
  const auto d = v.toGenericDict();
  auto get = [&](const char* key) {
    PINS_CHECK(d.contains(key), what, " '", path, "': no entry '", key,
               "' (expected kappa_mask, kappa_low, kappa_high, f_value, u)");
    return d.at(key);
  };
  const torch::Tensor mask = get("kappa_mask").toTensor();
  const torch::Tensor u = get("u").toTensor();
  PINS_CHECK(mask.dim() == 3 && u.sizes() == mask.sizes(), what, " '", path,
             "': kappa_mask and u must both be [N, ny, nx], got ", mask.sizes(), " and ",
             u.sizes());
  const double low = get("kappa_low").toDouble(), high = get("kappa_high").toDouble();
  const double f = get("f_value").toDouble();
  PINS_CHECK(low > 0 && high > 0, what, " '", path, "': kappa values must be positive, got ",
             low, " and ", high);
  pins::TrainingData t;
  const torch::Tensor m = mask.to(torch::kFloat64);
  t.inputs = {{"kappa", low + (high - low) * m}, {"f", torch::full_like(m, f)}};
  t.u = u.to(torch::kFloat64);
  PINS_CHECK(torch::isfinite(t.u).all().item<bool>(), what, " '", path,
             "': u holds non-finite values");
  t.pde = "darcy";
  t.fingerprint = d.contains("fingerprint") ? d.at("fingerprint").toStringRef() : path;
  return t;
}

// Answers per second of `predict` on `batch` test inputs (cycled when the set is smaller)
// held on `where`: a warm-up of 3 calls, then calls until `seconds` have passed. The clock
// stops after the device has finished (answers on the host are finished when predict
// returns; on a GPU it is synchronised).
double queries_per_second(pins::Surrogate& model, const pins::Normalisation& norm,
                          const pins::FieldMap& inputs, int64_t batch, torch::Device where,
                          double seconds) {
  const int64_t samples = inputs.begin()->second.size(0);
  const torch::Tensor rows = torch::arange(batch, torch::kInt64) % samples;
  pins::FieldMap x;
  for (const auto& [name, t] : inputs) x[name] = t.index_select(0, rows).to(where);
  auto finish = [&] {
    if (where.is_cuda()) torch::cuda::synchronize();
  };
  for (int i = 0; i < 3; ++i) pins::predict(model, norm, x, batch);
  finish();
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  int64_t calls = 0;
  double elapsed = 0;
  do {
    pins::predict(model, norm, x, batch);
    ++calls;
    finish();
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < seconds);
  return double(calls * batch) / elapsed;
}

int run(int argc, char** argv) {
  const pins::OptionMap o = pins::OptionMap::from_args({argv + 1, argv + argc});
  const std::string train_path = o.get_string("-train", ""), val_path = o.get_string("-val", "");
  const std::string test_path = o.get_string("-test", ""), out = o.get_string("-o", "");
  const std::string type = o.get_string("-surrogate_type", "fno");
  std::vector<int64_t> infer_batches;
  std::stringstream batches(o.get_string("-infer_batches", "1,10,100"));
  for (std::string b; std::getline(batches, b, ',');) {
    PINS_CHECK(!b.empty() && b.find_first_not_of("0123456789") == std::string::npos,
               "-infer_batches: expected comma-separated batch sizes (0: no timing), got '", b,
               "'");
    if (std::stoll(b) > 0) infer_batches.push_back(std::stoll(b));
  }
  PINS_CHECK(!train_path.empty() && !test_path.empty(),
             "-train <train.pt> and -test <test.pt> are required (bench/gpu/pack_darcy.py "
             "writes them; -val <val.pt> is optional)");
  pins::TrainOptions opts = pins::TrainOptions::from_options(o);
  const torch::Device device = pins::training_device(opts.device);
  const pins::TrainingData train = read_packed(train_path, "-train");
  const pins::TrainingData test = read_packed(test_path, "-test");
  pins::TrainingData val;
  if (!val_path.empty()) val = read_packed(val_path, "-val");
  PINS_CHECK(test.u.sizes().slice(1) == train.u.sizes().slice(1), "-test: grid ",
             test.u.sizes().slice(1), " differs from -train's ", train.u.sizes().slice(1));
  torch::manual_seed(opts.seed);
  auto model = pins::make_surrogate(type, o, pins::kFeatureChannels, 1);
  int64_t parameters = 0;
  for (const auto& p : model->module().parameters()) parameters += p.numel();
  std::printf("bench_train_packed: %lld training samples on %lldx%lld, %s%lld test; %s with %lld "
              "parameters, %s on %s\n",
              (long long)train.samples(), (long long)train.u.size(1), (long long)train.u.size(2),
              val_path.empty() ? "" : (std::to_string(val.samples()) + " validation, ").c_str(),
              (long long)test.samples(), type.c_str(), (long long)parameters, opts.dtype.c_str(),
              device.str().c_str());
  std::fflush(stdout);
  const auto t0 = std::chrono::steady_clock::now();
  const pins::TrainResult r =
      pins::train_surrogate(*model, train, opts, val_path.empty() ? nullptr : &val);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const torch::Tensor u = pins::predict(*model, r.normalisation, test.inputs);
  const pins::Summary s = pins::summarize(pins::relative_l2(u, test.u));
  std::printf("test relative L2 (%lld unseen samples): mean %.3f %%, median %.3f %%, p95 %.3f %%, "
              "max %.3f %%; best epoch %d of %zu, training %.1f s on %s\n",
              (long long)test.samples(), 100 * s.mean, 100 * s.median, 100 * s.p95, 100 * s.max,
              r.best_epoch, r.history.size(), seconds, device.str().c_str());
  nlohmann::json throughput = nlohmann::json::array();
  for (const int64_t batch : infer_batches) {
    const double host =
        queries_per_second(*model, r.normalisation, test.inputs, batch, torch::kCPU, 1.0);
    const double resident =
        queries_per_second(*model, r.normalisation, test.inputs, batch, device, 1.0);
    std::printf(
        "inference, batch %lld: %.1f answers/s from host to host, %.1f with inputs and "
        "answers on %s\n",
        (long long)batch, host, resident, device.str().c_str());
    throughput.push_back({{"batch", batch}, {"host_to_host", host}, {"on_device", resident}});
  }
  std::fflush(stdout);
  if (!out.empty()) {
    pins::ModelManifest m = pins::solution_manifest(*model, r, opts, "darcy", int(train.u.size(2)),
                                                    int(train.u.size(1)), 0, train.fingerprint);
    m.metrics["test_relative_l2"] = s.to_json();
    m.metrics["training_data"] = train_path;
    m.metrics["inference_answers_per_second"] = throughput;
    m.metrics["training_seconds"] = seconds;
    std::string command = "bench_train_packed";
    for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
    m.metrics["command"] = command;
    pins::save_model(out, *model, m, /*force=*/true);
    std::printf("wrote %s\n", out.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train_packed: error: %s\n", e.what());
    return 1;
  }
}
