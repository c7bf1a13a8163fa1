#include "pde/darcy/darcy_petsc.hpp"

#include <cmath>
#include <string>

#include "pde/darcy/darcy_sampler.hpp"
#include "pde/darcy/darcy_stencil.hpp"
#include "pins/core/check.hpp"
#include "pins/core/random.hpp"

namespace pins::darcy {

PetscErrorCode create_dmda(MPI_Comm comm, PetscInt nx, PetscInt ny, DM* da) {
  PetscFunctionBeginUser;
  PetscCall(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, nx, ny,
                         PETSC_DECIDE, PETSC_DECIDE, /*dof=*/1, /*stencil width=*/1, nullptr,
                         nullptr, da));
  // No DMSetFromOptions: the grid is pins' -grid, not -da_grid_x/-da_grid_y.
  PetscCall(DMSetUp(*da));
  PetscFunctionReturn(0);
}

PetscErrorCode assemble_operator(DM da, const double* kappa, Mat A) {
  PetscInt mx, my, xs, ys, xm, ym;
  PetscFunctionBeginUser;
  PetscCall(DMDAGetInfo(da, nullptr, &mx, &my, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr, nullptr));
  PetscCall(DMDAGetCorners(da, &xs, &ys, nullptr, &xm, &ym, nullptr));
  // The same expressions, in the same order, as darcy_coefficients.cpp: the two operators
  // must agree to the last bit (DMDA index i runs along x, j along y).
  const double inv_hx2 = double(mx) * mx;
  const double inv_hy2 = double(my) * my;
  auto at = [&](PetscInt j, PetscInt i) { return kappa[size_t(j) * size_t(mx) + size_t(i)]; };
  auto face = [&](PetscInt j, PetscInt i, PetscInt jj, PetscInt ii) {
    const double k = at(j, i);
    if (ii < 0 || ii >= mx || jj < 0 || jj >= my) return boundary_face_coefficient(k);
    return interior_face_coefficient(k, at(jj, ii));
  };
  for (PetscInt j = ys; j < ys + ym; ++j) {
    for (PetscInt i = xs; i < xs + xm; ++i) {
      PetscCheck(at(j, i) > 0 && std::isfinite(at(j, i)), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
                 "darcy: kappa must be finite and positive, got %g at (y=%d, x=%d)",
                 (double)at(j, i), (int)j, (int)i);
      const double w = face(j, i, j, i - 1) * inv_hx2;
      const double e = face(j, i, j, i + 1) * inv_hx2;
      const double s = face(j, i, j - 1, i) * inv_hy2;
      const double n = face(j, i, j + 1, i) * inv_hy2;
      MatStencil row{}, cols[5]{};
      PetscScalar vals[5];
      PetscInt nc = 0;
      row.i = i;
      row.j = j;
      auto add = [&](PetscInt jj, PetscInt ii, double v) {
        cols[nc].i = ii;
        cols[nc].j = jj;
        vals[nc++] = v;
      };
      add(j, i, w + e + s + n);
      // Boundary faces only add to the centre: the wall value u = 0 is eliminated.
      if (i > 0) add(j, i - 1, -w);
      if (i < mx - 1) add(j, i + 1, -e);
      if (j > 0) add(j - 1, i, -s);
      if (j < my - 1) add(j + 1, i, -n);
      PetscCall(MatSetValuesStencil(A, 1, &row, nc, cols, vals, INSERT_VALUES));
    }
  }
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatSetOption(A, MAT_SYMMETRIC, PETSC_TRUE));
  PetscCall(MatSetOption(A, MAT_SPD, PETSC_TRUE));
  PetscFunctionReturn(0);
}

PetscErrorCode assemble_rhs(DM da, const double* f, Vec b) {
  PetscInt mx, xs, ys, xm, ym;
  PetscScalar** bb;
  PetscFunctionBeginUser;
  PetscCall(DMDAGetInfo(da, nullptr, &mx, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr, nullptr, nullptr));
  PetscCall(DMDAGetCorners(da, &xs, &ys, nullptr, &xm, &ym, nullptr));
  PetscCall(DMDAVecGetArray(da, b, &bb));
  for (PetscInt j = ys; j < ys + ym; ++j)
    for (PetscInt i = xs; i < xs + xm; ++i) bb[j][i] = f[size_t(j) * size_t(mx) + size_t(i)];
  PetscCall(DMDAVecRestoreArray(da, b, &bb));
  PetscFunctionReturn(0);
}

namespace {

class DarcyFamily final : public ProblemFamily {
 public:
  const char* name() const override { return "darcy"; }

  PetscErrorCode SetFromOptions(MPI_Comm comm, const char* prefix) override {
    char kappa_type[32], f_type[32];
    PetscReal high = opt_.kappa_high, low = opt_.kappa_low, contrast = 1, sigma = opt_.sigma;
    PetscReal alpha = opt_.alpha, tau = opt_.tau, f_value = opt_.f_value;
    PetscInt modes = opt_.modes;
    PetscBool set_high = PETSC_FALSE, set_low = PETSC_FALSE, set_contrast = PETSC_FALSE;
    const std::string kappa_default = to_string(opt_.kappa_kind);
    const std::string f_default = to_string(opt_.forcing);
    PetscFunctionBeginUser;
    // PETSc leaves a string untouched when its option is absent: start from the defaults.
    PetscCall(PetscStrncpy(kappa_type, kappa_default.c_str(), sizeof kappa_type));
    PetscCall(PetscStrncpy(f_type, f_default.c_str(), sizeof f_type));
    PetscOptionsBegin(comm, prefix, "Darcy sampler options (pins generate -pde darcy)", "pins");
    PetscCall(PetscOptionsString("-kappa_type", "Conductivity: threshold or lognormal",
                                 "pins generate", kappa_default.c_str(), kappa_type,
                                 sizeof kappa_type, nullptr));
    PetscCall(PetscOptionsReal("-kappa_high",
                               "threshold: kappa where the random field is >= 0 (> 0)",
                               "pins generate", high, &high, &set_high));
    PetscCall(PetscOptionsReal("-kappa_low", "threshold: kappa where the random field is < 0 (> 0)",
                               "pins generate", low, &low, &set_low));
    PetscCall(PetscOptionsReal("-kappa_contrast",
                               "threshold: shorthand for -kappa_low 1 -kappa_high C (C >= 1)",
                               "pins generate", contrast, &contrast, &set_contrast));
    PetscCall(PetscOptionsReal("-kappa_sigma", "lognormal: kappa = exp(sigma g), 0 <= sigma < 50",
                               "pins generate", sigma, &sigma, nullptr));
    PetscCall(PetscOptionsReal("-grf_alpha", "Random field covariance exponent alpha (> 1)",
                               "pins generate", alpha, &alpha, nullptr));
    PetscCall(PetscOptionsReal("-grf_tau", "Random field inverse length scale tau (> 0)",
                               "pins generate", tau, &tau, nullptr));
    PetscCall(PetscOptionsInt("-grf_modes", "Cosine modes per direction (0: the grid size)",
                              "pins generate", modes, &modes, nullptr));
    PetscCall(PetscOptionsString("-f_type", "Right-hand side: constant or grf", "pins generate",
                                 f_default.c_str(), f_type, sizeof f_type, nullptr));
    PetscCall(PetscOptionsReal("-f_value", "Constant f, or the RMS of a grf right-hand side",
                               "pins generate", f_value, &f_value, nullptr));
    PetscOptionsEnd();

    PetscCallCXX({
      PINS_CHECK(!set_contrast || (!set_high && !set_low),
                 "-kappa_contrast sets kappa_low = 1 and kappa_high = C; do not combine it with "
                 "-kappa_high or -kappa_low");
      PINS_CHECK(!set_contrast || (std::isfinite(contrast) && contrast >= 1),
                 "-kappa_contrast must be >= 1 (the ratio kappa_high/kappa_low), got ", contrast);
      SamplerOptions o = opt_;
      o.kappa_kind = parse_kappa_kind(kappa_type);
      o.forcing = parse_forcing_kind(f_type);
      PINS_CHECK(!set_contrast || o.kappa_kind == KappaKind::kThreshold,
                 "-kappa_contrast applies to -kappa_type threshold, not ", kappa_type);
      o.kappa_high = set_contrast ? contrast : high;
      o.kappa_low = set_contrast ? 1.0 : low;
      o.sigma = sigma;
      o.alpha = alpha;
      o.tau = tau;
      o.f_value = f_value;
      o.modes = int(modes);
      o.validate();
      opt_ = o;
    });
    PetscFunctionReturn(0);
  }

  void set_up(const std::vector<std::int64_t>& grid, std::uint64_t seed) override {
    PINS_CHECK(grid.size() == 2, "darcy: the grid must be 2-D (ny, nx), got ", grid.size(),
               " directions");
    opt_.seed = seed;
    sampler_ = std::make_unique<Sampler>(opt_, int(grid[0]), int(grid[1]));
  }

  void describe(DatasetInfo* info) const override {
    PINS_CHECK(sampler_, "darcy: describe() before set_up()");
    info->pde = name();
    info->equation = "-div(kappa grad u) = f";
    info->discretisation = "cell-centred finite volumes, 5-point, harmonic face averages";
    info->domain = "(0,1)x(0,1)";
    info->boundary_condition = "u = 0 on the whole boundary (Dirichlet)";
    info->seed = std::int64_t(opt_.seed);
    info->seed_streams = 2;  // κ, f
    info->sampler = {
        {"kappa_type", to_string(opt_.kappa_kind)},
        {"alpha", opt_.alpha},
        {"tau", opt_.tau},
        {"kappa_high", opt_.kappa_high},
        {"kappa_low", opt_.kappa_low},
        {"sigma", opt_.sigma},
        {"f_type", to_string(opt_.forcing)},
        {"f_value", opt_.f_value},
        {"modes", std::int64_t{opt_.modes}},
    };
  }

  void sample(std::uint64_t index, const std::vector<double*>& inputs,
              std::uint64_t* seeds) const override {
    PINS_CHECK(sampler_, "darcy: sample() before set_up()");
    PINS_CHECK(inputs.size() == 2, "darcy: sample() needs the arrays kappa and f");
    sampler_->sample(index, inputs[0], inputs[1]);
    // The streams Sampler draws κ (0) and f (1) from; stored so a sample can be redrawn.
    seeds[0] = sample_seed(opt_.seed, index, 0);
    seeds[1] = sample_seed(opt_.seed, index, 1);
  }

  PetscErrorCode CreateDM(MPI_Comm comm, DM* dm) const override {
    PetscFunctionBeginUser;
    PetscCheck(sampler_, comm, PETSC_ERR_ORDER, "darcy: CreateDM() before set_up()");
    PetscCall(create_dmda(comm, sampler_->nx(), sampler_->ny(), dm));
    PetscFunctionReturn(0);
  }
  // Inputs in pins::Family order: kappa, f.
  PetscErrorCode AssembleOperator(DM da, const std::vector<const double*>& inputs,
                                  Mat A) const override {
    return assemble_operator(da, inputs.at(0), A);
  }
  PetscErrorCode AssembleRHS(DM da, const std::vector<const double*>& inputs,
                             Vec b) const override {
    return assemble_rhs(da, inputs.at(1), b);
  }

 private:
  SamplerOptions opt_;
  std::unique_ptr<Sampler> sampler_;
};

}  // namespace

std::unique_ptr<ProblemFamily> create_problem_family() {
  return std::make_unique<DarcyFamily>();
}

}  // namespace pins::darcy
