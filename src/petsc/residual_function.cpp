// The user's SNES / TS residual as LibTorch autograd functions (see residual_function.hpp).
//
// Each sample of a batch is one PETSc call on work vectors whose arrays are placed on the
// tensors' memory (VecPlaceArray: no copies in or out). Backward assembles the Jacobian at the
// saved u and applies its transpose; see the header for why it is not cached in forward.
#include "pins/petsc/residual_function.hpp"

#include <petscdm.h>
#include <torch/autograd.h>

#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "collective.hpp"
#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/generate.hpp"  // CollectiveError

namespace pins::petsc {

namespace detail {

namespace {

bool petsc_finalized() {
  PetscBool finalized = PETSC_TRUE;
  PetscFinalized(&finalized);
  return finalized == PETSC_TRUE;
}

// Owns one reference to a PETSc object; releases it unless PETSc is gone already (Python may
// collect a ResidualFunction after petsc4py finalised PETSc at exit).
template <class T, PetscErrorCode (*Destroy)(T*)>
class Owned {
 public:
  Owned() = default;
  explicit Owned(T object) : object_(object) {}
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (object_ && !petsc_finalized()) Destroy(&object_);
  }
  T get() const { return object_; }
  T* out() { return &object_; }  // for PETSc's Create/Duplicate calls; must be empty

 private:
  T object_ = nullptr;
};

using OwnedVec = Owned<Vec, VecDestroy>;
using OwnedMat = Owned<Mat, MatDestroy>;

// While alive, `v`'s array is `data` (a tensor's memory; PETSc only reads it where it is an
// input). VecPlaceArray increases the vector's object state, so PETSc caches keyed on it
// (e.g. TS's RHS Jacobian) see a new vector for every sample.
class Placed {
 public:
  Placed(Vec v, const double* data) : v_(v) {
    PINS_PETSC_CALL(VecPlaceArray(v, const_cast<double*>(data)));
  }
  Placed(const Placed&) = delete;
  Placed& operator=(const Placed&) = delete;
  ~Placed() { VecResetArray(v_); }

 private:
  Vec v_;
};

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// What is wrong with a batch argument on this process, if anything. (The message is only
// built when there is a problem: this runs on every call.)
std::optional<std::string> local_problem(const std::string& who, const char* name,
                                         const torch::Tensor& u, std::int64_t n,
                                         const char* vector) {
  const bool fine = u.defined() && u.is_floating_point() && u.device().is_cpu() &&
                    ((u.dim() == 1 && u.size(0) == n) || (u.dim() == 2 && u.size(1) == n));
  if (fine) return std::nullopt;
  std::ostringstream m;
  m << who << ": " << name;
  if (!u.defined()) {
    m << " is an undefined tensor";
  } else if (!u.is_floating_point()) {
    m << " must be a floating-point tensor (float64; float32, float16 and bfloat16 are "
         "converted), got "
      << u.scalar_type();
  } else if (!u.device().is_cpu()) {
    m << " must be a CPU tensor (PETSc's vectors are in host memory), got one on " << u.device();
  } else {
    m << " must be [B, n_local] or [n_local] with n_local = " << n << " (this process's part of "
      << vector << "), got " << shape_text(u);
  }
  return m.str();
}

// Collective: throws on every process if any process's inputs are bad or the batch sizes differ.
// It runs once per call on the training hot path, so it costs one small MPI_Allreduce (whether
// any process has a problem, and the largest and smallest batch) and nothing on a one-process
// communicator; only a failure pays for agreeing on its message.
void agree_on_inputs(MPI_Comm comm, const std::optional<std::string>& problem, std::int64_t batch,
                     const std::string& who) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  if (size == 1) {
    if (problem) throw CollectiveError(*problem);  // what the collective path throws
    return;
  }
  std::int64_t local[3] = {problem ? 1 : 0, batch, -batch}, global[3] = {0, 0, 0};
  MPI_Allreduce(local, global, 3, MPI_INT64_T, MPI_MAX, comm);
  if (global[0] != 0) {
    std::optional<Failure> mine;
    if (problem) mine = Failure{-1, *problem};
    throw_if_any(comm, mine);  // agrees on the first failing process's message and throws it
  }
  PINS_CHECK(global[1] == -global[2], who, ": the batch size differs between processes (from ",
             -global[2], " to ", global[1],
             "); every process passes its part of the same B samples");
}

// [B, n] float64 contiguous view of a checked argument.
torch::Tensor as_batch(const torch::Tensor& u) {
  torch::Tensor v = u.dim() == 1 ? u.unsqueeze(0) : u;
  return v.to(torch::kFloat64).contiguous();
}

// The local size of `v`, after checking that the square matrix `A` has the same layout.
PetscInt check_layout(const std::string& who, Vec v, Mat A) {
  PetscInt n = 0, rows = 0, cols = 0, grows = 0, gcols = 0;
  PINS_PETSC_CALL(VecGetLocalSize(v, &n));
  PINS_PETSC_CALL(MatGetLocalSize(A, &rows, &cols));
  PINS_PETSC_CALL(MatGetSize(A, &grows, &gcols));
  PINS_CHECK(grows == gcols && rows == n && cols == n, who,
             ": the Jacobian must be square with the solution's layout (local ", n, " x ", n,
             "), got global ", grows, " x ", gcols, ", local ", rows, " x ", cols);
  return n;
}

void check_transpose(const std::string& who, Mat A) {
  PetscBool has = PETSC_FALSE;
  PINS_PETSC_CALL(MatHasOperation(A, MATOP_MULT_TRANSPOSE, &has));
  if (has) return;
  MatType type = nullptr;
  PINS_PETSC_CALL(MatGetType(A, &type));
  PINS_CHECK(false, who, ": the Jacobian (Mat type ", type ? type : "unset",
             ") has no MatMultTranspose, which the backward pass (J^T g) needs; a MATSHELL "
             "Jacobian must set MATOP_MULT_TRANSPOSE with MatShellSetOperation, matrix-free "
             "(mffd) Jacobians cannot be used; assemble the Jacobian (e.g. -snes_fd_color)");
}

MPI_Comm comm_of(PetscObject o) {
  MPI_Comm comm = MPI_COMM_NULL;
  PINS_PETSC_CALL(PetscObjectGetComm(o, &comm));
  return comm;
}

void check_class(const std::string& who, PetscObject o, PetscClassId expected, const char* what) {
  PINS_CHECK(o != nullptr, who, ": the ", what, " is null");
  PetscClassId id = 0;
  PINS_PETSC_CALL(PetscObjectGetClassId(o, &id));
  PINS_CHECK(id == expected, who, ": the object passed is not a ", what);
}

const std::string kSnesWho = "pins::petsc::ResidualFunction";
const std::string kTSWho = "pins::petsc::TSStepResidual";

}  // namespace

// ---------------------------------------------------------------------------------------------
// SNES
// ---------------------------------------------------------------------------------------------

class SnesResidual {
 public:
  explicit SnesResidual(SNES snes) {
    check_class(kSnesWho, reinterpret_cast<PetscObject>(snes), SNES_CLASSID, "SNES");
    comm_ = comm_of(reinterpret_cast<PetscObject>(snes));
    // What the user provided, before SNESSetUp (which would install a finite-difference
    // Jacobian where none was given).
    PetscErrorCode (*function)(SNES, Vec, Vec, void*) = nullptr;
    PetscErrorCode (*jacobian)(SNES, Vec, Mat, Mat, void*) = nullptr;
    PINS_PETSC_CALL(SNESGetFunction(snes, nullptr, &function, nullptr));
    PINS_PETSC_CALL(SNESGetJacobian(snes, nullptr, nullptr, &jacobian, nullptr));
    PINS_CHECK(function != nullptr, kSnesWho,
               ": the SNES has no function; set one with SNESSetFunction (or a DM's, e.g. "
               "DMDASNESSetFunctionLocal) first");
    PINS_CHECK(jacobian != nullptr, kSnesWho,
               ": the SNES has no Jacobian, which the backward pass (J^T g) needs; set one with "
               "SNESSetJacobian (or DMDASNESSetJacobianLocal, or -snes_fd_color and "
               "SNESSetFromOptions) first");
    PINS_PETSC_CALL(SNESSetUp(snes));  // creates the Jacobian matrices from the DM if needed
    Vec r = nullptr;
    Mat A = nullptr;
    PINS_PETSC_CALL(SNESGetFunction(snes, &r, nullptr, nullptr));
    PINS_PETSC_CALL(SNESGetJacobian(snes, &A, nullptr, nullptr, nullptr));
    PINS_CHECK(r != nullptr && A != nullptr, kSnesWho,
               ": the SNES has no function vector or Jacobian matrix after SNESSetUp");
    check_transpose(kSnesWho, A);
    n_ = check_layout(kSnesWho, r, A);
    PINS_PETSC_CALL(VecDuplicate(r, x_.out()));
    PINS_PETSC_CALL(VecDuplicate(r, y_.out()));
    PINS_PETSC_CALL(VecDuplicate(r, z_.out()));
    PINS_PETSC_CALL(PetscObjectReference(reinterpret_cast<PetscObject>(snes)));
    snes_ = snes;
  }
  ~SnesResidual() {
    if (!petsc_finalized()) SNESDestroy(&snes_);
  }
  SnesResidual(const SnesResidual&) = delete;
  SnesResidual& operator=(const SnesResidual&) = delete;

  SNES snes() const { return snes_; }
  MPI_Comm comm() const { return comm_; }
  std::int64_t local_size() const { return n_; }

  // F(u_b) for each row of u [B, n] (float64, contiguous).
  torch::Tensor function(const torch::Tensor& u) const {
    ErrorCapture capture;
    torch::Tensor out = torch::empty_like(u);
    const double* in = u.data_ptr<double>();
    double* o = out.data_ptr<double>();
    for (std::int64_t b = 0; b < u.size(0); ++b) {
      Placed x(x_.get(), in + b * n_), y(y_.get(), o + b * n_);
      PINS_PETSC_CALL(SNESComputeFunction(snes_, x_.get(), y_.get()));
    }
    return out;
  }

  // J(u_b)ᵀ g_b for each row (Jacobian assembled at u_b into the SNES's own matrices).
  torch::Tensor jacobian_transpose(const torch::Tensor& u, const torch::Tensor& g) const {
    ErrorCapture capture;
    Mat A = nullptr, P = nullptr;
    PINS_PETSC_CALL(SNESGetJacobian(snes_, &A, &P, nullptr, nullptr));
    PINS_CHECK(A != nullptr, kSnesWho, ": the SNES's Jacobian matrix is gone");
    check_transpose(kSnesWho, A);  // the user may have replaced it since construction
    torch::Tensor out = torch::empty_like(u);
    const double* in = u.data_ptr<double>();
    const double* gp = g.data_ptr<double>();
    double* o = out.data_ptr<double>();
    for (std::int64_t b = 0; b < u.size(0); ++b) {
      {
        Placed x(x_.get(), in + b * n_);
        PINS_PETSC_CALL(SNESComputeJacobian(snes_, x_.get(), A, P ? P : A));
      }
      Placed gv(y_.get(), gp + b * n_), ov(z_.get(), o + b * n_);
      PINS_PETSC_CALL(MatMultTranspose(A, y_.get(), z_.get()));
    }
    return out;
  }

 private:
  SNES snes_ = nullptr;
  MPI_Comm comm_ = MPI_COMM_NULL;
  PetscInt n_ = 0;
  OwnedVec x_, y_, z_;  // work vectors with the solution's layout, arrays placed per call
};

// ---------------------------------------------------------------------------------------------
// TS (one backward-Euler step)
// ---------------------------------------------------------------------------------------------

class TSResidual {
 public:
  explicit TSResidual(TS ts) {
    check_class(kTSWho, reinterpret_cast<PetscObject>(ts), TS_CLASSID, "TS");
    comm_ = comm_of(reinterpret_cast<PetscObject>(ts));
    TSIFunction ifunction = nullptr;
    TSIJacobian ijacobian = nullptr;
    TSRHSFunction rhsfunction = nullptr;
    TSRHSJacobian rhsjacobian = nullptr;
    PINS_PETSC_CALL(TSGetIFunction(ts, nullptr, &ifunction, nullptr));
    PINS_PETSC_CALL(TSGetRHSFunction(ts, nullptr, &rhsfunction, nullptr));
    PINS_PETSC_CALL(TSGetIJacobian(ts, nullptr, nullptr, &ijacobian, nullptr));
    PINS_PETSC_CALL(TSGetRHSJacobian(ts, nullptr, nullptr, &rhsjacobian, nullptr));
    PINS_CHECK(ifunction || rhsfunction, kTSWho,
               ": the TS has no IFunction or RHSFunction; set one with TSSetIFunction (or "
               "DMTSSetIFunction / DMDATSSetIFunctionLocal) first");
    PINS_CHECK(!ifunction || ijacobian, kTSWho,
               ": the TS has an IFunction but no IJacobian, which the backward pass needs; set "
               "one with TSSetIJacobian (or DMDATSSetIJacobianLocal) first");
    PINS_CHECK(!rhsfunction || rhsjacobian, kTSWho,
               ": the TS has an RHSFunction but no RHSJacobian, which the backward pass needs; "
               "set one with TSSetRHSJacobian first");
    // The solution's layout: the residual vector the user gave (or the TS's DM makes), else
    // the solution vector.
    DM dm = nullptr;
    PINS_PETSC_CALL(TSGetDM(ts, &dm));
    Vec r = nullptr;
    OwnedVec created;
    PINS_PETSC_CALL(TSGetSolution(ts, &r));
    if (!r) PINS_PETSC_CALL(TSGetIFunction(ts, &r, nullptr, nullptr));
    if (!r) {
      PINS_PETSC_CALL(DMCreateGlobalVector(dm, created.out()));
      r = created.get();
    }
    Mat A = nullptr, P = nullptr;
    PINS_PETSC_CALL(TSGetIJacobian(ts, &A, &P, nullptr, nullptr));
    if (!A && !P) {  // callbacks only (e.g. DMDATSSetIJacobianLocal): the DM makes the matrix
      PINS_PETSC_CALL(DMCreateMatrix(dm, own_.out()));
      A = own_.get();
    }
    if (!A) A = P;
    check_transpose(kTSWho, A);
    n_ = check_layout(kTSWho, r, A);
    PINS_PETSC_CALL(VecDuplicate(r, x_.out()));
    PINS_PETSC_CALL(VecDuplicate(r, xdot_.out()));
    PINS_PETSC_CALL(VecDuplicate(r, y_.out()));
    PINS_PETSC_CALL(VecDuplicate(r, z_.out()));
    PINS_PETSC_CALL(PetscObjectReference(reinterpret_cast<PetscObject>(ts)));
    ts_ = ts;
  }
  ~TSResidual() {
    if (!petsc_finalized()) TSDestroy(&ts_);
  }
  TSResidual(const TSResidual&) = delete;
  TSResidual& operator=(const TSResidual&) = delete;

  MPI_Comm comm() const { return comm_; }
  std::int64_t local_size() const { return n_; }

  // F(t, u_b, udot_b) for each row.
  torch::Tensor function(const torch::Tensor& u, const torch::Tensor& udot, double t) const {
    ErrorCapture capture;
    torch::Tensor out = torch::empty_like(u);
    const double* up = u.data_ptr<double>();
    const double* dp = udot.data_ptr<double>();
    double* o = out.data_ptr<double>();
    for (std::int64_t b = 0; b < u.size(0); ++b) {
      Placed x(x_.get(), up + b * n_), xd(xdot_.get(), dp + b * n_), y(y_.get(), o + b * n_);
      PINS_PETSC_CALL(TSComputeIFunction(ts_, t, x_.get(), xdot_.get(), y_.get(), PETSC_FALSE));
    }
    return out;
  }

  // For each row: J(σ)ᵀ g into grad_u and, if grad_prev is defined, J(0)ᵀ g − J(σ)ᵀ g into it,
  // with J(s) = ∂F/∂u + s ∂F/∂u_t at (t, u_b, udot_b) and σ = 1/dt.
  void jacobian_transpose(const torch::Tensor& u, const torch::Tensor& udot, const torch::Tensor& g,
                          double t, double dt, torch::Tensor& grad_u,
                          torch::Tensor* grad_prev) const {
    ErrorCapture capture;
    Mat A = nullptr, P = nullptr;
    PINS_PETSC_CALL(TSGetIJacobian(ts_, &A, &P, nullptr, nullptr));
    if (!A && !P) A = own_.get();
    if (!A) A = P;
    if (!P) P = A;
    check_transpose(kTSWho, A);
    const double* up = u.data_ptr<double>();
    const double* dp = udot.data_ptr<double>();
    const double* gp = g.data_ptr<double>();
    double* ou = grad_u.data_ptr<double>();
    double* op = grad_prev ? grad_prev->data_ptr<double>() : nullptr;
    for (std::int64_t b = 0; b < u.size(0); ++b) {
      Placed x(x_.get(), up + b * n_), xd(xdot_.get(), dp + b * n_), gv(y_.get(), gp + b * n_);
      PINS_PETSC_CALL(
          TSComputeIJacobian(ts_, t, x_.get(), xdot_.get(), 1.0 / dt, A, P, PETSC_FALSE));
      {
        Placed ov(z_.get(), ou + b * n_);
        PINS_PETSC_CALL(MatMultTranspose(A, y_.get(), z_.get()));
      }
      if (op) {
        PINS_PETSC_CALL(TSComputeIJacobian(ts_, t, x_.get(), xdot_.get(), 0.0, A, P, PETSC_FALSE));
        Placed ov(z_.get(), op + b * n_);
        PINS_PETSC_CALL(MatMultTranspose(A, y_.get(), z_.get()));
      }
    }
    if (grad_prev) grad_prev->sub_(grad_u);
  }

 private:
  TS ts_ = nullptr;
  MPI_Comm comm_ = MPI_COMM_NULL;
  PetscInt n_ = 0;
  OwnedMat own_;  // the Jacobian matrix when the TS has none of its own
  OwnedVec x_, xdot_, y_, z_;
};

namespace {

// ---------------------------------------------------------------------------------------------
// Autograd functions. The implementation object travels to backward in a capsule (an IValue
// holding any intrusive_ptr), which keeps it alive as long as the graph.
// ---------------------------------------------------------------------------------------------

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

template <class Impl>
struct Holder : torch::CustomClassHolder {
  explicit Holder(std::shared_ptr<const Impl> p) : impl(std::move(p)) {}
  std::shared_ptr<const Impl> impl;
};

template <class Impl>
void save_impl(AutogradContext* ctx, const std::shared_ptr<const Impl>& impl) {
  ctx->saved_data["impl"] = c10::IValue::make_capsule(c10::make_intrusive<Holder<Impl>>(impl));
}

template <class Impl>
std::shared_ptr<const Impl> saved_impl(AutogradContext* ctx) {
  return c10::static_intrusive_pointer_cast<Holder<Impl>>(ctx->saved_data["impl"].toCapsule())
      ->impl;
}

struct SnesFunction : torch::autograd::Function<SnesFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& u,
                               const std::shared_ptr<const SnesResidual>& impl) {
    save_impl(ctx, impl);
    ctx->save_for_backward({u});
    return impl->function(u);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const torch::Tensor& g = grad_outputs[0];
    torch::Tensor grad_u;
    if (ctx->needs_input_grad(0) && g.defined()) {
      const torch::Tensor u = ctx->get_saved_variables()[0];
      grad_u =
          saved_impl<SnesResidual>(ctx)->jacobian_transpose(u, g.to(torch::kFloat64).contiguous());
    }
    return {grad_u, torch::Tensor()};
  }
};

struct TSFunction : torch::autograd::Function<TSFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& u,
                               const torch::Tensor& u_prev, double t, double dt,
                               const std::shared_ptr<const TSResidual>& impl) {
    save_impl(ctx, impl);
    ctx->saved_data["t"] = t;
    ctx->saved_data["dt"] = dt;
    ctx->save_for_backward({u, u_prev});
    return impl->function(u, (u - u_prev) / dt, t);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const torch::Tensor& g = grad_outputs[0];
    torch::Tensor grad_u, grad_prev;
    const bool need_prev = ctx->needs_input_grad(1);
    if ((ctx->needs_input_grad(0) || need_prev) && g.defined()) {
      const auto saved = ctx->get_saved_variables();
      const double t = ctx->saved_data["t"].toDouble();
      const double dt = ctx->saved_data["dt"].toDouble();
      const torch::Tensor udot = (saved[0] - saved[1]) / dt;
      grad_u = torch::empty_like(saved[0]);
      if (need_prev) grad_prev = torch::empty_like(saved[0]);
      saved_impl<TSResidual>(ctx)->jacobian_transpose(saved[0], udot,
                                                      g.to(torch::kFloat64).contiguous(), t, dt,
                                                      grad_u, need_prev ? &grad_prev : nullptr);
      if (!ctx->needs_input_grad(0)) grad_u = torch::Tensor();
    }
    return {grad_u, grad_prev, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// The result of a [B, n] computation in the caller's shape ([n] if u was) and dtype.
torch::Tensor as_caller(const torch::Tensor& r, const torch::Tensor& u) {
  torch::Tensor out = u.dim() == 1 ? r.squeeze(0) : r;
  return out.to(u.scalar_type());
}

}  // namespace
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Public classes
// ---------------------------------------------------------------------------------------------

ResidualFunction::ResidualFunction(SNES snes)
    : impl_(std::make_shared<const detail::SnesResidual>(snes)) {}

torch::Tensor ResidualFunction::operator()(const torch::Tensor& u) const {
  const auto problem =
      detail::local_problem(detail::kSnesWho, "u", u, impl_->local_size(), "the SNES solution");
  detail::agree_on_inputs(impl_->comm(), problem, problem ? 0 : (u.dim() == 2 ? u.size(0) : 1),
                          detail::kSnesWho);
  return detail::as_caller(detail::SnesFunction::apply(detail::as_batch(u), impl_), u);
}

std::int64_t ResidualFunction::local_size() const {
  return impl_->local_size();
}

SNES ResidualFunction::snes() const {
  return impl_->snes();
}

TSStepResidual::TSStepResidual(TS ts) : impl_(std::make_shared<const detail::TSResidual>(ts)) {}

torch::Tensor TSStepResidual::operator()(const torch::Tensor& u, const torch::Tensor& u_prev,
                                         double t, double dt) const {
  const std::string& who = detail::kTSWho;
  const std::int64_t n = impl_->local_size();
  auto problem = detail::local_problem(who, "u", u, n, "the TS solution");
  if (!problem) problem = detail::local_problem(who, "u_prev", u_prev, n, "the TS solution");
  if (!problem && (u.sizes() != u_prev.sizes() || u.scalar_type() != u_prev.scalar_type()))
    problem = who + ": u " + detail::shape_text(u) + " and u_prev " + detail::shape_text(u_prev) +
              " must have the same shape and dtype";
  if (!problem && !(std::isfinite(t) && std::isfinite(dt) && dt > 0))
    problem = who +
              ": the step needs a finite time t and a step dt > 0, got t = " + std::to_string(t) +
              ", dt = " + std::to_string(dt);
  detail::agree_on_inputs(impl_->comm(), problem, problem ? 0 : (u.dim() == 2 ? u.size(0) : 1),
                          who);
  return detail::as_caller(
      detail::TSFunction::apply(detail::as_batch(u), detail::as_batch(u_prev), t, dt, impl_), u);
}

std::int64_t TSStepResidual::local_size() const {
  return impl_->local_size();
}

}  // namespace pins::petsc
