// nonlinear_darcy's PETSc half: the Darcy sampler under this family's name, and F(u) and its
// Jacobian as DMDA local functions for SNES.
#include "pde/nonlinear_darcy/nonlinear_darcy_petsc.hpp"

#include <petscdmda.h>
#include <petscsnes.h>

#include <string>
#include <vector>

#include "pde/darcy/darcy_petsc.hpp"
#include "pde/darcy/darcy_stencil.hpp"
#include "pde/nonlinear_darcy/nonlinear_darcy_family.hpp"
#include "pde/nonlinear_darcy/nonlinear_darcy_flux.hpp"
#include "pins/core/check.hpp"

namespace pins::nonlinear_darcy {

namespace {

// What the SNES callbacks read: the whole-grid inputs of the sample being solved and k(u).
struct Context {
  const double* kappa = nullptr;
  const double* f = nullptr;
  Conductivity k;
};

// The four faces of cell (i, j) in the linear Darcy rows' order (w, e, s, n), as the Kokkos
// kernel visits them: DMDA index i runs along x, j along y.
constexpr PetscInt kFace[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};  // (di, dj)

// The transmissibility of face d of cell (i, j) and whether the neighbour is in the grid,
// exactly as the kernel computes it.
inline double transmissibility(const Context& c, const DMDALocalInfo* info, PetscInt i, PetscInt j,
                               int d, bool* in) {
  const PetscInt ii = i + kFace[d][0], jj = j + kFace[d][1];
  *in = ii >= 0 && ii < info->mx && jj >= 0 && jj < info->my;
  const double km = c.kappa[size_t(j) * size_t(info->mx) + size_t(i)];
  const double face = *in ? darcy::interior_face_coefficient(
                                km, c.kappa[size_t(jj) * size_t(info->mx) + size_t(ii)])
                          : darcy::boundary_face_coefficient(km);
  return face * (d < 2 ? double(info->mx) * info->mx : double(info->my) * info->my);
}

PetscErrorCode form_function(DMDALocalInfo* info, PetscScalar** x, PetscScalar** F, void* ptr) {
  const Context& c = *static_cast<const Context*>(ptr);
  PetscFunctionBeginUser;
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      const double um = x[j][i];
      double acc = 0;
      for (int d = 0; d < 4; ++d) {
        bool in;
        const double t = transmissibility(c, info, i, j, d, &in);
        const double un = in ? double(x[j + kFace[d][1]][i + kFace[d][0]]) : 0.0;
        acc += face_flux(c.k, t, um, un);
      }
      acc -= c.f[size_t(j) * size_t(info->mx) + size_t(i)];
      F[j][i] = acc;
    }
  PetscCall(PetscLogFlops(60.0 * info->xm * info->ym));
  PetscFunctionReturn(0);
}

PetscErrorCode form_jacobian(DMDALocalInfo* info, PetscScalar** x, Mat J, Mat P, void* ptr) {
  const Context& c = *static_cast<const Context*>(ptr);
  PetscFunctionBeginUser;
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      const double um = x[j][i];
      MatStencil row{}, cols[5]{};
      PetscScalar vals[5];
      row.i = i;
      row.j = j;
      double diag = 0;
      PetscInt nc = 1;
      for (int d = 0; d < 4; ++d) {
        bool in;
        const double t = transmissibility(c, info, i, j, d, &in);
        const PetscInt ii = i + kFace[d][0], jj = j + kFace[d][1];
        const double un = in ? double(x[jj][ii]) : 0.0;
        diag += face_flux_dm(c.k, t, um, un);
        if (!in) continue;  // the wall value u = 0 is not an unknown
        cols[nc].i = ii;
        cols[nc].j = jj;
        vals[nc++] = face_flux_dn(c.k, t, um, un);
      }
      cols[0].i = i;
      cols[0].j = j;
      vals[0] = diag;
      PetscCall(MatSetValuesStencil(P, 1, &row, nc, cols, vals, INSERT_VALUES));
    }
  PetscCall(MatAssemblyBegin(P, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(P, MAT_FINAL_ASSEMBLY));
  if (J != P) {
    PetscCall(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
  }
  PetscFunctionReturn(0);
}

class NonlinearDarcyProblem final : public ProblemFamily {
 public:
  NonlinearDarcyProblem() {
    darcy::SamplerOptions defaults;
    defaults.f_value = kDefaultFValue;
    darcy_ = darcy::create_problem_family("nonlinear_darcy", defaults);
  }
  const char* name() const override { return "nonlinear_darcy"; }

  PetscErrorCode SetFromOptions(MPI_Comm comm, const char* prefix) override {
    char kind[32];
    const std::string kind_default = nonlinearity_name(k_);
    PetscReal beta = k_.beta;
    PetscFunctionBeginUser;
    PetscCall(darcy_->SetFromOptions(comm, prefix));
    PetscCall(PetscStrncpy(kind, kind_default.c_str(), sizeof kind));
    PetscOptionsBegin(comm, prefix, "Nonlinear Darcy options (pins generate -pde nonlinear_darcy)",
                      "pins");
    PetscCall(PetscOptionsString("-nonlinearity",
                                 "k(u) in -div(kappa k(u) grad u) = f: quadratic (1 + u^2) or exp "
                                 "(exp(beta u))",
                                 "pins generate", kind_default.c_str(), kind, sizeof kind,
                                 nullptr));
    PetscCall(PetscOptionsReal("-nonlinearity_beta", "beta of -nonlinearity exp", "pins generate",
                               beta, &beta, nullptr));
    PetscOptionsEnd();
    PetscCallCXX(k_ = make_conductivity(kind, beta));
    PetscFunctionReturn(0);
  }

  void set_up(const std::vector<std::int64_t>& grid, std::uint64_t seed) override {
    darcy_->set_up(grid, seed);
  }

  void describe(DatasetInfo* info) const override {
    darcy_->describe(info);
    info->equation = "-div(kappa k(u) grad u) = f, " + nonlinear_darcy::describe(k_);
    info->discretisation =
        "cell-centred finite volumes, 5-point, harmonic face averages of kappa times the "
        "arithmetic face mean (k(u_c) + k(u_n))/2 of k (u_n = 0 at the wall)";
    info->sampler.push_back({"nonlinearity", nonlinearity_name(k_)});
    info->sampler.push_back({"nonlinearity_beta", k_.beta});
  }

  void sample(std::uint64_t index, const std::vector<double*>& inputs,
              std::uint64_t* seeds) const override {
    darcy_->sample(index, inputs, seeds);
  }
  PetscErrorCode CreateDM(MPI_Comm comm, DM* dm) const override {
    return darcy_->CreateDM(comm, dm);
  }
  // The linear Darcy operator A(κ) (k frozen at k(0) = 1) and f: pins::Family::make_operator.
  PetscErrorCode AssembleOperator(DM da, const std::vector<const double*>& inputs,
                                  Mat A) const override {
    return darcy_->AssembleOperator(da, inputs, A);
  }
  PetscErrorCode AssembleRHS(DM da, const std::vector<const double*>& inputs,
                             Vec b) const override {
    return darcy_->AssembleRHS(da, inputs, b);
  }

  bool nonlinear() const override { return true; }

  PetscErrorCode SetSNESFunctions(DM dm, const std::vector<const double*>& inputs) const override {
    PetscFunctionBeginUser;
    PetscCheck(inputs.size() == 2 && inputs[0] && inputs[1], PetscObjectComm((PetscObject)dm),
               PETSC_ERR_ARG_WRONG, "nonlinear_darcy: SetSNESFunctions needs kappa and f");
    context_ = Context{inputs[0], inputs[1], k_};
    PetscCall(
        DMDASNESSetFunctionLocal(dm, INSERT_VALUES, (DMDASNESFunction)form_function, &context_));
    PetscCall(DMDASNESSetJacobianLocal(dm, (DMDASNESJacobian)form_jacobian, &context_));
    PetscFunctionReturn(0);
  }

 private:
  std::unique_ptr<ProblemFamily> darcy_;
  Conductivity k_;
  // The sample being solved (see ProblemFamily::SetSNESFunctions): one at a time.
  mutable Context context_;
};

}  // namespace

std::unique_ptr<ProblemFamily> create_problem_family() {
  return std::make_unique<NonlinearDarcyProblem>();
}

}  // namespace pins::nonlinear_darcy
