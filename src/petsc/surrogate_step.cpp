// The network step of the surrogate PC and KSPGuess (surrogate_step.hpp).
#include "surrogate_step.hpp"

#include <petscpc.h>  // PC_CLASSID
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "collective.hpp"
#include "model_task_hint.hpp"
#include "network_threads.hpp"
#include "pins/core/check.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/scalar.hpp"
#include "stencil_from_matrix.hpp"
#include "surrogates/grid_piece.hpp"
#include "surrogates/mgnet.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::petsc {

SurrogateStep::SurrogateStep(const std::string& model_path) : path_(model_path) {
  ModelRequirements need;
  need.task = kPreconditionTask;
  need.in_channels = kPreconditionChannels;
  need.out_channels = 1;
  LoadedModel loaded = load_model_or_point_elsewhere(model_path, need);
  model_ = loaded.model;
  manifest_ = loaded.manifest;
  model_->module().eval();
  // The operator flag fitted at training time (absent in models trained before it existed).
  if (manifest_.metrics.is_object() && manifest_.metrics.contains(kOperatorFlagKey)) {
    try {
      operator_flag_ = InputFlag::from_json(manifest_.metrics.at(kOperatorFlagKey),
                                            std::string("metrics.") + kOperatorFlagKey);
    } catch (const Error& e) {
      throw Error("model file '" + model_path + "': " + e.what());
    }
  }
}

namespace {

// Constructs the step on this process. A failure is returned with its message naming the
// process (when there are several); *missing says whether the file was not there at all.
std::optional<detail::Failure> try_load(MPI_Comm comm, const std::string& model_path,
                                        std::unique_ptr<SurrogateStep>* step, bool* missing) {
  std::optional<detail::Failure> failure;
  *missing = false;
  try {
    *step = std::make_unique<SurrogateStep>(model_path);
  } catch (const FileNotFound& e) {
    *missing = true;
    failure = detail::Failure{-1, exception_message(e)};
  } catch (const std::exception& e) {
    failure = detail::Failure{-1, exception_message(e)};
  }
  int size = 1, rank = 0;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  if (failure && size > 1)
    failure->message = "on process " + std::to_string(rank) + " of " + std::to_string(size) + ": " +
                       failure->message;
  return failure;
}

}  // namespace

PetscErrorCode SurrogateStep::load(MPI_Comm comm, const std::string& model_path, const char* option,
                                   std::unique_ptr<SurrogateStep>* step, PetscInt threads) {
  PetscFunctionBeginUser;
  // Every process reads the file; one that cannot (a node without it, a partial copy) must
  // stop the others too, or they would wait for it in their next collective call.
  bool missing;
  const std::optional<detail::Failure> failure = try_load(comm, model_path, step, &missing);
  if (const auto message = detail::agree(comm, failure)) {
    step->reset();
    int any_missing = missing ? 1 : 0;  // the same error code on every process
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &any_missing, 1, MPI_INT, MPI_MAX, comm));
    SETERRQ(comm, any_missing ? PETSC_ERR_FILE_OPEN : PETSC_ERR_FILE_UNEXPECTED, "%s: %s", option,
            message->c_str());
  }
  PetscCall(set_network_threads(comm, threads));
  PetscFunctionReturn(0);
}

SurrogateStep::~SurrogateStep() {
  VecDestroy(&inv_diag_);
  VecDestroy(&w_);
  VecDestroy(&rhat_);
}

int SurrogateStep::trained_smooth() const {
  const auto it = manifest_.normalisation.find("smooth");
  return it != manifest_.normalisation.end() && it->is_number_integer() ? it->get<int>() : 0;
}

PetscErrorCode SurrogateStep::set_operator(Mat A, DM da, const char* who) {
  PetscFunctionBeginUser;
  A_ = A;
  PetscCall(DMDAGetInfo(da, nullptr, &nx_, &ny_, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr, nullptr, nullptr));
  MPI_Comm comm = PetscObjectComm((PetscObject)A);
  PetscMPIInt size;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  auto* mgnet = dynamic_cast<MgNetImpl*>(model_.get());
  PetscCheck(cycle_ != Cycle::kMatrices || mgnet, comm, PETSC_ERR_ARG_INCOMP,
             "%s: the cycle as distributed matrices needs an mgnet model; '%s' is a %s network "
             "(use the network cycle)",
             who, path_.c_str(), manifest_.architecture.c_str());
  const bool want_symmetric = hierarchy_ == Hierarchy::kSymmetric;
  PetscCheck(!want_symmetric || mgnet, comm, PETSC_ERR_ARG_INCOMP,
             "%s: -pc_surrogate_galerkin symmetric builds an MgNet's cycle as distributed "
             "matrices; '%s' is a %s network, not an mgnet",
             who, path_.c_str(), manifest_.architecture.c_str());
  PetscCheck(!want_symmetric || cycle_ != Cycle::kNetwork, comm, PETSC_ERR_ARG_INCOMP,
             "%s: -pc_surrogate_galerkin symmetric builds the cycle as distributed matrices, "
             "but -pc_surrogate_cycle network runs the network's own hierarchy on rank 0; use "
             "-pc_surrogate_cycle matrices or auto",
             who);
  // By default an MgNet's cycle is matrices on A's own hierarchy, on any number of
  // processes, unless the network's own cycle is asked for: at 1:10⁴ the scaled hierarchy
  // loses most of its coarse correction, elsewhere the two are alike, and one default for
  // every process count keeps the iterations independent of it (bench/RESULTS.md, "Galerkin
  // on A").
  const bool symmetric =
      want_symmetric || (hierarchy_ == Hierarchy::kAuto && mgnet && cycle_ != Cycle::kNetwork);
  const bool as_matrices =
      mgnet && (cycle_ == Cycle::kMatrices || (cycle_ == Cycle::kAuto && (size > 1 || symmetric)));
  symmetric_ = as_matrices && symmetric;
  if (!inv_diag_) {
    PetscCall(MatCreateVecs(A, &inv_diag_, &w_));
    PetscCall(VecDuplicate(w_, &rhat_));
  }
  PetscCall(MatGetDiagonal(A, inv_diag_));
  PetscCall(VecReciprocal(inv_diag_));
  if (as_matrices) {
    // Every process reads its own rows and sets up its part of the cycle; no grid is
    // gathered anywhere.
    couplings_ = torch::Tensor();
    torch::Tensor couplings;
    static PetscLogEvent read = 0;  // -log_view: this process's rows of A, checks, statistics
    if (!read) PetscCall(PetscLogEventRegister("PinsMgNetRead", PC_CLASSID, &read));
    PetscCall(PetscLogEventBegin(read, 0, 0, 0, 0));
    PetscCall(local_couplings(A, da, who, &couplings));
    PetscCall(PetscLogEventEnd(read, 0, 0, 0, 0));
    PetscCall(matrices_.build(A, inv_diag_, da, couplings, *mgnet, matrices_reuse_, network_lag_,
                              symmetric_));
    ++matrix_builds_;
    if (matrices_.reused()) ++matrix_reuses_;
    if (matrices_.lagged()) ++matrix_lags_;
    PetscFunctionReturn(0);
  }
  matrices_.reset();
  const torch::ScalarType dtype = parameter_dtype(model_->module());
  auto* piecewise = dynamic_cast<PiecewiseSurrogate*>(model_.get());
  pieces_ = piecewise && piecewise->runs_in_pieces() && size > 1;
  if (pieces_) {
    // Every process keeps the couplings of its own box for its piece of the network.
    const PetscInt alignment = PetscInt(piecewise->piece_alignment());
    const bool new_layout = !grid_pieces_.matches(da, alignment);
    if (new_layout) PetscCall(grid_pieces_.setup(da, alignment, who));
    torch::Tensor owned;
    PetscCall(local_couplings(A, da, who, &owned));
    PetscCall(grid_pieces_.read_owned(owned, w_, &couplings_));
    couplings_ = couplings_.to(dtype).contiguous();
    // The box's exchanges are recorded by its first application.
    if (new_layout) exchanges_.clear();
    PetscFunctionReturn(0);
  }
  torch::Tensor coeffs;
  PetscCall(stencil_from_matrix(A, da, gather_, who, &coeffs));
  // The features are made on rank 0 only: a failure there must stop every rank alike.
  std::optional<detail::Failure> failure;
  if (coeffs.defined()) {
    detail::record_failure(failure, -1, [&] {
      const torch::Tensor scaled = sign_free_scaled_stencil(coeffs);  // Â = D⁻¹A
      couplings_ = scaled.narrow(1, 1, 4).to(dtype).contiguous();
      operator_score_ =
          operator_flag_.relative_scores(operator_statistics(scaled)).item<double>();
    });
  }
  if (const auto message = detail::agree(comm, failure))
    SETERRQ(comm, PETSC_ERR_LIB, "%s: %s", who, message->c_str());
  // Every process decides alike whether to skip the network for this operator.
  PetscCallMPI(MPI_Bcast(&operator_score_, 1, MPI_DOUBLE, 0, PetscObjectComm((PetscObject)A)));
  PetscFunctionReturn(0);
}

PetscErrorCode SurrogateStep::local_couplings(Mat A, DM da, const char* who, torch::Tensor* out) {
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)A);
  PetscInt xs, ys, xm, ym;
  PetscCall(DMDAGetCorners(da, &xs, &ys, nullptr, &xm, &ym, nullptr));
  // One pass over the rows into a buffer kept across set-ups (a Newton step must not pay
  // fresh memory for it), with the statistics' sums on the way, then one for the deviations:
  // no grid-sized temporaries.
  if (!couplings_buffer_.defined() || couplings_buffer_.size(2) != ym || couplings_buffer_.size(3) != xm)
    couplings_buffer_ = torch::empty({1, 4, ym, xm}, torch::kFloat64);
  double* c = couplings_buffer_.data_ptr<double>();
  const size_t plane = size_t(xm) * size_t(ym);
  double sum[4] = {0, 0, 0, 0}, low[4], high[4], dev[4] = {0, 0, 0, 0};
  std::fill(low, low + 4, std::numeric_limits<double>::infinity());
  std::fill(high, high + 4, -std::numeric_limits<double>::infinity());
  double bad[3] = {-1, -1, 0};  // the first point with a coupling that is not finite: column, row, centre
  // Â = D⁻¹A whatever the sign of the diagonal (sign_free_scaled_stencil); the couplings out
  // of the grid are 0 (no such column).
  PetscCall(visit_local_stencil(A, da, who, [&](PetscInt i, PetscInt j, const PetscScalar* v) {
    const size_t at = size_t((j - ys) * xm + (i - xs));
    const double centre = PetscRealPart(v[0]);
    for (size_t k = 0; k < 4; ++k) {
      const double x = PetscRealPart(v[k + 1]) / centre;
      c[k * plane + at] = x;
      if (!std::isfinite(x) && bad[0] < 0) bad[0] = double(i), bad[1] = double(j), bad[2] = centre;
      sum[k] += x;
      low[k] = std::min(low[k], x);
      high[k] = std::max(high[k], x);
    }
  }));
  PetscMPIInt rank, first = -1;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscMPIInt mine = bad[0] >= 0 ? rank : std::numeric_limits<PetscMPIInt>::max();
  PetscCallMPI(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm));
  if (first != std::numeric_limits<PetscMPIInt>::max()) {
    PetscCallMPI(MPI_Bcast(bad, 3, MPI_DOUBLE, first, comm));
    // The words of scaled_stencil's check (pins/core/precondition.hpp), which the network
    // on rank 0 raises for the same operator.
    SETERRQ(comm, PETSC_ERR_LIB,
            "%s: stencil coefficients at sample 0, row %" PetscInt_FMT ", column %" PetscInt_FMT
            ": the centre must be positive and every coefficient finite (centre %g)",
            who, PetscInt(bad[1]), PetscInt(bad[0]), bad[2]);
  }
  // The operator flag's statistics of the couplings over the whole grid (as
  // operator_statistics computes them on one process): mean, std, min, max per channel.
  const double count = double(nx_) * double(ny_);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sum, 4, MPI_DOUBLE, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, low, 4, MPI_DOUBLE, MPI_MIN, comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, high, 4, MPI_DOUBLE, MPI_MAX, comm));
  for (size_t k = 0; k < 4; ++k) {
    const double mean = sum[k] / count, *x = c + k * plane;
    for (size_t at = 0; at < plane; ++at) dev[k] += (x[at] - mean) * (x[at] - mean);
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, dev, 4, MPI_DOUBLE, MPI_SUM, comm));
  std::vector<double> stats;
  for (int k = 0; k < 4; ++k) {
    stats.push_back(sum[k] / count);
    stats.push_back(std::sqrt(dev[k] / count));
    stats.push_back(low[k]);
    stats.push_back(high[k]);
  }
  operator_score_ = operator_flag_.relative_scores(torch::tensor(stats, torch::kFloat64).view({1, 16}))
                        .item<double>();
  *out = couplings_buffer_;
  PetscFunctionReturn(0);
}

PetscErrorCode SurrogateStep::apply(Vec r, Vec z, PetscReal* ratio, PetscBool* finite) {
  PetscFunctionBeginUser;
  PetscCall(VecPointwiseMult(rhat_, inv_diag_, r));
  int ok = 1;
  if (matrices_.levels() > 0) {
    // The cycle is linear in r̂, so it needs no normalisation; a NaN or Inf anywhere in z
    // (from the weights) shows in its norm on every process alike.
    // The network's hierarchy works on D⁻¹A and so takes r̂; A's own takes r.
    PetscCall(matrices_.apply(symmetric_ ? r : rhat_, z));
    PetscReal norm;
    PetscCall(VecNorm(z, NORM_2, &norm));
    ok = std::isfinite(norm) ? 1 : 0;
    if (!ok) PetscCall(VecZeroEntries(z));
  } else if (pieces_) {
    PetscCall(apply_in_pieces(z, &ok));
  } else {
    PetscCall(apply_on_rank0(z, &ok));
  }
  *finite = ok == 1 ? PETSC_TRUE : PETSC_FALSE;
  *ratio = 1;
  if (!ok) PetscFunctionReturn(0);
  // α = (r·Az)/(Az·Az) minimises ‖r − αAz‖; the ratio follows from the same dot products.
  PetscCall(MatMult(A_, z, w_));
  PetscScalar rw, ww, rr;
  PetscCall(VecDot(r, w_, &rw));
  PetscCall(VecDot(w_, w_, &ww));
  PetscCall(VecDot(r, r, &rr));
  if (!(ww > 0) || !std::isfinite(PetscRealPart(ww))) {
    PetscCall(VecZeroEntries(z));
    *finite = std::isfinite(PetscRealPart(ww)) ? PETSC_TRUE : PETSC_FALSE;
    PetscFunctionReturn(0);
  }
  PetscCall(VecScale(z, rw / ww));
  *ratio = rr > 0 ? std::sqrt(std::max(0.0, 1.0 - PetscRealPart(rw * rw / (ww * rr)))) : 1.0;
  PetscFunctionReturn(0);
}

PetscErrorCode SurrogateStep::apply_on_rank0(Vec z, int* ok_out) {
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)A_);
  PetscMPIInt rank;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  const PetscScalar* in = nullptr;
  PetscScalar* out = nullptr;
  PetscCall(gather_.begin_read(rhat_, &in));
  PetscCall(gather_.begin_write(z, &out));
  int ok = 1;
  if (rank == 0) {
    try {
      torch::NoGradGuard no_grad;
      const torch::Tensor rh =
          torch::from_blob(const_cast<PetscScalar*>(in), {1, ny_, nx_}, torch::kFloat64);
      // The couplings were converted once per operator; only the residual channel is new.
      const torch::Tensor input = torch::cat(
          {couplings_, normalised_residual(rh).unsqueeze(1).to(couplings_.scalar_type())}, 1);
      const torch::Tensor g = model_->forward(input).select(1, 0).to(torch::kFloat64).contiguous();
      ok = torch::isfinite(g).all().item<bool>() ? 1 : 0;
      if (ok) std::memcpy(out, g.data_ptr<double>(), sizeof(double) * size_t(nx_ * ny_));
    } catch (const std::exception& e) {
      ok = -1;
      PetscCall(PetscInfo(nullptr, "pins surrogate: network failed: %s\n", e.what()));
    }
    if (ok != 1) std::memset(out, 0, sizeof(double) * size_t(nx_ * ny_));
  }
  PetscCall(gather_.end_read(rhat_, &in));
  PetscCall(gather_.end_write(z, &out));
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, comm));
  PetscCheck(ok != -1, comm, PETSC_ERR_LIB,
             "pins surrogate: the network failed on the %" PetscInt_FMT " x %" PetscInt_FMT
             " grid (run with -info for the message)",
             nx_, ny_);
  *ok_out = ok;
  PetscFunctionReturn(0);
}

PetscErrorCode SurrogateStep::apply_in_pieces(Vec z, int* ok_out) {
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)A_);
  auto& network = dynamic_cast<PiecewiseSurrogate&>(*model_);
  // normalised_residual's scale, over the whole grid: r̂'s root mean square.
  PetscReal norm;
  PetscCall(VecNorm(rhat_, NORM_2, &norm));
  const double rms = norm / std::sqrt(double(nx_) * double(ny_));
  const double scale = rms > 0 ? 1.0 / rms : 1.0;
  const torch::ScalarType dtype = couplings_.scalar_type();
  const MPI_Datatype mpi_type = dtype == torch::kFloat64 ? MPI_DOUBLE : MPI_FLOAT;
  torch::Tensor rh;
  PetscCall(grid_pieces_.read(rhat_, &rh));
  // The exchanges made so far, counted so that a failure can finish the rest with zeros;
  // the first application on a layout records them as it goes.
  const bool recording = exchanges_.empty();
  std::size_t made = 0;
  PieceExchanges plain, counted;
  plain.sum = [&](torch::Tensor& t) {
    if (MPI_Allreduce(MPI_IN_PLACE, t.data_ptr(), int(t.numel()), mpi_type, MPI_SUM, comm) !=
        MPI_SUCCESS)
      throw Error("MPI_Allreduce of the network's sums failed");
  };
  plain.halo = [&](const torch::Tensor& t) { return grid_pieces_.halo(t); };
  counted.sum = [&](torch::Tensor& t) {
    ++made;
    if (recording) exchanges_.push_back({PieceExchange::Kind::kSum, t.sizes().vec()});
    plain.sum(t);
  };
  counted.halo = [&](const torch::Tensor& t) {
    ++made;
    if (recording) exchanges_.push_back({PieceExchange::Kind::kHalo, t.sizes().vec()});
    return plain.halo(t);
  };
  int ok = 1;
  torch::Tensor g, input;
  try {
    torch::NoGradGuard no_grad;
    input = torch::cat({couplings_, (rh * scale).to(dtype)}, 1);
    g = network.forward_piece(input, grid_pieces_.piece(), counted)
            .select(1, 0)
            .to(torch::kFloat64)
            .contiguous();
    ok = torch::isfinite(g).all().item<bool>() ? 1 : 0;
  } catch (const std::exception& e) {
    ok = -1;
    PetscCall(PetscInfo(nullptr, "pins surrogate: network failed on this process: %s\n", e.what()));
    // The other processes wait in the exchanges this one has not made yet: make them, with
    // zeros (their list found by a forward that stays on this process, if this was the
    // first application). Should even that fail, only ending the run spares them the wait.
    try {
      if (recording) exchanges_ = record_piece_exchanges(network, input, grid_pieces_.piece());
      finish_piece_exchanges(exchanges_, made, dtype, plain);
    } catch (const std::exception& again) {
      exchanges_.clear();
      SETERRABORT(comm, PETSC_ERR_LIB,
                  "pins surrogate: the network failed on this process (%s) and so did making "
                  "its remaining exchanges with the others (%s)",
                  e.what(), again.what());
    }
  }
  if (ok != 1) g = torch::zeros({grid_pieces_.rows(), grid_pieces_.cols()}, torch::kFloat64);
  PetscCall(grid_pieces_.write(g, z));
  // -1 (failed) anywhere wins over 0 (not finite) anywhere.
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm));
  PetscCheck(ok != -1, comm, PETSC_ERR_LIB,
             "pins surrogate: the network failed on the %" PetscInt_FMT " x %" PetscInt_FMT
             " grid (run with -info for the message)",
             nx_, ny_);
  *ok_out = ok;
  PetscFunctionReturn(0);
}

PetscErrorCode SurrogateStep::jacobi(Vec r, Vec z, PetscInt sweeps) {
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < sweeps; ++k) {
    PetscCall(MatMult(A_, z, w_));
    PetscCall(VecAYPX(w_, -1.0, r));                 // w = r − A z
    PetscCall(VecPointwiseMult(w_, w_, inv_diag_));  // D⁻¹ (r − A z)
    PetscCall(VecAXPY(z, kJacobiDamping, w_));
  }
  PetscFunctionReturn(0);
}

}  // namespace pins::petsc
