// pins::StencilOperator: a stencil and its coefficients behind the Operator interface.
#include <torch/torch.h>

#include "pins/core/check.hpp"
#include "pins/core/stencil_operator.hpp"

namespace pins {

StencilOperator::StencilOperator(const Stencil& stencil, torch::Tensor coeffs)
    : stencil_(stencil), coeffs_(std::move(coeffs)), grid_{1, 1, 1} {
  stencil_.check();
  PINS_CHECK(coeffs_.defined(), "StencilOperator: coeffs is an undefined tensor");
  PINS_CHECK(coeffs_.dim() == 2 + stencil_.dim, "StencilOperator: coeffs for stencil ",
             stencil_.describe(), " must have ", 2 + stencil_.dim, " axes [B, ",
             stencil_.channels(), ", grid...], got ", coeffs_.sizes());
  check_stencil_coefficients("StencilOperator", stencil_, coeffs_);  // the kernels' checks
  for (int a = 0; a < stencil_.dim; ++a) grid_[3 - stencil_.dim + a] = coeffs_.size(2 + a);
}

std::string StencilOperator::describe() const {
  std::string grid;
  for (int a = 3 - stencil_.dim; a < 3; ++a)
    grid += (grid.empty() ? "" : "x") + std::to_string(grid_[a]);
  return "stencil " + stencil_.describe() + " on " + grid + ", batch " +
         std::to_string(batch());
}

std::vector<int64_t> StencilOperator::field_shape() const {
  std::vector<int64_t> s;
  if (stencil_.dof > 1) s.push_back(stencil_.dof);
  for (int a = 3 - stencil_.dim; a < 3; ++a) s.push_back(grid_[a]);
  return s;
}

torch::Tensor StencilOperator::apply(const torch::Tensor& u) const {
  return stencil_apply(stencil_, coeffs_, u);
}

torch::Tensor StencilOperator::residual(const torch::Tensor& u, const torch::Tensor& f) const {
  return stencil_residual(stencil_, coeffs_, u, f);
}

torch::Tensor StencilOperator::apply_transpose(const torch::Tensor& v) const {
  return stencil_apply_transpose(stencil_, coeffs_, v);
}

torch::Tensor StencilOperator::diagonal() const {
  // The centre point is p = 0; field r's diagonal is channel (0·dof + r)·dof + r.
  const int dof = stencil_.dof;
  std::vector<int64_t> idx;
  for (int r = 0; r < dof; ++r) idx.push_back(stencil_.channel(0, r, r));
  const torch::Tensor index = torch::tensor(idx, torch::TensorOptions().dtype(torch::kLong))
                                  .to(coeffs_.device());
  torch::Tensor d = coeffs_.index_select(1, index);  // [B, dof, grid…]
  return dof == 1 ? d.squeeze(1) : d;
}

std::shared_ptr<const Operator> StencilOperator::with_values(torch::Tensor values) const {
  // Any batch size (e.g. a mini-batch's rows of a whole dataset's coefficients); the
  // channels and the grid are the operator's.
  PINS_CHECK(values.defined() && values.dim() == coeffs_.dim() && values.size(0) >= 1 &&
                 values.sizes().slice(1) == coeffs_.sizes().slice(1),
             "StencilOperator::with_values: values must have shape [B] + ",
             coeffs_.sizes().slice(1), " (any batch B >= 1), got ",
             values.defined() ? detail::concat(values.sizes()) : "an undefined tensor");
  return std::make_shared<StencilOperator>(stencil_, std::move(values));
}

std::shared_ptr<const Operator> StencilOperator::to(torch::Device device) const {
  return std::make_shared<StencilOperator>(stencil_, coeffs_.to(device));
}

}  // namespace pins
