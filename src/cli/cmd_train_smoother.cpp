// pins train -task smoother: train the learned sparse smoother (pins/core/smoother.hpp) on
// sampled Darcy operators (no dataset, no solves) and write a model file for
// -pc_type surrogate_smoother (e.g. -mg_levels_pc_type surrogate_smoother inside GAMG).

#include <torch/torch.h>

#include <cstdio>
#include <string>

#include "cli_options.hpp"
#include "commands.hpp"
#include "pins/core/check.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/smoother.hpp"
#include "pins/core/smoother_train.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/mpi_process_group.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::cli {

int run_train_smoother(MPI_Comm comm, const std::string& command_line, const std::string& output,
                       bool force, const std::string& surrogate) {
  const OptionMap options =
      options_with_prefixes({"-train_", "-smoother_", "-grid", "-" + surrogate + "_"});
  // Data parallel over `comm`: every process trains on its share of each step's problems;
  // process 0 prints and writes the model file.
  const pins::petsc::MpiProcessGroup group(comm);
  const bool root = group.rank() == 0;
  on_all_ranks(comm, [&] {
    PINS_CHECK(!output.empty(), "-o <model.pins> is required: the model file to write");
    check_output_path(output, "-o", force);
    check_surrogate_traits(surrogate, {kSmootherTask, 0, false, ""});
    SmootherTrainOptions opts = SmootherTrainOptions::from_options(options);
    opts.loop.force = force;  // -force also starts over from an existing -train_checkpoint
    if (group.size() > 1) opts.loop.group = &group;
    // -train_device resolved (a refused one named) before any work.
    const std::string device = training_device(opts.loop.device).str();
    make_surrogate(surrogate, options, opts.features(), 1);  // fail on options before work
    set_training_threads(opts.loop.threads);
    torch::manual_seed(opts.loop.seed);
    auto model = make_surrogate(surrogate, options, opts.features(), 1);
    int64_t parameters = 0;
    for (const auto& p : model->module().parameters()) parameters += p.numel();
    if (opts.loop.monitor_every > 0 && root) {
      std::string dims;
      for (int d : opts.dims) dims += (dims.empty() ? "" : ", ") + std::to_string(d) + "-D";
      const std::string fields =
          opts.dof > 1 ? ", " + std::to_string(opts.dof) + " coupled fields per point" : "";
      std::printf(
          "pins train -task smoother: Darcy operators (%s%s; %d per side in 2-D, %d in "
          "3-D), %d steps of %d operators\n"
          "  model       %s, %lld parameters, float32 on %s, %d threads\n"
          "  loss        %s\n",
          dims.c_str(), fields.c_str(), opts.grid, opts.grid3d, opts.loop.steps,
          opts.loop.batch_size, surrogate.c_str(), (long long)parameters, device.c_str(),
          torch::get_num_threads(),
          opts.loss == "two_grid"
              ? "energy-norm error left by one two-grid cycle from white noise: Chebyshev(2) "
                "with M around a smoothed-aggregation coarse correction"
              : "energy-norm error left by one damped step of M from white noise");
      std::fflush(stdout);
    }
    const PreconditionTrainResult r = train_smoother(*model, opts);
    if (root) save_model(output, *model, smoother_manifest(opts, r, command_line), force);
    if (opts.loop.monitor_every > 0 && root) {
      std::printf("pins train: wrote %s (validation energy error %.4g; %s %.4g, untrained "
                  "%.4g) in %.0f s\n",
                  output.c_str(), r.final_val_loss,
                  opts.loss == "two_grid" ? "Chebyshev/Jacobi" : "Jacobi", r.bare_val_loss,
                  r.initial_val_loss, r.seconds);
      std::fflush(stdout);
    }
  });
  return 0;
}

}  // namespace pins::cli
