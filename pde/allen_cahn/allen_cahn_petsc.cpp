// allen_cahn's PETSc half: κ and the initial state from the Darcy sampler, the step
// options, and the implicit function F(t, u, u_t) and its Jacobian as DMDA local callbacks
// for TS.
#include "pde/allen_cahn/allen_cahn_petsc.hpp"

#include <petscdmda.h>
#include <petscts.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "pde/allen_cahn/allen_cahn_family.hpp"
#include "pde/darcy/darcy_petsc.hpp"
#include "pde/darcy/darcy_stencil.hpp"
#include "pins/core/check.hpp"
#include "pins/core/random.hpp"

namespace pins::allen_cahn {

namespace {

// The random streams of a sample: κ as in Darcy, the initial state on the stream Darcy
// uses for f (Allen–Cahn has no f).
constexpr std::uint64_t kKappaStream = 0, kStateStream = 1;

// What the TS callbacks read: the whole-grid κ of the trajectory being stepped and ε².
struct Context {
  const double* kappa = nullptr;
  double epsilon2 = 0;
};

// The four faces of cell (i, j) in the Kokkos kernel's order (w, e, s, n): DMDA index i
// runs along x, j along y.
constexpr PetscInt kFace[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};  // (di, dj)

// ε² times the transmissibility of face d of cell (i, j), 0 through a boundary face (no
// flux); *in says whether the neighbour is in the grid.
inline double weight(const Context& c, const DMDALocalInfo* info, PetscInt i, PetscInt j, int d,
                     bool* in) {
  const PetscInt ii = i + kFace[d][0], jj = j + kFace[d][1];
  *in = ii >= 0 && ii < info->mx && jj >= 0 && jj < info->my;
  if (!*in) return 0.0;
  const double face =
      darcy::interior_face_coefficient(c.kappa[size_t(j) * size_t(info->mx) + size_t(i)],
                                       c.kappa[size_t(jj) * size_t(info->mx) + size_t(ii)]);
  return c.epsilon2 * face * (d < 2 ? double(info->mx) * info->mx : double(info->my) * info->my);
}

// F = u_t + ε² A_N(κ) u + u³ − u on the process's own cells.
PetscErrorCode form_ifunction(DMDALocalInfo* info, PetscReal, PetscScalar** x, PetscScalar** xdot,
                              PetscScalar** F, void* ptr) {
  const Context& c = *static_cast<const Context*>(ptr);
  PetscFunctionBeginUser;
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      const double um = x[j][i];
      double diffusion = 0;
      for (int d = 0; d < 4; ++d) {
        bool in;
        const double w = weight(c, info, i, j, d, &in);
        if (in) diffusion += w * (um - double(x[j + kFace[d][1]][i + kFace[d][0]]));
      }
      F[j][i] = double(xdot[j][i]) + diffusion + um * um * um - um;
    }
  PetscCall(PetscLogFlops(40.0 * info->xm * info->ym));
  PetscFunctionReturn(0);
}

// dF/du + shift dF/du_t = shift I + ε² A_N(κ) + diag(3u² − 1): symmetric.
PetscErrorCode form_ijacobian(DMDALocalInfo* info, PetscReal, PetscScalar** x, PetscScalar**,
                              PetscReal shift, Mat J, Mat P, void* ptr) {
  const Context& c = *static_cast<const Context*>(ptr);
  PetscFunctionBeginUser;
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      const double um = x[j][i];
      MatStencil row{}, cols[5]{};
      PetscScalar vals[5];
      row.i = i;
      row.j = j;
      double diag = shift + 3.0 * um * um - 1.0;
      PetscInt nc = 1;
      for (int d = 0; d < 4; ++d) {
        bool in;
        const double w = weight(c, info, i, j, d, &in);
        if (!in) continue;  // no flux: a boundary face adds nothing
        diag += w;
        cols[nc].i = i + kFace[d][0];
        cols[nc].j = j + kFace[d][1];
        vals[nc++] = -w;
      }
      cols[0].i = i;
      cols[0].j = j;
      vals[0] = diag;
      PetscCall(MatSetValuesStencil(P, 1, &row, nc, cols, vals, INSERT_VALUES));
    }
  PetscCall(MatAssemblyBegin(P, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(P, MAT_FINAL_ASSEMBLY));
  PetscCall(MatSetOption(P, MAT_SYMMETRIC, PETSC_TRUE));
  if (J != P) {
    PetscCall(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
  }
  PetscFunctionReturn(0);
}

class AllenCahnProblem final : public ProblemFamily {
 public:
  const char* name() const override { return "allen_cahn"; }

  PetscErrorCode SetFromOptions(MPI_Comm comm, const char* prefix) override {
    PetscReal epsilon = epsilon_, dt = dt_, amplitude = amplitude_, u0_tau = u0_tau_;
    PetscInt steps = steps_;
    PetscBool tau_set = PETSC_FALSE, f_type = PETSC_FALSE, f_value = PETSC_FALSE;
    PetscFunctionBeginUser;
    // Allen–Cahn has no right-hand side: Darcy's -f_type and -f_value would be ignored.
    PetscCall(PetscOptionsHasName(nullptr, prefix, "-f_type", &f_type));
    PetscCall(PetscOptionsHasName(nullptr, prefix, "-f_value", &f_value));
    PetscCheck(!f_type && !f_value, comm, PETSC_ERR_ARG_WRONG,
               "-pde allen_cahn has no right-hand side f: -f_type and -f_value do not apply");
    PetscCall(darcy::read_sampler_options(comm, prefix, name(), 2, &opt_));
    PetscOptionsBegin(comm, prefix, "Allen-Cahn options (pins generate -pde allen_cahn)", "pins");
    PetscCall(PetscOptionsReal("-epsilon",
                               "Interface width eps in u_t = eps^2 div(kappa grad u) "
                               "- (u^3 - u) (> 0)",
                               "pins generate", epsilon, &epsilon, nullptr));
    PetscCall(PetscOptionsReal("-dt", "Backward Euler time step (> 0)", "pins generate", dt, &dt,
                               nullptr));
    PetscCall(PetscOptionsInt("-steps",
                              "Time steps per trajectory (>= 1); u holds steps + 1 states",
                              "pins generate", steps, &steps, nullptr));
    PetscCall(PetscOptionsReal("-u0_amplitude", "Initial state: max |u(0)| (> 0)", "pins generate",
                               amplitude, &amplitude, nullptr));
    PetscCall(PetscOptionsReal("-u0_tau",
                               "Initial state: inverse length scale of its random field (> 0; "
                               "default -grf_tau)",
                               "pins generate", u0_tau, &u0_tau, &tau_set));
    PetscOptionsEnd();
    PetscCallCXX({
      allen_cahn::family(epsilon, dt);  // throws naming -epsilon or -dt
      PINS_CHECK(steps >= 1, "-steps must be at least 1 (time steps per trajectory), got ",
                 std::int64_t{steps});
      PINS_CHECK(std::isfinite(amplitude) && amplitude > 0,
                 "-u0_amplitude must be a positive number (max |u(0)|), got ", amplitude);
      PINS_CHECK(!tau_set || (std::isfinite(u0_tau) && u0_tau > 0),
                 "-u0_tau must be a positive number, got ", u0_tau);
    });
    epsilon_ = epsilon;
    dt_ = dt;
    steps_ = int(steps);
    amplitude_ = amplitude;
    u0_tau_ = tau_set ? u0_tau : 0.0;
    PetscFunctionReturn(0);
  }

  void set_up(const std::vector<std::int64_t>& grid, std::uint64_t seed) override {
    PINS_CHECK(grid.size() == 2, name(), ": the grid must be 2-D (ny, nx), got ", grid.size(),
               " directions");
    opt_.seed = seed;
    const std::vector<int> cells(grid.begin(), grid.end());
    kappa_sampler_ = std::make_unique<darcy::Sampler>(opt_, cells);
    darcy::SamplerOptions state = opt_;
    state.tau = initial_tau();
    state_sampler_ = std::make_unique<darcy::Sampler>(state, cells);
  }

  void describe(DatasetInfo* info) const override {
    PINS_CHECK(kappa_sampler_, name(), ": describe() before set_up()");
    info->pde = name();
    info->equation = "u_t = eps^2 div(kappa grad u) - (u^3 - u)";
    info->discretisation =
        "cell-centred finite volumes, 5-point, harmonic face averages of kappa; backward Euler "
        "(TSBEULER), fixed step";
    info->domain = "(0,1)x(0,1)";
    info->boundary_condition = "no flux through the whole boundary (du/dn = 0)";
    info->seed = std::int64_t(opt_.seed);
    info->seed_streams = 2;  // κ, u(0)
    // Darcy's κ attributes; f_type and f_value describe a field Allen–Cahn does not have.
    for (auto& a : darcy::sampler_attributes(opt_))
      if (a.name != "f_type" && a.name != "f_value") info->sampler.push_back(a);
    info->sampler.push_back({"epsilon", epsilon_});
    info->sampler.push_back({"dt", dt_});
    info->sampler.push_back({"steps", std::int64_t{steps_}});
    info->sampler.push_back({"scheme", std::string("beuler")});
    info->sampler.push_back({"u0_amplitude", amplitude_});
    info->sampler.push_back({"u0_tau", initial_tau()});
  }

  void sample(std::uint64_t index, const std::vector<double*>& inputs,
              std::uint64_t* seeds) const override {
    PINS_CHECK(kappa_sampler_, name(), ": sample() before set_up()");
    PINS_CHECK(inputs.size() == 2 && inputs[0] && inputs[1], name(),
               ": sample() needs the arrays kappa and u(0)");
    const size_t n = kappa_sampler_->points();
    // κ exactly as Darcy draws it (stream 0); its constant f is thrown away.
    std::vector<double> unused_f(n);
    kappa_sampler_->sample(index, inputs[0], unused_f.data());
    // u(0) = A tanh(g / rms g) / max |tanh(g / rms g)|: phases of either sign where the
    // random field g is large, smooth interfaces where it changes sign (a linearly scaled g
    // leaves most cells near 0, where the reaction is slow), and max |u(0)| = A.
    std::vector<double> h = state_sampler_->gaussian_field(index, kStateStream);
    double ss = 0;
    for (double v : h) ss += v * v;
    const double rms = std::sqrt(ss / double(n));
    double peak = 0;
    for (double& v : h) {
      v = rms > 0 ? std::tanh(v / rms) : 0.0;
      peak = std::max(peak, std::abs(v));
    }
    for (size_t p = 0; p < n; ++p) inputs[1][p] = peak > 0 ? amplitude_ * (h[p] / peak) : 0.0;
    seeds[0] = sample_seed(opt_.seed, index, kKappaStream);
    seeds[1] = sample_seed(opt_.seed, index, kStateStream);
  }

  PetscErrorCode CreateDM(MPI_Comm comm, DM* dm) const override {
    PetscFunctionBeginUser;
    PetscCheck(kappa_sampler_, comm, PETSC_ERR_ORDER, "%s: CreateDM() before set_up()", name());
    PetscCall(darcy::create_dmda(comm, kappa_sampler_->nx(), kappa_sampler_->ny(), dm));
    PetscFunctionReturn(0);
  }

  // One step's linear part and right-hand side are not what `pins generate` solves (it
  // steps with TS); there is no f to assemble.
  PetscErrorCode AssembleOperator(DM dm, const std::vector<const double*>&, Mat) const override {
    PetscFunctionBeginUser;
    SETERRQ(PetscObjectComm((PetscObject)dm), PETSC_ERR_SUP,
            "allen_cahn is time-dependent: its steps are solved by TS (SetTSFunctions)");
  }
  PetscErrorCode AssembleRHS(DM dm, const std::vector<const double*>&, Vec) const override {
    PetscFunctionBeginUser;
    SETERRQ(PetscObjectComm((PetscObject)dm), PETSC_ERR_SUP,
            "allen_cahn is time-dependent: it has no right-hand side to assemble");
  }

  bool nonlinear() const override { return true; }
  bool time_dependent() const override { return true; }
  double time_step() const override { return dt_; }
  int steps() const override { return steps_; }

  PetscErrorCode SetTSFunctions(DM dm, const std::vector<const double*>& inputs) const override {
    PetscFunctionBeginUser;
    PetscCheck(inputs.size() == 1 && inputs[0], PetscObjectComm((PetscObject)dm),
               PETSC_ERR_ARG_WRONG, "allen_cahn: SetTSFunctions needs kappa");
    context_ = Context{inputs[0], epsilon_ * epsilon_};
    PetscCall(DMDATSSetIFunctionLocal(dm, INSERT_VALUES, (DMDATSIFunctionLocal)form_ifunction,
                                      &context_));
    PetscCall(DMDATSSetIJacobianLocal(dm, (DMDATSIJacobianLocal)form_ijacobian, &context_));
    PetscFunctionReturn(0);
  }

 private:
  // The initial state's inverse length scale: -u0_tau, else κ's -grf_tau.
  double initial_tau() const { return u0_tau_ > 0 ? u0_tau_ : opt_.tau; }

  darcy::SamplerOptions opt_;
  double epsilon_ = kDefaultEpsilon, dt_ = kDefaultTimeStep;
  int steps_ = kDefaultSteps;
  double amplitude_ = kDefaultInitialAmplitude;
  double u0_tau_ = 0;  // 0: κ's tau
  std::unique_ptr<darcy::Sampler> kappa_sampler_, state_sampler_;
  // The trajectory being stepped (see ProblemFamily::SetTSFunctions): one at a time.
  mutable Context context_;
};

}  // namespace

std::unique_ptr<ProblemFamily> create_problem_family() {
  return std::make_unique<AllenCahnProblem>();
}

}  // namespace pins::allen_cahn
