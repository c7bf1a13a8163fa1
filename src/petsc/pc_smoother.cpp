// PC type "surrogate_smoother": the learned sparse smoother (pins/core/smoother.hpp) as a
// PETSc preconditioner, meant for the levels of PETSc's own multigrid:
//
//   -pc_type gamg -mg_levels_pc_type surrogate_smoother
//   -mg_levels_pc_surrogate_smoother_model smoother.pins      (from pins train -task smoother)
//
// Set-up reads this process's rows of the preconditioning matrix (any AIJ matrix: DMDA of any
// dimension and stencil, DMPlex, hand assembly), exchanges three numbers per ghost column
// (the diagonal and the two row statistics of its row), runs the network on this process's
// entries and assembles M, a matrix with the pattern and row layout of P. Apply is MatMult(M):
// no process ever gathers more than its own rows and ghosts, so it scales as PETSc's MatMult
// does. Set-up runs again whenever PETSc sets the PC up again (a new operator, every Newton
// step unless -snes_lag_preconditioner says otherwise); with -pc_surrogate_smoother_lag L the
// network (and the reading of P's rows) runs at every L-th set-up only, and in between M is
// formed from the network's last outputs and P's new diagonal. -log_view shows the events
// PinsSmootherSetUp (all of set-up), and within it PinsSmootherRead (reading P's rows),
// PinsSmootherNet (features, network and M's values, in blocks of entries, once per
// symmetric pair: pins/core/smoother_inference.hpp) and PinsSmootherAsm (assembling M); the
// apply is PETSc's MatMult.
//
// A failure on some processes only (an unreadable model file, a non-positive diagonal entry)
// ends set-up with the same error on every process (src/petsc/collective.hpp), never a hang.
#include <petsc/private/pcimpl.h>
#include <petscksp.h>
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>

#include "collective.hpp"
#include "model_task_hint.hpp"
#include "network_threads.hpp"
#include "pins/core/check.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/smoother.hpp"
#include "pins/core/smoother_inference.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/operator.hpp"
#include "pins/petsc/register.hpp"
#include "sparse_from_matrix.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::petsc {

namespace {

constexpr char kWho[] = "-pc_type surrogate_smoother";
// Matrix entries of this process's rows below which set-up uses one LibTorch thread unless
// -pc_surrogate_smoother_threads says otherwise (see PCSetUp_SurrogateSmoother).
constexpr int64_t kThreadedEntries = int64_t(1) << 20;

PetscLogEvent setup_event = 0, read_event = 0, network_event = 0, assemble_event = 0;

PetscErrorCode register_events() {
  PetscFunctionBeginUser;
  if (!setup_event) {
    PetscCall(PetscLogEventRegister("PinsSmootherSetUp", PC_CLASSID, &setup_event));
    PetscCall(PetscLogEventRegister("PinsSmootherRead", PC_CLASSID, &read_event));
    PetscCall(PetscLogEventRegister("PinsSmootherNet", PC_CLASSID, &network_event));
    PetscCall(PetscLogEventRegister("PinsSmootherAsm", PC_CLASSID, &assemble_event));
  }
  PetscFunctionReturn(0);
}

struct PCSurrogateSmoother {
  std::string model_path;
  PetscInt threads = 0;  // LibTorch threads; 0: one for small operators, else network_threads
  std::shared_ptr<Surrogate> model;
  bool reads_fields = false;  // a multi-field model (pins train -smoother_dof > 1)
  PetscInt block_size = 1;    // fields per point of the last operator (MatGetBlockSize)
  std::string loaded_path;
  Mat M = nullptr;
  PetscInt setups = 0;
  int64_t evaluated = 0;  // entries the network ran on at the last set-up (pairs share one)
  // -pc_surrogate_smoother_lag: the network runs at every lag-th set-up; in between, M is
  // formed from its last outputs with the new operator's diagonal (same pattern only).
  PetscInt lag = 1;
  PetscInt network_runs = 0;
  PetscInt since_network = 0;  // set-ups since the network last ran
  torch::Tensor outputs;       // the network's last outputs [1, 1, nnz] (lag > 1)
  // The operator of the network's last run: its rows as read (pattern, ghost scatter), P's
  // object id and nonzero state. While they are unchanged M keeps its pattern, P's values
  // are read without its pattern, and a lagged set-up needs only P's diagonal.
  std::shared_ptr<const DistributedSparseOperator> kept;
  PetscInt64 kept_id = -1;
  PetscObjectState kept_state = -1;
  PetscLogDouble last_setup_seconds = 0;
};

PCSurrogateSmoother* ctx_of(PC pc) { return static_cast<PCSurrogateSmoother*>(pc->data); }

// The model file, loaded on every process (each runs the network on its own rows).
void load_model_file(PCSurrogateSmoother& s) {
  ModelRequirements need;
  need.task = kSmootherTask;
  need.out_channels = 1;
  LoadedModel loaded = load_model_or_point_elsewhere(s.model_path, need);
  PINS_CHECK(loaded.model->traits().matrix_entries, "-pc_surrogate_smoother_model ", s.model_path,
             ": architecture '", loaded.model->type(), "' does not run on sparse-matrix entries");
  try {
    s.reads_fields = smoother_model_reads_fields(loaded.model->in_channels());
  } catch (const Error& e) {
    PINS_CHECK(false, "-pc_surrogate_smoother_model ", s.model_path, ": ", e.what());
  }
  s.model = loaded.model;
  s.model->module().eval();
  s.loaded_path = s.model_path;
}

// The field of every local column, own rows then ghosts ([m] int64): PETSc numbers the
// fields of a point consecutively (a DMDA with dof = bs interleaves them), so the field of
// global index g is g mod bs.
torch::Tensor column_fields(const DistributedSparseOperator& A, PetscInt rstart, PetscInt bs) {
  const int64_t n = A.local_size();
  const auto& ghosts = A.ghost_columns();
  torch::Tensor field = torch::empty({n + int64_t(ghosts.size())}, torch::kInt64);
  int64_t* f = field.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) f[i] = (rstart + i) % bs;
  for (size_t g = 0; g < ghosts.size(); ++g) f[n + int64_t(g)] = ghosts[g] % bs;
  return field;
}

// M's values [1, nnz_local] for this process's rows of A (collective: ghost exchanges);
// `field` ([m]) only for a multi-field model. With a lag, the network's outputs are kept for
// the lagged set-ups (lagged_values).
torch::Tensor smoother_values_for(PCSurrogateSmoother& s, const DistributedSparseOperator& A,
                                  const torch::Tensor& field,
                                  std::optional<detail::Failure>& failure) {
  torch::NoGradGuard no_grad;
  const SparsePattern& p = A.local_pattern();
  const torch::Tensor a = A.values();
  const torch::Tensor own_diag = sparse_diagonal(p, a).narrow(1, 0, A.local_size()).contiguous();
  detail::record_failure(failure, -1, [&] { check_smoother_diagonal(kWho, own_diag); });
  detail::throw_if_any(A.comm(), failure);
  const torch::Tensor diag = torch::cat({own_diag, A.ghost_values(own_diag)}, 1);
  const torch::Tensor own_stats = smoother_row_statistics(p, a, diag);  // [1, 2, n]
  std::vector<torch::Tensor> stats;
  for (int k = 0; k < kSmootherStatistics; ++k) {
    const torch::Tensor own = own_stats.select(1, k).contiguous();
    stats.push_back(torch::cat({own, A.ghost_values(own)}, 1));
  }
  SmootherInference m;
  (void)PetscLogEventBegin(network_event, 0, 0, 0, 0);
  detail::record_failure(failure, -1, [&] {
    m = smoother_infer(*s.model, p, a, diag, torch::stack(stats, 1), field, s.lag > 1);
  });
  (void)PetscLogEventEnd(network_event, 0, 0, 0, 0);
  detail::throw_if_any(A.comm(), failure);
  s.evaluated = m.evaluated;
  s.outputs = m.outputs;
  return m.values;
}

// A lagged set-up (collective): M from the network's kept outputs and P's new diagonal — P's
// pattern is the kept operator's, so neither P's rows nor the network are needed.
PetscErrorCode lagged_values(PCSurrogateSmoother& s, Mat P, torch::Tensor* values,
                             std::optional<detail::Failure>& failure) {
  PetscFunctionBeginUser;
  torch::NoGradGuard no_grad;
  const DistributedSparseOperator& A = *s.kept;
  Vec d;
  PetscCall(MatCreateVecs(P, nullptr, &d));
  PetscCall(MatGetDiagonal(P, d));
  const PetscScalar* dv;
  PetscCall(VecGetArrayRead(d, &dv));
  torch::Tensor own_diag;
  PetscCallCXX(own_diag = torch::from_blob(const_cast<PetscScalar*>(dv), {1, A.local_size()},
                                           torch::kFloat64)
                              .clone());
  PetscCall(VecRestoreArrayRead(d, &dv));
  PetscCall(VecDestroy(&d));
  detail::record_failure(failure, -1, [&] { check_smoother_diagonal(kWho, own_diag); });
  detail::throw_if_any(A.comm(), failure);
  PetscCallCXX(*values = smoother_values(A.local_pattern(),
                                         torch::cat({own_diag, A.ghost_values(own_diag)}, 1),
                                         s.outputs));
  PetscFunctionReturn(0);
}

// M = a matrix with P's layout and pattern holding `values` (this process's rows); with
// `same_pattern`, the existing M's values are overwritten instead.
PetscErrorCode assemble_smoother(Mat P, const DistributedSparseOperator& A,
                                 const torch::Tensor& values, bool same_pattern, Mat* M) {
  PetscFunctionBeginUser;
  if (!same_pattern || !*M) {
    PetscCall(MatDestroy(M));
    PetscCall(MatDuplicate(P, MAT_DO_NOT_COPY_VALUES, M));
  }
  const SparsePattern& p = A.local_pattern();
  const double* v = values.data_ptr<double>();
  bool written = false;
  PetscCall(write_aij_values(*M, p, v, &written));
  if (written) PetscFunctionReturn(0);
  // Any other matrix type: row by row through PETSc's generic insertion.
  PetscInt rstart;
  PetscCall(MatGetOwnershipRange(P, &rstart, nullptr));
  const int64_t n = A.local_size();
  const auto& ghosts = A.ghost_columns();
  const int64_t* ptr = p.row_ptr().data_ptr<int64_t>();
  const int32_t* col = p.col_idx().data_ptr<int32_t>();
  std::vector<PetscInt> cols;
  for (int64_t i = 0; i < n; ++i) {
    cols.clear();
    for (int64_t k = ptr[i]; k < ptr[i + 1]; ++k)
      cols.push_back(col[k] < n ? rstart + PetscInt(col[k]) : ghosts[size_t(col[k] - n)]);
    const PetscInt row = rstart + PetscInt(i);
    PetscCall(MatSetValues(*M, 1, &row, PetscInt(cols.size()), cols.data(), v + ptr[i],
                           INSERT_VALUES));
  }
  PetscCall(MatAssemblyBegin(*M, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(*M, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(0);
}

PetscErrorCode PCSetUp_SurrogateSmoother(PC pc) {
  PCSurrogateSmoother& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)pc);
  PetscCheck(!s.model_path.empty(), comm, PETSC_ERR_ARG_NULL,
             "-pc_type surrogate_smoother needs a model: -pc_surrogate_smoother_model "
             "<file.pins> (train one with pins train -task smoother)");
  PetscCall(register_events());
  PetscCall(PetscLogEventBegin(setup_event, pc, 0, 0, 0));
  PetscLogDouble t0;
  PetscCall(PetscTime(&t0));
  std::optional<detail::Failure> failure;
  if (!s.model || s.loaded_path != s.model_path)
    detail::record_failure(failure, -1, [&] { load_model_file(s); });
  detail::throw_if_any(comm, failure);
  // P is the operator read at the last set-up when it is the same object with the same
  // nonzero state (a Newton or TS Jacobian, GAMG's levels with reused interpolation): M keeps
  // its pattern, and P's rows need not be read again. A lagged set-up reuses the network's
  // outputs too when the lag is not yet reached. Both are collective decisions (MatDuplicate
  // and the full reading are collective; the paths exchange different data).
  PetscObjectState state;
  PetscCall(MatGetNonzeroState(pc->pmat, &state));
  const PetscInt64 id = ((PetscObject)pc->pmat)->id;
  const bool same_operator = s.kept && id == s.kept_id && state == s.kept_state;
  PetscInt flags[2] = {same_operator ? 1 : 0,
                       s.lag > 1 && s.outputs.defined() && same_operator &&
                               s.since_network + 1 < s.lag
                           ? 1
                           : 0};
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, flags, 2, MPIU_INT, MPI_MIN, comm));
  const bool same_pattern = flags[0] == 1, reuse = flags[1] == 1;
  std::shared_ptr<const DistributedSparseOperator> A;
  torch::Tensor values;
  if (reuse) {
    A = s.kept;
    PetscCall(lagged_values(s, pc->pmat, &values, failure));
    ++s.since_network;
    s.evaluated = 0;
    PetscCall(PetscInfo(pc, "pins: M from the network's outputs of %" PetscInt_FMT
                            " set-up(s) ago and P's new diagonal (-pc_surrogate_smoother_lag %"
                            PetscInt_FMT ")\n",
                        s.since_network, s.lag));
  } else {
    PetscCall(PetscLogEventBegin(read_event, pc, 0, 0, 0));
    // The same pattern: only P's values, straight from its AIJ arrays (a full reading
    // otherwise, on every process alike, which also names a non-finite entry).
    torch::Tensor fresh;
    if (same_pattern) PetscCall(read_aij_values(pc->pmat, s.kept->local_pattern(), &fresh));
    PetscInt all_read = same_pattern && fresh.defined() ? 1 : 0;
    if (same_pattern)
      PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &all_read, 1, MPIU_INT, MPI_MIN, comm));
    if (all_read) {
      PetscCallCXX(A = std::static_pointer_cast<const DistributedSparseOperator>(
                       s.kept->with_values(fresh)));
      PetscCall(PetscInfo(pc, "pins: P has the pattern read last time; its values only\n"));
    } else {
      PetscCall(distributed_operator_from_matrices({pc->pmat}, &A));
    }
    PetscCall(PetscLogEventEnd(read_event, pc, 0, 0, 0));
    PetscInt threads;
    PetscCall(network_threads(comm, s.threads, &threads));
    // By default a small operator's set-up runs on one thread: for the levels of a Newton
    // solve's multigrid, set up again at every step, a second LibTorch thread made set-up
    // 2-4x slower here (its wake-ups and spin-waits cost more than the work they share:
    // Gray-Scott 64^2 and 128^2, bench/RESULTS.md), while at 65^3 (1.9M entries) it gained
    // 1.2x.
    if (s.threads == 0 && A->local_pattern().nnz() < kThreadedEntries) threads = 1;
    PetscCall(PetscInfo(pc, "pins: %" PetscInt_FMT " LibTorch threads for %lld entries\n",
                        threads, (long long)A->local_pattern().nnz()));
    PetscCallCXX(set_training_threads(int(threads)));
    // A multi-field model reads each entry's fields from P's block size (a scalar one
    // ignores it).
    PetscInt rstart;
    PetscCall(MatGetOwnershipRange(pc->pmat, &rstart, nullptr));
    PetscCall(MatGetBlockSize(pc->pmat, &s.block_size));
    const torch::Tensor field =
        s.reads_fields ? column_fields(*A, rstart, s.block_size) : torch::Tensor();
    values = smoother_values_for(s, *A, field, failure);
    s.since_network = 0;
    ++s.network_runs;
    s.kept = A;
    s.kept_id = id;
    s.kept_state = state;
    PetscCall(PetscInfo(pc,
                        "pins: the network ran on %lld of %lld entries (symmetric pairs share "
                        "one)\n",
                        (long long)s.evaluated, (long long)A->local_pattern().nnz()));
  }
  PetscCall(PetscLogEventBegin(assemble_event, pc, 0, 0, 0));
  PetscCall(assemble_smoother(pc->pmat, *A, values, same_pattern, &s.M));
  PetscCall(PetscLogEventEnd(assemble_event, pc, 0, 0, 0));
  PetscLogDouble t1;
  PetscCall(PetscTime(&t1));
  s.last_setup_seconds = t1 - t0;
  ++s.setups;
  PetscCall(PetscLogEventEnd(setup_event, pc, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode PCApply_SurrogateSmoother(PC pc, Vec r, Vec z) {
  PetscFunctionBeginUser;
  PetscCall(MatMult(ctx_of(pc)->M, r, z));
  PetscFunctionReturn(0);
}

PetscErrorCode PCApplyTranspose_SurrogateSmoother(PC pc, Vec r, Vec z) {
  PetscFunctionBeginUser;
  PetscCall(MatMultTranspose(ctx_of(pc)->M, r, z));
  PetscFunctionReturn(0);
}

PetscErrorCode PCSetFromOptions_SurrogateSmoother(PC pc, PetscOptionItems* PetscOptionsObject) {
  PCSurrogateSmoother& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  char path[PETSC_MAX_PATH_LEN];
  PetscCall(PetscStrncpy(path, s.model_path.c_str(), sizeof path));
  PetscOptionsHeadBegin(PetscOptionsObject, "Learned sparse smoother (pins) options");
  PetscCall(PetscOptionsString("-pc_surrogate_smoother_model",
                               "Model file from pins train -task smoother",
                               "PCSURROGATESMOOTHER", path, path, sizeof path, nullptr));
  PetscCall(PetscOptionsInt("-pc_surrogate_smoother_threads",
                            "LibTorch threads for the set-up's network (0: one below 2^20 entries "
                            "on this process, else the cores bound to it, shared with processes "
                            "on the same cores)",
                            "PCSURROGATESMOOTHER", s.threads, &s.threads, nullptr));
  PetscCall(PetscOptionsInt("-pc_surrogate_smoother_lag",
                            "Run the network at every lag-th set-up; in between form M from its "
                            "last outputs and the new diagonal (same pattern only)",
                            "PCSURROGATESMOOTHER", s.lag, &s.lag, nullptr));
  PetscOptionsHeadEnd();
  PetscCheck(s.lag >= 1, PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_smoother_lag must be >= 1 (1: the network at every set-up), got "
             "%" PetscInt_FMT,
             s.lag);
  PetscCheck(s.threads >= 0, PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_OUTOFRANGE,
             "-pc_surrogate_smoother_threads must be >= 0 (0: the cores of this process), got "
             "%" PetscInt_FMT,
             s.threads);
  if (s.model_path != path) {
    s.model_path = path;
    s.outputs = torch::Tensor();  // another model's outputs are not this one's
    s.kept.reset();
    pc->setupcalled = 0;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode PCView_SurrogateSmoother(PC pc, PetscViewer viewer) {
  PCSurrogateSmoother& s = *ctx_of(pc);
  PetscFunctionBeginUser;
  PetscBool ascii;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer, "  pins learned sparse smoother: model %s%s\n",
                                   s.model_path.empty() ? "(none)" : s.model_path.c_str(),
                                   s.reads_fields ? " (multi-field)" : ""));
  if (s.reads_fields && s.M)
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "    fields per point (block size of P): %" PetscInt_FMT "\n", s.block_size));
  if (s.M) {
    MatInfo info;
    PetscCall(MatGetInfo(s.M, MAT_GLOBAL_SUM, &info));
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "    M has the pattern of P: %.0f nonzeros; set up %" PetscInt_FMT
                                     " times, last set-up %.3g s\n",
                                     info.nz_used, s.setups, (double)s.last_setup_seconds));
    if (s.lag > 1)
      PetscCall(PetscViewerASCIIPrintf(viewer,
                                       "    the network ran at %" PetscInt_FMT " of them (lag %"
                                       PetscInt_FMT ")\n",
                                       s.network_runs, s.lag));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode PCReset_SurrogateSmoother(PC pc) {
  PetscFunctionBeginUser;
  PCSurrogateSmoother& s = *ctx_of(pc);
  PetscCall(MatDestroy(&s.M));
  s.outputs = torch::Tensor();
  s.kept.reset();
  s.since_network = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode PCDestroy_SurrogateSmoother(PC pc) {
  PetscFunctionBeginUser;
  PetscCall(PCReset_SurrogateSmoother(pc));
  delete ctx_of(pc);
  pc->data = nullptr;
  PetscFunctionReturn(0);
}

}  // namespace

}  // namespace pins::petsc

/// The constructor PETSc calls for -pc_type surrogate_smoother.
extern "C" PetscErrorCode PCCreate_SurrogateSmoother(PC pc) {
  using namespace pins::petsc;
  PetscFunctionBeginUser;
  PetscCallCXX(pc->data = new PCSurrogateSmoother());
  pc->ops->setup = guarded<kWho, PCSetUp_SurrogateSmoother>;
  pc->ops->apply = guarded<kWho, PCApply_SurrogateSmoother>;
  pc->ops->applytranspose = guarded<kWho, PCApplyTranspose_SurrogateSmoother>;
  pc->ops->setfromoptions = guarded<kWho, PCSetFromOptions_SurrogateSmoother>;
  pc->ops->view = guarded<kWho, PCView_SurrogateSmoother>;
  pc->ops->reset = guarded<kWho, PCReset_SurrogateSmoother>;
  pc->ops->destroy = guarded<kWho, PCDestroy_SurrogateSmoother>;
  PetscFunctionReturn(0);
}
