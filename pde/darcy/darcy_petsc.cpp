#include "pde/darcy/darcy_petsc.hpp"

#include <cmath>
#include <string>
#include <vector>

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

PetscErrorCode create_dmda(MPI_Comm comm, PetscInt nx, PetscInt ny, PetscInt nz, DM* da) {
  PetscFunctionBeginUser;
  PetscCall(DMDACreate3d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                         DMDA_STENCIL_STAR, nx, ny, nz, PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE,
                         /*dof=*/1, /*stencil width=*/1, nullptr, nullptr, nullptr, da));
  PetscCall(DMSetUp(*da));
  PetscFunctionReturn(0);
}

PetscErrorCode assemble_operator(DM da, const double* kappa, Mat A) {
  PetscInt dim, mx, my, mz, xs, ys, zs, xm, ym, zm;
  PetscFunctionBeginUser;
  PetscCall(DMDAGetInfo(da, &dim, &mx, &my, &mz, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr, nullptr));
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscCheck(dim == 2 || dim == 3, PetscObjectComm((PetscObject)da), PETSC_ERR_ARG_WRONG,
             "darcy: the DMDA must be 2-D or 3-D, got %d-D", (int)dim);
  if (dim == 2) mz = 1;  // DMDAGetInfo/GetCorners give mz = zm = 1, zs = 0 in 2-D
  // The same expressions, in the same order, as darcy_coefficients.cpp: the two operators
  // must agree to the last bit (DMDA index i runs along x, j along y, k along z).
  const double inv_hx2 = double(mx) * mx;
  const double inv_hy2 = double(my) * my;
  const double inv_hz2 = double(mz) * mz;
  auto at = [&](PetscInt k, PetscInt j, PetscInt i) {
    return kappa[(size_t(k) * size_t(my) + size_t(j)) * size_t(mx) + size_t(i)];
  };
  auto face = [&](PetscInt k, PetscInt j, PetscInt i, PetscInt kk, PetscInt jj, PetscInt ii) {
    const double c = at(k, j, i);
    if (ii < 0 || ii >= mx || jj < 0 || jj >= my || kk < 0 || kk >= mz)
      return boundary_face_coefficient(c);
    return interior_face_coefficient(c, at(kk, jj, ii));
  };
  for (PetscInt k = zs; k < zs + zm; ++k)
    for (PetscInt j = ys; j < ys + ym; ++j) {
      for (PetscInt i = xs; i < xs + xm; ++i) {
        PetscCheck(at(k, j, i) > 0 && std::isfinite(at(k, j, i)), PETSC_COMM_SELF,
                   PETSC_ERR_ARG_OUTOFRANGE,
                   "darcy: kappa must be finite and positive, got %g at (z=%d, y=%d, x=%d)",
                   (double)at(k, j, i), (int)k, (int)j, (int)i);
        const double w = face(k, j, i, k, j, i - 1) * inv_hx2;
        const double e = face(k, j, i, k, j, i + 1) * inv_hx2;
        const double s = face(k, j, i, k, j - 1, i) * inv_hy2;
        const double n = face(k, j, i, k, j + 1, i) * inv_hy2;
        MatStencil row{}, cols[7]{};
        PetscScalar vals[7];
        PetscInt nc = 0;
        row.i = i;
        row.j = j;
        row.k = k;
        auto add = [&](PetscInt kk, PetscInt jj, PetscInt ii, double v) {
          cols[nc].i = ii;
          cols[nc].j = jj;
          cols[nc].k = kk;
          vals[nc++] = v;
        };
        if (dim == 2) {
          add(k, j, i, w + e + s + n);
        } else {
          const double d = face(k, j, i, k - 1, j, i) * inv_hz2;
          const double u = face(k, j, i, k + 1, j, i) * inv_hz2;
          add(k, j, i, w + e + s + n + d + u);
          if (k > 0) add(k - 1, j, i, -d);
          if (k < mz - 1) add(k + 1, j, i, -u);
        }
        // Boundary faces only add to the centre: the wall value u = 0 is eliminated.
        if (i > 0) add(k, j, i - 1, -w);
        if (i < mx - 1) add(k, j, i + 1, -e);
        if (j > 0) add(k, j - 1, i, -s);
        if (j < my - 1) add(k, j + 1, i, -n);
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
  PetscInt dim, mx, my, xs, ys, zs, xm, ym, zm;
  PetscFunctionBeginUser;
  PetscCall(DMDAGetInfo(da, &dim, &mx, &my, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr, nullptr));
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  // The process's own cells in the global vector's (local, x-fastest) order.
  PetscScalar* bb;
  PetscCall(VecGetArray(b, &bb));
  size_t q = 0;
  for (PetscInt k = zs; k < zs + zm; ++k)
    for (PetscInt j = ys; j < ys + ym; ++j)
      for (PetscInt i = xs; i < xs + xm; ++i)
        bb[q++] = f[(size_t(k) * size_t(my) + size_t(j)) * size_t(mx) + size_t(i)];
  PetscCall(VecRestoreArray(b, &bb));
  PetscFunctionReturn(0);
}

PetscErrorCode read_sampler_options(MPI_Comm comm, const char* prefix, const char* family, int dim,
                                    SamplerOptions* options) {
  SamplerOptions& opt = *options;
  char kappa_type[32], f_type[32];
  PetscReal high = opt.kappa_high, low = opt.kappa_low, contrast = 1, sigma = opt.sigma;
  PetscReal alpha = opt.alpha, tau = opt.tau, f_value = opt.f_value;
  PetscInt modes = opt.modes;
  PetscBool set_high = PETSC_FALSE, set_low = PETSC_FALSE, set_contrast = PETSC_FALSE;
  const std::string kappa_default = to_string(opt.kappa_kind);
  const std::string f_default = to_string(opt.forcing);
  PetscFunctionBeginUser;
  // PETSc leaves a string untouched when its option is absent: start from the defaults.
  PetscCall(PetscStrncpy(kappa_type, kappa_default.c_str(), sizeof kappa_type));
  PetscCall(PetscStrncpy(f_type, f_default.c_str(), sizeof f_type));
  const std::string title = std::string("Darcy sampler options (pins generate -pde ") + family + ")";
  PetscOptionsBegin(comm, prefix, title.c_str(), "pins");
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
  PetscCall(PetscOptionsReal("-grf_alpha", "Random field covariance exponent alpha (> dim/2)",
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
    SamplerOptions o = opt;
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
    o.validate(dim);
    opt = o;
  });
  PetscFunctionReturn(0);
}

std::vector<Attribute> sampler_attributes(const SamplerOptions& o) {
  return {
      {"kappa_type", to_string(o.kappa_kind)},
      {"alpha", o.alpha},
      {"tau", o.tau},
      {"kappa_high", o.kappa_high},
      {"kappa_low", o.kappa_low},
      {"sigma", o.sigma},
      {"f_type", to_string(o.forcing)},
      {"f_value", o.f_value},
      {"modes", std::int64_t{o.modes}},
  };
}

namespace {

// `darcy` (dim 2) and `darcy3d` (dim 3): the same sampler options, assembly and
// description, carried to the family's dimension.
class DarcyFamily final : public ProblemFamily {
 public:
  explicit DarcyFamily(int dim) : dim_(dim), name_(dim == 3 ? "darcy3d" : "darcy") {}
  DarcyFamily(int dim, std::string name, const SamplerOptions& defaults)
      : dim_(dim), name_(std::move(name)), opt_(defaults) {}
  const char* name() const override { return name_.c_str(); }

  PetscErrorCode SetFromOptions(MPI_Comm comm, const char* prefix) override {
    return read_sampler_options(comm, prefix, name(), dim_, &opt_);
  }

  void set_up(const std::vector<std::int64_t>& grid, std::uint64_t seed) override {
    PINS_CHECK(int(grid.size()) == dim_, name(), ": the grid must be ", dim_, "-D (",
               dim_ == 3 ? "nz, ny, nx" : "ny, nx", "), got ", grid.size(), " directions");
    opt_.seed = seed;
    sampler_ = std::make_unique<Sampler>(opt_, std::vector<int>(grid.begin(), grid.end()));
  }

  void describe(DatasetInfo* info) const override {
    PINS_CHECK(sampler_, name(), ": describe() before set_up()");
    info->pde = name();
    info->equation = "-div(kappa grad u) = f";
    info->discretisation = std::string("cell-centred finite volumes, ") +
                           (dim_ == 3 ? "7" : "5") + "-point, harmonic face averages";
    info->domain = dim_ == 3 ? "(0,1)x(0,1)x(0,1)" : "(0,1)x(0,1)";
    info->boundary_condition = "u = 0 on the whole boundary (Dirichlet)";
    info->seed = std::int64_t(opt_.seed);
    info->seed_streams = 2;  // κ, f
    info->sampler = sampler_attributes(opt_);
  }

  void sample(std::uint64_t index, const std::vector<double*>& inputs,
              std::uint64_t* seeds) const override {
    PINS_CHECK(sampler_, name(), ": sample() before set_up()");
    PINS_CHECK(inputs.size() == 2, name(), ": sample() needs the arrays kappa and f");
    sampler_->sample(index, inputs[0], inputs[1]);
    // The streams Sampler draws κ (0) and f (1) from; stored so a sample can be redrawn.
    seeds[0] = sample_seed(opt_.seed, index, 0);
    seeds[1] = sample_seed(opt_.seed, index, 1);
  }

  PetscErrorCode CreateDM(MPI_Comm comm, DM* dm) const override {
    PetscFunctionBeginUser;
    PetscCheck(sampler_, comm, PETSC_ERR_ORDER, "%s: CreateDM() before set_up()", name());
    if (dim_ == 3)
      PetscCall(create_dmda(comm, sampler_->nx(), sampler_->ny(), sampler_->nz(), dm));
    else
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
  int dim_;
  std::string name_;
  SamplerOptions opt_;
  std::unique_ptr<Sampler> sampler_;
};

}  // namespace

std::unique_ptr<ProblemFamily> create_problem_family() {
  return std::make_unique<DarcyFamily>(2);
}

std::unique_ptr<ProblemFamily> create_problem_family_3d() {
  return std::make_unique<DarcyFamily>(3);
}

std::unique_ptr<ProblemFamily> create_problem_family(const char* name,
                                                     const SamplerOptions& defaults) {
  return std::make_unique<DarcyFamily>(2, name, defaults);
}

}  // namespace pins::darcy
