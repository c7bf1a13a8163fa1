#pragma once
/// \file
/// The operator contract: a batch of B linear operators A_b that pins trains against,
/// verifies with and certifies by. Whatever a user's PETSc code assembles reaches pins as one
/// of these:
/// - pins::StencilOperator (pins/core/stencil_operator.hpp): coefficients per grid point of a
///   DMDA-like grid, any dimension, star or box, any width and dof;
/// - pins::SparseOperator (pins/core/sparse_operator.hpp): one CSR pattern shared by the
///   batch, values [B, nnz] (DMPlex finite elements, any AIJ matrix).
///
/// Every operator applies to a batch of fields u [B, field_shape()...] and gives A u of the
/// same shape; apply() and residual() are LibTorch autograd operations, differentiable in u,
/// f and the operator's values() (the backward pass is the adjoint kernel). The losses of
/// pins/core/losses.hpp take any Operator.
///
/// Example:
/// \code
///   pins::OperatorPtr A = family.operator_for(inputs);      // the PETSc rows as tensors
///   auto r = A->residual(model(x), f);                       // A u − f, Kokkos forward
///   r.square().mean().backward();                            // adjoint kernels
/// \endcode

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace pins {

/// A batch of linear operators with a differentiable apply. Implementations are immutable
/// after construction: they hold tensors (shared, not copied) and a description.
class Operator {
 public:
  virtual ~Operator() = default;

  /// "stencil" or "sparse": the operator form, for messages and dataset attributes.
  virtual std::string kind() const = 0;

  /// A one-line description (e.g. "stencil dim=3 star width=1 dof=1 on 64x64x64").
  virtual std::string describe() const = 0;

  /// Number of operators in the batch.
  virtual int64_t batch() const = 0;

  /// The shape of one field without the batch axis, e.g. {ny, nx}, {dof, nz, ny, nx} or {n}.
  virtual std::vector<int64_t> field_shape() const = 0;

  /// The tensor holding the operator's entries (stencil coefficients or CSR values); what
  /// autograd differentiates when it requires grad.
  virtual const torch::Tensor& values() const = 0;

  /// A u for u [B, field_shape()...]; differentiable in u and values().
  virtual torch::Tensor apply(const torch::Tensor& u) const = 0;

  /// A u − f in one pass where the kernel fuses it; differentiable in u, f and values().
  virtual torch::Tensor residual(const torch::Tensor& u, const torch::Tensor& f) const = 0;

  /// Aᵀ v (the adjoint of apply with respect to u); not differentiable itself.
  virtual torch::Tensor apply_transpose(const torch::Tensor& v) const = 0;

  /// The diagonal of each A_b shaped like a batch of fields [B, field_shape()...];
  /// differentiable in values(). Used by the diagonally scaled losses.
  virtual torch::Tensor diagonal() const = 0;

  /// The same operator form with other values: the shape of values() but for the batch
  /// size, e.g. |A| from values().abs() for rounding bounds, or a mini-batch's rows of a
  /// whole dataset's values. Throws pins::Error for a mis-shaped tensor.
  virtual std::shared_ptr<const Operator> with_values(torch::Tensor values) const = 0;

  /// The same operator with its values and any index arrays on `device` (the memory pins'
  /// Kokkos kernels read must be theirs: a CUDA build's operators live on the GPU). Throws
  /// pins::Error for an operator that cannot move there.
  virtual std::shared_ptr<const Operator> to(torch::Device device) const = 0;

  /// [B, field_shape()...]: the shape a batch of fields must have.
  std::vector<int64_t> batch_field_shape() const {
    std::vector<int64_t> s{batch()};
    for (int64_t d : field_shape()) s.push_back(d);
    return s;
  }
};

using OperatorPtr = std::shared_ptr<const Operator>;

}  // namespace pins
