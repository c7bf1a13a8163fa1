// Training a neural preconditioner on sampled problems (precondition.hpp): no dataset, no
// solves; every step draws fresh operators and residuals, so there is nothing to overfit.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "option_table.hpp"
#include "pins/core/check.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/trainer.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"

namespace pins {

namespace {

using detail::OptionDoc;
using detail::join_commas;

const OptionDoc kOptions[] = {
    {"-grid", "cells per side of the training operators"},
    {"-precondition_operators", "comma-separated operator kinds: darcy,lognormal,contrast,anisotropic"},
    {"-precondition_smooth", "damped-Jacobi sweeps before and after the network in training"},
    {"-precondition_iterations", "cycles of the stationary iteration the loss is taken after"},
    {"-train_steps", "optimiser steps, each on a fresh batch (0: write the untrained network)"},
    {"-train_batch_size", "problems per step"},
    {"-train_lr", "initial learning rate (cosine schedule to 0)"},
    {"-train_seed", "seed of the initial weights and the sampled problems"},
    {"-train_threads", "LibTorch threads (0: the cores available)"},
    {"-train_monitor_every", "steps between progress lines (0: quiet)"},
    {"-train_log", "write the history (step, loss, validation, lr, seconds) as CSV"},
};

}  // namespace

PreconditionTrainOptions PreconditionTrainOptions::from_options(const OptionMap& o,
                                                                const std::string& surrogate) {
  detail::check_known_options(o, kOptions, {"-train_", "-precondition_"}, " for -task precondition");
  PreconditionTrainOptions t;
  if (!surrogate.empty() && surrogate_traits(surrogate).smooths) {
    t.smooth = 0;  // its V-cycle smooths on every level itself
    t.iterations = 3;
  }
  t.grid = o.get_int("-grid", t.grid);
  if (o.has("-precondition_operators"))
    t.kinds = detail::split_commas(o.get_string("-precondition_operators", ""));
  t.smooth = o.get_int("-precondition_smooth", t.smooth);
  t.iterations = o.get_int("-precondition_iterations", t.iterations);
  t.steps = o.get_int("-train_steps", t.steps);
  t.batch_size = o.get_int("-train_batch_size", t.batch_size);
  t.lr = o.get_double("-train_lr", t.lr);
  const int seed = o.get_int("-train_seed", 0);
  PINS_CHECK(seed >= 0, "-train_seed must be >= 0, got ", seed);
  t.seed = std::uint64_t(seed);
  t.threads = o.get_int("-train_threads", t.threads);
  t.monitor_every = o.get_int("-train_monitor_every", t.monitor_every);
  t.log = o.get_string("-train_log", t.log);
  t.validate();
  return t;
}

std::string PreconditionTrainOptions::help() {
  const PreconditionTrainOptions d;
  std::ostringstream os;
  os << "Preconditioner training options (pins train -task precondition):\n";
  for (const auto& k : kOptions) {
    std::string left = std::string("  ") + k.name;
    if (left.size() < 30) left.resize(30, ' ');
    os << left << " " << k.help << "\n";
  }
  os << "  defaults: -grid " << d.grid << " -precondition_operators " << join_commas(d.kinds)
     << " -precondition_smooth " << d.smooth << " (0 for mgnet) -precondition_iterations "
     << d.iterations << " (3 for mgnet) -train_steps " << d.steps
     << " -train_batch_size " << d.batch_size << " -train_lr " << d.lr << "\n";
  return os.str();
}

void PreconditionTrainOptions::validate() const {
  PINS_CHECK(grid >= 8 && grid <= 1024, "-grid must be in [8, 1024] for -task precondition, got ", grid);
  PINS_CHECK(!kinds.empty(), "-precondition_operators is empty (known: ", join_commas(operator_kinds()), ")");
  for (const auto& k : kinds) {
    bool known = false;
    for (const auto& n : operator_kinds()) known = known || k == n;
    PINS_CHECK(known, "-precondition_operators: unknown kind '", k, "' (known: ",
               join_commas(operator_kinds()), ")");
  }
  PINS_CHECK(smooth >= 0 && smooth <= 50, "-precondition_smooth must be in [0, 50], got ", smooth);
  PINS_CHECK(iterations >= 1 && iterations <= 20, "-precondition_iterations must be in [1, 20], got ",
             iterations);
  PINS_CHECK(steps >= 0, "-train_steps must be >= 0 (0 writes the untrained network, a "
             "baseline), got ", steps);
  PINS_CHECK(batch_size >= 1, "-train_batch_size must be at least 1, got ", batch_size);
  PINS_CHECK(lr > 0 && std::isfinite(lr), "-train_lr must be positive, got ", lr);
  PINS_CHECK(threads >= 0, "-train_threads must be >= 0, got ", threads);
  PINS_CHECK(monitor_every >= 0, "-train_monitor_every must be >= 0, got ", monitor_every);
  PINS_CHECK(val_samples >= 1, "validation samples must be at least 1");
}

PreconditionTrainResult train_preconditioner(Surrogate& model, const PreconditionTrainOptions& opt) {
  opt.validate();
  PINS_CHECK(model.in_channels() == kPreconditionChannels && model.out_channels() == 1,
             "a preconditioner model needs ", kPreconditionChannels,
             " input channels (couplings W, E, S, N and the residual) and 1 output, got ",
             model.in_channels(), " -> ", model.out_channels());
  set_training_threads(opt.threads);
  std::ostream& out = opt.out ? *opt.out : std::cout;
  std::ofstream log;
  if (!opt.log.empty()) {
    log.open(opt.log);
    PINS_CHECK(log.good(), "-train_log ", opt.log, ": cannot open for writing");
    log << "step,loss,val_loss,lr,seconds\n";
  }
  const torch::ScalarType dtype = torch::kFloat32;
  model.module().to(dtype);
  model.module().train();
  std::vector<torch::Tensor> params;
  for (const auto& p : model.module().parameters()) params.push_back(p);
  torch::optim::Adam adam(params, torch::optim::AdamOptions(opt.lr));

  // A fixed validation set, drawn far from the training indices.
  const PreconditionBatch val = sample_precondition_batch(opt.kinds, opt.grid, opt.val_samples,
                                                          opt.seed, std::uint64_t(1) << 40);
  const torch::Tensor val_c = val.scaled_coeffs.to(dtype), val_r = val.rhat.to(dtype);
  auto val_loss = [&]() {
    torch::NoGradGuard no_grad;
    model.module().eval();
    const double l =
        precondition_loss(val_c, val_r,
                          precondition_iterate(model, val_c, val_r, opt.smooth, opt.iterations))
            .item<double>();
    model.module().train();
    return l;
  };
  PreconditionTrainResult result;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor z =
        jacobi_sweeps(val_c, val_r, torch::zeros_like(val_r), 2 * opt.smooth * opt.iterations);
    result.bare_val_loss = precondition_loss(val_c, val_r, z).item<double>();
  }
  result.initial_val_loss = val_loss();
  result.final_val_loss = result.initial_val_loss;  // stays so for -train_steps 0
  if (opt.monitor_every > 0) {
    out << "  validation: " << opt.val_samples << " problems; relative residual^2 ";
    if (opt.smooth > 0)
      out << "after " << 2 * opt.smooth * opt.iterations << " Jacobi sweeps alone "
          << result.bare_val_loss << ", ";
    out << "with the untrained network " << result.initial_val_loss;
    if (opt.iterations > 1) out << " (after " << opt.iterations << " cycles)";
    out << std::endl;
  }

  const auto t0 = std::chrono::steady_clock::now();
  double loss_sum = 0;
  int loss_count = 0, skipped = 0;
  for (int step = 0; step < opt.steps; ++step) {
    const double lr = opt.lr * 0.5 * (1 + std::cos(M_PI * step / opt.steps));
    for (auto& g : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
    const PreconditionBatch b = sample_precondition_batch(
        opt.kinds, opt.grid, opt.batch_size, opt.seed,
        std::uint64_t(step) * std::uint64_t(opt.batch_size));
    const torch::Tensor c = b.scaled_coeffs.to(dtype), r = b.rhat.to(dtype);
    adam.zero_grad();
    const torch::Tensor loss =
        precondition_loss(c, r, precondition_iterate(model, c, r, opt.smooth, opt.iterations));
    bool ok = torch::isfinite(loss).item<bool>();
    if (ok) {
      loss.backward();
      for (const auto& p : params) ok = ok && (!p.grad().defined() || torch::isfinite(p.grad()).all().item<bool>());
    }
    if (ok) {
      adam.step();
      loss_sum += loss.item<double>();
      ++loss_count;
    } else {
      ++skipped;  // never let a non-finite step reach the weights
      PINS_CHECK(skipped <= 20, "preconditioner training: ", skipped,
                 " steps with a non-finite loss or gradient; lower -train_lr");
    }
    const bool report = (opt.monitor_every > 0 && (step + 1) % opt.monitor_every == 0) ||
                        step + 1 == opt.steps;
    if (report) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double v = val_loss();
      const double mean = loss_count ? loss_sum / loss_count : std::nan("");
      if (opt.monitor_every > 0) {
        out << "step " << std::setw(5) << step + 1 << "/" << opt.steps << "  loss "
            << std::scientific << std::setprecision(3) << mean << "  val " << v << std::defaultfloat
            << "  lr " << std::setprecision(2) << lr << std::setprecision(6) << "  "
            << std::lround(double(step + 1) * opt.batch_size / seconds) << " problems/s  ETA "
            << detail::format_duration(seconds / (step + 1) * (opt.steps - step - 1)) << std::endl;
      }
      if (log.is_open()) log << step + 1 << "," << mean << "," << v << "," << lr << "," << seconds << "\n";
      result.final_val_loss = v;
      loss_sum = 0;
      loss_count = 0;
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.steps = opt.steps;
  model.module().eval();
  return result;
}

ModelManifest precondition_manifest(const PreconditionTrainOptions& opts,
                                    const PreconditionTrainResult& r, const std::string& command) {
  const std::string kinds = join_commas(opts.kinds);
  ModelManifest m;
  m.problem_family = "5-point";
  m.task = kPreconditionTask;
  m.grid_nx = m.grid_ny = opts.grid;
  m.normalisation = {{"features", "couplings W,E,S,N of D^-1 A and D^-1 r / rms"},
                     {"smooth", opts.smooth},
                     {"loss_iterations", opts.iterations},
                     {"jacobi_damping", kJacobiDamping}};
  m.training_data_hash = "sampled:" + kinds + ":seed=" + std::to_string(opts.seed);
  m.metrics = {{"val_residual2_bare_sweeps", r.bare_val_loss},
               {"val_residual2_untrained", r.initial_val_loss},
               {"val_residual2", r.final_val_loss},
               {"steps", r.steps},
               {"seconds", r.seconds},
               {"operators", kinds},
               {"command", command}};
  return m;
}

}  // namespace pins
