// run_train_job (pins/core/train_job.hpp): the one path from datasets to a trained model.
#include "pins/core/train_job.hpp"

#include <torch/torch.h>

#include "pins/core/check.hpp"
#include "pins/core/family.hpp"
#include "pins/core/dataset.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"
#include "train_monitor.hpp"

namespace pins {

namespace {

// training_data with the file named in its errors.
TrainingData training_data_of(const Dataset& d, const std::string& path) {
  try {
    return training_data(d);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace

TrainedModel run_train_job(const TrainJob& job) {
  PINS_CHECK(job.data, "train: no training dataset given");
  const Dataset& data = *job.data;
  // The architecture must serve solutions on the data's grids.
  check_surrogate_traits(job.surrogate_type, {"solution", data.info.dim(), false, ""});
  const TrainingData td = training_data_of(data, job.data_path);
  TrainingData vd;
  if (job.validation) {
    const Dataset& val = *job.validation;
    PINS_CHECK(val.info.grid == data.info.grid && val.info.pde == data.info.pde,
               "validation data ", job.validation_path, ": ", val.info.pde, " on ",
               val.info.grid_string(), ", but the training data is ", data.info.pde, " on ",
               data.info.grid_string());
    vd = training_data_of(val, job.validation_path);
  }
  const TrainingData* validation = job.validation ? &vd : nullptr;

  TrainedModel t;
  set_training_threads(job.train.threads);
  torch::manual_seed(job.train.seed);  // the initial weights
  // One input channel per component of the family's inputs; one output per dof.
  const Family& family = find_family(data.info.pde);
  t.model = make_surrogate(job.surrogate_type, job.options, family.input_channels(),
                           family.stencil().dof);
  if (job.on_start) job.on_start(*t.model, td, validation);
  t.result = train_surrogate(*t.model, td, job.train, validation);

  ModelManifest& m = t.manifest;
  m.architecture = t.model->type();
  m.architecture_options = t.model->options_json();
  m.in_channels = t.model->in_channels();
  m.out_channels = t.model->out_channels();
  m.dtype = job.train.dtype;
  m.problem_family = data.info.pde;
  m.task = "solution";
  m.grid_nx = int(data.info.nx());
  m.grid_ny = int(data.info.ny());
  m.grid_nz = data.info.dim() >= 3 ? int(data.info.nz()) : 0;
  m.normalisation = t.result.normalisation.to_json();
  m.training_data_hash = td.fingerprint;
  m.metrics = t.result.metrics();
  m.metrics["training_data"] = job.data_path;
  if (job.validation) m.metrics["validation_data"] = job.validation_path;
  m.metrics["command"] = job.command;
  nlohmann::json train = nlohmann::json::object();
  for (const auto& [k, v] : job.options.entries())
    if (k.rfind("-train_", 0) == 0) train[k] = v;
  m.metrics["train_options"] = train;
  t.history = nlohmann::json::array();
  for (const auto& e : t.result.history) t.history.push_back(detail::to_json(e));
  return t;
}

}  // namespace pins
