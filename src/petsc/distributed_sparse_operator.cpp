// DistributedSparseOperator: each process's rows as a local CSR over [owned, ghost] columns;
// ghost values through PETSc's VecScatter, as a LibTorch autograd Function.
#include <torch/autograd.h>
#include <torch/torch.h>

#include <sstream>

#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"
#include "sparse_from_matrix.hpp"

namespace pins::petsc {

using State = DistributedSparseOperator::State;

DistributedSparseOperator::State::~State() {
  // An operator may outlive PETSc (e.g. a Python object collected at exit): PETSc objects
  // can only be destroyed before PetscFinalize.
  PetscBool finalized = PETSC_TRUE;
  if (PetscFinalized(&finalized) || finalized) return;
  VecScatterDestroy(&scatter);
  VecDestroy(&ghost);
  VecDestroy(&owned);
}

namespace {

// Places u's row b (float64, contiguous) in v for the lifetime of this object.
class Placed {
 public:
  Placed(Vec v, const double* data) : v_(v) {
    PINS_PETSC_CALL(VecPlaceArray(v_, const_cast<double*>(data)));
  }
  ~Placed() { VecResetArray(v_); }
  Placed(const Placed&) = delete;
  Placed& operator=(const Placed&) = delete;

 private:
  Vec v_;
};

}  // namespace

torch::Tensor State::gather_ghosts(const torch::Tensor& u) const {
  const int64_t B = u.size(0), ng = static_cast<int64_t>(ghosts.size());
  torch::Tensor out = torch::empty({B, ng}, u.options());
  ErrorCapture capture;
  for (int64_t b = 0; b < B; ++b) {
    Placed src(owned, u.data_ptr<double>() + b * n_own);
    Placed dst(ghost, out.data_ptr<double>() + b * ng);
    PINS_PETSC_CALL(VecScatterBegin(scatter, owned, ghost, INSERT_VALUES, SCATTER_FORWARD));
    PINS_PETSC_CALL(VecScatterEnd(scatter, owned, ghost, INSERT_VALUES, SCATTER_FORWARD));
  }
  return out;
}

void State::add_ghosts(const torch::Tensor& g, torch::Tensor& out) const {
  const int64_t B = g.size(0), ng = static_cast<int64_t>(ghosts.size());
  ErrorCapture capture;
  for (int64_t b = 0; b < B; ++b) {
    Placed src(ghost, g.data_ptr<double>() + b * ng);
    Placed dst(owned, out.data_ptr<double>() + b * n_own);
    PINS_PETSC_CALL(VecScatterBegin(scatter, ghost, owned, ADD_VALUES, SCATTER_REVERSE));
    PINS_PETSC_CALL(VecScatterEnd(scatter, ghost, owned, ADD_VALUES, SCATTER_REVERSE));
  }
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// [u, ghosts of u] in u's dtype; the scatter runs on float64 (PetscScalar).
torch::Tensor extend(const State& s, const torch::Tensor& u) {
  const torch::Tensor u64 = u.to(torch::kFloat64).contiguous();
  return torch::cat({u, s.gather_ghosts(u64).to(u.scalar_type())}, 1);
}

// Aᵀ g for the distributed rows: the local transpose over [owned, ghost] columns, then the
// ghost part added on its owners.
torch::Tensor transpose(const State& s, const torch::Tensor& values, const torch::Tensor& g) {
  const torch::Tensor ext = sparse_apply_transpose(s.pattern, values, g);
  // A new tensor unless there are no ghosts (then ext itself, no longer needed).
  torch::Tensor own = ext.slice(1, 0, s.n_own).to(torch::kFloat64).contiguous();
  const torch::Tensor gh = ext.slice(1, s.n_own).to(torch::kFloat64).contiguous();
  s.add_ghosts(gh, own);
  return own.to(g.scalar_type());
}

// The State travels to backward inside a one-byte handle tensor whose deleter holds the
// shared_ptr: the graph keeps the scatter alive even if the operator is gone.
torch::Tensor handle_of(const std::shared_ptr<State>& s) {
  auto* keep = new std::shared_ptr<State>(s);
  return torch::from_blob(
      s.get(), {1}, [keep](void*) { delete keep; }, torch::kUInt8);
}
const State& state_of(const torch::Tensor& handle) {
  return *static_cast<const State*>(handle.data_ptr());
}

variable_list distributed_backward(AutogradContext* ctx, const torch::Tensor& grad_output) {
  const State& s = state_of(ctx->saved_data["state"].toTensor());
  const auto saved = ctx->get_saved_variables();
  const torch::Tensor& values = saved[0];
  const torch::Tensor& u_ext = saved[1];
  const torch::Tensor g = grad_output.contiguous();
  torch::Tensor grad_values, grad_u;
  // Collective (the reverse scatter): every process runs it, whatever its own needs say,
  // since needs_input_grad is the same on all processes for the same graph.
  if (ctx->needs_input_grad(1)) grad_u = transpose(s, values, g);
  if (ctx->needs_input_grad(0))
    grad_values = sparse_values_gradient(s.pattern, g, u_ext, values.size(0) != g.size(0));
  return {grad_values, grad_u};
}

struct DistributedApply : public torch::autograd::Function<DistributedApply> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& values,
                               const torch::Tensor& u, const torch::Tensor& handle) {
    const State& s = state_of(handle);
    const torch::Tensor u_ext = extend(s, u);
    ctx->save_for_backward({values, u_ext});
    ctx->saved_data["state"] = handle;
    torch::NoGradGuard no_grad;
    return sparse_apply(s.pattern, values, u_ext);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    variable_list grads = distributed_backward(ctx, grad_outputs[0]);
    grads.push_back(torch::Tensor());  // the handle
    return grads;
  }
};

struct DistributedResidual : public torch::autograd::Function<DistributedResidual> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& values,
                               const torch::Tensor& u, const torch::Tensor& f,
                               const torch::Tensor& handle) {
    const State& s = state_of(handle);
    const torch::Tensor u_ext = extend(s, u);
    ctx->save_for_backward({values, u_ext});
    ctx->saved_data["state"] = handle;
    torch::NoGradGuard no_grad;
    return sparse_residual(s.pattern, values, u_ext, f);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    variable_list grads = distributed_backward(ctx, grad_outputs[0]);
    grads.push_back(ctx->needs_input_grad(2) ? -grad_outputs[0] : torch::Tensor());
    grads.push_back(torch::Tensor());  // the handle
    return grads;
  }
};

}  // namespace

DistributedSparseOperator::DistributedSparseOperator(std::shared_ptr<State> state,
                                                     torch::Tensor values)
    : state_(std::move(state)), values_(std::move(values)) {
  PINS_CHECK(state_ != nullptr, "DistributedSparseOperator: no state");
  check_sparse_inputs("DistributedSparseOperator", state_->pattern, values_, {});
}

MPI_Comm DistributedSparseOperator::comm() const {
  return state_->comm;
}
const SparsePattern& DistributedSparseOperator::local_pattern() const {
  return state_->pattern;
}
int64_t DistributedSparseOperator::local_size() const {
  return state_->n_own;
}
int64_t DistributedSparseOperator::ghost_size() const {
  return static_cast<int64_t>(state_->ghosts.size());
}
int64_t DistributedSparseOperator::global_size() const {
  return state_->global_size;
}
const std::vector<PetscInt>& DistributedSparseOperator::ghost_columns() const {
  return state_->ghosts;
}

namespace {
// u [B, n_local] (checked here: the local kernel sees [B, n_local + ghosts]).
void check_local(const char* caller, const char* name, const torch::Tensor& t, int64_t n,
                 const torch::Tensor& values) {
  PINS_CHECK(t.defined(), caller, ": ", name, " is an undefined tensor");
  PINS_CHECK(t.dim() == 2 && t.size(1) == n, caller, ": ", name,
             " must have shape [B, n_local] = [B, ", n, "] (this process's rows), got ", t.sizes());
  PINS_CHECK(t.scalar_type() == values.scalar_type(), caller, ": ", name, " has dtype ",
             t.scalar_type(), " but values have ", values.scalar_type(),
             "; all inputs must share one dtype");
  PINS_CHECK(t.is_contiguous(), caller, ": ", name,
             " must be contiguous (row-major); call .contiguous() first");
  PINS_CHECK(values.size(0) == 1 || t.size(0) == values.size(0), caller, ": ", name,
             " has a batch of ", t.size(0), " but values have ", values.size(0),
             "; the batches must match (or values have batch 1)");
}
}  // namespace

torch::Tensor DistributedSparseOperator::ghost_values(const torch::Tensor& u) const {
  check_local("DistributedSparseOperator::ghost_values", "u", u, local_size(), values_);
  torch::NoGradGuard no_grad;
  return state_->gather_ghosts(u.detach().to(torch::kFloat64).contiguous()).to(u.scalar_type());
}

void DistributedSparseOperator::check_finite() const {
  check_sparse_finite("DistributedSparseOperator", state_->pattern, values_);
}

std::string DistributedSparseOperator::describe() const {
  PetscMPIInt size = 1;
  MPI_Comm_size(state_->comm, &size);
  std::ostringstream os;
  os << "sparse distributed " << global_size() << " x " << global_size() << " on " << size
     << " processes, batch " << batch() << ", local " << state_->pattern.describe() << ", "
     << values_.scalar_type();
  return os.str();
}

torch::Tensor DistributedSparseOperator::apply(const torch::Tensor& u) const {
  check_local("DistributedSparseOperator::apply", "u", u, local_size(), values_);
  return DistributedApply::apply(values_, u, handle_of(state_));
}

torch::Tensor DistributedSparseOperator::residual(const torch::Tensor& u,
                                                  const torch::Tensor& f) const {
  check_local("DistributedSparseOperator::residual", "u", u, local_size(), values_);
  check_local("DistributedSparseOperator::residual", "f", f, local_size(), values_);
  PINS_CHECK(f.size(0) == u.size(0), "DistributedSparseOperator::residual: f has a batch of ",
             f.size(0), " but u has ", u.size(0));
  return DistributedResidual::apply(values_, u, f, handle_of(state_));
}

torch::Tensor DistributedSparseOperator::apply_transpose(const torch::Tensor& v) const {
  check_local("DistributedSparseOperator::apply_transpose", "v", v, local_size(), values_);
  torch::NoGradGuard no_grad;
  return transpose(*state_, values_.detach(), v.detach());
}

torch::Tensor DistributedSparseOperator::diagonal() const {
  // Local row i is global row rstart + i, whose diagonal is owned column i.
  return sparse_diagonal(state_->pattern, values_);
}

std::shared_ptr<const Operator> DistributedSparseOperator::with_values(torch::Tensor values) const {
  return std::make_shared<const DistributedSparseOperator>(state_, std::move(values));
}

std::shared_ptr<const Operator> DistributedSparseOperator::to(torch::Device device) const {
  PINS_CHECK(device.is_cpu(), "DistributedSparseOperator: its ghost exchanges are PETSc "
             "VecScatters on host memory; it stays on the CPU (asked for ", device, ")");
  return std::make_shared<const DistributedSparseOperator>(state_, values_);
}

}  // namespace pins::petsc
