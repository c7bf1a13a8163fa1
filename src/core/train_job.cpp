// run_train_job (pins/core/train_job.hpp): the one path from datasets to a trained model.
#include "pins/core/train_job.hpp"

#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <limits>

#include "pins/core/check.hpp"
#include "pins/core/family.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/process_group.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/surrogate.hpp"
#include "train_monitor.hpp"

namespace pins {

namespace {

// training_data with the file named in its errors; a dataset given by its attributes only
// is streamed from the file.
TrainingData training_data_of(const Dataset& d, const std::string& path, std::int64_t block) {
  if (attributes_only(d)) {
#ifdef PINS_HAVE_HDF5
    return streamed_training_data(path, block);
#else
    throw Error(path + ": streaming a dataset needs pins built with HDF5");
#endif
  }
  try {
    return training_data(d);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

// /proc/meminfo's MemAvailable in bytes, or 0 where there is none.
std::int64_t available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

// -train_unlabelled takes inputs only: a labelled file belongs in -data.
void require_inputs_only(const Dataset& d, const std::string& path) {
  PINS_CHECK(!d.info.labelled, "-train_unlabelled ", path,
             " holds solutions (a labelled dataset): give it as -data, or write inputs only "
             "with pins generate -inputs_only");
}

// A dataset that must match the training data's family and grid.
void check_same_problem(const Dataset& d, const std::string& what, const std::string& path,
                        const Dataset& data) {
  PINS_CHECK(d.info.grid == data.info.grid && d.info.pde == data.info.pde, what, " ", path, ": ",
             d.info.pde, " on ", d.info.grid_string(), ", but the training data is ",
             data.info.pde, " on ", data.info.grid_string());
}

}  // namespace

std::int64_t dataset_value_bytes(const Dataset& d) {
  std::int64_t per_sample = 0;
  for (const FieldSpec& in : d.info.inputs) per_sample += d.info.input_size(in);
  if (d.info.labelled) {
    std::int64_t u = 1;
    for (std::int64_t s : d.info.solution_shape()) u *= s;
    per_sample += u;
  }
  return d.samples * per_sample * std::int64_t(sizeof(double));
}

std::int64_t training_memory_budget(double memory_mb, int processes) {
  if (memory_mb > 0) return std::int64_t(memory_mb * 1024 * 1024);
  const std::int64_t available = available_memory();
  // Without /proc/meminfo: hold everything, as before streaming existed.
  if (available <= 0) return std::numeric_limits<std::int64_t>::max();
  return available / 4 / std::max(processes, 1);
}

bool attributes_only(const Dataset& d) {
  return d.samples > 0 && d.inputs.empty();
}

std::vector<Dataset> read_training_datasets(const std::vector<std::string>& paths,
                                            std::int64_t budget_bytes, bool* streamed) {
#ifndef PINS_HAVE_HDF5
  (void)paths, (void)budget_bytes, (void)streamed;
  throw Error("reading datasets needs pins built with HDF5");
#else
  std::vector<Dataset> out(paths.size());
  std::int64_t bytes = 0;
  for (size_t i = 0; i < paths.size(); ++i)
    if (!paths[i].empty()) {
      out[i] = read_dataset_info(paths[i]);
      bytes += 2 * dataset_value_bytes(out[i]);
    }
  const bool stream = bytes > budget_bytes;
  if (!stream)
    for (size_t i = 0; i < paths.size(); ++i)
      if (!paths[i].empty()) out[i] = read_dataset(paths[i]);
  if (streamed) *streamed = stream;
  return out;
#endif
}

TrainedModel run_train_job(const TrainJob& job) {
  PINS_CHECK(job.data || job.unlabelled,
             "train: no training dataset given (-data, or -train_unlabelled for physics only)");
  // Physics-only training: the unlabelled set is the training set.
  const bool physics_only = !job.data;
  const Dataset& data = physics_only ? *job.unlabelled : *job.data;
  const std::string& data_path = physics_only ? job.unlabelled_path : job.data_path;
  TrainingData td, vd, ud;
  TrainedModel t;
  // Data parallel: every process checks the same files; a failure on one stops all.
  run_collectively(group_or_single(job.train.group), [&] {
    // Each file in its role, checked on the attributes before any array is converted.
    if (job.data)
      require_labelled(job.data->info, "-data " + job.data_path,
                       "give it with -train_unlabelled, beside labelled -data or alone for "
                       "physics only");
    if (job.unlabelled) require_inputs_only(*job.unlabelled, job.unlabelled_path);
    PINS_CHECK(!physics_only || job.train.data_weight == 0, "physics-only training "
               "(-train_unlabelled ", data_path, " without -data) has no solutions for the data "
               "loss: set -train_data_weight 0");
    // The data first: it refuses what no surrogate can train on (e.g. a mesh family's data).
    // Then the architecture must serve solutions on the data's grids.
    // A streamed dataset's checks and fingerprint read it in blocks of a sixteenth of the
    // memory budget (at least one sample).
    const std::int64_t block =
        std::max<std::int64_t>(1, training_memory_budget(job.train.memory_mb,
                                                         group_or_single(job.train.group).size()) / 16);
    td = training_data_of(data, data_path, block);
    SurrogateNeeds need{"solution", data.info.mesh ? 0 : data.info.dim(), false, ""};
    need.mesh = data.info.mesh != nullptr;
    check_surrogate_traits(job.surrogate_type, need);
    if (job.validation) {
      check_same_problem(*job.validation, "validation data", job.validation_path, data);
      vd = training_data_of(*job.validation, job.validation_path, block);
    }
    if (job.unlabelled && !physics_only) {
      check_same_problem(*job.unlabelled, "unlabelled data", job.unlabelled_path, data);
      ud = training_data_of(*job.unlabelled, job.unlabelled_path, block);
    }
    set_training_threads(job.train.threads);
    torch::manual_seed(job.train.seed);  // the initial weights, the same on every process
    // One input channel per component of the family's inputs; one output per dof.
    const Family& family = find_family(data.info.pde);
    t.model = make_surrogate(job.surrogate_type, job.options, family.input_channels(),
                             family.dof());
  });
  const TrainingData* validation = job.validation ? &vd : nullptr;
  const TrainingData* unlabelled = job.unlabelled && !physics_only ? &ud : nullptr;
  if (job.on_start) job.on_start(*t.model, td, validation);
  const auto t0 = std::chrono::steady_clock::now();
  t.result = train_surrogate(*t.model, td, job.train, validation, unlabelled);
  const double training_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  t.manifest = solution_manifest(*t.model, t.result, job.train, data.info.pde, int(data.info.nx()),
                                 int(data.info.ny()),
                                 data.info.dim() >= 3 ? int(data.info.nz()) : 0, td.fingerprint);
  ModelManifest& m = t.manifest;
  m.metrics["training_data"] = data_path;
  // Whether the datasets were streamed from their files (larger than -train_memory).
  m.metrics["streamed"] = attributes_only(data);
  if (unlabelled) m.metrics["unlabelled_data"] = job.unlabelled_path;
  if (job.validation) m.metrics["validation_data"] = job.validation_path;
  m.metrics["command"] = job.command;
  // What the model cost, for pins bench's break-even: the training's wall time on this many
  // processes, and the training data's generation time as pins generate recorded it.
  m.metrics["training_seconds"] = training_seconds;
  m.metrics["training_processes"] = group_or_single(job.train.group).size();
  if (const AttributeValue* g = data.info.find_extra("generation_seconds"))
    if (const double* v = std::get_if<double>(g)) m.metrics["training_data_generation_seconds"] = *v;
  if (const AttributeValue* g = data.info.find_extra("mpi_processes"))
    if (const auto* v = std::get_if<std::int64_t>(g))
      m.metrics["training_data_generation_processes"] = *v;
  nlohmann::json train = nlohmann::json::object();
  for (const auto& [k, v] : job.options.entries())
    if (k.rfind("-train_", 0) == 0) train[k] = v;
  m.metrics["train_options"] = train;
  t.history = nlohmann::json::array();
  for (const auto& e : t.result.history) t.history.push_back(detail::to_json(e));
  return t;
}

ModelManifest solution_manifest(const Surrogate& model, const TrainResult& result,
                                const TrainOptions& options, const std::string& family, int nx,
                                int ny, int nz, const std::string& data_fingerprint) {
  ModelManifest m;
  m.architecture = model.type();
  m.architecture_options = model.options_json();
  m.in_channels = model.in_channels();
  m.out_channels = model.out_channels();
  m.dtype = options.dtype;
  m.problem_family = family;
  m.task = "solution";
  m.grid_nx = nx;
  m.grid_ny = ny;
  m.grid_nz = nz;
  m.normalisation = result.normalisation.to_json();
  m.training_data_hash = data_fingerprint;
  m.metrics = result.metrics();
  return m;
}

}  // namespace pins
