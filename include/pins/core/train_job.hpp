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
#include <vector>

#include "pins/core/model_file.hpp"
#include "pins/core/options.hpp"
#include "pins/core/trainer.hpp"

namespace pins {

struct Dataset;
class Surrogate;

/// What to train, on what, and how. A dataset given with its attributes only
/// (pins::read_dataset_info, no arrays: what read_training_datasets returns for data that
/// does not fit in memory) is streamed from its path (pins::streamed_training_data).
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

/// The manifest every solution model records: architecture, family and task, the training
/// grid (cells `nx`, `ny`, and `nz` in 3-D, else 0), dtype, normalisation, the training
/// data's fingerprint and the result's metrics. Callers add where the data came from
/// (run_train_job: the files, the command, the timing; bench_train_packed: the test error).
ModelManifest solution_manifest(const Surrogate& model, const TrainResult& result,
                                const TrainOptions& options, const std::string& family, int nx,
                                int ny, int nz, const std::string& data_fingerprint);

/// Bytes of values a dataset holds (every input array, and u when labelled).
std::int64_t dataset_value_bytes(const Dataset& header);

/// The -train_memory budget in bytes: `memory_mb` if positive, else a quarter of the memory
/// available now (MemAvailable) divided among `processes`.
std::int64_t training_memory_budget(double memory_mb, int processes);

/// Reads the datasets of a training run (an empty path gives an empty Dataset): whole when
/// their values fit in `budget_bytes` together, counted twice (the file's values and the
/// trainer's tensors), else with their attributes only, which run_train_job streams from
/// the files. `streamed` (optional) says which it was. Throws what read_dataset throws.
std::vector<Dataset> read_training_datasets(const std::vector<std::string>& paths,
                                            std::int64_t budget_bytes, bool* streamed = nullptr);

/// Whether `d` holds its attributes only (pins::read_dataset_info): run_train_job streams it.
bool attributes_only(const Dataset& d);

/// Runs `job`: converts and checks the datasets (errors name the file), refuses a validation
/// or unlabelled set of another family or grid, labelled data without solutions (an
/// inputs-only file) and unlabelled data with them, seeds the weights with -train_seed, builds and trains the
/// surrogate (pins::train_surrogate) and fills the manifest. Throws pins::Error.
TrainedModel run_train_job(const TrainJob& job);

}  // namespace pins
