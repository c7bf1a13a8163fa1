// gray_scott's PETSc half: the feed field and the initial state, the options, and the
// implicit function F(t, w, w_t) = w_t − R(w) and its Jacobian as DMDA local callbacks for TS.
#include "pde/gray_scott/gray_scott_petsc.hpp"

#include <petscdmda.h>
#include <petscts.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "pde/darcy/darcy_petsc.hpp"
#include "pde/darcy/darcy_stencil.hpp"
#include "pde/gray_scott/gray_scott_family.hpp"
#include "pins/core/check.hpp"
#include "pins/core/random.hpp"

namespace pins::gray_scott {

namespace {

constexpr std::uint64_t kFeedStream = 0, kStateStream = 1;
// Bumps of v in the initial state: how many, and their Gaussian widths (on the unit square).
constexpr int kBumps = 3;
constexpr double kBumpWidthMin = 0.05, kBumpWidthMax = 0.1;

// The DMDA's point value: u and v interlaced.
struct Field {
  PetscScalar u, v;
};

// What the TS callbacks read: the whole-grid feed of the trajectory being stepped.
struct Context {
  const double* feed = nullptr;
  Parameters p;
};

constexpr PetscInt kFace[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};  // (di, dj)

// The no-flux Laplacian's face weight (κ = 1, as the core's Darcy kernel builds it), 0 through
// a boundary face; *in says whether the neighbour is in the grid.
inline double weight(const DMDALocalInfo* info, PetscInt i, PetscInt j, int d, bool* in) {
  const PetscInt ii = i + kFace[d][0], jj = j + kFace[d][1];
  *in = ii >= 0 && ii < info->mx && jj >= 0 && jj < info->my;
  if (!*in) return 0.0;
  return darcy::interior_face_coefficient(1.0, 1.0) *
         (d < 2 ? double(info->mx) * info->mx : double(info->my) * info->my);
}

// F = w_t − R(w) on the process's own cells.
PetscErrorCode form_ifunction(DMDALocalInfo* info, PetscReal, Field** x, Field** xdot, Field** f,
                              void* ptr) {
  const Context& c = *static_cast<const Context*>(ptr);
  PetscFunctionBeginUser;
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      const double u = x[j][i].u, v = x[j][i].v;
      const double F = c.feed[size_t(j) * size_t(info->mx) + size_t(i)];
      double lu = 0, lv = 0;  // A_N u, A_N v
      for (int d = 0; d < 4; ++d) {
        bool in;
        const double w = weight(info, i, j, d, &in);
        if (!in) continue;
        const Field& n = x[j + kFace[d][1]][i + kFace[d][0]];
        lu += w * (u - double(n.u));
        lv += w * (v - double(n.v));
      }
      const double uvv = u * v * v;
      f[j][i].u = double(xdot[j][i].u) + c.p.du * lu + uvv - F * (1.0 - u);
      f[j][i].v = double(xdot[j][i].v) + c.p.dv * lv - uvv + (F + c.p.kill) * v;
    }
  PetscCall(PetscLogFlops(50.0 * info->xm * info->ym));
  PetscFunctionReturn(0);
}

// shift I + dF/dw: the diffusion blocks plus the pointwise reaction Jacobian (not symmetric).
PetscErrorCode form_ijacobian(DMDALocalInfo* info, PetscReal, Field** x, Field**, PetscReal shift,
                              Mat J, Mat P, void* ptr) {
  const Context& c = *static_cast<const Context*>(ptr);
  PetscFunctionBeginUser;
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      const double u = x[j][i].u, v = x[j][i].v;
      const double F = c.feed[size_t(j) * size_t(info->mx) + size_t(i)];
      for (int r = 0; r < 2; ++r) {
        const double D = r == 0 ? c.p.du : c.p.dv;
        MatStencil row{}, cols[6]{};
        PetscScalar vals[6];
        row.i = i;
        row.j = j;
        row.c = r;
        // Centre of the own field, then the other field at the same cell, then neighbours.
        double diag = shift + (r == 0 ? v * v + F : -2.0 * u * v + F + c.p.kill);
        const double other = r == 0 ? 2.0 * u * v : -v * v;
        PetscInt nc = 2;
        for (int d = 0; d < 4; ++d) {
          bool in;
          const double w = D * weight(info, i, j, d, &in);
          if (!in) continue;  // no flux: a boundary face adds nothing
          diag += w;
          cols[nc].i = i + kFace[d][0];
          cols[nc].j = j + kFace[d][1];
          cols[nc].c = r;
          vals[nc++] = -w;
        }
        cols[0].i = cols[1].i = i;
        cols[0].j = cols[1].j = j;
        cols[0].c = r;
        cols[1].c = 1 - r;
        vals[0] = diag;
        vals[1] = other;
        PetscCall(MatSetValuesStencil(P, 1, &row, nc, cols, vals, INSERT_VALUES));
      }
    }
  PetscCall(MatAssemblyBegin(P, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(P, MAT_FINAL_ASSEMBLY));
  if (J != P) {
    PetscCall(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
  }
  PetscFunctionReturn(0);
}

class GrayScottProblem final : public ProblemFamily {
 public:
  const char* name() const override { return "gray_scott"; }

  PetscErrorCode SetFromOptions(MPI_Comm comm, const char* prefix) override {
    Parameters p = p_;
    PetscReal feed_min = feed_min_, feed_max = feed_max_;
    PetscInt steps = steps_;
    PetscBool f_type = PETSC_FALSE, f_value = PETSC_FALSE;
    PetscFunctionBeginUser;
    // The feed rate is the only input field: Darcy's f options would be ignored.
    PetscCall(PetscOptionsHasName(nullptr, prefix, "-f_type", &f_type));
    PetscCall(PetscOptionsHasName(nullptr, prefix, "-f_value", &f_value));
    PetscCheck(!f_type && !f_value, comm, PETSC_ERR_ARG_WRONG,
               "-pde gray_scott has no right-hand side f: -f_type and -f_value do not apply");
    PetscCall(darcy::read_sampler_options(comm, prefix, name(), 2, &opt_));
    PetscOptionsBegin(comm, prefix, "Gray-Scott options (pins generate -pde gray_scott)", "pins");
    PetscCall(PetscOptionsReal("-gs_du", "Diffusivity D_u of u (> 0)", "pins generate", p.du, &p.du,
                               nullptr));
    PetscCall(PetscOptionsReal("-gs_dv", "Diffusivity D_v of v (> 0)", "pins generate", p.dv, &p.dv,
                               nullptr));
    PetscCall(PetscOptionsReal("-gs_kill", "Kill rate k (> 0)", "pins generate", p.kill, &p.kill,
                               nullptr));
    PetscCall(PetscOptionsReal("-gs_feed_min", "Smallest feed rate F(x) (> 0)", "pins generate",
                               feed_min, &feed_min, nullptr));
    PetscCall(PetscOptionsReal("-gs_feed_max", "Largest feed rate F(x) (>= -gs_feed_min)",
                               "pins generate", feed_max, &feed_max, nullptr));
    PetscCall(PetscOptionsReal("-dt", "Backward Euler time step (> 0)", "pins generate", p.dt,
                               &p.dt, nullptr));
    PetscCall(PetscOptionsInt("-steps",
                              "Time steps per trajectory (>= 1); u holds steps + 1 states",
                              "pins generate", steps, &steps, nullptr));
    PetscOptionsEnd();
    PetscCallCXX({
      gray_scott::family(p);  // throws naming -gs_du, -gs_dv, -gs_kill or -dt
      PINS_CHECK(steps >= 1, "-steps must be at least 1 (time steps per trajectory), got ",
                 std::int64_t{steps});
      PINS_CHECK(std::isfinite(feed_min) && feed_min > 0,
                 "-gs_feed_min must be a positive number (the smallest feed rate), got ", feed_min);
      PINS_CHECK(std::isfinite(feed_max) && feed_max >= feed_min,
                 "-gs_feed_max must be a number >= -gs_feed_min, got ", feed_max);
    });
    p_ = p;
    feed_min_ = feed_min;
    feed_max_ = feed_max;
    steps_ = int(steps);
    PetscFunctionReturn(0);
  }

  void set_up(const std::vector<std::int64_t>& grid, std::uint64_t seed) override {
    PINS_CHECK(grid.size() == 2, name(), ": the grid must be 2-D (ny, nx), got ", grid.size(),
               " directions");
    opt_.seed = seed;
    sampler_ = std::make_unique<darcy::Sampler>(opt_, std::vector<int>(grid.begin(), grid.end()));
  }

  void describe(DatasetInfo* info) const override {
    PINS_CHECK(sampler_, name(), ": describe() before set_up()");
    info->pde = name();
    info->equation = "u_t = Du lap u - u v^2 + F (1 - u), v_t = Dv lap v + u v^2 - (F + k) v";
    info->discretisation =
        "cell-centred finite volumes, 5-point, two fields (dof 2); backward Euler (TSBEULER), "
        "fixed step";
    info->domain = "(0,1)x(0,1)";
    info->boundary_condition = "no flux through the whole boundary (du/dn = dv/dn = 0)";
    info->seed = std::int64_t(opt_.seed);
    info->seed_streams = 2;  // feed, w(0)
    // Only the random field's shape applies: the κ and f attributes describe Darcy's fields.
    for (auto& a : darcy::sampler_attributes(opt_))
      if (a.name == "alpha" || a.name == "tau" || a.name == "modes") info->sampler.push_back(a);
    info->sampler.push_back({"du", p_.du});
    info->sampler.push_back({"dv", p_.dv});
    info->sampler.push_back({"kill", p_.kill});
    info->sampler.push_back({"feed_min", feed_min_});
    info->sampler.push_back({"feed_max", feed_max_});
    info->sampler.push_back({"dt", p_.dt});
    info->sampler.push_back({"steps", std::int64_t{steps_}});
    info->sampler.push_back({"scheme", std::string("beuler")});
  }

  void sample(std::uint64_t index, const std::vector<double*>& inputs,
              std::uint64_t* seeds) const override {
    PINS_CHECK(sampler_, name(), ": sample() before set_up()");
    PINS_CHECK(inputs.size() == 2 && inputs[0] && inputs[1], name(),
               ": sample() needs the arrays feed and w(0)");
    const size_t n = sampler_->points();
    const int nx = sampler_->nx(), ny = int(n / size_t(nx));
    // F(x): the random field mapped linearly onto [feed_min, feed_max] (its extremes reach
    // both ends; a constant field gives the midpoint).
    const std::vector<double> g = sampler_->gaussian_field(index, kFeedStream);
    const auto [lo, hi] = std::minmax_element(g.begin(), g.end());
    const double span = *hi - *lo;
    for (size_t p = 0; p < n; ++p)
      inputs[0][p] = span > 0 ? feed_min_ + (feed_max_ - feed_min_) * ((g[p] - *lo) / span)
                              : 0.5 * (feed_min_ + feed_max_);
    // w(0): v = (1 − Π (1 − b_i)) / 2 for Gaussian bumps b_i (smooth, at most 1/2 where bumps
    // overlap), u = 1 − v: the classic seeded start, v feeding on u where they meet.
    Rng rng(sample_seed(opt_.seed, index, kStateStream));
    double cx[kBumps], cy[kBumps], width[kBumps];
    for (int b = 0; b < kBumps; ++b) {
      cx[b] = 0.15 + 0.7 * rng.uniform();
      cy[b] = 0.15 + 0.7 * rng.uniform();
      width[b] = kBumpWidthMin + (kBumpWidthMax - kBumpWidthMin) * rng.uniform();
    }
    double* u = inputs[1];
    double* v = inputs[1] + n;
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        const double x = (i + 0.5) / nx, y = (j + 0.5) / ny;
        double none = 1;
        for (int b = 0; b < kBumps; ++b) {
          const double r2 = (x - cx[b]) * (x - cx[b]) + (y - cy[b]) * (y - cy[b]);
          none *= 1.0 - std::exp(-r2 / (width[b] * width[b]));
        }
        const size_t p = size_t(j) * size_t(nx) + size_t(i);
        v[p] = 0.5 * (1.0 - none);
        u[p] = 1.0 - v[p];
      }
    seeds[0] = sample_seed(opt_.seed, index, kFeedStream);
    seeds[1] = sample_seed(opt_.seed, index, kStateStream);
  }

  PetscErrorCode CreateDM(MPI_Comm comm, DM* dm) const override {
    PetscFunctionBeginUser;
    PetscCheck(sampler_, comm, PETSC_ERR_ORDER, "%s: CreateDM() before set_up()", name());
    const PetscInt nx = sampler_->nx(), ny = PetscInt(sampler_->points()) / nx;
    PetscCall(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, nx, ny,
                           PETSC_DECIDE, PETSC_DECIDE, /*dof=*/2, /*stencil width=*/1, nullptr,
                           nullptr, dm));
    // No DMSetFromOptions: the grid is pins' -grid, not -da_grid_x/-da_grid_y.
    PetscCall(DMSetUp(*dm));
    PetscCall(DMDASetFieldName(*dm, 0, "u"));
    PetscCall(DMDASetFieldName(*dm, 1, "v"));
    PetscFunctionReturn(0);
  }

  // Steps are solved by TS: there is no single linear system or right-hand side to assemble.
  PetscErrorCode AssembleOperator(DM dm, const std::vector<const double*>&, Mat) const override {
    PetscFunctionBeginUser;
    SETERRQ(PetscObjectComm((PetscObject)dm), PETSC_ERR_SUP,
            "gray_scott is time-dependent: its steps are solved by TS (SetTSFunctions)");
  }
  PetscErrorCode AssembleRHS(DM dm, const std::vector<const double*>&, Vec) const override {
    PetscFunctionBeginUser;
    SETERRQ(PetscObjectComm((PetscObject)dm), PETSC_ERR_SUP,
            "gray_scott is time-dependent: it has no right-hand side to assemble");
  }

  bool nonlinear() const override { return true; }
  bool time_dependent() const override { return true; }
  double time_step() const override { return p_.dt; }
  int steps() const override { return steps_; }

  PetscErrorCode SetTSFunctions(DM dm, const std::vector<const double*>& inputs) const override {
    PetscFunctionBeginUser;
    PetscCheck(inputs.size() == 1 && inputs[0], PetscObjectComm((PetscObject)dm),
               PETSC_ERR_ARG_WRONG, "gray_scott: SetTSFunctions needs feed");
    context_ = Context{inputs[0], p_};
    PetscCall(DMDATSSetIFunctionLocal(dm, INSERT_VALUES, (DMDATSIFunctionLocal)form_ifunction,
                                      &context_));
    PetscCall(DMDATSSetIJacobianLocal(dm, (DMDATSIJacobianLocal)form_ijacobian, &context_));
    PetscFunctionReturn(0);
  }

 private:
  darcy::SamplerOptions opt_;
  Parameters p_;
  double feed_min_ = kDefaultFeedMin, feed_max_ = kDefaultFeedMax;
  int steps_ = kDefaultSteps;
  std::unique_ptr<darcy::Sampler> sampler_;
  // The trajectory being stepped (see ProblemFamily::SetTSFunctions): one at a time.
  mutable Context context_;
};

}  // namespace

std::unique_ptr<ProblemFamily> create_problem_family() {
  return std::make_unique<GrayScottProblem>();
}

}  // namespace pins::gray_scott
