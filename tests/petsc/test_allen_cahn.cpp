// The contract of the allen_cahn family: the PETSc TS implicit function, taken as one
// backward Euler step (dt · F(u, (u − u_prev)/dt)), is the core family's residual G — on 1
// process and on every process of a parallel DMDA — and dt times its Jacobian is G's
// Jacobian; `pins generate` stores trajectories whose every step verify recomputes, and
// fails naming the sample and the step.

#include "doctest_torch.hpp"  // first: keeps glog's CHECK out of doctest's way

#include <petscdmda.h>
#include <petscts.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "pde/allen_cahn/allen_cahn_family.hpp"
#include "pde/allen_cahn/allen_cahn_petsc.hpp"
#include "pde/darcy/darcy_petsc.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/random.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/generate.hpp"
#include "pins/petsc/verify.hpp"

namespace fs = std::filesystem;

#include "grid_vectors.hpp"
#include "scoped_option.hpp"
#include "temp_dir.hpp"

using pins::test::as_tensor;
using pins::test::fill;
using pins::test::gather;

TEST_CASE("allen_cahn: the TS IFunction and IJacobian agree with the core one-step residual") {
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  const double eps = std::numeric_limits<double>::epsilon();
  std::vector<MPI_Comm> comms = {PETSC_COMM_SELF};
  if (size > 1) comms.push_back(PETSC_COMM_WORLD);
  // Not the defaults, so that the parameters visibly reach both halves; lognormal κ so
  // that every face differs.
  const double epsilon = 0.05, dt = 0.1;
  ScopedOption eo("-actest_epsilon", "0.05"), dto("-actest_dt", "0.1"),
      kind("-actest_kappa_type", "lognormal");
  const int grids[][2] = {{16, 16}, {31, 17}, {3, 3}};  // {ny, nx}
  for (MPI_Comm comm : comms)
    for (const auto& g : grids) {
      const int ny = g[0], nx = g[1];
      CAPTURE(ny);
      CAPTURE(nx);
      auto family = pins::allen_cahn::create_problem_family();
      PINS_PETSC_CALL(family->SetFromOptions(PETSC_COMM_SELF, "actest_"));
      REQUIRE(family->time_dependent());
      CHECK(family->time_step() == dt);
      family->set_up({ny, nx}, 3);
      const size_t n = size_t(ny) * nx;
      std::vector<double> kappa(n), u_prev(n), u(n), v(n), rate(n);
      std::uint64_t seeds[2];
      family->sample(4, {kappa.data(), u_prev.data()}, seeds);
      pins::Rng rng(pins::sample_seed(77, 4, 9));
      for (auto& x : u) x = rng.normal();
      for (auto& x : v) x = rng.normal();
      for (size_t p = 0; p < n; ++p) rate[p] = (u[p] - u_prev[p]) / dt;

      DM da;
      TS ts;
      Vec U, Udot, F, V, JV;
      Mat J;
      PINS_PETSC_CALL(family->CreateDM(comm, &da));
      PINS_PETSC_CALL(family->SetTSFunctions(da, {kappa.data()}));
      PINS_PETSC_CALL(TSCreate(comm, &ts));
      PINS_PETSC_CALL(TSSetDM(ts, da));
      PINS_PETSC_CALL(DMCreateGlobalVector(da, &U));
      PINS_PETSC_CALL(VecDuplicate(U, &Udot));
      PINS_PETSC_CALL(VecDuplicate(U, &F));
      PINS_PETSC_CALL(VecDuplicate(U, &V));
      PINS_PETSC_CALL(VecDuplicate(U, &JV));
      PINS_PETSC_CALL(DMCreateMatrix(da, &J));
      fill(da, u, U);
      fill(da, rate, Udot);
      fill(da, v, V);
      PINS_PETSC_CALL(TSComputeIFunction(ts, 0.0, U, Udot, F, PETSC_FALSE));
      // Backward Euler's Jacobian: dF/du + (1/dt) dF/du_t.
      PINS_PETSC_CALL(TSComputeIJacobian(ts, 0.0, U, Udot, 1.0 / dt, J, J, PETSC_FALSE));
      PINS_PETSC_CALL(MatMult(J, V, JV));
      std::vector<double> F_petsc = gather(da, F, n), JV_petsc = gather(da, JV, n);

      const auto core = pins::allen_cahn::family(epsilon, dt);
      const pins::FieldMap in = {{"kappa", as_tensor(kappa, ny, nx)},
                                 {"u_prev", as_tensor(u_prev, ny, nx)}};
      const torch::Tensor ut = as_tensor(u, ny, nx), vt = as_tensor(v, ny, nx);
      const torch::Tensor G = core->residual(in, ut);
      const torch::Tensor m = core->residual_magnitude(in, ut);
      // G's Jacobian times v: the operator (1 − dt) I + dt ε² A_N plus 3 dt u² v.
      const torch::Tensor JV_core = core->make_operator(in)->apply(vt) + 3 * dt * ut.square() * vt;
      const torch::Tensor jm = core->make_operator(in)
                                   ->with_values(core->make_operator(in)->values().abs())
                                   ->apply(vt.abs()) +
                               3 * dt * ut.square() * vt.abs();
      // The same five-point sums and cubic in another order, plus (u − u_prev)/dt · dt: a
      // handful of roundings of terms of the size m per row. Bound 16 eps m.
      double worst = 0, jworst = 0;
      for (size_t p = 0; p < n; ++p) {
        worst = std::max(worst, std::abs(dt * F_petsc[p] - G.data_ptr<double>()[p]) /
                                    (16 * eps * m.data_ptr<double>()[p]));
        jworst = std::max(jworst, std::abs(dt * JV_petsc[p] - JV_core.data_ptr<double>()[p]) /
                                      (16 * eps * jm.data_ptr<double>()[p]));
      }
      CHECK(worst <= 1.0);
      CHECK(jworst <= 1.0);
      CHECK(G.abs().max().item<double>() > 0.1);  // u is random: G is not small
      MatDestroy(&J);
      VecDestroy(&JV);
      VecDestroy(&V);
      VecDestroy(&F);
      VecDestroy(&Udot);
      VecDestroy(&U);
      TSDestroy(&ts);
      DMDestroy(&da);
    }
}

namespace {
// This file's scratch folders: <tmp>/pins_allen_cahn_test_<tag>_<pid>.
struct TempDir : pins::test::TempDir {
  explicit TempDir(const char* tag) : pins::test::TempDir("allen_cahn", tag) {}
};

pins::petsc::GenerateOptions trajectory_run(const fs::path& out) {
  pins::petsc::GenerateOptions o;
  o.pde = "allen_cahn";
  o.grid = {20, 16};  // nx, ny as typed
  o.samples = 3;
  o.seed = 11;
  o.output = out.string();
  o.progress = false;
  return o;
}

double attribute(const pins::DatasetInfo& info, const std::string& name) {
  for (const auto& a : info.extra)
    if (a.name == name) return std::get<double>(a.value);
  return std::nan("");
}
}  // namespace

TEST_CASE("allen_cahn: generate stores trajectories and verify checks every step") {
  TempDir dir("generate");
  ScopedOption steps("-steps", "5");
  const auto opts = trajectory_run(dir.path / "d.h5");
  const pins::petsc::GenerateSummary s = pins::petsc::generate(PETSC_COMM_SELF, opts);
  CHECK(s.snes_type == "newtonls");
  CHECK(s.rtol == 1e-10);
  CHECK(s.residual_max <= 1e-10);
  CHECK(s.iterations_min >= 5 * 2);  // the cubic: at least two Newton iterations a step
  const pins::Dataset d = pins::read_dataset(opts.output);
  CHECK(d.info.pde == "allen_cahn");
  CHECK(d.info.times == 6);
  REQUIRE(d.info.inputs.size() == 1);
  CHECK(d.info.inputs[0].name == "kappa");
  CHECK(d.u.shape == std::vector<std::int64_t>{6, 16, 20});
  CHECK(std::get<double>(*d.info.find_sampler("epsilon")) == pins::allen_cahn::kDefaultEpsilon);
  CHECK(std::get<double>(*d.info.find_sampler("dt")) == pins::allen_cahn::kDefaultTimeStep);
  CHECK(std::get<std::int64_t>(*d.info.find_sampler("steps")) == 5);
  CHECK(std::get<std::string>(*d.info.find_sampler("scheme")) == "beuler");
  CHECK(!d.info.find_sampler("f_value"));
  CHECK(attribute(d.info, "solver.dt") == pins::allen_cahn::kDefaultTimeStep);
  // u[:, 0] is the initial state, scaled to max |u(0)| = the default amplitude; the
  // reaction then drives |u| towards 1 where u(0) is large.
  const size_t plane = 16 * 20;
  for (std::int64_t i = 0; i < 3; ++i) {
    const double* u0 = d.u.sample(i);
    double peak0 = 0, peak_end = 0;
    for (size_t p = 0; p < plane; ++p) {
      peak0 = std::max(peak0, std::abs(u0[p]));
      peak_end = std::max(peak_end, std::abs(u0[5 * plane + p]));
    }
    CHECK(peak0 == doctest::Approx(pins::allen_cahn::kDefaultInitialAmplitude).epsilon(1e-15));
    CHECK(peak_end > peak0);
  }
  const pins::petsc::VerifyReport report = pins::petsc::verify_dataset(d);
  CHECK(report.failures == 0);
  CHECK(report.max_residual > 0);
  CHECK(report.max_stored_difference <= report.max_allowance);
  // One state changed in the middle of a trajectory: the steps into and out of it fail.
  pins::Dataset tampered = d;
  double* u1 = const_cast<double*>(tampered.u.sample(1));
  for (size_t p = 0; p < plane; ++p) u1[3 * plane + p] *= 1.0001;
  const pins::petsc::VerifyReport bad = pins::petsc::verify_dataset(tampered);
  CHECK(bad.failures == 1);
  CHECK(bad.first_failure == 1);
}

TEST_CASE("allen_cahn: a divergent step names the sample and the step, nothing is written") {
  auto error = [](const pins::petsc::GenerateOptions& o) {
    try {
      pins::petsc::generate(PETSC_COMM_SELF, o);
    } catch (const pins::petsc::CollectiveError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  {
    TempDir dir("diverge");
    ScopedOption max_it("-snes_max_it", "1"), steps("-steps", "3");
    const std::string message = error(trajectory_run(dir.path / "d.h5"));
    CHECK(message.find("sample 0: step 1 of 3 (t = 0.05): SNES did not converge: "
                       "DIVERGED_MAX_IT") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
    CHECK(dir.entries() == 0);
  }
  {
    TempDir dir("rk");
    ScopedOption ts_type("-ts_type", "rk");
    const std::string message = error(trajectory_run(dir.path / "d.h5"));
    CHECK(message.find("-ts_type rk: trajectories are made with backward Euler") !=
          std::string::npos);
    CHECK(dir.entries() == 0);
  }
}
