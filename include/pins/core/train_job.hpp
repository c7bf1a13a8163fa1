#pragma once
/// \file
/// One training run from datasets to a model and its manifest: what `pins train` and
/// `pins.train` both call, so the data checks, the seeding and the manifest are written once.
///
/// Example:
/// \code
///   pins::TrainJob job;
///   job.surrogate_type = "fno";
///   job.options = options;                               // -train_* and -fno_* options
///   job.train = pins::TrainOptions::from_options(options);
///   job.data = &dataset;  job.data_path = "train.h5";
///   pins::TrainedModel t = pins::run_train_job(job);
///   pins::save_model("fno.pins", *t.model, t.manifest);
/// \endcode

#include <functional>
#include <memory>
#include <string>

#include "pins/core/model_file.hpp"
#include "pins/core/options.hpp"
#include "pins/core/trainer.hpp"

namespace pins {

struct Dataset;
class Surrogate;

/// What to train, on what, and how.
struct TrainJob {
  std::string surrogate_type = "fno";  ///< -surrogate_type
  OptionMap options;                   ///< the -train_* and -<surrogate_type>_* options
  TrainOptions train;                  ///< parsed options plus the caller's out/hooks/force
  const Dataset* data = nullptr;       ///< labelled training set (required unless unlabelled)
  std::string data_path;               ///< named in messages and the manifest
  const Dataset* validation = nullptr; ///< -train_val_data, or null
  std::string validation_path;
  /// -train_unlabelled: an inputs-only dataset (physics loss only), or null. Without `data`
  /// it is the whole training set: physics-only training (-train_data_weight 0).
  const Dataset* unlabelled = nullptr;
  std::string unlabelled_path;
  std::string command;                 ///< recorded in the manifest's metrics
  /// Called once the model is built, before the first epoch (the CLI prints its header).
  std::function<void(const Surrogate& model, const TrainingData& data,
                     const TrainingData* validation)>
      on_start;
};

/// A trained model, its complete manifest (architecture, family, grid, normalisation, data
/// hash, metrics) and the history (an array of per-epoch objects, NaN as null).
struct TrainedModel {
  std::shared_ptr<Surrogate> model;
  ModelManifest manifest;
  TrainResult result;
  nlohmann::json history;
};

/// Runs `job`: converts and checks the datasets (errors name the file), refuses a validation
/// or unlabelled set of another family or grid, labelled data without solutions (an
/// inputs-only file) and unlabelled data with them, seeds the weights with -train_seed, builds and trains the
/// surrogate (pins::train_surrogate) and fills the manifest. Throws pins::Error.
TrainedModel run_train_job(const TrainJob& job);

}  // namespace pins
