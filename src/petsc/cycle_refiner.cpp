// k multigrid V-cycles on an answer inside PETSc (cycle_refiner.hpp).
#include "cycle_refiner.hpp"

#include <torch/torch.h>

#include <cstring>
#include <optional>
#include <string>

#include "collective.hpp"
#include "pins/core/check.hpp"
#include "pins/core/multigrid_cycle.hpp"
#include "pins/core/stencil_operator.hpp"
#include "stencil_from_matrix.hpp"

namespace pins::petsc {

CycleRefiner::CycleRefiner() = default;
CycleRefiner::~CycleRefiner() = default;

PetscErrorCode CycleRefiner::set_operator(Mat A, DM da, const char* who) {
  PetscFunctionBeginUser;
  MPI_Comm comm = PetscObjectComm((PetscObject)A);
  PetscCall(DMDAGetInfo(da, nullptr, &nx_, &ny_, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr, nullptr, nullptr));
  torch::Tensor coeffs;  // [1, 5, ny, nx] (C, W, E, S, N) on rank 0
  PetscCall(stencil_from_matrix(A, da, gather_, who, &coeffs));
  cycle_.reset();
  std::optional<detail::Failure> failure;
  if (coeffs.defined()) {
    detail::record_failure(failure, -1, [&] {
      // stencil_from_matrix's channel order is the 2-D star's of StencilOperator.
      const StencilOperator op(Stencil{2, StencilShape::kStar, 1, 1}, coeffs.contiguous());
      const std::string why = MultigridCycle::unsupported(op);
      PINS_CHECK(why.empty(), why);
      cycle_ = std::make_unique<MultigridCycle>(op);
    });
  }
  if (const auto message = detail::agree(comm, failure))
    SETERRQ(comm, PETSC_ERR_ARG_WRONG, "%s: no multigrid cycle for this matrix: %s", who,
            message->c_str());
  PetscFunctionReturn(0);
}

PetscErrorCode CycleRefiner::refine(Vec r, Vec z, PetscInt cycles) {
  PetscFunctionBeginUser;
  if (cycles <= 0) PetscFunctionReturn(0);
  MPI_Comm comm = PetscObjectComm((PetscObject)r);
  // One whole-grid buffer at a time (GridGather has one): copy r and z out on rank 0, then
  // write the refined z back.
  torch::Tensor rt, zt;
  const PetscScalar* grid = nullptr;
  PetscCall(gather_.begin_read(r, &grid));
  if (grid)
    rt = torch::from_blob(const_cast<PetscScalar*>(grid), {1, ny_, nx_}, torch::kFloat64).clone();
  PetscCall(gather_.end_read(r, &grid));
  PetscCall(gather_.begin_read(z, &grid));
  if (grid)
    zt = torch::from_blob(const_cast<PetscScalar*>(grid), {1, ny_, nx_}, torch::kFloat64).clone();
  PetscCall(gather_.end_read(z, &grid));
  std::optional<detail::Failure> failure;
  if (rt.defined())
    detail::record_failure(failure, -1,
                           [&] { zt = cycle_->refine(zt, rt, int(cycles)).contiguous(); });
  if (const auto message = detail::agree(comm, failure))
    SETERRQ(comm, PETSC_ERR_LIB, "pins: multigrid refinement failed: %s", message->c_str());
  PetscScalar* out = nullptr;
  PetscCall(gather_.begin_write(z, &out));
  if (out) std::memcpy(out, zt.data_ptr<double>(), sizeof(double) * size_t(nx_ * ny_));
  PetscCall(gather_.end_write(z, &out));
  PetscFunctionReturn(0);
}

}  // namespace pins::petsc
