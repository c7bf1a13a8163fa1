// Dataset → tensors, normalisation, the losses and prediction (pins/core/trainer.hpp).
#include <torch/torch.h>

#include <cmath>
#include <sched.h>

#include <thread>

#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/family.hpp"
#include "pins/core/losses.hpp"
#include "pins/core/sha256.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/surrogate.hpp"

namespace pins {

namespace {

torch::Tensor field(const std::vector<double>& values, const Dataset& d, const char* name) {
  const int64_t n = d.samples, ny = d.info.ny, nx = d.info.nx;
  PINS_CHECK(n >= 1 && ny >= 1 && nx >= 1, "dataset has no samples or an empty grid (", n,
             " samples of ", ny, " x ", nx, ")");
  PINS_CHECK(values.size() == size_t(n * ny * nx), "dataset array '", name, "' has ",
             values.size(), " values, expected ", n, " x ", ny, " x ", nx);
  torch::Tensor t = torch::from_blob(const_cast<double*>(values.data()), {n, ny, nx},
                                     torch::kFloat64)
                        .clone();
  PINS_CHECK(torch::isfinite(t).all().item<bool>(), "dataset array '", name,
             "' contains NaN or Inf");
  return t;
}

double rms(const torch::Tensor& t) {
  return std::sqrt(t.square().mean().item<double>());
}

}  // namespace

TrainingData training_data(const Dataset& d) {
  TrainingData t;
  t.kappa = field(d.kappa, d, "kappa");
  t.f = field(d.f, d, "f");
  t.u = field(d.u, d, "u");
  PINS_CHECK((t.kappa > 0).all().item<bool>(), "dataset array 'kappa' must be positive");
  t.pde = find_family(d.info.pde).name();  // an unknown family is refused here, by name
  Sha256 sha;
  for (const auto* v : {&d.kappa, &d.f, &d.u}) sha.update(v->data(), v->size() * sizeof(double));
  t.fingerprint = sha.hex_digest();
  return t;
}

Normalisation Normalisation::fit(const TrainingData& data, const torch::Tensor& index) {
  Normalisation n;
  const torch::Tensor kappa = data.kappa.index_select(0, index);
  const torch::Tensor log_kappa = kappa.log();
  n.log_kappa_mean = log_kappa.mean().item<double>();
  const double sd = log_kappa.std(/*unbiased=*/false).item<double>();
  n.log_kappa_std = sd > 1e-12 ? sd : 1.0;  // constant κ: centring alone
  const double f_rms = rms(data.f.index_select(0, index));
  n.f_scale = f_rms > 0 ? f_rms : 1.0;
  const double u_rms = data.u.defined() ? rms(data.u.index_select(0, index)) : 0.0;
  if (u_rms > 0) {
    n.u_scale = u_rms;
  } else {  // physics-only training: the family's estimate of the solutions' size
    const double s = find_family(data.pde).solution_scale(
        {{"kappa", kappa}, {"f", data.f.index_select(0, index)}});
    n.u_scale = s > 0 ? s : 1.0;
  }
  return n;
}

nlohmann::json Normalisation::to_json() const {
  return {{"features", "[(log kappa - log_kappa_mean) / log_kappa_std, f / f_scale]"},
          {"target", "u / u_scale"},
          {"log_kappa_mean", log_kappa_mean},
          {"log_kappa_std", log_kappa_std},
          {"f_scale", f_scale},
          {"u_scale", u_scale}};
}

Normalisation Normalisation::from_json(const nlohmann::json& j) {
  auto get = [&](const char* key, bool positive) {
    PINS_CHECK(j.is_object() && j.contains(key) && j.at(key).is_number(),
               "normalisation field '", key, "' is missing or not a number");
    const double v = j.at(key).get<double>();
    PINS_CHECK(std::isfinite(v) && (!positive || v > 0), "normalisation field '", key,
               "' must be ", positive ? "positive" : "finite", ", got ", v);
    return v;
  };
  Normalisation n;
  n.log_kappa_mean = get("log_kappa_mean", false);
  n.log_kappa_std = get("log_kappa_std", true);
  n.f_scale = get("f_scale", true);
  n.u_scale = get("u_scale", true);
  return n;
}

torch::Tensor Normalisation::features(const torch::Tensor& kappa, const torch::Tensor& f,
                                      torch::ScalarType dtype) const {
  PINS_CHECK(kappa.dim() == 3 && f.sizes() == kappa.sizes(),
             "features: kappa and f must both be [B, ny, nx]");
  const torch::Tensor k = (kappa.log() - log_kappa_mean) / log_kappa_std;
  return torch::stack({k, f / f_scale}, 1).to(dtype);
}

torch::Tensor relative_l2(const torch::Tensor& prediction, const torch::Tensor& truth) {
  const auto dims = std::vector<int64_t>{1, 2};
  return (prediction - truth).square().sum(dims).sqrt() /
         truth.square().sum(dims).sqrt().clamp_min(1e-300);
}

torch::Tensor predict(Surrogate& model, const Normalisation& norm, const torch::Tensor& kappa,
                      const torch::Tensor& f, int64_t batch) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.module().is_training();
  model.module().eval();
  const auto dtype = model.module().parameters().empty()
                         ? torch::kFloat32
                         : model.module().parameters().front().scalar_type();
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < kappa.size(0); i += batch) {
    const int64_t e = std::min(kappa.size(0), i + batch);
    const torch::Tensor x = norm.features(kappa.slice(0, i, e), f.slice(0, i, e), dtype);
    parts.push_back(model.forward(x).select(1, 0).to(torch::kFloat64) * norm.u_scale);
  }
  model.module().train(was_training);
  return torch::cat(parts, 0);
}

int available_cores() {
  // The cores this process may run on (taskset, cgroups' cpusets), not all of the host's.
  cpu_set_t set;
  const int n = sched_getaffinity(0, sizeof set, &set) == 0
                    ? CPU_COUNT(&set)
                    : int(std::thread::hardware_concurrency());
  return std::max(n, 1);
}

void set_training_threads(int threads) {
  torch::set_num_threads(threads > 0 ? threads : available_cores());
}

}  // namespace pins
