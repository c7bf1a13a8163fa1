// MgNet's V-cycle as distributed PETSc matrices (mgnet_matrices.hpp).
#include "mgnet_matrices.hpp"

#include <petsc/private/petscimpl.h>  // PetscObjectStateIncrease
#include <petscpc.h>

#include <torch/torch.h>

#include <algorithm>
#include <optional>
#include <string>

#include "collective.hpp"
#include "pins/core/check.hpp"
#include "surrogates/multigrid.hpp"
#include "surrogates/surrogate.hpp"

namespace pins::petsc {

namespace {

// -log_view events of the set-up, by step (registered once per process).
struct Events {
  PetscLogEvent halo = 0, network = 0, assemble = 0, galerkin = 0, coarse = 0;
};
PetscErrorCode events(const Events** out) {
  static Events e;
  PetscFunctionBeginUser;
  if (!e.halo) {
    PetscCall(PetscLogEventRegister("PinsMgNetHalo", PC_CLASSID, &e.halo));
    PetscCall(PetscLogEventRegister("PinsMgNetNet", PC_CLASSID, &e.network));
    PetscCall(PetscLogEventRegister("PinsMgNetAsm", PC_CLASSID, &e.assemble));
    PetscCall(PetscLogEventRegister("PinsMgNetRAP", PC_CLASSID, &e.galerkin));
    PetscCall(PetscLogEventRegister("PinsMgNetCoarse", PC_CLASSID, &e.coarse));
  }
  *out = &e;
  PetscFunctionReturn(0);
}

// Reads a float32 or float64 tensor's values as double (none for an undefined tensor).
struct Values {
  const float* f = nullptr;
  const double* d = nullptr;
  explicit Values(const torch::Tensor& t) {
    if (!t.defined() || t.numel() == 0) return;
    if (t.scalar_type() == torch::kFloat32) f = t.data_ptr<float>();
    else d = t.data_ptr<double>();
  }
  double operator[](size_t i) const { return f ? double(f[i]) : d[i]; }
};

// (dy, dx) of stencil entry k (multigrid.hpp: k = 3(dy+1) + (dx+1)).
constexpr int entry_dy(int k) { return k / 3 - 1; }
constexpr int entry_dx(int k) { return k % 3 - 1; }

}  // namespace

PetscInt MgNetMatrices::Layout::global(PetscInt i, PetscInt j) const {
  const int m = int(xb.size()) - 1;
  const int c = int(std::upper_bound(xb.begin(), xb.end(), i) - xb.begin()) - 1;
  const int r = int(std::upper_bound(yb.begin(), yb.end(), j) - yb.begin()) - 1;
  return offset[size_t(r * m + c)] + (j - yb[size_t(r)]) * (xb[size_t(c) + 1] - xb[size_t(c)]) +
         (i - xb[size_t(c)]);
}

void MgNetMatrices::Layout::coords(PetscInt g, PetscInt* i, PetscInt* j) const {
  const int m = int(xb.size()) - 1;
  // The last process whose range starts at or before g (processes with no points share
  // their start with the next one).
  const int q = int(std::upper_bound(offset.begin(), offset.end(), g) - offset.begin()) - 1;
  const int c = q % m, r = q / m;
  const PetscInt w = xb[size_t(c) + 1] - xb[size_t(c)], local = g - offset[size_t(q)];
  *i = xb[size_t(c)] + local % w;
  *j = yb[size_t(r)] + local / w;
}

namespace {

// Boundaries → the first global index of each process (process r·m + c owns the rectangle
// of column c and row r), and the total.
std::vector<PetscInt> offsets(const std::vector<PetscInt>& xb, const std::vector<PetscInt>& yb) {
  const size_t m = xb.size() - 1, n = yb.size() - 1;
  std::vector<PetscInt> off(m * n + 1, 0);
  for (size_t r = 0; r < n; ++r)
    for (size_t c = 0; c < m; ++c)
      off[r * m + c + 1] = off[r * m + c] + (xb[c + 1] - xb[c]) * (yb[r + 1] - yb[r]);
  return off;
}

}  // namespace

MgNetMatrices::Box MgNetMatrices::Layout::box(size_t q) const {
  const size_t cols = xb.size() - 1, c = q % cols, r = q / cols;
  return Box{xb[c], xb[c + 1], yb[r], yb[r + 1]};
}

MgNetMatrices::Layout MgNetMatrices::Layout::coarse() const {
  // The coarse points of [x0, x1) are the odd fine points there: I with x0 ≤ 2I+1 < x1, and
  // the odd numbers below x are ⌊x/2⌋ of them.
  Layout c;
  c.nx = nx / 2;
  c.ny = ny / 2;
  for (PetscInt x : xb) c.xb.push_back(std::min(c.nx, x / 2));
  for (PetscInt y : yb) c.yb.push_back(std::min(c.ny, y / 2));
  c.offset = offsets(c.xb, c.yb);
  return c;
}

MgNetMatrices::~MgNetMatrices() { destroy(); }

void MgNetMatrices::destroy() {
  for (Level& L : levels_) {
    MatDestroy(&L.A);
    MatDestroy(&L.pre);
    MatDestroy(&L.post);
    MatDestroy(&L.P);
    VecDestroy(&L.r);
    VecDestroy(&L.z);
    VecDestroy(&L.t);
    VecDestroy(&L.inv_diag);
  }
  levels_.clear();
  MatDestroy(&coarse_inverse_);
  key_ = Key();
  reused_ = false;
  since_network_ = 0;
}

namespace {

// Torch tensor [1, C, h, w] → PETSc values of the box, point by point (C per point).
std::vector<PetscScalar> interleaved(const torch::Tensor& t) {
  const torch::Tensor p = t.select(0, 0).permute({1, 2, 0}).to(torch::kFloat64).contiguous();
  return std::vector<PetscScalar>(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
}

// The points of a w × h box within kBand of its edges, row by row: the only ones another
// process's patch can reach (two points of halo, and up to one more for the even start).
constexpr PetscInt kBand = 3;
struct Band {
  PetscInt w, h;
  PetscInt top() const { return std::min(kBand, h); }
  PetscInt bottom() const { return std::max(top(), h - kBand); }  // first row of the lower band
  PetscInt middle_width() const { return std::min(w, 2 * kBand); }
  PetscInt count() const { return top() * w + (bottom() - top()) * middle_width() + (h - bottom()) * w; }
  // (cc, rr) relative to the box, in the band; -1 when it is not.
  PetscInt index(PetscInt cc, PetscInt rr) const {
    if (rr < top()) return rr * w + cc;
    if (rr >= bottom()) return top() * w + (bottom() - top()) * middle_width() + (rr - bottom()) * w + cc;
    const PetscInt base = top() * w + (rr - top()) * middle_width();
    if (w <= 2 * kBand) return base + cc;
    if (cc < kBand) return base + cc;
    if (cc >= w - kBand) return base + kBand + (cc - (w - kBand));
    return -1;
  }
};

}  // namespace

PetscErrorCode MgNetMatrices::exchange(const Layout& L, const torch::Tensor& own,
                                       const Box& patch, torch::Tensor* out) const {
  PetscFunctionBeginUser;
  constexpr PetscInt kBs = 9;
  PetscMPIInt rank, size;
  PetscCallMPI(MPI_Comm_rank(comm_, &rank));
  PetscCallMPI(MPI_Comm_size(comm_, &size));
  const size_t cols = L.xb.size() - 1;
  // Each process offers the band of its box; the first band entry of each process.
  std::vector<PetscInt> band_start(size_t(size) + 1, 0);
  for (size_t q = 0; q < size_t(size); ++q) {
    const Box b = L.box(q);
    band_start[q + 1] = band_start[q] + Band{b.w(), b.h()}.count();
  }
  const Box box = L.box(size_t(rank));
  const Band mine{box.w(), box.h()};
  Vec from, to;
  PetscCall(VecCreateMPI(comm_, kBs * mine.count(), PETSC_DETERMINE, &from));
  PetscCall(VecSetBlockSize(from, kBs));
  const double* ov = box.size() > 0 ? own.data_ptr<double>() : nullptr;
  const size_t own_plane = size_t(box.size());
  if (mine.count() > 0) {
    PetscScalar* a;
    PetscCall(VecGetArrayWrite(from, &a));
    for (PetscInt rr = 0; rr < box.h(); ++rr)
      for (PetscInt cc = 0; cc < box.w(); ++cc) {
        const PetscInt at = mine.index(cc, rr);
        if (at < 0) continue;
        for (PetscInt k = 0; k < kBs; ++k)
          a[size_t(at * kBs + k)] = ov[size_t(k) * own_plane + size_t(rr * box.w() + cc)];
      }
    PetscCall(VecRestoreArrayWrite(from, &a));
  }
  // The ring of the patch outside the box: where each of its points sits in its owner's band.
  std::vector<PetscInt> ring;
  for (PetscInt j = patch.y0; j < patch.y1; ++j)
    for (PetscInt i = patch.x0; i < patch.x1; ++i) {
      if (box.contains(i, j)) continue;
      const size_t c = size_t(std::upper_bound(L.xb.begin(), L.xb.end(), i) - L.xb.begin()) - 1;
      const size_t r = size_t(std::upper_bound(L.yb.begin(), L.yb.end(), j) - L.yb.begin()) - 1;
      const size_t q = r * cols + c;
      const Box b = L.box(q);
      const PetscInt at = Band{b.w(), b.h()}.index(i - b.x0, j - b.y0);
      PetscCheck(at >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "pins surrogate: halo point (%" PetscInt_FMT ", %" PetscInt_FMT
                 ") lies outside its owner's band",
                 i, j);
      ring.push_back(band_start[q] + at);
    }
  IS is;
  PetscCall(ISCreateBlock(PETSC_COMM_SELF, kBs, PetscInt(ring.size()), ring.data(),
                          PETSC_COPY_VALUES, &is));
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, kBs * PetscInt(ring.size()), &to));
  VecScatter scatter;
  PetscCall(VecScatterCreate(from, is, to, nullptr, &scatter));
  PetscCall(VecScatterBegin(scatter, from, to, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(scatter, from, to, INSERT_VALUES, SCATTER_FORWARD));
  torch::Tensor p;
  if (patch.size() == box.size()) {
    p = own;  // nothing around it (one process, or a patch with no neighbours' points)
  } else {
    p = torch::zeros({1, kBs, patch.h(), patch.w()}, torch::kFloat64);
    using torch::indexing::Slice;
    p.index_put_({Slice(), Slice(), Slice(box.y0 - patch.y0, box.y1 - patch.y0),
                  Slice(box.x0 - patch.x0, box.x1 - patch.x0)},
                 own);
    const PetscScalar* a;
    PetscCall(VecGetArrayRead(to, &a));
    double* pv = p.data_ptr<double>();
    const size_t plane = size_t(patch.size());
    size_t q = 0;
    for (PetscInt j = patch.y0; j < patch.y1; ++j)
      for (PetscInt i = patch.x0; i < patch.x1; ++i)
        if (!box.contains(i, j)) {
          const size_t at = size_t((j - patch.y0) * patch.w() + (i - patch.x0));
          for (PetscInt k = 0; k < kBs; ++k) pv[size_t(k) * plane + at] = a[q * kBs + size_t(k)];
          ++q;
        }
    PetscCall(VecRestoreArrayRead(to, &a));
  }
  *out = p;
  PetscCall(VecScatterDestroy(&scatter));
  PetscCall(ISDestroy(&is));
  PetscCall(VecDestroy(&to));
  PetscCall(VecDestroy(&from));
  PetscFunctionReturn(0);
}

PetscErrorCode MgNetMatrices::build(Mat A, Vec inv_diag, DM da, const torch::Tensor& couplings,
                                    MgNetImpl& net, bool reuse, int network_lag,
                                    bool symmetric) {
  PetscFunctionBeginUser;
  comm_ = PetscObjectComm((PetscObject)da);
  const Events* ev;
  PetscCall(events(&ev));
  PetscMPIInt rank;
  PetscCallMPI(MPI_Comm_rank(comm_, &rank));
  torch::NoGradGuard no_grad;
  const torch::ScalarType dtype = parameter_dtype(net);
  PetscCheck(dtype == torch::kFloat32 || dtype == torch::kFloat64, comm_, PETSC_ERR_SUP,
             "pins surrogate: the MgNet's weights are %s; its cycle as matrices takes float32 or "
             "float64 models",
             c10::toString(dtype));

  // Level 0: the DMDA's own split.
  PetscInt nx, ny, m, n;
  PetscCall(DMDAGetInfo(da, nullptr, &nx, &ny, nullptr, &m, &n, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr));
  const PetscInt *lx, *ly;
  PetscCall(DMDAGetOwnershipRanges(da, &lx, &ly, nullptr));
  Layout L;
  L.nx = nx;
  L.ny = ny;
  L.xb.assign(1, 0);
  L.yb.assign(1, 0);
  for (PetscInt c = 0; c < m; ++c) L.xb.push_back(L.xb.back() + lx[c]);
  for (PetscInt r = 0; r < n; ++r) L.yb.push_back(L.yb.back() + ly[r]);
  L.offset = offsets(L.xb, L.yb);

  // Values only, or everything anew: the same decision on every process (the two paths make
  // different collective calls).
  Key key;
  PetscCall(PetscObjectGetId((PetscObject)A, &key.id));
  PetscCall(MatGetNonzeroState(A, &key.state));
  key.layout = L;
  key.net = &net;
  key.symmetric = symmetric;
  PetscInt same = reuse && !levels_.empty() && key_.id != 0 && key == key_ ? 1 : 0;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPIU_INT, MPI_MIN, comm_));
  const bool in_place = same == 1;
  if (!in_place) destroy();
  // Without the network: a values-only build after fewer than L − 1 such builds in a row
  // without it (the count is the same on every process, as in_place is).
  const bool lag = in_place && network_lag > 1 && since_network_ + 1 < network_lag;
  since_network_ = lag ? since_network_ + 1 : 0;
  key_ = Key();  // set again once this build has finished: a failed one is never reused
  reused_ = in_place;
  smooth_ = net.options.smooth();

  // This process's rows of the current level's stencil [1, 9, h, w], float64.
  // A lagged build reads it only when the fine level is also the last (its dense inverse).
  const int coarsest = net.options.coarsest();
  torch::Tensor own;
  if (!lag || !mg::coarsens(L.ny, L.nx, coarsest)) {
    PetscCheck(couplings.dim() == 4 && couplings.size(1) == 4 &&
                   couplings.size(2) == L.box(size_t(rank)).h() &&
                   couplings.size(3) == L.box(size_t(rank)).w(),
               PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ,
               "pins surrogate: the couplings do not cover this process's box");
    own = mg::stencil_from_couplings(couplings.to(torch::kFloat64));
    if (symmetric && !mg::coarsens(L.ny, L.nx, coarsest)) {
      // The fine level is the last: its dense inverse is of A itself, row i = D_i · Â's row.
      const PetscScalar* d;
      PetscCall(VecGetArrayRead(inv_diag, &d));
      const torch::Tensor diag =
          torch::from_blob(const_cast<PetscScalar*>(d), {1, 1, own.size(2), own.size(3)},
                           torch::kFloat64)
              .reciprocal();
      own = own * diag;
      PetscCall(VecRestoreArrayRead(inv_diag, &d));
    }
  }
  Mat next_A = nullptr;  // the next level's operator, PᵀAP, until that level exists
  for (size_t l = 0;; ++l) {
    if (!in_place) levels_.emplace_back();
    Level& level = levels_[l];
    const Box box = L.box(size_t(rank));
    const bool last = !mg::coarsens(L.ny, L.nx, coarsest);
    if (l == 0) {
      // The fine operator: A's own hierarchy takes the program's matrix itself (a reference:
      // a values-only build for the same matrix finds the new values there, and a copy would
      // cost the first set-up its memory); the network's takes a copy row-scaled to Â = D⁻¹A
      // (the values the couplings came from). Coarser ones come from MatPtAP below.
      PetscCall(PetscLogEventBegin(ev->assemble, 0, 0, 0, 0));
      if (symmetric) {
        if (!in_place) {
          PetscCall(PetscObjectReference((PetscObject)A));
          level.A = A;
        }
      } else {
        if (in_place) PetscCall(MatCopy(A, level.A, SAME_NONZERO_PATTERN));
        else PetscCall(MatDuplicate(A, MAT_COPY_VALUES, &level.A));
        PetscCall(MatDiagonalScale(level.A, inv_diag, nullptr));
      }
      PetscCall(PetscLogEventEnd(ev->assemble, 0, 0, 0, 0));
    } else if (!in_place) {
      level.A = next_A;
      next_A = nullptr;
    }
    if (!in_place) {
      PetscCall(MatCreateVecs(level.A, nullptr, &level.t));
      if (l > 0) {  // level 0 works on the caller's vectors
        PetscCall(VecDuplicate(level.t, &level.r));
        PetscCall(VecDuplicate(level.t, &level.z));
      }
      if (!last) PetscCall(VecDuplicate(level.t, &level.inv_diag));
    }
    if (last) {
      PetscCall(PetscLogEventBegin(ev->coarse, 0, 0, 0, 0));
      PetscCall(build_coarse_inverse(L, box, own, dtype, in_place));
      PetscCall(PetscLogEventEnd(ev->coarse, 0, 0, 0, 0));
      break;
    }
    if (lag) {
      // The network's last smoothers and P stay; their D⁻¹ becomes the new operator's.
      PetscCall(PetscLogEventBegin(ev->assemble, 0, 0, 0, 0));
      PetscCall(rescale(level));
      PetscCall(PetscLogEventEnd(ev->assemble, 0, 0, 0, 0));
    } else {
      PetscCall(run_network(level, L, own, net, int(l), dtype, in_place));
    }

    // The next level: Pᵀ A P (its numeric phase only when in place), and this process's
    // rows of its stencil (a lagged build reads only the last level's, for its dense inverse).
    const Layout C = L.coarse();
    PetscCall(PetscLogEventBegin(ev->galerkin, 0, 0, 0, 0));
    Mat coarse_A;
    if (in_place) {
      coarse_A = levels_[l + 1].A;
      PetscCall(MatPtAP(level.A, level.P, MAT_REUSE_MATRIX, 2.0, &coarse_A));
    } else {
      PetscCall(MatPtAP(level.A, level.P, MAT_INITIAL_MATRIX, 2.0, &next_A));
      coarse_A = next_A;
    }
    if (!lag || !mg::coarsens(C.ny, C.nx, coarsest)) {
      const PetscErrorCode read = coarse_stencil(coarse_A, C, int(l) + 1, &own);
      if (read) PetscCall(MatDestroy(&next_A));  // not yet a level's: freed here
      PetscCall(read);
    }
    PetscCall(PetscLogEventEnd(ev->galerkin, 0, 0, 0, 0));
    L = C;
  }
  key_ = key;
  PetscFunctionReturn(0);
}

PetscErrorCode MgNetMatrices::run_network(Level& level, const Layout& L, const torch::Tensor& own,
                                          MgNetImpl& net, int l, torch::ScalarType dtype, bool reuse) {
  PetscFunctionBeginUser;
  const Events* ev;
  PetscCall(events(&ev));
  PetscMPIInt rank;
  PetscCallMPI(MPI_Comm_rank(comm_, &rank));
  const Box box = L.box(size_t(rank));
  // The patch: the box with two points around it, starting on an even grid point.
  Box patch;
  if (box.size() > 0) {
    patch.x0 = std::max<PetscInt>(0, box.x0 - 2) / 2 * 2;
    patch.y0 = std::max<PetscInt>(0, box.y0 - 2) / 2 * 2;
    patch.x1 = std::min(L.nx, box.x1 + 2);
    patch.y1 = std::min(L.ny, box.y1 + 2);
  }
  torch::Tensor on_patch;
  PetscCall(PetscLogEventBegin(ev->halo, 0, 0, 0, 0));
  PetscCall(exchange(L, own, patch, &on_patch));
  PetscCall(PetscLogEventEnd(ev->halo, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(ev->network, 0, 0, 0, 0));
  // The network and the prolongation on the patch; the owned part of each.
  torch::Tensor smoothers, weights;
  std::optional<detail::Failure> failure;
  if (box.size() > 0) {
    detail::record_failure(failure, -1, [&] {
      // Strip by strip of about kStripPoints points (owned rows, with the two rows of halo
      // each side they read, starting on an even row): the same values as one pass over
      // the patch, but the network's intermediate tensors stay a few MB — a whole 1024²
      // level would allocate (and first touch) hundreds of MB per set-up.
      constexpr PetscInt kStripPoints = 1 << 16;
      const PetscInt rows_per_strip = std::max<PetscInt>(2, kStripPoints / std::max<PetscInt>(1, patch.w()));
      using torch::indexing::Slice;
      const auto cols = Slice(box.x0 - patch.x0, box.x1 - patch.x0);
      for (PetscInt r0 = box.y0; r0 < box.y1; r0 += rows_per_strip) {
        const PetscInt r1 = std::min(box.y1, r0 + rows_per_strip);
        PetscInt p0 = std::max(patch.y0, r0 - 2);
        p0 -= (p0 - patch.y0) % 2;  // the parity of the global rows (prolongation_weights)
        const PetscInt p1 = std::min(patch.y1, r1 + 2);
        // In the network's dtype (no float64 copy of the network's work).
        const torch::Tensor strip = on_patch.slice(2, p0 - patch.y0, p1 - patch.y0).to(dtype);
        const auto rows = Slice(r0 - p0, r1 - p0);
        const torch::Tensor sm = net.smoothers(strip, l).index({Slice(), Slice(), rows, cols});
        const torch::Tensor wt = mg::prolongation_weights(strip).index({Slice(), Slice(), rows, cols});
        if (!smoothers.defined()) {
          smoothers = torch::empty({1, sm.size(1), box.h(), box.w()}, sm.options());
          weights = torch::empty({1, wt.size(1), box.h(), box.w()}, wt.options());
        }
        smoothers.slice(2, r0 - box.y0, r1 - box.y0).copy_(sm);
        weights.slice(2, r0 - box.y0, r1 - box.y0).copy_(wt);
      }
    });
  }
  if (const auto message = detail::agree(comm_, failure))
    SETERRQ(comm_, PETSC_ERR_LIB, "pins surrogate: the MgNet set-up failed on level %d: %s",
            l, message->c_str());
  PetscCall(PetscLogEventEnd(ev->network, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(ev->assemble, 0, 0, 0, 0));
  PetscCall(assemble(level, L, box, smoothers, weights, reuse));
  PetscCall(PetscLogEventEnd(ev->assemble, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode MgNetMatrices::coarse_stencil(Mat coarse_A, const Layout& C, int level,
                                             torch::Tensor* out) {
  PetscFunctionBeginUser;
  PetscMPIInt rank;
  PetscCallMPI(MPI_Comm_rank(comm_, &rank));
  const Box cbox = C.box(size_t(rank));
  torch::Tensor next = torch::zeros({1, 9, cbox.h(), cbox.w()}, torch::kFloat64);
  double* nv = next.data_ptr<double>();
  PetscInt bad = -1;
  for (PetscInt J = cbox.y0; J < cbox.y1; ++J) {
    for (PetscInt I = cbox.x0; I < cbox.x1; ++I) {
      const PetscInt row = C.global(I, J);
      PetscInt ncols;
      const PetscInt* cidx;
      const PetscScalar* vals;
      PetscCall(MatGetRow(coarse_A, row, &ncols, &cidx, &vals));
      for (PetscInt q = 0; q < ncols; ++q) {
        PetscInt ci, cj;
        C.coords(cidx[q], &ci, &cj);
        const PetscInt dx = ci - I, dy = cj - J;
        if (dx < -1 || dx > 1 || dy < -1 || dy > 1) {
          if (vals[q] != 0.0) bad = row;
          continue;
        }
        nv[size_t(mg::stencil_index(int(dy), int(dx))) * size_t(cbox.size()) +
           size_t((J - cbox.y0) * cbox.w() + (I - cbox.x0))] += PetscRealPart(vals[q]);
      }
      PetscCall(MatRestoreRow(coarse_A, row, &ncols, &cidx, &vals));
    }
  }
  PetscInt any_bad = bad;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &any_bad, 1, MPIU_INT, MPI_MAX, comm_));
  PetscCheck(any_bad < 0, comm_, PETSC_ERR_PLIB,
             "pins surrogate: the Galerkin operator of level %d couples beyond its 3 x 3 "
             "neighbours (row %" PetscInt_FMT ")",
             level, any_bad);
  *out = next;
  PetscFunctionReturn(0);
}

PetscErrorCode MgNetMatrices::rescale(Level& level) {
  PetscFunctionBeginUser;
  // t = D_new⁻¹ / D_old⁻¹, folded into the smoothers' right scaling and into the kept D⁻¹.
  PetscCall(MatGetDiagonal(level.A, level.t));
  PetscCall(VecReciprocal(level.t));
  PetscCall(VecPointwiseDivide(level.t, level.t, level.inv_diag));
  PetscCall(MatDiagonalScale(level.pre, nullptr, level.t));
  PetscCall(MatDiagonalScale(level.post, nullptr, level.t));
  PetscCall(VecPointwiseMult(level.inv_diag, level.inv_diag, level.t));
  PetscFunctionReturn(0);
}

namespace {

// An AIJ matrix's local value arrays with their row starts: the diagonal block's and (MPIAIJ)
// the off-diagonal block's, whose local columns run in ascending global order.
struct AijArrays {
  Mat M = nullptr, Ad = nullptr, Ao = nullptr;
  const PetscInt *di = nullptr, *dj = nullptr, *oi = nullptr, *oj = nullptr;
  PetscScalar *d = nullptr, *o = nullptr;
  PetscErrorCode open(Mat m) {
    PetscFunctionBeginUser;
    M = m;
    PetscBool mpi;
    PetscCall(PetscObjectTypeCompare((PetscObject)M, MATMPIAIJ, &mpi));
    Ad = M;
    if (mpi) PetscCall(MatMPIAIJGetSeqAIJ(M, &Ad, &Ao, nullptr));
    PetscInt n;
    PetscBool done;
    PetscCall(MatGetRowIJ(Ad, 0, PETSC_FALSE, PETSC_FALSE, &n, &di, &dj, &done));
    PetscCheck(done, PETSC_COMM_SELF, PETSC_ERR_SUP, "pins surrogate: cannot read an AIJ structure");
    PetscCall(MatSeqAIJGetArrayWrite(Ad, &d));
    if (Ao) {
      PetscCall(MatGetRowIJ(Ao, 0, PETSC_FALSE, PETSC_FALSE, &n, &oi, &oj, &done));
      PetscCheck(done, PETSC_COMM_SELF, PETSC_ERR_SUP, "pins surrogate: cannot read an AIJ structure");
      PetscCall(MatSeqAIJGetArrayWrite(Ao, &o));
    }
    PetscFunctionReturn(0);
  }
  PetscErrorCode close() {
    PetscFunctionBeginUser;
    PetscInt n;
    PetscBool done;
    PetscCall(MatSeqAIJRestoreArrayWrite(Ad, &d));
    PetscCall(MatRestoreRowIJ(Ad, 0, PETSC_FALSE, PETSC_FALSE, &n, &di, &dj, &done));
    if (Ao) {
      PetscCall(MatSeqAIJRestoreArrayWrite(Ao, &o));
      PetscCall(MatRestoreRowIJ(Ao, 0, PETSC_FALSE, PETSC_FALSE, &n, &oi, &oj, &done));
    }
    PetscCall(PetscObjectStateIncrease((PetscObject)M));
    PetscFunctionReturn(0);
  }
  PetscInt diag_count(PetscInt r) const { return di[r + 1] - di[r]; }
  PetscInt off_count(PetscInt r) const { return Ao ? oi[r + 1] - oi[r] : 0; }
};

// One row's entries in the off-diagonal block, put in its column order (global, ascending).
struct OffRow {
  PetscInt n = 0;
  PetscInt col[9];
  PetscScalar v[9], w[9];
  void add(PetscInt c, PetscScalar a, PetscScalar b = 0) {
    PetscInt q = n++;
    for (; q > 0 && col[q - 1] > c; --q) col[q] = col[q - 1], v[q] = v[q - 1], w[q] = w[q - 1];
    col[q] = c, v[q] = a, w[q] = b;
  }
};

}  // namespace

PetscErrorCode MgNetMatrices::assemble(Level& level, const Layout& L, const Box& box,
                                       const torch::Tensor& smoothers, const torch::Tensor& weights,
                                       bool reuse) {
  PetscFunctionBeginUser;
  const Layout C = L.coarse();
  PetscMPIInt rank;
  PetscCallMPI(MPI_Comm_rank(comm_, &rank));
  const Box cbox = C.box(size_t(rank));
  const size_t nb = size_t(box.size());
  const PetscInt first = L.offset[size_t(rank)], cfirst = C.offset[size_t(rank)];
  const Values sm(smoothers), wt(weights);
  // Row (i, j) of the three matrices, both paths' one walk over the stencil: the smoothers'
  // couplings to the point's neighbours in the grid, in stencil order (ascending columns
  // within the box, which is numbered x fastest), and P's to the coarse points among them
  // (odd fine coordinates), each flagged as in this process's box (the diagonal block) or not.
  struct Row {
    int n = 0, np = 0;
    PetscInt col[9], pcol[4];
    bool own[9], pown[4];
    PetscScalar pre[9], post[9], p[4];
  };
  const auto walk = [&](PetscInt i, PetscInt j, Row* r) {
    const size_t at = size_t((j - box.y0) * box.w() + (i - box.x0));
    r->n = r->np = 0;
    for (int k = 0; k < 9; ++k) {
      const PetscInt ni = i + entry_dx(k), nj = j + entry_dy(k);
      if (ni < 0 || nj < 0 || ni >= L.nx || nj >= L.ny) continue;
      const bool own = box.contains(ni, nj);
      r->col[r->n] = own ? first + (nj - box.y0) * box.w() + (ni - box.x0) : L.global(ni, nj);
      r->own[r->n] = own;
      r->pre[r->n] = sm[size_t(k) * nb + at];
      r->post[r->n] = sm[size_t(9 + k) * nb + at];
      ++r->n;
      if (ni % 2 == 0 || nj % 2 == 0 || ni / 2 >= C.nx || nj / 2 >= C.ny) continue;
      const PetscInt I = ni / 2, J = nj / 2;
      const bool cown = cbox.contains(I, J);
      r->pcol[r->np] = cown ? cfirst + (J - cbox.y0) * cbox.w() + (I - cbox.x0) : C.global(I, J);
      r->pown[r->np] = cown;
      r->p[r->np++] = wt[size_t(k) * nb + at];
    }
  };
  Row r;
  if (reuse) {
    // The pattern is the first build's: the values go straight into the AIJ arrays, the
    // diagonal block's in stencil order, the off-diagonal block's in global column order.
    AijArrays pre, post, P;
    PetscCall(pre.open(level.pre));
    PetscCall(post.open(level.post));
    PetscCall(P.open(level.P));
    PetscInt bad = -1;
    for (PetscInt j = box.y0; j < box.y1 && bad < 0; ++j) {
      for (PetscInt i = box.x0; i < box.x1; ++i) {
        const PetscInt row = (j - box.y0) * box.w() + (i - box.x0);
        walk(i, j, &r);
        PetscInt nd = 0, pd = 0;
        OffRow off, poff;
        for (int q = 0; q < r.n; ++q) {
          if (!r.own[q]) off.add(r.col[q], r.pre[q], r.post[q]);
          else if (nd++ < pre.diag_count(row)) {
            pre.d[pre.di[row] + nd - 1] = r.pre[q];
            post.d[post.di[row] + nd - 1] = r.post[q];
          }
        }
        for (int q = 0; q < r.np; ++q) {
          if (!r.pown[q]) poff.add(r.pcol[q], r.p[q]);
          else if (pd++ < P.diag_count(row)) P.d[P.di[row] + pd - 1] = r.p[q];
        }
        if (nd != pre.diag_count(row) || off.n != pre.off_count(row) || pd != P.diag_count(row) ||
            poff.n != P.off_count(row)) {
          bad = row;
          break;
        }
        for (PetscInt q = 0; q < off.n; ++q) {
          pre.o[pre.oi[row] + q] = off.v[q];
          post.o[post.oi[row] + q] = off.w[q];
        }
        for (PetscInt q = 0; q < poff.n; ++q) P.o[P.oi[row] + q] = poff.v[q];
      }
    }
    PetscCall(pre.close());
    PetscCall(post.close());
    PetscCall(P.close());
    PetscCheck(bad < 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "pins surrogate: local row %" PetscInt_FMT " of the cycle's matrices does not have "
               "the pattern of their first build",
               bad);
  } else {
    const PetscInt N = L.nx * L.ny;
    PetscCall(MatCreateAIJ(comm_, box.size(), box.size(), N, N, 9, nullptr, 9, nullptr, &level.pre));
    PetscCall(MatCreateAIJ(comm_, box.size(), box.size(), N, N, 9, nullptr, 9, nullptr, &level.post));
    PetscCall(MatCreateAIJ(comm_, box.size(), cbox.size(), N, C.nx * C.ny, 4, nullptr, 4, nullptr,
                           &level.P));
    for (PetscInt j = box.y0; j < box.y1; ++j) {
      for (PetscInt i = box.x0; i < box.x1; ++i) {
        const PetscInt row = first + (j - box.y0) * box.w() + (i - box.x0);
        walk(i, j, &r);
        PetscCall(MatSetValues(level.pre, 1, &row, r.n, r.col, r.pre, INSERT_VALUES));
        PetscCall(MatSetValues(level.post, 1, &row, r.n, r.col, r.post, INSERT_VALUES));
        PetscCall(MatSetValues(level.P, 1, &row, r.np, r.pcol, r.p, INSERT_VALUES));
      }
    }
    for (Mat M : {level.pre, level.post, level.P}) {
      PetscCall(MatAssemblyBegin(M, MAT_FINAL_ASSEMBLY));
      PetscCall(MatAssemblyEnd(M, MAT_FINAL_ASSEMBLY));
    }
  }
  // pre ⋆ (D⁻¹ v): the smoother stencils act on the residual scaled by 1/centre, which a
  // right diagonal scaling folds into the matrices (the neighbours' centres included).
  PetscCall(MatGetDiagonal(level.A, level.inv_diag));
  PetscCall(VecReciprocal(level.inv_diag));
  PetscCall(MatDiagonalScale(level.pre, nullptr, level.inv_diag));
  PetscCall(MatDiagonalScale(level.post, nullptr, level.inv_diag));
  PetscFunctionReturn(0);
}

PetscErrorCode MgNetMatrices::build_coarse_inverse(const Layout& L, const Box& box,
                                                   const torch::Tensor& own, torch::ScalarType dtype,
                                                   bool reuse) {
  PetscFunctionBeginUser;
  // The last level is small: every process gathers its stencil and inverts it (dense), then
  // keeps its own rows.
  PetscMPIInt size;
  PetscCallMPI(MPI_Comm_size(comm_, &size));
  const PetscInt N = L.nx * L.ny;
  std::vector<int> counts(static_cast<size_t>(size)), displs(static_cast<size_t>(size));
  for (int q = 0; q < size; ++q) {
    counts[size_t(q)] = int(9 * (L.offset[size_t(q) + 1] - L.offset[size_t(q)]));
    displs[size_t(q)] = int(9 * L.offset[size_t(q)]);
  }
  const std::vector<PetscScalar> mine = box.size() > 0 ? interleaved(own) : std::vector<PetscScalar>();
  std::vector<double> all(size_t(9 * N));
  PetscCallMPI(MPI_Allgatherv(mine.data(), int(mine.size()), MPI_DOUBLE, all.data(), counts.data(),
                              displs.data(), MPI_DOUBLE, comm_));
  // Global (process-major) order → the row-major grid of multigrid.hpp.
  torch::Tensor whole = torch::zeros({1, 9, L.ny, L.nx}, torch::kFloat64);
  double* w = whole.data_ptr<double>();
  for (PetscInt j = 0; j < L.ny; ++j)
    for (PetscInt i = 0; i < L.nx; ++i)
      for (int k = 0; k < 9; ++k)
        w[size_t(k) * size_t(N) + size_t(j * L.nx + i)] = all[size_t(9 * L.global(i, j) + k)];
  torch::Tensor inverse;
  std::optional<detail::Failure> failure;
  detail::record_failure(failure, -1, [&] {
    inverse = mg::dense_inverse(whole.to(dtype)).to(torch::kFloat64).contiguous();
  });
  if (const auto message = detail::agree(comm_, failure))
    SETERRQ(comm_, PETSC_ERR_LIB, "pins surrogate: %s", message->c_str());
  const double* inv = inverse.data_ptr<double>();
  if (!reuse) PetscCall(MatCreateDense(comm_, box.size(), box.size(), N, N, nullptr, &coarse_inverse_));
  std::vector<PetscInt> cols(static_cast<size_t>(N));
  for (PetscInt q = 0; q < N; ++q) cols[size_t(q)] = L.global(q % L.nx, q / L.nx);
  for (PetscInt j = box.y0; j < box.y1; ++j) {
    for (PetscInt i = box.x0; i < box.x1; ++i) {
      const PetscInt row = L.global(i, j);
      PetscCall(MatSetValues(coarse_inverse_, 1, &row, N, cols.data(),
                             inv + size_t(j * L.nx + i) * size_t(N), INSERT_VALUES));
    }
  }
  PetscCall(MatAssemblyBegin(coarse_inverse_, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(coarse_inverse_, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(0);
}

PetscErrorCode MgNetMatrices::cycle(std::size_t l, Vec r, Vec z) {
  PetscFunctionBeginUser;
  const Level& L = levels_[l];
  if (l + 1 == levels_.size()) {
    PetscCall(MatMult(coarse_inverse_, r, z));
    PetscFunctionReturn(0);
  }
  PetscCall(MatMult(L.pre, r, z));  // the first sweep, from zero
  for (int k = 1; k < smooth_; ++k) {
    PetscCall(MatResidual(L.A, r, z, L.t));  // t = r − A z
    PetscCall(MatMultAdd(L.pre, L.t, z, z));
  }
  const Level& C = levels_[l + 1];
  PetscCall(MatResidual(L.A, r, z, L.t));  // t = r − A z
  PetscCall(MatMultTranspose(L.P, L.t, C.r));
  PetscCall(cycle(l + 1, C.r, C.z));
  PetscCall(MatMultAdd(L.P, C.z, z, z));
  for (int k = 0; k < smooth_; ++k) {
    PetscCall(MatResidual(L.A, r, z, L.t));  // t = r − A z
    PetscCall(MatMultAdd(L.post, L.t, z, z));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode MgNetMatrices::apply(Vec r, Vec z) {
  PetscFunctionBeginUser;
  // key_ is set by a build that finished: a failed one leaves levels that must not run.
  PetscCheck(!levels_.empty() && key_.id != 0, comm_, PETSC_ERR_ORDER,
             "pins surrogate: the MgNet cycle is not built (or its last set-up failed)");
  PetscCall(cycle(0, r, z));
  PetscFunctionReturn(0);
}

}  // namespace pins::petsc
