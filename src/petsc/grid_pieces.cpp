// Aligned pieces of a 2-D DMDA's grid, their scatter and halos (grid_pieces.hpp).
#include "grid_pieces.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "pins/core/check.hpp"

namespace pins::petsc {

namespace {

// Box edges along one axis of n cells split as `sizes` by the DMDA: every inner edge moved
// to the nearest multiple of `m`, kept strictly increasing and short of the last block, so
// that every box holds at least one block and the last one the grid's last cells. The
// first edge is 0, the last n. Empty when there are fewer blocks than boxes.
std::vector<PetscInt> aligned_edges(PetscInt n, const PetscInt* sizes, PetscInt p, PetscInt m) {
  const PetscInt blocks = (n + m - 1) / m;
  if (blocks < p) return {};
  std::vector<PetscInt> block(size_t(p) + 1, 0);
  PetscInt owned = 0;
  for (PetscInt k = 1; k < p; ++k) {
    owned += sizes[k - 1];
    const PetscInt nearest = (owned + m / 2) / m;
    block[size_t(k)] = std::max(std::max(nearest, k), block[size_t(k) - 1] + 1);
    block[size_t(k)] = std::min(block[size_t(k)], blocks - (p - k));
  }
  std::vector<PetscInt> edges(size_t(p) + 1);
  for (PetscInt k = 0; k < p; ++k) edges[size_t(k)] = block[size_t(k)] * m;
  edges[size_t(p)] = n;
  return edges;
}

}  // namespace

GridPieces::~GridPieces() { reset(); }

PetscErrorCode GridPieces::reset() {
  PetscFunctionBeginUser;
  PetscCall(VecScatterDestroy(&to_box_));
  PetscCall(VecDestroy(&box_));
  if (comm_ != MPI_COMM_NULL) PetscCallMPI(MPI_Comm_free(&comm_));
  da_ = nullptr;
  alignment_ = 0;
  PetscFunctionReturn(0);
}

bool GridPieces::matches(DM da, PetscInt alignment) const {
  return da_ == da && alignment_ == alignment;
}

PetscErrorCode GridPieces::setup(DM da, PetscInt alignment, const char* who) {
  PetscFunctionBeginUser;
  PetscCall(reset());
  MPI_Comm comm = PetscObjectComm((PetscObject)da);
  PetscInt px, py;
  PetscCall(DMDAGetInfo(da, nullptr, &nx_, &ny_, nullptr, &px, &py, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr, nullptr));
  const PetscInt *lx, *ly;
  PetscCall(DMDAGetOwnershipRanges(da, &lx, &ly, nullptr));
  const std::vector<PetscInt> ex = aligned_edges(nx_, lx, px, alignment);
  const std::vector<PetscInt> ey = aligned_edges(ny_, ly, py, alignment);
  PetscCheck(!ex.empty() && !ey.empty(), comm, PETSC_ERR_ARG_SIZ,
             "%s: the network runs on every process's piece of the grid, pieces of whole blocks "
             "of %" PetscInt_FMT " x %" PetscInt_FMT " cells (its pooling), but the %" PetscInt_FMT
             " x %" PetscInt_FMT
             " grid has fewer such blocks than the %" PetscInt_FMT " x %" PetscInt_FMT
             " processes along its axes (use fewer processes, a finer grid, or a network with "
             "fewer levels)",
             who, alignment, alignment, nx_, ny_, px, py);
  PetscMPIInt rank;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  // A DMDA numbers its processes x first.
  const PetscInt i = rank % px, j = rank / px;
  left_ = i > 0 ? int(rank - 1) : MPI_PROC_NULL;
  right_ = i + 1 < px ? int(rank + 1) : MPI_PROC_NULL;
  down_ = j > 0 ? int(rank - px) : MPI_PROC_NULL;
  up_ = j + 1 < py ? int(rank + px) : MPI_PROC_NULL;
  piece_ = GridPiece{ny_, nx_, ey[size_t(j)], ex[size_t(i)]};
  rows_ = ey[size_t(j) + 1] - ey[size_t(j)];
  cols_ = ex[size_t(i) + 1] - ex[size_t(i)];
  PetscCallMPI(MPI_Comm_dup(comm, &comm_));
  da_ = da;
  alignment_ = alignment;
  // The DMDA's own boxes: the owned rows are the box, no scatter.
  bool same = true;
  for (PetscInt k = 0, at = 0; k < px; at += lx[k++]) same = same && ex[size_t(k)] == at;
  for (PetscInt k = 0, at = 0; k < py; at += ly[k++]) same = same && ey[size_t(k)] == at;
  if (same) PetscFunctionReturn(0);
  // Each cell's index in PETSc's global order: its owner's first index plus its place in
  // the owner's box (rows of lx[owner's column] cells).
  std::vector<PetscInt> xstart(size_t(px) + 1, 0), ystart(size_t(py) + 1, 0), first(size_t(px * py));
  for (PetscInt k = 0; k < px; ++k) xstart[size_t(k) + 1] = xstart[size_t(k)] + lx[k];
  for (PetscInt k = 0; k < py; ++k) ystart[size_t(k) + 1] = ystart[size_t(k)] + ly[k];
  for (PetscInt r = 0, at = 0; r < px * py; ++r) {
    first[size_t(r)] = at;
    at += lx[r % px] * ly[r / px];
  }
  const auto owner = [](const std::vector<PetscInt>& start, PetscInt c) {
    return PetscInt(std::upper_bound(start.begin(), start.end(), c) - start.begin()) - 1;
  };
  std::vector<PetscInt> cols_owner(static_cast<size_t>(cols_));
  for (int64_t c = 0; c < cols_; ++c) cols_owner[size_t(c)] = owner(xstart, piece_.x0 + c);
  PetscInt* index;
  PetscCall(PetscMalloc1(rows_ * cols_, &index));
  for (int64_t r = 0; r < rows_; ++r) {
    const PetscInt y = piece_.y0 + r, oj = owner(ystart, y);
    for (int64_t c = 0; c < cols_; ++c) {
      const PetscInt x = piece_.x0 + c, oi = cols_owner[size_t(c)];
      index[r * cols_ + c] = first[size_t(oj * px + oi)] + (y - ystart[size_t(oj)]) * lx[oi] +
                             (x - xstart[size_t(oi)]);
    }
  }
  IS from;
  PetscCall(ISCreateGeneral(PETSC_COMM_SELF, rows_ * cols_, index, PETSC_OWN_POINTER, &from));
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, rows_ * cols_, &box_));
  Vec global;
  PetscCall(DMGetGlobalVector(da, &global));
  PetscCall(VecScatterCreate(global, from, box_, nullptr, &to_box_));
  PetscCall(DMRestoreGlobalVector(da, &global));
  PetscCall(ISDestroy(&from));
  PetscFunctionReturn(0);
}

PetscErrorCode GridPieces::read(Vec global, torch::Tensor* box) {
  PetscFunctionBeginUser;
  Vec source = global;
  if (to_box_) {
    PetscCall(VecScatterBegin(to_box_, global, box_, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(to_box_, global, box_, INSERT_VALUES, SCATTER_FORWARD));
    source = box_;
  }
  const PetscScalar* values;
  PetscCall(VecGetArrayRead(source, &values));
  *box = torch::from_blob(const_cast<PetscScalar*>(values), {1, 1, rows_, cols_}, torch::kFloat64)
             .clone();
  PetscCall(VecRestoreArrayRead(source, &values));
  PetscFunctionReturn(0);
}

PetscErrorCode GridPieces::read_owned(const torch::Tensor& owned, Vec work, torch::Tensor* box) {
  PetscFunctionBeginUser;
  if (!to_box_) {
    *box = owned.clone();
    PetscFunctionReturn(0);
  }
  const int64_t channels = owned.size(1), points = owned.size(2) * owned.size(3);
  std::vector<torch::Tensor> moved;
  for (int64_t c = 0; c < channels; ++c) {
    PetscScalar* values;
    PetscCall(VecGetArray(work, &values));
    std::memcpy(values, owned.select(1, c).contiguous().data_ptr<double>(),
                sizeof(double) * size_t(points));
    PetscCall(VecRestoreArray(work, &values));
    torch::Tensor channel;
    PetscCall(read(work, &channel));
    moved.push_back(channel);
  }
  *box = torch::cat(moved, 1);
  PetscFunctionReturn(0);
}

PetscErrorCode GridPieces::write(const torch::Tensor& box, Vec global) {
  PetscFunctionBeginUser;
  PetscCheck(box.scalar_type() == torch::kFloat64 && box.is_contiguous() &&
                 box.numel() == rows_ * cols_,
             PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "GridPieces::write: expected %" PetscInt_FMT
             " contiguous float64 values", PetscInt(rows_ * cols_));
  Vec target = to_box_ ? box_ : global;
  PetscScalar* values;
  PetscCall(VecGetArray(target, &values));
  std::memcpy(values, box.data_ptr<double>(), sizeof(double) * size_t(rows_ * cols_));
  PetscCall(VecRestoreArray(target, &values));
  if (to_box_) {
    PetscCall(VecScatterBegin(to_box_, box_, global, INSERT_VALUES, SCATTER_REVERSE));
    PetscCall(VecScatterEnd(to_box_, box_, global, INSERT_VALUES, SCATTER_REVERSE));
  }
  PetscFunctionReturn(0);
}

namespace {

// Sends `mine` to `to` while receiving as many values from `from` (zeros stay where `from`
// is MPI_PROC_NULL).
void exchange(const torch::Tensor& mine, int to, torch::Tensor& theirs, int from, MPI_Comm comm) {
  const MPI_Datatype type = mine.scalar_type() == torch::kFloat64 ? MPI_DOUBLE : MPI_FLOAT;
  PINS_CHECK(mine.scalar_type() == torch::kFloat64 || mine.scalar_type() == torch::kFloat32,
             "halo exchange: float32 or float64 tensors only, got ", mine.scalar_type());
  const int count = int(mine.numel());
  if (MPI_Sendrecv(mine.data_ptr(), count, type, to, 0, theirs.data_ptr(), count, type, from, 0,
                   comm, MPI_STATUS_IGNORE) != MPI_SUCCESS)
    throw Error("MPI_Sendrecv of the network's halo failed");
}

}  // namespace

torch::Tensor GridPieces::halo(const torch::Tensor& x) const {
  const int64_t h = x.size(2), w = x.size(3);
  // Columns first, then rows of the widened box: the rows carry the corners along.
  const torch::Tensor first_col = x.select(3, 0).contiguous(), last_col = x.select(3, w - 1).contiguous();
  torch::Tensor from_left = torch::zeros_like(first_col), from_right = torch::zeros_like(last_col);
  exchange(first_col, left_, from_right, right_, comm_);
  exchange(last_col, right_, from_left, left_, comm_);
  const torch::Tensor wide = torch::cat({from_left.unsqueeze(3), x, from_right.unsqueeze(3)}, 3);
  const torch::Tensor first_row = wide.select(2, 0).contiguous(), last_row = wide.select(2, h - 1).contiguous();
  torch::Tensor from_below = torch::zeros_like(first_row), from_above = torch::zeros_like(last_row);
  exchange(first_row, down_, from_above, up_, comm_);
  exchange(last_row, up_, from_below, down_, comm_);
  return torch::cat({from_below.unsqueeze(2), wide, from_above.unsqueeze(2)}, 2);
}

}  // namespace pins::petsc
