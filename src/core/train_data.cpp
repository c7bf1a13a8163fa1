// Dataset → tensors, normalisation, the losses and prediction (pins/core/trainer.hpp).
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <sched.h>

#include <thread>

#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/family.hpp"
#include "pins/core/losses.hpp"
#include "pins/core/sha256.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/trainer.hpp"
#include "train_data.hpp"
#include "surrogates/surrogate.hpp"

namespace pins {

namespace {

// The dataset array as a float64 tensor [N, shape...] (a copy: the trainer outlives it).
torch::Tensor tensor_of(const DatasetArray& a, std::int64_t samples) {
  std::vector<int64_t> shape = {samples};
  shape.insert(shape.end(), a.shape.begin(), a.shape.end());
  PINS_CHECK(samples >= 1 && a.values.size() == size_t(samples * a.sample_size()),
             "dataset array '", a.name, "' holds ", a.values.size(), " values, expected ",
             samples, " samples of ", a.sample_size());
  torch::Tensor t =
      torch::from_blob(const_cast<double*>(a.values.data()), shape, torch::kFloat64).clone();
  PINS_CHECK(torch::isfinite(t).all().item<bool>(), "dataset array '", a.name,
             "' contains NaN or Inf");
  return t;
}

const char* transform_name(FieldTransform t) {
  return t == FieldTransform::kLogStandardise ? "log_standardise" : "scale";
}

// A field [B, (c,) grid...] as channels [B, c, grid...] (the grid's rank from the
// normalised field of the same name: components > 1 carry their own axis).
torch::Tensor as_channels(const torch::Tensor& field, int components) {
  return components > 1 ? field : field.unsqueeze(1);
}

}  // namespace

const torch::Tensor& TrainingData::input(const std::string& name) const {
  const auto it = inputs.find(name);
  if (it != inputs.end() && it->second.defined()) return it->second;
  PINS_CHECK(!source, "training data streamed from its file holds no input '", name,
             "' in memory: read its rows with select()");
  std::string names;
  for (const auto& [n, t] : inputs) names += (names.empty() ? "" : ", ") + n;
  throw Error("training data has no input '" + name + "' (it has: " + names + ")");
}

std::int64_t TrainingData::samples() const {
  if (source) return source->rows();
  PINS_CHECK(!inputs.empty() && inputs.begin()->second.defined(), "training data has no inputs");
  return inputs.begin()->second.size(0);
}

bool TrainingData::labelled() const { return source ? source->labelled() : u.defined(); }

TrainingData TrainingData::select(const std::vector<std::int64_t>& index) const {
  TrainingData out;
  out.pde = pde;
  out.fingerprint = fingerprint;
  out.parameters = parameters;
  out.mesh = mesh;
  if (source) {
    source->read(index, out);
  } else {
    const torch::Tensor rows =
        torch::tensor(std::vector<int64_t>(index.begin(), index.end()), torch::kInt64);
    for (const auto& [name, t] : inputs) out.inputs[name] = t.index_select(0, rows);
    if (u.defined()) out.u = u.index_select(0, rows);
  }
  return out;  // the rows picked need not be whole trajectories: group stays 1
}

TrainingData TrainingData::select(const torch::Tensor& index) const {
  const torch::Tensor i = index.to(torch::kInt64).contiguous();
  return select(std::vector<std::int64_t>(i.data_ptr<int64_t>(), i.data_ptr<int64_t>() + i.numel()));
}

std::map<std::string, std::string> sampler_parameters(const DatasetInfo& info) {
  std::map<std::string, std::string> out;
  for (const Attribute& a : info.sampler) out[a.name] = to_string(a.value);
  return out;
}

namespace detail {

const Family& check_training_info(const DatasetInfo& info) {
  const Family& family = find_family(info.pde);  // an unknown family is refused here, by name
  // Refuses parameters the family cannot take, by name, and a mesh where the family has
  // none (or none where it needs one).
  family_for(family.name(), sampler_parameters(info), info.mesh);
  const bool stepping = family.time_dependent();
  PINS_CHECK(!stepping || info.times >= 2, "the ", family.name(),
             " family is time-dependent and learns steps from trajectories, but the dataset "
             "holds single states (no 'times' attribute); generate it with -pde ",
             family.name());
  PINS_CHECK(stepping || info.times == 0, "the dataset holds trajectories of ", info.times,
             " states, but the ", family.name(),
             " family is not time-dependent and learns single states");
  PINS_CHECK(!stepping || info.labelled, "the ", family.name(),
             " family learns steps from trajectories; an inputs-only dataset has none");
  for (const InputField& in : family.dataset_inputs()) {
    const FieldSpec* spec = nullptr;
    for (const FieldSpec& s : info.inputs)
      if (s.name == in.name) spec = &s;
    PINS_CHECK(spec, "the ", family.name(), " family needs the input array '", in.name,
               "', but the dataset has only ", info.input_list(),
               " (written for another family or an older version of it?)");
    PINS_CHECK(info.input_shape(*spec) ==
                   info.input_shape(FieldSpec{in.name, in.components, in.on_cells}),
               "dataset array '", in.name, "' has ", info.input_shape(*spec).size(),
               " axes per sample; the ", family.name(), " family expects ", in.components,
               " component(s) ", in.on_cells ? "per mesh cell" : "on the grid");
  }
  const int dim = family.dimension();
  PINS_CHECK(family.on_mesh() || info.dim() == dim, "the ", family.name(), " family is ", dim,
             "-D, but the dataset's grid is ", info.grid_string());
  return family;
}

TrainingData training_data_header(const DatasetInfo& info) {
  TrainingData t;
  t.pde = find_family(info.pde).name();
  t.parameters = sampler_parameters(info);
  t.mesh = info.mesh;
  return t;
}

void check_positive(const Family& family, const std::string& name, const torch::Tensor& values,
                    std::int64_t first_sample) {
  const torch::Tensor bad = (values <= 0).reshape({values.size(0), -1}).any(1);
  if (!bad.any().item<bool>()) return;
  const std::int64_t sample = first_sample + bad.to(torch::kInt64).argmax().item<std::int64_t>();
  throw Error("dataset array '" + name + "' must be positive (the " + family.name() +
              " family takes its logarithm); sample " + std::to_string(sample) + " is not");
}

}  // namespace detail

TrainingData training_data(const Dataset& d) {
  const Family& family = detail::check_training_info(d.info);
  TrainingData t = detail::training_data_header(d.info);
  Sha256 sha;
  for (const InputField& in : family.dataset_inputs()) {
    const DatasetArray& array = d.input(in.name);
    t.inputs[in.name] = tensor_of(array, d.samples);
    if (in.transform == FieldTransform::kLogStandardise)
      detail::check_positive(family, in.name, t.inputs[in.name]);
    sha.update(array.values.data(), array.values.size() * sizeof(double));
  }
  // An inputs-only dataset leaves u undefined: physics-only training needs no solutions.
  // Its fingerprint hashes the inputs alone, so a labelled file with the same inputs (whose
  // fingerprint covers u too) is never mistaken for it.
  if (d.info.labelled) {
    t.u = tensor_of(d.u, d.samples);
    sha.update(d.u.values.data(), d.u.values.size() * sizeof(double));
  }
  t.fingerprint = sha.hex_digest();
  if (family.time_dependent()) {
    // Step t of sample i is row i (T − 1) + t: inputs repeated, state u[:, t], u[:, t + 1].
    const int64_t steps = d.info.times - 1;
    PINS_CHECK(t.u.dim() >= 2 && t.u.size(1) == d.info.times, "dataset array 'u' must be [N, ",
               d.info.times, ", grid...] (the 'times' attribute), got ", t.u.sizes());
    for (auto& [name, x] : t.inputs) x = x.repeat_interleave(steps, 0);
    auto rows = [&](int64_t first) {
      std::vector<int64_t> shape = {d.samples * steps};
      shape.insert(shape.end(), t.u.sizes().begin() + 2, t.u.sizes().end());
      return t.u.narrow(1, first, steps).reshape(shape).contiguous();
    };
    t.inputs[family.state_input()] = rows(0);
    t.u = rows(1);
    t.group = steps;
  }
  return t;
}

// The step's state input `name` of `in` in `dtype` (time-dependent families), checked.
static torch::Tensor state_field(const FieldMap& in, const std::string& name,
                                 torch::ScalarType dtype) {
  const auto it = in.find(name);
  PINS_CHECK(it != in.end() && it->second.defined(), "the step's state input '", name,
             "' is missing");
  return it->second.to(dtype);
}

torch::Tensor Normalisation::target(const torch::Tensor& u, const FieldMap& in) const {
  if (state.empty()) return u / u_scale;
  return (u - state_field(in, state, u.scalar_type())) / u_scale;
}

torch::Tensor Normalisation::solution(const torch::Tensor& output, const FieldMap& in) const {
  if (state.empty()) return output * u_scale;
  return state_field(in, state, output.scalar_type()) + output * u_scale;
}

Normalisation Normalisation::fit(const TrainingData& data, const torch::Tensor& index) {
  const auto bound = family_for(data.pde, data.parameters, data.mesh);
  const Family& family = *bound;
  const torch::Tensor rows = index.to(torch::kInt64);
  const int64_t n = rows.size(0);
  PINS_CHECK(n >= 1, "normalisation: no samples to fit on");
  // Sums over blocks of kFitRows rows, in float64: memory stays at one block whatever the
  // data's size, and held and streamed data give the same statistics bit for bit.
  auto for_blocks = [&](const std::function<void(const TrainingData&)>& visit) {
    for (int64_t i = 0; i < n; i += kFitRows) visit(data.select(rows.slice(0, i, std::min(n, i + kFitRows))));
  };
  const std::vector<InputField> fields = family.inputs();
  std::vector<double> sum(fields.size(), 0.0), count(fields.size(), 0.0);
  double target_squares = 0, target_count = 0;
  bool any_log = false;
  for_blocks([&](const TrainingData& block) {
    for (size_t k = 0; k < fields.size(); ++k) {
      const torch::Tensor& x = block.input(fields[k].name);
      const bool log = fields[k].transform == FieldTransform::kLogStandardise;
      any_log = any_log || log;
      sum[k] += (log ? x.log().sum() : x.square().sum()).item<double>();
      count[k] += double(x.numel());
    }
    if (block.u.defined()) {
      Normalisation partial;
      if (family.time_dependent()) partial.state = family.state_input();
      const torch::Tensor t = partial.target(block.u, block.inputs);
      target_squares += t.square().sum().item<double>();
      target_count += double(t.numel());
    }
  });
  // Second pass for the log-standardised inputs' spread about their mean.
  std::vector<double> spread(fields.size(), 0.0);
  if (any_log)
    for_blocks([&](const TrainingData& block) {
      for (size_t k = 0; k < fields.size(); ++k)
        if (fields[k].transform == FieldTransform::kLogStandardise)
          spread[k] += (block.input(fields[k].name).log() - sum[k] / count[k])
                           .square().sum().item<double>();
    });
  Normalisation norm;
  for (size_t k = 0; k < fields.size(); ++k) {
    const InputField& in = fields[k];
    FieldScaling s{in.name, in.transform, 0, 1, in.components};
    if (in.transform == FieldTransform::kLogStandardise) {
      s.shift = sum[k] / count[k];
      const double sd = std::sqrt(spread[k] / count[k]);
      s.scale = sd > 1e-12 ? sd : 1.0;  // a constant field: centring alone
    } else {
      const double r = std::sqrt(sum[k] / count[k]);
      s.scale = r > 0 ? r : 1.0;
    }
    norm.inputs.push_back(s);
  }
  if (family.time_dependent()) norm.state = family.state_input();
  // The target's size: u's, or the step's change for a time-dependent family.
  const double u_rms = target_count > 0 ? std::sqrt(target_squares / target_count) : 0.0;
  if (u_rms > 0) {
    norm.u_scale = u_rms;
  } else {  // physics-only training: the family's estimate of the solutions' size
    const double s = family.solution_scale(data.select(rows.slice(0, 0, std::min<int64_t>(n, 4))).inputs);
    norm.u_scale = s > 0 ? s : 1.0;
  }
  return norm;
}

int Normalisation::channels() const {
  int c = 0;
  for (const auto& in : inputs) c += in.components;
  return c;
}

const FieldScaling& Normalisation::input(const std::string& name) const {
  for (const auto& in : inputs)
    if (in.name == name) return in;
  throw Error("normalisation has no input '" + name + "'");
}

nlohmann::json Normalisation::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& in : inputs)
    list.push_back({{"name", in.name},
                    {"transform", transform_name(in.transform)},
                    {"shift", in.shift},
                    {"scale", in.scale},
                    {"components", in.components}});
  nlohmann::json j = {
      {"features", "per input, in channel order: log_standardise (log x - shift) / scale, "
                   "or scale x / scale"},
      {"target", state.empty() ? "u / u_scale" : "(u - " + state + ") / u_scale"},
      {"inputs", list},
      {"u_scale", u_scale}};
  if (!state.empty()) j["state"] = state;  // time-dependent families only
  return j;
}

Normalisation Normalisation::from_json(const nlohmann::json& j) {
  auto get = [](const nlohmann::json& o, const char* key, bool positive, const std::string& where) {
    PINS_CHECK(o.is_object() && o.contains(key) && o.at(key).is_number(), "normalisation field '",
               where, key, "' is missing or not a number");
    const double v = o.at(key).get<double>();
    PINS_CHECK(std::isfinite(v) && (!positive || v > 0), "normalisation field '", where, key,
               "' must be ", positive ? "positive" : "finite", ", got ", v);
    return v;
  };
  Normalisation n;
  if (j.is_object() && !j.contains("inputs") && j.contains("log_kappa_mean")) {
    // Model files written before families had their own inputs: Darcy's κ and f.
    n.inputs = {{"kappa", FieldTransform::kLogStandardise, get(j, "log_kappa_mean", false, ""),
                 get(j, "log_kappa_std", true, ""), 1},
                {"f", FieldTransform::kScale, 0, get(j, "f_scale", true, ""), 1}};
  } else {
    PINS_CHECK(j.is_object() && j.contains("inputs") && j.at("inputs").is_array() &&
                   !j.at("inputs").empty(),
               "normalisation field 'inputs' is missing or not a list of input fields");
    for (const auto& in : j.at("inputs")) {
      PINS_CHECK(in.is_object() && in.contains("name") && in.at("name").is_string() &&
                     in.contains("transform") && in.at("transform").is_string(),
                 "normalisation field 'inputs': every entry needs a name and a transform");
      FieldScaling s;
      s.name = in.at("name").get<std::string>();
      const std::string where = "inputs." + s.name + ".";
      const std::string t = in.at("transform").get<std::string>();
      PINS_CHECK(t == "log_standardise" || t == "scale", "normalisation field '", where,
                 "transform' must be log_standardise or scale, got '", t, "'");
      s.transform = t == "scale" ? FieldTransform::kScale : FieldTransform::kLogStandardise;
      s.shift = get(in, "shift", false, where);
      s.scale = get(in, "scale", true, where);
      s.components = in.contains("components") ? int(get(in, "components", true, where)) : 1;
      n.inputs.push_back(s);
    }
  }
  n.u_scale = get(j, "u_scale", true, "");
  if (j.contains("state")) {
    PINS_CHECK(j.at("state").is_string(), "normalisation field 'state' must be a string");
    n.state = j.at("state").get<std::string>();
    bool known = n.state.empty();
    for (const auto& in : n.inputs) known = known || in.name == n.state;
    PINS_CHECK(known, "normalisation field 'state' names '", n.state,
               "', which is not one of the inputs");
  }
  return n;
}

torch::Tensor Normalisation::features(const FieldMap& in, torch::ScalarType dtype) const {
  PINS_CHECK(!inputs.empty(), "features: the normalisation has no inputs");
  std::vector<torch::Tensor> channels;
  std::vector<int64_t> first_grid;
  int64_t first_batch = 0;
  for (const FieldScaling& s : inputs) {
    const auto it = in.find(s.name);
    PINS_CHECK(it != in.end() && it->second.defined(), "features: the input field '", s.name,
               "' is missing");
    const torch::Tensor& x = it->second;
    const int64_t skip = s.components > 1 ? 2 : 1;  // batch (and component) axes
    PINS_CHECK(x.dim() > skip && (s.components == 1 || x.size(1) == s.components),
               "features: input '", s.name, "' must be [B, ", s.components > 1 ? "c, " : "",
               "grid...], got ", x.sizes());
    const std::vector<int64_t> g(x.sizes().begin() + skip, x.sizes().end());
    if (channels.empty()) {
      first_grid = g;
      first_batch = x.size(0);
    }
    PINS_CHECK(g == first_grid && x.size(0) == first_batch,
               "features: the inputs must be of one shape [B, (c,) grid...]; '", s.name,
               "' is ", x.sizes(), ", '", inputs.front().name, "' has batch ", first_batch,
               " and grid ", first_grid);
    const torch::Tensor t = s.transform == FieldTransform::kLogStandardise
                                ? (x.log() - s.shift) / s.scale
                                : x / s.scale;
    channels.push_back(as_channels(t, s.components));
  }
  return torch::cat(channels, 1).to(dtype);
}

torch::Tensor relative_l2(const torch::Tensor& prediction, const torch::Tensor& truth) {
  const int64_t b = truth.size(0);
  return (prediction - truth).reshape({b, -1}).square().sum(1).sqrt() /
         truth.reshape({b, -1}).square().sum(1).sqrt().clamp_min(1e-300);
}

torch::Tensor output_field(const torch::Tensor& output) {
  return output.size(1) == 1 ? output.select(1, 0) : output;
}

torch::Tensor network_input(const Normalisation& norm, const FieldMap& inputs,
                            torch::ScalarType dtype, const Family* family) {
  const torch::Tensor x = norm.features(inputs, dtype);
  if (!family || !family->on_mesh()) return x;
  return family->to_points(x);
}

torch::Tensor predict(Surrogate& model, const Normalisation& norm, const FieldMap& inputs,
                      int64_t batch, const Family* family) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.module().is_training();
  model.module().eval();
  const auto dtype = parameter_dtype(model.module());
  // A model trained on a GPU answers there; the answer comes back to the inputs' device.
  const torch::Device device = parameter_device(model.module());
  PINS_CHECK(!inputs.empty(), "predict: no input fields");
  const int64_t n = inputs.begin()->second.size(0);
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < n; i += batch) {
    const int64_t e = std::min(n, i + batch);
    FieldMap part;
    for (const auto& [name, t] : inputs) part[name] = t.slice(0, i, e);
    const torch::Tensor x = network_input(norm, part, dtype, family).to(device);
    const torch::Tensor out = output_field(model.forward(x));
    parts.push_back(norm.solution(out.to(part.begin()->second.device(), torch::kFloat64), part));
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
