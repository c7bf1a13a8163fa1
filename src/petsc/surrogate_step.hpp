#pragma once
// The network step shared by the surrogate PC and KSPGuess: for the operator A of a 2-D
// DMDA and a residual r, z = α G(Â, D⁻¹r) with the α that minimises ‖r − αAz‖₂
// (pins/core/precondition.hpp explains the scaling). The model is loaded on every process
// (a bad file on any of them fails all of them alike). An MgNet (a V-cycle, linear in r)
// is set up and applied as distributed PETSc matrices, every process for its own rows
// (mgnet_matrices.hpp): by default (on A's own hierarchy, on any number of processes), or on
// request (set_cycle, set_hierarchy).
// An FNO or a U-Net on several processes runs piece by piece, every process on its own box
// of the grid (surrogates/grid_piece.hpp: an FNO's kept frequencies added by one all-reduce
// per Fourier layer; a U-Net's convolutions through one-cell halos between neighbours and its
// normalisations through all-reduces of their statistics, on boxes aligned to its pooling,
// grid_pieces.hpp). On one process they run on the whole grid, as does an MgNet asked for
// its network cycle (gathered on rank 0 on several processes).
#include <petscdmda.h>
#include <petscmat.h>
#include <torch/types.h>

#include <memory>
#include <string>

#include "grid_gather.hpp"
#include "grid_pieces.hpp"
#include "mgnet_matrices.hpp"
#include "pins/core/calibration.hpp"
#include "pins/core/model_file.hpp"

namespace pins::petsc {

class SurrogateStep {
 public:
  /// Loads `model_path` (a -task precondition model). Throws pins::Error (file missing,
  /// corrupt, or trained for another task or channel count).
  explicit SurrogateStep(const std::string& model_path);
  ~SurrogateStep();

  /// The constructor behind PETSc's error boundary, collective on `comm`: a bad model file
  /// on any process becomes the same PETSc error on every process, naming `option` and the
  /// process (PETSC_ERR_FILE_OPEN for a missing file), never a hang. Also sets LibTorch's
  /// thread count (process-wide, set_network_threads(): `threads` if positive, else the
  /// cores bound to this process, shared with the processes on the node bound to the same).
  static PetscErrorCode load(MPI_Comm comm, const std::string& model_path, const char* option,
                             std::unique_ptr<SurrogateStep>* step, PetscInt threads = 0);

  /// Where the network's applications run: kAuto is kMatrices for an MgNet on several
  /// processes, and on one unless the hierarchy is kScaled (set_hierarchy); kNetwork
  /// otherwise (an FNO or a U-Net on several processes in pieces). kMatrices needs an MgNet
  /// (set_operator fails with a message naming the model's architecture otherwise). Takes
  /// effect at set_operator.
  enum class Cycle { kAuto, kNetwork, kMatrices };
  void set_cycle(Cycle cycle) { cycle_ = cycle; }
  /// Whether a set_operator for the matrix of the one before, with its nonzero pattern, may
  /// change the distributed matrices' values only (default) or must rebuild them.
  void set_matrices_reuse(bool reuse) { matrices_reuse_ = reuse; }
  /// Run the network at every `lag`-th values-only set-up of the distributed matrices only;
  /// in between they keep the network's last smoothers and prolongation (MgNetMatrices).
  void set_network_lag(int lag) { network_lag_ = lag; }
  /// The cycle's hierarchy: the network's own on D⁻¹A (kScaled, as trained), or one on A
  /// itself with coarse operators PᵀAP (kSymmetric; MgNetMatrices::build says how they
  /// differ). kAuto (default): A's own unless Cycle::kNetwork asks for the network's own
  /// cycle. kAuto and kSymmetric take the cycle as matrices under Cycle::kAuto on one process
  /// too; kSymmetric with kNetwork is refused at set_operator.
  enum class Hierarchy { kAuto, kScaled, kSymmetric };
  void set_hierarchy(Hierarchy hierarchy) { hierarchy_ = hierarchy; }
  /// Whether the last set_operator built the cycle on A's own hierarchy.
  bool symmetric_hierarchy() const { return symmetric_; }
  /// Whether the last set_operator built the distributed matrices (and their levels).
  bool uses_matrices() const { return matrices_.levels() > 0; }
  /// Whether the network runs on every process for its own box (an FNO or a U-Net on
  /// several).
  bool uses_pieces() const { return pieces_; }
  int matrix_levels() const { return matrices_.levels(); }
  /// Set-ups of the distributed matrices so far, and how many of them changed values only.
  int matrix_builds() const { return matrix_builds_; }
  int matrix_reuses() const { return matrix_reuses_; }
  /// ... and how many of those went without the network (set_network_lag).
  int matrix_lags() const { return matrix_lags_; }

  /// Reads the stencil of A (on `da`) into the network's features and D⁻¹. Call again when
  /// A's values change. `who` names the caller in error messages.
  PetscErrorCode set_operator(Mat A, DM da, const char* who);

  /// z = α G(r) (z may not alias r); *ratio = ‖r − A z‖ / ‖r‖ (1 for r = 0). *finite is
  /// false if the network produced NaN/Inf (then z is zero and ratio 1). Collective.
  PetscErrorCode apply(Vec r, Vec z, PetscReal* ratio, PetscBool* finite);

  /// z ← z + ω D⁻¹ (r − A z), `sweeps` times (damped Jacobi, ω = 2/3 as in training).
  PetscErrorCode jacobi(Vec r, Vec z, PetscInt sweeps);

  /// The operator flag (pins/core/precondition.hpp, kOperatorFlagKey) of the operator of
  /// the last set_operator: its score relative to the model's threshold (> 1: the operator
  /// is unlike those the model was trained on; 0 when the model carries no flag), the same
  /// on every process.
  double operator_score() const { return operator_score_; }
  bool operator_flag_fitted() const { return operator_flag_.fitted(); }
  bool operator_flagged() const { return operator_score_ > 1; }

  const ModelManifest& manifest() const { return manifest_; }
  const std::string& path() const { return path_; }
  /// Sweeps the model was trained with (manifest), the PC's default.
  int trained_smooth() const;
  PetscInt nx() const { return nx_; }
  PetscInt ny() const { return ny_; }

 private:
  // g = G(Â, r̂) with r̂ in rhat_, the whole grid gathered to rank 0 and the result sent
  // back into z; *ok: 1, 0 (not finite: z zero) or the network failed (an error).
  PetscErrorCode apply_on_rank0(Vec z, int* ok);
  // The same with every process evaluating the network on its own box (no gather); *ok as
  // above, agreed by all processes.
  PetscErrorCode apply_in_pieces(Vec z, int* ok);
  // This process's couplings W, E, S, N of Â = D⁻¹A [1, 4, ym, xm] (float64; a buffer that
  // the next call overwrites), checked finite, and the operator flag's score from
  // statistics reduced over all processes.
  PetscErrorCode local_couplings(Mat A, DM da, const char* who, torch::Tensor* couplings);

  std::string path_;
  ModelManifest manifest_;
  std::shared_ptr<class Surrogate> model_;
  Mat A_ = nullptr;
  GridGather gather_;
  PetscInt nx_ = 0, ny_ = 0;
  torch::Tensor couplings_;  // rank 0: [1, 4, ny, nx] in the model's dtype; in pieces: this
                             // process's box [1, 4, rows, cols]
  bool pieces_ = false;     // the network runs on every process's box (apply_in_pieces)
  GridPieces grid_pieces_;  // the boxes, in pieces
  std::vector<PieceExchange> exchanges_;  // a box's exchanges, to finish them after a failure
  torch::Tensor couplings_buffer_;  // local_couplings' output, kept across set-ups
  Cycle cycle_ = Cycle::kAuto;
  bool matrices_reuse_ = true;
  int network_lag_ = 1;
  Hierarchy hierarchy_ = Hierarchy::kAuto;
  bool symmetric_ = false;  // hierarchy_ resolved by the last set_operator
  int matrix_builds_ = 0, matrix_reuses_ = 0, matrix_lags_ = 0;
  MgNetMatrices matrices_;  // built when the applications run as matrices
  InputFlag operator_flag_;
  double operator_score_ = 0;
  Vec inv_diag_ = nullptr, w_ = nullptr, rhat_ = nullptr;
};

}  // namespace pins::petsc
