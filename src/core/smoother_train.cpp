// Training the learned sparse smoother (pins/core/smoother_train.hpp): its options, its
// problems for the solve-free training loop (sampled_problems.hpp), and its manifest.
#include "pins/core/smoother_train.hpp"

#include <torch/torch.h>

#include <sstream>

#include "option_table.hpp"
#include "pins/core/check.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/smoother.hpp"
#include "pins/core/smoother_two_grid.hpp"
#include "sampled_problems.hpp"
#include "surrogates/surrogate.hpp"

namespace pins {

namespace {

using detail::join_commas;
using detail::OptionDoc;

const std::vector<OptionDoc> kOptions = detail::with_sampled_loop_options({
    {"-grid", "cells per side of the 2-D training operators"},
    {"-smoother_grid3d", "cells per side of the 3-D training operators"},
    {"-smoother_dims", "comma-separated dimensions of the training operators, drawn in turn: 2,3"},
    {"-smoother_operators", "comma-separated operator kinds: darcy,lognormal,contrast,anisotropic"},
    {"-smoother_dof",
     "fields per grid point of the training operators (1; 2-4: coupled fields, a model that "
     "reads each entry's fields, for multi-field operators)"},
    {"-smoother_loss",
     "what M is trained for: one_step (the energy error of one damped step) or two_grid (the "
     "error of a two-grid cycle: Chebyshev(2) with M around a smoothed-aggregation coarse "
     "correction, as on GAMG's levels)"},
    {"-smoother_galerkin",
     "1: every other batch of each dimension holds Galerkin coarse operators P^T A P of "
     "operators drawn on a grid twice as fine (9-/27-point rows, as on PCMG's and GAMG's "
     "coarse levels; the default for one field); 0: fine operators only (the default for "
     "several fields)"},
});

std::string join_ints(const std::vector<int>& v) {
  std::string s;
  for (int d : v) s += (s.empty() ? "" : ",") + std::to_string(d);
  return s;
}

// Jacobi's values, M = D⁻¹ on A's pattern: the baseline the network must beat.
torch::Tensor jacobi_values(const SmootherBatch& b) {
  const torch::Tensor d = sparse_diagonal(b.pattern, b.values);
  const torch::Tensor m = torch::zeros_like(b.values);
  const torch::Tensor at = b.pattern.diagonal_index();
  m.index_copy_(1, at, d.reciprocal());
  return m;
}

// A batch and, for the two-grid loss, its coarse space (built once: it does not depend on M).
struct Problems {
  SmootherBatch batch;
  SmootherCoarseSpace coarse;
};

torch::Tensor moved(const torch::Tensor& t, torch::Device device) {
  return t.defined() ? t.to(device) : t;
}

// The problems on `device`: drawn (and their coarse spaces factored) on the host, then moved
// once, so every device trains on the same problems.
Problems to_device(Problems p, torch::Device device) {
  if (device.is_cpu()) return p;
  SmootherBatch& b = p.batch;
  b.pattern = b.pattern.to(device);
  for (torch::Tensor* t :
       {&b.values, &b.z, &b.field, &b.aggregate, &p.coarse.prolongation, &p.coarse.coarse_factor})
    *t = moved(*t, device);
  return p;
}

// The smoother's problems: per step one dimension (in turn), a batch of operators and errors.
class SmootherProblems : public detail::SampledProblems {
 public:
  explicit SmootherProblems(const SmootherTrainOptions& opt) : opt_(opt) {
    // Fixed validation operators of every dimension, drawn far from the training indices.
    const int per_dim = std::max<int>(1, opt_.loop.val_samples / int(opt_.dims.size()));
    for (int dim : opt_.dims) {
      val_.push_back(problems(sample_smoother_batch(opt_.kinds, dim, side(dim), per_dim,
                                                    opt_.loop.seed, std::uint64_t(1) << 40,
                                                    opt_.dof)));
      if (opt_.galerkin)
        val_.push_back(problems(sample_galerkin_smoother_batch(
            opt_.kinds, dim, side(dim), per_dim, opt_.loop.seed, std::uint64_t(1) << 41)));
    }
  }
  void to(torch::Device device) override {
    device_ = device;
    for (auto& v : val_) v = to_device(std::move(v), device);
  }
  void draw(std::int64_t step, Share share) override {
    const std::size_t dims = opt_.dims.size();
    const int dim = opt_.dims[size_t(step) % dims];
    const int count = int(share.end - share.begin);
    const std::uint64_t first = std::uint64_t(step) * std::uint64_t(opt_.loop.batch_size) + share.begin;
    // With -smoother_galerkin every other round of the dimensions is coarse operators.
    if (opt_.galerkin && (size_t(step) / dims) % 2 == 1)
      batch_ = problems(sample_galerkin_smoother_batch(opt_.kinds, dim, side(dim), count,
                                                       opt_.loop.seed, first));
    else
      batch_ = problems(
          sample_smoother_batch(opt_.kinds, dim, side(dim), count, opt_.loop.seed, first, opt_.dof));
  }
  torch::Tensor loss(Surrogate& model) override { return loss_on(model, batch_); }
  double validation_loss(Surrogate& model) override {
    double sum = 0;
    for (const auto& b : val_) sum += loss_on(model, b).item<double>();
    return sum / double(val_.size());
  }
  double baseline_loss() override {
    torch::NoGradGuard no_grad;
    double sum = 0;
    for (const auto& b : val_) sum += loss_of(b, jacobi_values(b.batch)).item<double>();
    return sum / double(val_.size());
  }
  std::string validation_line(double baseline, double untrained) const override {
    std::ostringstream os;
    os << (two_grid() ? "energy-norm error left by one two-grid cycle, Chebyshev/Jacobi (GAMG's "
                        "levels) "
                      : "energy-norm error left by one damped step, Jacobi ")
       << baseline << ", the untrained network " << untrained;
    return os.str();
  }
  nlohmann::json fingerprint() const override {
    nlohmann::json f = {{"-grid", opt_.grid},
                        {"-smoother_grid3d", opt_.grid3d},
                        {"-smoother_dims", join_ints(opt_.dims)},
                        {"-smoother_operators", join_commas(opt_.kinds)}};
    if (opt_.dof > 1) f["-smoother_dof"] = opt_.dof;  // scalar checkpoints stay resumable
    if (two_grid()) f["-smoother_loss"] = opt_.loss;   // and one-step ones too
    if (opt_.galerkin) f["-smoother_galerkin"] = opt_.galerkin;
    return f;
  }

 private:
  int side(int dim) const { return dim == 3 ? opt_.grid3d : opt_.grid; }
  bool two_grid() const { return opt_.loss == "two_grid"; }
  // A drawn batch with its coarse space, on the training device.
  Problems problems(SmootherBatch b) const {
    Problems p{std::move(b), {}};
    if (two_grid())
      p.coarse = smoother_coarse_space(p.batch.pattern, p.batch.values, p.batch.aggregate);
    return to_device(std::move(p), device_);
  }
  torch::Tensor loss_of(const Problems& p, const torch::Tensor& m) const {
    const SmootherBatch& b = p.batch;
    return two_grid() ? smoother_two_grid_loss(b.pattern, b.values, m, b.z, p.coarse)
                      : smoother_loss(b.pattern, b.values, m, b.z);
  }
  torch::Tensor loss_on(Surrogate& model, const Problems& p) const {
    const SmootherBatch& b = p.batch;
    return loss_of(p, smoother_apply_model(model, b.pattern, b.values, b.field));
  }

  const SmootherTrainOptions& opt_;
  torch::Device device_ = torch::kCPU;  // until to(): the validation set is drawn first
  std::vector<Problems> val_;
  Problems batch_;
};

}  // namespace

SmootherTrainOptions SmootherTrainOptions::from_options(const OptionMap& o) {
  detail::check_known_options(o, kOptions, {"-train_", "-smoother_"}, " for -task smoother");
  SmootherTrainOptions t;
  t.loop.steps = 1000;
  t.grid = o.get_int("-grid", t.grid);
  t.grid3d = o.get_int("-smoother_grid3d", t.grid3d);
  if (o.has("-smoother_dims")) {
    t.dims.clear();
    for (const auto& d : detail::split_commas(o.get_string("-smoother_dims", ""))) {
      PINS_CHECK(d == "2" || d == "3", "-smoother_dims: each dimension must be 2 or 3, got '", d,
                 "'");
      t.dims.push_back(std::stoi(d));
    }
  }
  if (o.has("-smoother_operators"))
    t.kinds = detail::split_commas(o.get_string("-smoother_operators", ""));
  t.dof = o.get_int("-smoother_dof", t.dof);
  t.loss = o.get_string("-smoother_loss", t.loss);
  // Coarse operators in training by default for one field (measured better on every level
  // and grid tried: bench/RESULTS.md, "Galerkin coarse operators in training").
  t.galerkin = o.get_int("-smoother_galerkin", t.dof == 1 ? 1 : 0);
  t.loop.read_loop_options(o);
  t.validate();
  return t;
}

std::string SmootherTrainOptions::help() {
  const SmootherTrainOptions d;
  std::ostringstream os;
  os << "Smoother training options (pins train -task smoother):\n";
  os << detail::option_help_lines(kOptions);
  os << "  defaults: -grid " << d.grid << " -smoother_grid3d " << d.grid3d << " -smoother_dims "
     << join_ints(d.dims) << " -smoother_operators " << join_commas(d.kinds) << " -smoother_dof "
     << d.dof << " -smoother_loss " << d.loss << " -smoother_galerkin 1 (0 with -smoother_dof > 1)"
     << " -train_steps 1000 -train_batch_size " << d.loop.batch_size << " -train_lr "
     << d.loop.lr << "\n";
  return os.str();
}

void SmootherTrainOptions::validate() const {
  PINS_CHECK(grid >= 4 && grid <= 1024, "-grid must be in [4, 1024] for -task smoother, got ",
             grid);
  PINS_CHECK(grid3d >= 4 && grid3d <= 128, "-smoother_grid3d must be in [4, 128], got ", grid3d);
  PINS_CHECK(!dims.empty(), "-smoother_dims is empty (give 2, 3 or 2,3)");
  detail::check_operator_kinds("-smoother_operators", kinds);
  PINS_CHECK(dof >= 1 && dof <= 4, "-smoother_dof must be in [1, 4] (fields per grid point), got ",
             dof);
  PINS_CHECK(loss == "one_step" || loss == "two_grid",
             "-smoother_loss must be one_step or two_grid, got '", loss, "'");
  PINS_CHECK(galerkin == 0 || galerkin == 1, "-smoother_galerkin must be 0 or 1, got ", galerkin);
  PINS_CHECK(galerkin == 0 || dof == 1,
             "-smoother_galerkin 1 coarsens one-field operators only; got -smoother_dof ", dof);
  loop.validate_loop();
}

int SmootherTrainOptions::features() const {
  return dof > 1 ? kSmootherFieldFeatures : kSmootherFeatures;
}

PreconditionTrainResult train_smoother(Surrogate& model, const SmootherTrainOptions& opt) {
  opt.validate();
  PINS_CHECK(model.in_channels() == opt.features() && model.out_channels() == 1,
             "a smoother model for -smoother_dof ", opt.dof, " needs ", opt.features(),
             " input channels (the features of a matrix entry) and 1 output, got ",
             model.in_channels(), " -> ", model.out_channels());
  PINS_CHECK(model.traits().matrix_entries, "surrogate type '", model.type(),
             "' does not run on sparse-matrix entries; -task smoother needs one that does (",
             kDefaultSmootherSurrogate, ")");
  SmootherProblems problems(opt);
  return detail::train_on_sampled_problems(model, opt.loop, problems);
}

ModelManifest smoother_manifest(const SmootherTrainOptions& opts, const PreconditionTrainResult& r,
                                const std::string& command) {
  ModelManifest m;
  m.problem_family = "sparse";
  m.task = kSmootherTask;
  m.grid_nx = m.grid_ny = opts.grid;
  m.normalisation = {
      {"features", std::string("a_ij/sqrt(a_ii a_jj), diagonal flag, row coupling "
                               "sums and row sums of i and j") +
                       (opts.dof > 1 ? ", same-field flag" : "") + " (pins/core/smoother.hpp)"},
      {"values", "M = D^-1/2 Mhat D^-1/2, Mhat diagonally dominant"}};
  m.training_data_hash = "sampled:" + join_commas(opts.kinds) + ":dims=" + join_ints(opts.dims) +
                         (opts.dof > 1 ? ":dof=" + std::to_string(opts.dof) : std::string()) +
                         (opts.galerkin ? ":galerkin" : "") +
                         ":seed=" + std::to_string(opts.loop.seed);
  m.metrics = {{"val_energy_error_jacobi", r.bare_val_loss},
               {"val_energy_error_untrained", r.initial_val_loss},
               {"val_energy_error", r.final_val_loss},
               {"steps", r.steps},
               {"seconds", r.seconds},
               {"training_seconds", r.seconds},  // the same key as solution models'
               {"operators", join_commas(opts.kinds)},
               {"dims", join_ints(opts.dims)},
               {"dof", opts.dof},
               {"loss", opts.loss},
               {"galerkin", opts.galerkin},
               {"command", command}};
  return m;
}

}  // namespace pins
