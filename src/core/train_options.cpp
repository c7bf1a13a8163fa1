// TrainOptions: the -train_* options, their defaults, -help text and validation.
#include <torch/types.h>

#include <cmath>
#include <sstream>

#include "option_table.hpp"
#include "pins/core/check.hpp"
#include "pins/core/trainer.hpp"
#include "train_device.hpp"

namespace pins {

namespace {

using detail::OptionDoc;

// Every -train_* option, in -help order. from_options rejects names not listed here.
const OptionDoc kOptions[] = {
    {"-train_epochs", "epochs to train"},
    {"-train_batch_size", "samples per mini-batch"},
    {"-train_lr", "initial learning rate"},
    {"-train_schedule", "learning-rate schedule: cosine, step or constant"},
    {"-train_step_size", "step schedule: epochs between decays (0: epochs/3)"},
    {"-train_gamma", "step schedule: decay factor"},
    {"-train_optimizer", "adam or lbfgs (L-BFGS with strong-Wolfe line search per batch)"},
    {"-train_weight_decay", "Adam weight decay"},
    {"-train_data_weight", "weight of the relative L2 data loss (0: physics only)"},
    {"-train_physics_weight", "weight of the physics loss"},
    {"-train_physics_loss",
     "residual: |D^-1(A u - f)|^2/|D^-1 f|^2 per sample; energy: (u'Au/2 - f'u)/(n f'D^-1 f), "
     "symmetric operators; preconditioned: |B(A u - f)|^2/|B f|^2, B = multigrid V-cycles"},
    {"-train_physics_cycles", "preconditioned loss: V-cycles in B (more: B closer to A^-1)"},
    {"-train_val_fraction", "fraction of the samples held out for validation"},
    {"-train_val_data", "validation dataset file: train on every sample of -data instead"},
    {"-train_unlabelled",
     "inputs-only dataset (pins generate -inputs_only): physics loss on its samples too"},
    {"-train_unlabelled_batch_size",
     "unlabelled samples added to each mini-batch (0: -train_batch_size)"},
    {"-train_augment",
     "none, or symmetries: each mini-batch mirrored/transposed at random (grid symmetries)"},
    {"-train_patience", "stop after this many epochs without a better validation error (0: off)"},
    {"-train_seed", "seed of the initial weights, the split and the shuffles"},
    {"-train_threads", "LibTorch threads (0: the cores available)"},
    {"-train_checkpoint_every", "write a checkpoint every k epochs (0: only at the end)"},
    {"-train_checkpoint", "checkpoint file (pins train: <output>.ckpt)"},
    {"-train_resume", "continue from the checkpoint"},
    {"-train_monitor", "0: quiet, 1: a line per epoch, 2: also progress within epochs"},
    {"-train_log", "write the history to this file (.json: JSON, else CSV)"},
    {"-train_max_bad_steps", "non-finite steps before rolling back to the last checkpoint"},
    {"-train_max_rollbacks", "rollbacks before training stops with an error"},
    {"-train_dtype", "float32 or float64"},
    {"-train_device",
     "auto, cpu or cuda: where the model, the batches, the operators and the physics loss "
     "live (auto: cuda when LibTorch sees a GPU and pins' Kokkos kernels run on one, else "
     "cpu)"},
    {"-train_memory",
     "MB of dataset values to hold per process (0: auto, a quarter of the available memory "
     "shared by the node's processes); larger datasets are streamed from their files"},
};

std::string default_text(const std::string& name) {
  const TrainOptions d;
  std::ostringstream os;
  if (name == "-train_epochs") os << d.epochs;
  else if (name == "-train_batch_size") os << d.batch_size;
  else if (name == "-train_lr") os << d.lr;
  else if (name == "-train_schedule") os << d.schedule;
  else if (name == "-train_step_size") os << d.step_size;
  else if (name == "-train_gamma") os << d.gamma;
  else if (name == "-train_optimizer") os << d.optimizer;
  else if (name == "-train_weight_decay") os << d.weight_decay;
  else if (name == "-train_data_weight") os << d.data_weight;
  else if (name == "-train_physics_weight") os << d.physics_weight;
  else if (name == "-train_physics_loss") os << d.physics_loss;
  else if (name == "-train_val_fraction") os << d.val_fraction;
  else if (name == "-train_val_data") os << "none";
  else if (name == "-train_physics_cycles") os << d.physics_cycles;
  else if (name == "-train_unlabelled") os << "none";
  else if (name == "-train_unlabelled_batch_size") os << d.unlabelled_batch_size;
  else if (name == "-train_augment") os << d.augment;
  else if (name == "-train_patience") os << d.patience;
  else if (name == "-train_seed") os << d.seed;
  else if (name == "-train_threads") os << d.threads;
  else if (name == "-train_checkpoint_every") os << d.checkpoint_every;
  else if (name == "-train_checkpoint") os << "(none)";
  else if (name == "-train_resume") os << "false";
  else if (name == "-train_monitor") os << d.monitor;
  else if (name == "-train_log") os << "(none)";
  else if (name == "-train_max_bad_steps") os << d.max_bad_steps;
  else if (name == "-train_max_rollbacks") os << d.max_rollbacks;
  else if (name == "-train_dtype") os << d.dtype;
  else if (name == "-train_device") os << d.device;
  else if (name == "-train_memory") os << d.memory_mb;
  return os.str();
}

}  // namespace

TrainOptions TrainOptions::from_options(const OptionMap& o) {
  detail::check_known_options(o, kOptions, {"-train_"});
  TrainOptions t;
  t.epochs = o.get_int("-train_epochs", t.epochs);
  t.batch_size = o.get_int("-train_batch_size", t.batch_size);
  t.lr = o.get_double("-train_lr", t.lr);
  t.schedule = o.get_string("-train_schedule", t.schedule);
  t.step_size = o.get_int("-train_step_size", t.step_size);
  t.gamma = o.get_double("-train_gamma", t.gamma);
  t.optimizer = o.get_string("-train_optimizer", t.optimizer);
  t.weight_decay = o.get_double("-train_weight_decay", t.weight_decay);
  t.data_weight = o.get_double("-train_data_weight", t.data_weight);
  t.physics_weight = o.get_double("-train_physics_weight", t.physics_weight);
  t.physics_loss = o.get_string("-train_physics_loss", t.physics_loss);
  t.val_fraction = o.get_double("-train_val_fraction", t.val_fraction);
  t.val_data = o.get_string("-train_val_data", t.val_data);
  t.physics_cycles = o.get_int("-train_physics_cycles", t.physics_cycles);
  t.unlabelled = o.get_string("-train_unlabelled", t.unlabelled);
  t.unlabelled_batch_size = o.get_int("-train_unlabelled_batch_size", t.unlabelled_batch_size);
  t.augment = o.get_string("-train_augment", t.augment);
  t.patience = o.get_int("-train_patience", t.patience);
  const int seed = o.get_int("-train_seed", 0);
  PINS_CHECK(seed >= 0, "-train_seed must be >= 0, got ", seed);
  t.seed = std::uint64_t(seed);
  t.threads = o.get_int("-train_threads", t.threads);
  t.checkpoint_every = o.get_int("-train_checkpoint_every", t.checkpoint_every);
  t.checkpoint = o.get_string("-train_checkpoint", t.checkpoint);
  t.resume = o.get_bool("-train_resume", t.resume);
  t.monitor = o.get_int("-train_monitor", t.monitor);
  t.log = o.get_string("-train_log", t.log);
  t.max_bad_steps = o.get_int("-train_max_bad_steps", t.max_bad_steps);
  t.max_rollbacks = o.get_int("-train_max_rollbacks", t.max_rollbacks);
  t.dtype = o.get_string("-train_dtype", t.dtype);
  t.device = o.get_string("-train_device", t.device);
  t.memory_mb = o.get_double("-train_memory", t.memory_mb);
  t.validate();
  return t;
}

std::string TrainOptions::help() {
  std::ostringstream os;
  os << "Training options (pins::TrainOptions):\n";
  for (const auto& o : kOptions) {
    std::string left = std::string("  ") + o.name + " <" + default_text(o.name) + ">";
    if (left.size() < 36) left.resize(36, ' ');
    os << left << " " << o.help << "\n";
  }
  return os.str();
}

void TrainOptions::validate() const {
  PINS_CHECK(epochs >= 1, "-train_epochs must be at least 1, got ", epochs);
  PINS_CHECK(batch_size >= 1, "-train_batch_size must be at least 1, got ", batch_size);
  PINS_CHECK(lr > 0, "-train_lr must be positive, got ", lr);
  PINS_CHECK(schedule == "cosine" || schedule == "step" || schedule == "constant",
             "-train_schedule must be cosine, step or constant, got '", schedule, "'");
  PINS_CHECK(step_size >= 0, "-train_step_size must be >= 0, got ", step_size);
  PINS_CHECK(gamma > 0 && gamma <= 1, "-train_gamma must be in (0, 1], got ", gamma);
  PINS_CHECK(optimizer == "adam" || optimizer == "lbfgs",
             "-train_optimizer must be adam or lbfgs, got '", optimizer, "'");
  PINS_CHECK(weight_decay >= 0, "-train_weight_decay must be >= 0, got ", weight_decay);
  PINS_CHECK(data_weight >= 0, "-train_data_weight must be >= 0, got ", data_weight);
  PINS_CHECK(physics_weight >= 0, "-train_physics_weight must be >= 0, got ", physics_weight);
  PINS_CHECK(data_weight > 0 || physics_weight > 0,
             "-train_data_weight and -train_physics_weight are both 0: nothing to train on");
  PINS_CHECK(physics_loss == "residual" || physics_loss == "energy" ||
                 physics_loss == "preconditioned",
             "-train_physics_loss must be ", physics_loss_kinds(), ", got '", physics_loss, "'");
  PINS_CHECK(physics_cycles >= 1, "-train_physics_cycles must be at least 1, got ",
             physics_cycles);
  PINS_CHECK(unlabelled_batch_size >= 0, "-train_unlabelled_batch_size must be >= 0, got ",
             unlabelled_batch_size);
  PINS_CHECK(unlabelled.empty() || physics_weight > 0, "-train_unlabelled ", unlabelled,
             " trains only through the physics loss: set -train_physics_weight > 0");
  PINS_CHECK(val_fraction >= 0 && val_fraction < 1, "-train_val_fraction must be in [0, 1), got ",
             val_fraction);
  PINS_CHECK(augment == "none" || augment == "symmetries",
             "-train_augment must be none or symmetries, got '", augment, "'");
  PINS_CHECK(patience >= 0, "-train_patience must be >= 0, got ", patience);
  PINS_CHECK(threads >= 0, "-train_threads must be >= 0, got ", threads);
  PINS_CHECK(checkpoint_every >= 0, "-train_checkpoint_every must be >= 0, got ",
             checkpoint_every);
  PINS_CHECK(!resume || !checkpoint.empty(), "-train_resume needs a checkpoint file (-train_checkpoint)");
  PINS_CHECK(monitor >= 0 && monitor <= 2, "-train_monitor must be 0, 1 or 2, got ", monitor);
  PINS_CHECK(max_bad_steps >= 1, "-train_max_bad_steps must be at least 1, got ", max_bad_steps);
  PINS_CHECK(max_rollbacks >= 0, "-train_max_rollbacks must be >= 0, got ", max_rollbacks);
  PINS_CHECK(dtype == "float32" || dtype == "float64",
             "-train_dtype must be float32 or float64, got '", dtype, "'");
  detail::check_train_device_name(device);
  PINS_CHECK(std::isfinite(memory_mb) && memory_mb >= 0,
             "-train_memory must be >= 0 (MB; 0: auto), got ", memory_mb);
}

torch::ScalarType TrainOptions::scalar_type() const {
  return dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
}

}  // namespace pins
