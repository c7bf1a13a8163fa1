// The CSR operator as torch::autograd::Functions: forward is the Kokkos apply kernel (fused
// with − f for the residual), backward Aᵀ g for u and g[row]·u[col] for the values (one
// fused sweep on a single host thread, else the transpose and values-gradient kernels). Two Functions (A u and A u − f) because autograd cannot take an
// undefined input. The pattern travels to backward as its tensors in ctx->saved_data.
#include <torch/autograd.h>

#include "pins/core/check.hpp"
#include "pins/core/sparse_operator.hpp"
#include "sparse_launch.hpp"

namespace pins {

namespace detail {

// Saves a pattern's tensors in an autograd context and rebuilds the (already validated)
// pattern from them in backward, without validating it again.
struct SparsePatternAccess {
  static void save(torch::autograd::AutogradContext* ctx, const SparsePattern& p) {
    auto& d = ctx->saved_data;
    d["rows"] = p.rows_;
    d["cols"] = p.cols_;
    d["row_ptr"] = p.row_ptr_;
    d["col_idx"] = p.col_idx_;
    d["t_ptr"] = p.t_ptr_;
    d["t_row"] = p.t_row_;
    d["t_perm"] = p.t_perm_;
    d["diag"] = p.diag_;
  }
  static SparsePattern load(torch::autograd::AutogradContext* ctx) {
    auto& d = ctx->saved_data;
    SparsePattern p;
    p.rows_ = d["rows"].toInt();
    p.cols_ = d["cols"].toInt();
    p.row_ptr_ = d["row_ptr"].toTensor();
    p.col_idx_ = d["col_idx"].toTensor();
    p.t_ptr_ = d["t_ptr"].toTensor();
    p.t_row_ = d["t_row"].toTensor();
    p.t_perm_ = d["t_perm"].toTensor();
    p.diag_ = d["diag"].toTensor();
    return p;
  }
};

}  // namespace detail

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Gradients of ⟨g, A(values) u⟩ for the inputs autograd asks for (0: values, 1: u).
variable_list sparse_backward(AutogradContext* ctx, const torch::Tensor& grad_output) {
  const SparsePattern p = detail::SparsePatternAccess::load(ctx);
  const auto saved = ctx->get_saved_variables();
  const torch::Tensor& values = saved[0];
  const torch::Tensor& u = saved[1];
  // Upstream gradients may be broadcast views (e.g. from mean()); the kernels need
  // contiguous memory.
  const torch::Tensor g = grad_output.contiguous();
  auto [grad_u, grad_values] = detail::sparse_launch_backward(
      p, values, g, u, ctx->needs_input_grad(1), ctx->needs_input_grad(0));
  return {grad_values, grad_u};
}

struct SparseApplyFunction : public torch::autograd::Function<SparseApplyFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& values,
                               const torch::Tensor& u, const SparsePattern& p) {
    ctx->save_for_backward({values, u});
    detail::SparsePatternAccess::save(ctx, p);
    return detail::sparse_launch_apply(p, values, u, torch::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    variable_list grads = sparse_backward(ctx, grad_outputs[0]);
    grads.push_back(torch::Tensor());  // the pattern
    return grads;
  }
};

struct SparseResidualFunction : public torch::autograd::Function<SparseResidualFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& values,
                               const torch::Tensor& u, const torch::Tensor& f,
                               const SparsePattern& p) {
    ctx->save_for_backward({values, u});
    detail::SparsePatternAccess::save(ctx, p);
    return detail::sparse_launch_apply(p, values, u, f);  // fused: one pass computes A u − f
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    variable_list grads = sparse_backward(ctx, grad_outputs[0]);
    grads.push_back(ctx->needs_input_grad(2) ? -grad_outputs[0] : torch::Tensor());
    grads.push_back(torch::Tensor());  // the pattern
    return grads;
  }
};

}  // namespace

torch::Tensor sparse_apply(const SparsePattern& p, const torch::Tensor& values,
                           const torch::Tensor& u) {
  PINS_CHECK(u.defined(), "pins::sparse_apply: u is an undefined tensor");
  check_sparse_inputs("pins::sparse_apply", p, values, u);
  return SparseApplyFunction::apply(values, u, p);
}

torch::Tensor sparse_residual(const SparsePattern& p, const torch::Tensor& values,
                              const torch::Tensor& u, const torch::Tensor& f) {
  PINS_CHECK(u.defined(), "pins::sparse_residual: u is an undefined tensor");
  PINS_CHECK(f.defined(), "pins::sparse_residual: f is an undefined tensor");
  check_sparse_inputs("pins::sparse_residual", p, values, u, f);
  return SparseResidualFunction::apply(values, u, f, p);
}

torch::Tensor sparse_apply_transpose(const SparsePattern& p, const torch::Tensor& values,
                                     const torch::Tensor& v) {
  PINS_CHECK(v.defined(), "pins::sparse_apply_transpose: v is an undefined tensor");
  // v has the shape of f, [B, rows].
  detail::check_sparse("pins::sparse_apply_transpose", p, values, {}, "u", v, "v");
  torch::NoGradGuard no_grad;
  // The backward pass's kernel with only Aᵀ v wanted: the in-order scatter on one host
  // thread (3x faster than the gather there), else the gather.
  return detail::sparse_launch_backward(p, values.detach(), v.detach(), torch::Tensor(), true,
                                        false)
      .first;
}

torch::Tensor sparse_values_gradient(const SparsePattern& p, const torch::Tensor& g,
                                     const torch::Tensor& u, bool broadcast_values) {
  PINS_CHECK(g.defined() && u.defined(),
             "pins::sparse_values_gradient: g and u must be defined tensors");
  PINS_CHECK(g.dim() == 2, "pins::sparse_values_gradient: g must have shape [B, rows] = [B, ",
             p.rows(), "], got ", g.sizes());
  PINS_CHECK(u.dim() == 2 && u.size(0) == g.size(0),
             "pins::sparse_values_gradient: u must have shape [B, cols] = [", g.size(0), ", ",
             p.cols(), "] (the batch of g), got ", u.sizes());
  // A stand-in values tensor of the right shape lets the one input check cover g and u.
  const torch::Tensor like = torch::empty({broadcast_values ? 1 : g.size(0), p.nnz()}, g.options());
  detail::check_sparse("pins::sparse_values_gradient", p, like, u, "u", g, "g");
  torch::NoGradGuard no_grad;
  return detail::sparse_launch_values_gradient(p, g.detach(), u.detach(), broadcast_values);
}

}  // namespace pins
