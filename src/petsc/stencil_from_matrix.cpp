// Stencil coefficients out of an assembled DMDA matrix (stencil_from_matrix.hpp).
#include "stencil_from_matrix.hpp"

#include <torch/torch.h>

#include <cstring>
#include <optional>
#include <string>

#include "collective.hpp"
#include "grid_gather.hpp"
#include "pins/petsc/scalar.hpp"

namespace pins::petsc {

PetscErrorCode find_grid(DM preferred, Mat A, const char* who, DM* da, const char* elsewhere) {
  PetscFunctionBeginUser;
  const std::string tail = elsewhere ? std::string("; ") + elsewhere : std::string();
  DM dm = preferred;
  PetscBool is_da = PETSC_FALSE;
  if (dm) PetscCall(PetscObjectTypeCompare((PetscObject)dm, DMDA, &is_da));
  if (!is_da) {
    DM mdm = nullptr;
    PetscCall(MatGetDM(A, &mdm));
    if (mdm) {
      dm = mdm;
      PetscCall(PetscObjectTypeCompare((PetscObject)dm, DMDA, &is_da));
    }
  }
  MPI_Comm comm = PetscObjectComm((PetscObject)A);
  PetscCheck(dm, comm, PETSC_ERR_ARG_WRONG,
             "%s needs the grid: a matrix from DMCreateMatrix() on a 2-D DMDA, or KSPSetDM(); "
             "this matrix has no DM%s",
             who, tail.c_str());
  DMType dmtype;
  PetscCall(DMGetType(dm, &dmtype));
  PetscCheck(is_da, comm, PETSC_ERR_ARG_WRONG,
             "%s works on 5-point operators on a 2-D DMDA; the matrix's DM is of type %s%s", who,
             dmtype, tail.c_str());
  PetscInt dim, dof, width;
  DMBoundaryType bx, by;
  PetscCall(DMDAGetInfo(dm, &dim, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &dof,
                        &width, &bx, &by, nullptr, nullptr));
  PetscCheck(dim == 2, comm, PETSC_ERR_ARG_WRONG,
             "%s works on 2-D DMDAs (5-point operators); this DMDA is %" PetscInt_FMT "-D%s", who,
             dim, tail.c_str());
  PetscCheck(dof == 1, comm, PETSC_ERR_ARG_WRONG,
             "%s works on scalar problems (one dof per grid point); this DMDA has %" PetscInt_FMT
             "%s",
             who, dof, tail.c_str());
  PetscCheck(width >= 1, comm, PETSC_ERR_ARG_WRONG,
             "%s needs a DMDA with stencil width >= 1 to see the neighbours, got %" PetscInt_FMT,
             who, width);
  PetscCheck(bx != DM_BOUNDARY_PERIODIC && by != DM_BOUNDARY_PERIODIC, comm, PETSC_ERR_ARG_WRONG,
             "%s: periodic DMDAs are not supported (the networks are trained on bounded grids)",
             who);
  *da = dm;
  PetscFunctionReturn(0);
}

PetscErrorCode visit_local_stencil(Mat A, DM da, const char* who,
                                   const std::function<void(PetscInt, PetscInt, const PetscScalar*)>& visit) {
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)A);
  PetscBool has_getrow = PETSC_FALSE;
  PetscCall(MatHasOperation(A, MATOP_GET_ROW, &has_getrow));
  MatType mtype;
  PetscCall(MatGetType(A, &mtype));
  PetscCheck(has_getrow, comm, PETSC_ERR_ARG_WRONG,
             "%s reads the stencil out of an assembled matrix; a matrix of type %s has no rows "
             "to read (use an AIJ matrix from DMCreateMatrix)",
             who, mtype);
  PetscInt M, N, xs, ys, xm, ym, gxs, gys, gxm, gym;
  PetscCall(DMDAGetInfo(da, nullptr, &M, &N, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr, nullptr));
  PetscInt rows, cols;
  PetscCall(MatGetSize(A, &rows, &cols));
  PetscCheck(rows == M * N && cols == M * N, comm, PETSC_ERR_ARG_SIZ,
             "%s: the matrix is %" PetscInt_FMT " x %" PetscInt_FMT
             " but the DMDA grid has %" PetscInt_FMT " x %" PetscInt_FMT " points",
             who, rows, cols, M, N);
  PetscCall(DMDAGetCorners(da, &xs, &ys, nullptr, &xm, &ym, nullptr));
  PetscCall(DMDAGetGhostCorners(da, &gxs, &gys, nullptr, &gxm, &gym, nullptr));
  ISLocalToGlobalMapping ltog;
  const PetscInt* l2g;
  PetscCall(DMGetLocalToGlobalMapping(da, &ltog));
  PetscCall(ISLocalToGlobalMappingGetIndices(ltog, &l2g));
  auto global_index = [&](PetscInt i, PetscInt j) { return l2g[(j - gys) * gxm + (i - gxs)]; };

  // The first offending grid point on this process: (i, j, column or -1 for a zero diagonal).
  PetscInt bad[3] = {-1, -1, -1};
  for (PetscInt j = ys; j < ys + ym && bad[0] < 0; ++j)
    for (PetscInt i = xs; i < xs + xm && bad[0] < 0; ++i) {
      const PetscInt row = global_index(i, j);
      const PetscInt nb[5] = {
          row, i > 0 ? global_index(i - 1, j) : -1, i < M - 1 ? global_index(i + 1, j) : -1,
          j > 0 ? global_index(i, j - 1) : -1, j < N - 1 ? global_index(i, j + 1) : -1};
      PetscScalar v[5] = {0, 0, 0, 0, 0};
      PetscInt ncols;
      const PetscInt* colidx;
      const PetscScalar* vals;
      PetscCall(MatGetRow(A, row, &ncols, &colidx, &vals));
      for (PetscInt k = 0; k < ncols; ++k) {
        int slot = -1;
        for (int s = 0; s < 5; ++s)
          if (nb[s] == colidx[k]) slot = s;
        if (slot >= 0) {
          v[slot] += vals[k];
        } else if (vals[k] != 0.0) {
          bad[0] = i, bad[1] = j, bad[2] = colidx[k];
        }
      }
      PetscCall(MatRestoreRow(A, row, &ncols, &colidx, &vals));
      if (bad[0] < 0 && !(v[0] != 0.0 && PetscIsNormalReal(PetscAbsScalar(v[0])))) {
        bad[0] = i, bad[1] = j, bad[2] = -1;
      }
      visit(i, j, v);
    }
  PetscCall(ISLocalToGlobalMappingRestoreIndices(ltog, &l2g));

  PetscInt any_bad = bad[0] >= 0 ? 1 : 0, global_bad = 0;
  PetscCallMPI(MPI_Allreduce(&any_bad, &global_bad, 1, MPIU_INT, MPI_MAX, comm));
  if (global_bad) {
    PetscCheck(
        !any_bad || bad[2] >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
        "%s: grid point (%" PetscInt_FMT ", %" PetscInt_FMT
        ") has a zero or non-finite diagonal entry; the operator must have a usable diagonal",
        who, bad[0], bad[1]);
    PetscCheck(!any_bad, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
               "%s needs a 5-point operator: grid point (%" PetscInt_FMT ", %" PetscInt_FMT
               ") couples to matrix column %" PetscInt_FMT ", which is not one of its 4 neighbours",
               who, bad[0], bad[1], bad[2]);
    SETERRQ(comm, PETSC_ERR_ARG_WRONG,
            "%s: the matrix is not a 5-point operator on its DMDA (see the "
            "process that found the offending row)",
            who);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode local_stencil_from_matrix(Mat A, DM da, const char* who, torch::Tensor* coeffs) {
  PetscFunctionBeginUser;
  PetscInt xs, ys, xm, ym;
  PetscCall(DMDAGetCorners(da, &xs, &ys, nullptr, &xm, &ym, nullptr));
  torch::Tensor local = torch::zeros({1, 5, ym, xm}, torch::kFloat64);
  double* c = local.data_ptr<double>();
  const size_t plane = size_t(xm * ym);
  PetscCall(visit_local_stencil(A, da, who, [&](PetscInt i, PetscInt j, const PetscScalar* v) {
    const size_t at = size_t((j - ys) * xm + (i - xs));
    for (size_t s = 0; s < 5; ++s) c[s * plane + at] = PetscRealPart(v[s]);
  }));
  *coeffs = local;
  PetscFunctionReturn(0);
}

PetscErrorCode stencil_from_matrix(Mat A, DM da, GridGather& gather, const char* who,
                                   torch::Tensor* coeffs) {
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)A);
  torch::Tensor local;
  PetscCall(local_stencil_from_matrix(A, da, who, &local));
  PetscInt M, N;
  PetscCall(DMDAGetInfo(da, nullptr, &M, &N, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr, nullptr));
  Vec channel[5];
  for (int k = 0; k < 5; ++k) {
    PetscCall(DMCreateGlobalVector(da, &channel[k]));
    PetscScalar* c;
    PetscCall(VecGetArrayWrite(channel[k], &c));
    std::memcpy(c, local.data_ptr<double>() + size_t(k) * size_t(local.size(2) * local.size(3)),
                sizeof(double) * size_t(local.size(2) * local.size(3)));
    PetscCall(VecRestoreArrayWrite(channel[k], &c));
  }

  PetscCall(gather.setup(da));
  PetscMPIInt rank;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  // Rank 0 holds the whole grid; failing to allocate it must stop every rank alike.
  torch::Tensor out;
  double* whole = nullptr;
  std::optional<detail::Failure> failure;
  if (rank == 0)
    detail::record_failure(failure, -1, [&] {
      out = torch::empty({1, 5, N, M}, torch::kFloat64);
      whole = out.data_ptr<double>();
    });
  if (const auto message = detail::agree(comm, failure)) {
    for (int k = 0; k < 5; ++k) PetscCall(VecDestroy(&channel[k]));
    SETERRQ(comm, PETSC_ERR_MEM,
            "%s: no memory for the %" PetscInt_FMT " x %" PetscInt_FMT " stencil on rank 0: %s",
            who, M, N, message->c_str());
  }
  const size_t points = size_t(M) * size_t(N);
  for (int k = 0; k < 5; ++k) {
    const PetscScalar* grid = nullptr;
    PetscCall(gather.begin_read(channel[k], &grid));
    if (rank == 0) std::memcpy(whole + k * points, grid, sizeof(PetscScalar) * points);
    PetscCall(gather.end_read(channel[k], &grid));
    PetscCall(VecDestroy(&channel[k]));
  }
  *coeffs = out;
  PetscFunctionReturn(0);
}

}  // namespace pins::petsc
