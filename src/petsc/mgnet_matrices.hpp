#pragma once
// MgNet's learned V-cycle (surrogates/mgnet.hpp) set up and run as distributed PETSc
// matrices, each process for its own rows: per level the operator A, the smoothers
// pre/post ⋆ D⁻¹ and the prolongation P are AIJ matrices, the restriction is Pᵀ
// (MatMultTranspose), the last level a dense inverse. An application is MatMults; no step
// of the set-up or of an application moves a grid onto one process.
//
// Level l's unknowns are split the way the DMDA splits the fine grid: coarse point (I, J)
// sits on fine (2I+1, 2J+1) and belongs to the process that owns that fine point, so P's
// couplings stay within a process or its neighbours. A process may own no point of a coarse
// level (its share ran out); it then takes part in the collective calls with no rows.
//
// The set-up per level, on each process: its rows of the level's stencil with a halo of two
// points (one VecScatter); the operator-dependent prolongation (mg::prolongation_weights)
// and the smoother CNN (MgNetImpl::smoothers) on that patch, exact on the owned points
// because each reads at most two points around them (the patch starts on an even grid
// point, so its rows and columns have the parity of the global ones); the next level's
// operator is PETSc's Galerkin product MatPtAP. Only the last level (at most the model's
// coarsest² unknowns) is gathered, on every process, for its dense inverse.
//
// A Newton or TS Jacobian keeps its matrix and its nonzero pattern from step to step: a
// build for the same matrix object with the same nonzero state (and the same split) keeps
// every matrix of the cycle and changes values only — the smoothers and P written straight
// into their AIJ value arrays in the first build's pattern, the coarse operators by
// MatPtAP's numeric phase — so that the network and the values are what a new Jacobian
// costs. With a network lag L (build's `network_lag`) the network runs at every L-th of
// these values-only builds only: in between the cycle keeps its smoothers' stencils and P
// (the network's last outputs) and takes the new operator everywhere else — the fine
// operator, the Galerkin coarse operators, the smoothers' D⁻¹ on every level and the coarse
// inverse — as PETSc's -snes_lag_preconditioner keeps a whole preconditioner, but finer.
#include <petscdmda.h>
#include <petscmat.h>

#include <torch/types.h>

#include <vector>

#include "surrogates/mgnet.hpp"

namespace pins::petsc {

class MgNetMatrices {
 public:
  MgNetMatrices() = default;
  MgNetMatrices(const MgNetMatrices&) = delete;
  MgNetMatrices& operator=(const MgNetMatrices&) = delete;
  ~MgNetMatrices();

  /// Builds the cycle of `net` for the operator A (assembled on the fine grid of `da`, 2-D,
  /// one dof) whose Â = D⁻¹A has on this process's box (DMDAGetCorners) the couplings W, E,
  /// S, N `couplings` [1, 4, ym, xm] (float64; couplings out of the grid zero), and
  /// `inv_diag` = D⁻¹ (A's layout). Collective; replaces an earlier cycle, in place (values
  /// only) when `reuse` is set and A is the matrix of the last build with the same nonzero
  /// state and split. Errors in the network's set-up stop every process alike. With
  /// `network_lag` L > 1 a values-only build runs the network only if L − 1 values-only
  /// builds in a row went without it (the couplings are then read only if the fine grid is
  /// already the last level); a full build always runs it.
  ///
  /// `symmetric` chooses the hierarchy: false (the network's own, as it was trained and as
  /// the network cycle runs) builds it on Â = D⁻¹A, the cycle then applied to r̂ = D⁻¹r; true
  /// builds it on A itself (coarse operators PᵀAP, symmetric when A is), applied to r. Both
  /// give the fine level the same equation and the same smoothers (S ⋆ D⁻¹ r); they differ in
  /// the coarse operators, where Â's row scaling weights a coarse residual by 1/κ — at a
  /// 1:10⁴ contrast that costs the cycle most of its coarse correction (bench/RESULTS.md).
  PetscErrorCode build(Mat A, Vec inv_diag, DM da, const torch::Tensor& couplings, MgNetImpl& net,
                       bool reuse = true, int network_lag = 1, bool symmetric = false);

  /// Whether the last build changed values only (kept the matrices of the one before).
  bool reused() const { return reused_; }
  /// Whether the last build went without the network (kept its last outputs).
  bool lagged() const { return since_network_ > 0; }

  /// z = cycle(r) for r, z in `da`'s global layout (z may not alias r). Collective.
  PetscErrorCode apply(Vec r, Vec z);

  /// Levels of the cycle (0 before build and after reset).
  int levels() const { return int(levels_.size()); }

  /// Frees the matrices (levels() becomes 0).
  void reset() { destroy(); }

 private:
  // A rectangle of a level's grid: [x0, x1) × [y0, y1).
  struct Box {
    PetscInt x0 = 0, x1 = 0, y0 = 0, y1 = 0;
    PetscInt w() const { return x1 - x0; }
    PetscInt h() const { return y1 - y0; }
    PetscInt size() const { return w() * h(); }
    bool contains(PetscInt i, PetscInt j) const { return i >= x0 && i < x1 && j >= y0 && j < y1; }
  };
  // Which process owns which rectangle of a level's grid, and the PETSc global numbering
  // this implies (the DMDA's: process by process, x fastest within a process).
  struct Layout {
    PetscInt nx = 0, ny = 0;
    std::vector<PetscInt> xb, yb;      // process-column/row boundaries, m+1 and n+1 entries
    std::vector<PetscInt> offset;      // first global index of each process, size m·n + 1
    PetscInt global(PetscInt i, PetscInt j) const;  // (x, y) → global index
    void coords(PetscInt g, PetscInt* i, PetscInt* j) const;  // the inverse
    Layout coarse() const;             // the next level: ⌊nx/2⌋ × ⌊ny/2⌋
    Box box(size_t q) const;           // the rectangle of process q (rank r·m + c)
    bool operator==(const Layout& o) const {
      return nx == o.nx && ny == o.ny && xb == o.xb && yb == o.yb;
    }
  };
  struct Level {
    Mat A = nullptr, pre = nullptr, post = nullptr;  // pre/post: smoother stencil · D⁻¹
    Mat P = nullptr;                                 // to this level from the next (not last)
    Vec r = nullptr, z = nullptr, t = nullptr;       // r, z: not used on level 0
    Vec inv_diag = nullptr;                          // this level's D⁻¹ (not last)
  };
  // The operator of the last build (matrix id, nonzero state), its split and its network:
  // what a build must match to change values only.
  struct Key {
    PetscObjectId id = 0;
    PetscObjectState state = 0;
    Layout layout;
    const MgNetImpl* net = nullptr;
    bool symmetric = false;
    bool operator==(const Key& o) const {
      return id == o.id && state == o.state && layout == o.layout && net == o.net &&
             symmetric == o.symmetric;
    }
  };
  // The stencils `own` [1, 9, h, w] (float64) of this process's box on level `L`, extended
  // to `patch` ⊇ box with the neighbours' rows: [1, 9, ph, pw]. Collective.
  PetscErrorCode exchange(const Layout& L, const torch::Tensor& own, const Box& patch,
                          torch::Tensor* out) const;
  // The last level's dense inverse (into the existing matrix when `reuse`).
  PetscErrorCode build_coarse_inverse(const Layout& L, const Box& box, const torch::Tensor& own,
                                      torch::ScalarType dtype, bool reuse);
  // Level `l`'s smoothers and P from the network's outputs on the box (pattern and matrices
  // at the first build, values straight into their arrays after).
  PetscErrorCode assemble(Level& level, const Layout& L, const Box& box,
                          const torch::Tensor& smoothers, const torch::Tensor& weights, bool reuse);
  // Level `l`'s network: its stencils `own` with their halo, the smoother CNN and the
  // prolongation weights strip by strip, then assemble (values only when `reuse`).
  // Collective; a failure on any process stops every process alike.
  PetscErrorCode run_network(Level& level, const Layout& L, const torch::Tensor& own,
                             MgNetImpl& net, int l, torch::ScalarType dtype, bool reuse);
  // A lagged level: the smoothers' stencils kept, their D⁻¹ changed to the level's new
  // operator's (pre, post ← pre, post · D_old D_new⁻¹).
  PetscErrorCode rescale(Level& level);
  // This process's rows of the Galerkin operator `coarse_A` on layout C as stencils
  // [1, 9, h, w] (float64); an error on every process if it couples beyond 3 × 3.
  PetscErrorCode coarse_stencil(Mat coarse_A, const Layout& C, int level, torch::Tensor* out);
  PetscErrorCode cycle(std::size_t l, Vec r, Vec z);
  void destroy();

  MPI_Comm comm_ = MPI_COMM_NULL;
  int smooth_ = 1;
  std::vector<Level> levels_;
  Mat coarse_inverse_ = nullptr;  // dense, the last level's layout
  Key key_;                       // of the last complete build (id 0: none)
  bool reused_ = false;
  int since_network_ = 0;  // values-only builds in a row without the network (> 0: lagged)
};

}  // namespace pins::petsc
