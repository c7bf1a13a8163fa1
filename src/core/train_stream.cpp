// pins::streamed_training_data (pins/core/trainer.hpp): training rows read from the dataset
// file per mini-batch instead of held in memory, so a dataset larger than memory trains.
#include <torch/torch.h>

#include <algorithm>

#include "pins/core/check.hpp"
#include "pins/core/dataset_stream.hpp"
#include "pins/core/family.hpp"
#include "pins/core/sha256.hpp"
#include "pins/core/trainer.hpp"
#include "train_data.hpp"

namespace pins {

namespace {

// The rows of a dataset file as pins::training_data makes them: a sample per row, or for a
// time-dependent family the T − 1 steps of each trajectory (row i (T − 1) + t: the sample's
// inputs, the state u[i, t], the target u[i, t + 1]).
class StreamedRows : public RowSource {
 public:
  StreamedRows(std::shared_ptr<const DatasetStream> stream, const Family& family)
      : stream_(std::move(stream)),
        inputs_(family.dataset_inputs()),
        state_(family.state_input()),
        steps_(family.time_dependent() ? stream_->header().info.times - 1 : 1) {}

  std::int64_t rows() const override { return stream_->header().samples * steps_; }
  bool labelled() const override { return stream_->header().info.labelled; }

  void read(const std::vector<std::int64_t>& index, TrainingData& out) const override {
    const DatasetInfo& info = stream_->header().info;
    const std::int64_t n = rows(), k = std::int64_t(index.size());
    std::vector<std::int64_t> samples(index.size()), steps(index.size());
    for (size_t i = 0; i < index.size(); ++i) {
      PINS_CHECK(index[i] >= 0 && index[i] < n, stream_->path(), ": row ", index[i],
                 " asked for, but the streamed data has ", n, " rows");
      samples[i] = index[i] / steps_;
      steps[i] = index[i] % steps_;
    }
    auto array = [&](const std::string& name, const std::vector<std::int64_t>& shape) {
      std::vector<std::int64_t> dims = {k};
      dims.insert(dims.end(), shape.begin(), shape.end());
      torch::Tensor t = torch::empty(dims, torch::kFloat64);
      stream_->read(name, samples, t.data_ptr<double>());
      return t;
    };
    for (const InputField& in : inputs_)
      out.inputs[in.name] =
          array(in.name, info.input_shape(FieldSpec{in.name, in.components, in.on_cells}));
    if (!labelled()) return;
    const torch::Tensor u = array("u", info.solution_shape());
    if (state_.empty()) {
      out.u = u;
      return;
    }
    // Trajectories [k, T, rest...]: row i's state is u[i, t_i], its target u[i, t_i + 1].
    const torch::Tensor rows_k = torch::arange(k, torch::kInt64);
    const torch::Tensor t = torch::tensor(steps, torch::kInt64);
    out.inputs[state_] = u.index({rows_k, t}).contiguous();
    out.u = u.index({rows_k, t + 1}).contiguous();
  }

 private:
  std::shared_ptr<const DatasetStream> stream_;
  std::vector<InputField> inputs_;
  std::string state_;
  std::int64_t steps_;
};

}  // namespace

TrainingData streamed_training_data(const std::string& path, std::int64_t block_bytes) {
  auto stream = std::make_shared<const DatasetStream>(path);
  const DatasetInfo& info = stream->header().info;
  const Family* family = nullptr;
  try {
    family = &detail::check_training_info(info);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  TrainingData t = detail::training_data_header(info);
  // One pass over every array in file order, in blocks: the checks read_dataset and
  // training_data make on the whole (NaN/Inf as read, positive log-transformed inputs) and
  // the fingerprint training_data computes (the inputs, then u), hashed in the same order.
  Sha256 sha;
  const std::int64_t n = stream->header().samples;
  auto pass = [&](const std::string& name, bool positive) {
    const std::int64_t size = stream->sample_size(name);
    const std::int64_t block =
        std::max<std::int64_t>(1, block_bytes / (size * std::int64_t(sizeof(double))));
    std::vector<double> values;
    for (std::int64_t first = 0; first < n; first += block) {
      const std::int64_t count = std::min(block, n - first);
      values.resize(size_t(count * size));
      stream->read_range(name, first, count, values.data());
      if (positive) {
        try {
          detail::check_positive(*family, name,
                                 torch::from_blob(values.data(), {count, size}, torch::kFloat64),
                                 first);
        } catch (const Error& e) {
          throw Error(path + ": " + e.what());
        }
      }
      sha.update(values.data(), values.size() * sizeof(double));
    }
  };
  for (const InputField& in : family->dataset_inputs())
    pass(in.name, in.transform == FieldTransform::kLogStandardise);
  if (info.labelled) pass("u", false);
  t.fingerprint = sha.hex_digest();
  t.source = std::make_shared<StreamedRows>(stream, *family);
  if (family->time_dependent()) t.group = info.times - 1;
  return t;
}

}  // namespace pins
