// Gradient sums and the parameter consistency check of data-parallel training
// (data_parallel.hpp).
#include "data_parallel.hpp"

#include <torch/torch.h>

#include "pins/core/check.hpp"

namespace pins::detail {

void sum_gradients(const std::vector<torch::Tensor>& params, const ProcessGroup& group) {
  if (params.empty() || group.size() == 1) return;
  std::vector<torch::Tensor> grads;
  grads.reserve(params.size());
  for (const auto& p : params)
    grads.push_back((p.grad().defined() ? p.grad() : torch::zeros_like(p)).reshape({-1}));
  // One buffer, one reduction: for pins' models (10⁴–10⁷ parameters) a single MPI_Allreduce
  // per step costs less than overlapping per-layer buckets with the backward pass would save
  // (bench/RESULTS.md, "Data-parallel training").
  // MPI sums host memory: a GPU run's gradients come over to the host and go back.
  torch::Tensor flat = torch::cat(grads).to(torch::kCPU).contiguous();
  const auto n = std::size_t(flat.numel());
  if (flat.scalar_type() == torch::kFloat32)
    group.sum(flat.data_ptr<float>(), n);
  else if (flat.scalar_type() == torch::kFloat64)
    group.sum(flat.data_ptr<double>(), n);
  else
    throw Error(concat("data-parallel training sums float32 or float64 gradients, got ",
                       flat.scalar_type()));
  int64_t offset = 0;
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    const torch::Tensor g = flat.narrow(0, offset, p.numel()).view_as(p);
    offset += p.numel();
    if (p.grad().defined())
      p.mutable_grad().copy_(g);
    else
      p.mutable_grad() = g.to(p.device(), true).clone();
  }
}

void check_same_parameters(const std::vector<torch::Tensor>& params, const ProcessGroup& group,
                           const std::string& where) {
  if (group.size() == 1) return;
  // Sum and weighted sum of every value in double: equal maxima of c and −c on every
  // process mean every process has the same c.
  double c[4] = {0, 0, 0, 0};
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : params) {
      const torch::Tensor v = p.detach().to(torch::kFloat64).reshape({-1});
      const torch::Tensor w = torch::arange(1, v.numel() + 1, v.options());
      c[0] += v.sum().item<double>();
      c[1] += (v * w).sum().item<double>();
    }
  }
  c[2] = -c[0];
  c[3] = -c[1];
  group.max(c, 4);
  PINS_CHECK(c[0] == -c[2] && c[1] == -c[3], "data-parallel training: the weights differ "
             "between the processes after ", where, " (the gradient sums gave different "
             "results on different processes)");
}

}  // namespace pins::detail
