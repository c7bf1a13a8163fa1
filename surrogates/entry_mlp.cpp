#include "surrogates/entry_mlp.hpp"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "pins/core/check.hpp"
#include "surrogates/registry.hpp"

namespace pins {

namespace {
// Entries per block of inference: 16384 x 32 floats per hidden activation (2 MiB), the
// fastest of 4096, 16384 and 65536 measured on this CPU.
constexpr int64_t kInferenceBlock = 16384;
}  // namespace

EntryMLPImpl::EntryMLPImpl(EntryMLPOptions options_) : options(std::move(options_)) {
  check_channels("entry_mlp", options.in_channels(), options.out_channels());
  check_option_min("entry_mlp", "width", options.width(), 1);
  check_option_min("entry_mlp", "depth", options.depth(), 1);
  reset();
}

void EntryMLPImpl::reset() {
  net_ = torch::nn::Sequential();
  for (int l = 0; l < options.depth(); ++l) {
    net_->push_back(torch::nn::Linear(l == 0 ? options.in_channels() : options.width(),
                                      options.width()));
    net_->push_back(torch::nn::GELU());
  }
  net_->push_back(torch::nn::Linear(options.width(), options.out_channels()));
  register_module("net", net_);
}

torch::Tensor EntryMLPImpl::forward(const torch::Tensor& x) {
  PINS_CHECK(x.dim() == 3 && x.size(1) == options.in_channels() && x.is_floating_point(),
             "entry_mlp: input must have shape [B, ", options.in_channels(),
             ", nnz] (floating point), got ", x.sizes());
  const int64_t B = x.size(0), n = x.size(2);
  const torch::Tensor rows = x.transpose(1, 2).reshape({B * n, -1});
  torch::Tensor y;
  if (torch::GradMode::is_enabled() || rows.size(0) <= kInferenceBlock) {
    y = net_->forward(rows);
  } else {
    // Inference (a PC's set-up) on millions of entries: blocks whose hidden activations stay
    // in cache; the whole matrix at once is bound by memory traffic (measured 0.54 s against
    // 0.1 s for GAMG's 4 levels at 49^3, see bench/RESULTS.md).
    y = torch::empty({rows.size(0), options.out_channels()}, rows.options());
    for (int64_t start = 0; start < rows.size(0); start += kInferenceBlock) {
      const int64_t len = std::min(kInferenceBlock, rows.size(0) - start);
      y.narrow(0, start, len).copy_(net_->forward(rows.narrow(0, start, len)));
    }
  }
  return y.view({B, n, options.out_channels()}).transpose(1, 2).contiguous();
}

nlohmann::json EntryMLPImpl::options_json() const {
  return {{"width", options.width()}, {"depth", options.depth()}};
}

const SurrogateType& entry_mlp_surrogate_type() {
  static const SurrogateType entry = [] {
    const EntryMLPOptions d(1, 1);
    return SurrogateType{
        "entry_mlp",
        "MLP on the features of every sparse-matrix entry (the learned sparse smoother)",
        // Reads matrix entries, not grids: any dimension, pattern and size (dims 0).
        {/*dims=*/0, /*grid_independent=*/true, /*tasks=*/{"smoother"},
         /*linear_in_input=*/false, /*smooths=*/false, /*mesh=*/false, /*matrix_entries=*/true},
        {{"width", std::to_string(d.width()), "units per hidden layer"},
         {"depth", std::to_string(d.depth()), "hidden layers"}},
        [](const OptionMap& o, int in, int out) -> std::shared_ptr<Surrogate> {
          EntryMLPOptions opt(in, out);
          opt.width(o.get_int("-entry_mlp_width", opt.width()))
              .depth(o.get_int("-entry_mlp_depth", opt.depth()));
          return EntryMLP(opt).ptr();
        }};
  }();
  return entry;
}

}  // namespace pins
