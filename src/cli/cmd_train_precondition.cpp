// pins train -task precondition: train a neural preconditioner for 5-point operators on
// sampled problems (no dataset, no solves) and write a model file for -pc_type surrogate.

#include <torch/torch.h>

#include <cstdio>
#include <string>

#include "cli_options.hpp"
#include "commands.hpp"
#include "pins/core/check.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/mpi_process_group.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::cli {

int run_train_precondition(MPI_Comm comm, const std::string& command_line,
                           const std::string& output, bool force, const std::string& surrogate) {
  const OptionMap options = options_with_prefixes(
      {"-train_", "-precondition_", "-grid", "-" + surrogate + "_"});
  // Data parallel over `comm`: every process trains on its share of each step's problems;
  // process 0 prints and writes the model file.
  const pins::petsc::MpiProcessGroup group(comm);
  const bool root = group.rank() == 0;
  on_all_ranks(comm, [&] {
    PINS_CHECK(!output.empty(), "-o <model.pins> is required: the model file to write");
    check_output_path(output, "-o", force);
    check_surrogate_traits(surrogate, {kPreconditionTask, 2, false, ""});  // 5-point, 2-D
    PreconditionTrainOptions opts = PreconditionTrainOptions::from_options(options, surrogate);
    opts.force = force;  // -force also starts over from an existing -train_checkpoint
    if (group.size() > 1) opts.group = &group;
    // -train_device resolved (a refused one named) before any work.
    const std::string device = training_device(opts.device).str();
    // Fail on the architecture options before any work.
    make_surrogate(surrogate, options, kPreconditionChannels, 1);
    set_training_threads(opts.threads);
    torch::manual_seed(opts.seed);
    auto model = make_surrogate(surrogate, options, kPreconditionChannels, 1);
    int64_t parameters = 0;
    for (const auto& p : model->module().parameters()) parameters += p.numel();
    std::string kinds;
    for (const auto& k : opts.kinds) kinds += (kinds.empty() ? "" : ",") + k;
    if (opts.monitor_every > 0 && root) {
      const std::string cycle =
          opts.smooth > 0 ? std::to_string(opts.smooth) + " Jacobi sweeps, network step, " +
                                std::to_string(opts.smooth) + " Jacobi sweeps"
                          : "the network step alone";
      std::printf(
          "pins train -task precondition: %s operators on %d x %d, %d steps of %d problems\n"
          "  model       %s, %lld parameters, float32 on %s, %d threads\n"
          "  cycle       %s; loss |r - A z|^2 / |r|^2\n",
          kinds.c_str(), opts.grid, opts.grid, opts.steps, opts.batch_size, surrogate.c_str(),
          (long long)parameters, device.c_str(), torch::get_num_threads(), cycle.c_str());
      std::fflush(stdout);
    }
    const PreconditionTrainResult r = train_preconditioner(*model, opts);

    const ModelManifest m = precondition_manifest(opts, r, command_line);
    if (root) save_model(output, *model, m, force);
    if (opts.monitor_every > 0 && root) {
      std::printf("pins train: wrote %s (validation relative residual^2 %.4g; untrained %.4g",
                  output.c_str(), r.final_val_loss, r.initial_val_loss);
      if (opts.smooth > 0) std::printf(", %.4g with the sweeps alone", r.bare_val_loss);
      std::printf(") in %.0f s\n", r.seconds);
      std::fflush(stdout);
    }
  });
  return 0;
}

}  // namespace pins::cli
