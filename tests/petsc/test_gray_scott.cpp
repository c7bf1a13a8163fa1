// The contract of the gray_scott family: the PETSc TS implicit function, taken as one
// backward Euler step (dt · F(w, (w − w_prev)/dt)), is the core family's residual G on 1
// process and on every process of a parallel dof-2 DMDA, and dt times its Jacobian is G's
// Jacobian (J v against the hand-written linearisation, Jᵀ y against LibTorch autograd).

#include "doctest_torch.hpp"  // first: keeps glog's CHECK out of doctest's way

#include <petscdmda.h>
#include <petscts.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "pde/gray_scott/gray_scott_family.hpp"
#include "pde/gray_scott/gray_scott_petsc.hpp"
#include "pins/core/random.hpp"
#include "pins/petsc/error.hpp"

#include "grid_vectors.hpp"
#include "scoped_option.hpp"

using pins::test::gather;

namespace {

// Natural-order vectors of the interlaced DMDA (index 2 p + c) from component-major whole
// arrays [c][p] (gather, grid_vectors.hpp, brings them back); every rank holds the whole array.
void fill(DM da, const std::vector<double>& whole, Vec global) {
  Vec natural;
  PINS_PETSC_CALL(DMDACreateNaturalVector(da, &natural));
  PetscInt lo, hi;
  PINS_PETSC_CALL(VecGetOwnershipRange(natural, &lo, &hi));
  const size_t points = whole.size() / 2;
  PetscScalar* a;
  PINS_PETSC_CALL(VecGetArray(natural, &a));
  for (PetscInt k = lo; k < hi; ++k) a[k - lo] = whole[size_t(k % 2) * points + size_t(k / 2)];
  PINS_PETSC_CALL(VecRestoreArray(natural, &a));
  PINS_PETSC_CALL(DMDANaturalToGlobalBegin(da, natural, INSERT_VALUES, global));
  PINS_PETSC_CALL(DMDANaturalToGlobalEnd(da, natural, INSERT_VALUES, global));
  VecDestroy(&natural);
}
torch::Tensor fields(std::vector<double>& v, int ny, int nx) {
  return torch::from_blob(v.data(), {1, 2, ny, nx}, torch::kFloat64);
}

}  // namespace

TEST_CASE("gray_scott: the TS IFunction and IJacobian agree with the core one-step residual") {
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  const double eps = std::numeric_limits<double>::epsilon();
  std::vector<MPI_Comm> comms = {PETSC_COMM_SELF};
  if (size > 1) comms.push_back(PETSC_COMM_WORLD);
  // Not the defaults, so that the parameters visibly reach both halves.
  pins::gray_scott::Parameters par;
  par.du = 2e-3;
  par.dv = 7e-4;
  par.kill = 0.055;
  par.dt = 0.5;
  ScopedOption du("-gstest_gs_du", "2e-3"), dv("-gstest_gs_dv", "7e-4"),
      kill("-gstest_gs_kill", "0.055"), dto("-gstest_dt", "0.5");
  const int grids[][2] = {{16, 16}, {31, 17}, {3, 3}};  // {ny, nx}
  for (MPI_Comm comm : comms)
    for (const auto& g : grids) {
      const int ny = g[0], nx = g[1];
      CAPTURE(ny);
      CAPTURE(nx);
      auto family = pins::gray_scott::create_problem_family();
      PINS_PETSC_CALL(family->SetFromOptions(PETSC_COMM_SELF, "gstest_"));
      REQUIRE(family->time_dependent());
      CHECK(family->time_step() == par.dt);
      family->set_up({ny, nx}, 3);
      const size_t n = size_t(ny) * nx;
      std::vector<double> feed(n), w_prev(2 * n), w(2 * n), v(2 * n), y(2 * n), rate(2 * n);
      std::uint64_t seeds[2];
      family->sample(4, {feed.data(), w_prev.data()}, seeds);
      pins::Rng rng(pins::sample_seed(77, 4, 9));
      for (auto& x : w) x = rng.normal();
      for (auto& x : v) x = rng.normal();
      for (auto& x : y) x = rng.normal();
      for (size_t p = 0; p < 2 * n; ++p) rate[p] = (w[p] - w_prev[p]) / par.dt;

      DM da;
      TS ts;
      Vec W, Wdot, F, V, JV, Y, JtY;
      Mat J;
      PINS_PETSC_CALL(family->CreateDM(comm, &da));
      PINS_PETSC_CALL(family->SetTSFunctions(da, {feed.data()}));
      PINS_PETSC_CALL(TSCreate(comm, &ts));
      PINS_PETSC_CALL(TSSetDM(ts, da));
      PINS_PETSC_CALL(DMCreateGlobalVector(da, &W));
      for (Vec* x : {&Wdot, &F, &V, &JV, &Y, &JtY}) PINS_PETSC_CALL(VecDuplicate(W, x));
      PINS_PETSC_CALL(DMCreateMatrix(da, &J));
      fill(da, w, W);
      fill(da, rate, Wdot);
      fill(da, v, V);
      fill(da, y, Y);
      PINS_PETSC_CALL(TSComputeIFunction(ts, 0.0, W, Wdot, F, PETSC_FALSE));
      // Backward Euler's Jacobian: dF/dw + (1/dt) dF/dw_t.
      PINS_PETSC_CALL(TSComputeIJacobian(ts, 0.0, W, Wdot, 1.0 / par.dt, J, J, PETSC_FALSE));
      PINS_PETSC_CALL(MatMult(J, V, JV));
      PINS_PETSC_CALL(MatMultTranspose(J, Y, JtY));
      const std::vector<double> F_petsc = gather(da, F, n, 2), JV_petsc = gather(da, JV, n, 2),
                                JtY_petsc = gather(da, JtY, n, 2);

      const auto core = pins::gray_scott::family(par);
      const pins::FieldMap in = {
          {"feed", torch::from_blob(feed.data(), {1, ny, nx}, torch::kFloat64)},
          {"w_prev", fields(w_prev, ny, nx)}};
      const torch::Tensor wt = fields(w, ny, nx).clone().requires_grad_(true);
      const torch::Tensor vt = fields(v, ny, nx), yt = fields(y, ny, nx);
      const torch::Tensor G = core->residual(in, wt);
      const torch::Tensor m = core->residual_magnitude(in, wt.detach());
      // Jᵀ y by autograd through the stencil operator and the reaction.
      const torch::Tensor JtY_core = torch::autograd::grad({G}, {wt}, {yt})[0];
      // J v: the linear operator plus the reaction's linearisation dt (δ(u v²), −δ(u v²)).
      const torch::Tensor u = wt.detach().select(1, 0), vv = wt.detach().select(1, 1);
      const torch::Tensor d =
          par.dt * (vv.square() * vt.select(1, 0) + 2 * u * vv * vt.select(1, 1));
      const pins::OperatorPtr A = core->make_operator(in);
      const torch::Tensor JV_core = A->apply(vt) + torch::stack({d, -d}, 1);
      const torch::Tensor jm =
          A->with_values(A->values().abs())->apply(vt.abs()) +
          2 * par.dt *
              (vv.square() * vt.select(1, 0).abs() + 2 * (u * vv).abs() * vt.select(1, 1).abs())
                  .unsqueeze(1);
      // The same five-point sums and products in another order plus (w − w_prev)/dt · dt: a
      // handful of roundings of terms of the size m per row. Bound 16 eps m; Jᵀ y (another
      // summation order, no per-row magnitude at hand) to 64 eps times its largest entry.
      const double* Gp = G.detach().data_ptr<double>();
      const double* mp = m.data_ptr<double>();
      const double* JVp = JV_core.data_ptr<double>();
      const double* jmp = jm.data_ptr<double>();
      const torch::Tensor JtYc = JtY_core.contiguous();
      const double* JtYp = JtYc.data_ptr<double>();
      const double jt_scale = JtYc.abs().max().item<double>();
      double worst = 0, jworst = 0, jtworst = 0;
      for (size_t p = 0; p < 2 * n; ++p) {
        worst = std::max(worst, std::abs(par.dt * F_petsc[p] - Gp[p]) / (16 * eps * mp[p]));
        jworst = std::max(jworst, std::abs(par.dt * JV_petsc[p] - JVp[p]) / (16 * eps * jmp[p]));
        jtworst =
            std::max(jtworst, std::abs(par.dt * JtY_petsc[p] - JtYp[p]) / (64 * eps * jt_scale));
      }
      CHECK(worst <= 1.0);
      CHECK(jworst <= 1.0);
      CHECK(jtworst <= 1.0);
      CHECK(G.abs().max().item<double>() > 0.1);  // w is random: G is not small
      MatDestroy(&J);
      for (Vec* x : {&W, &Wdot, &F, &V, &JV, &Y, &JtY}) VecDestroy(x);
      TSDestroy(&ts);
      DMDestroy(&da);
    }
}

TEST_CASE("gray_scott: the initial state and the feed lie in their documented ranges") {
  auto family = pins::gray_scott::create_problem_family();
  PINS_PETSC_CALL(family->SetFromOptions(PETSC_COMM_SELF, "gsrange_"));
  family->set_up({24, 20}, 5);
  const size_t n = 24 * 20;
  std::vector<double> feed(n), w(2 * n);
  std::uint64_t seeds[2];
  family->sample(2, {feed.data(), w.data()}, seeds);
  const auto [flo, fhi] = std::minmax_element(feed.begin(), feed.end());
  CHECK(*flo == doctest::Approx(pins::gray_scott::kDefaultFeedMin).epsilon(1e-12));
  CHECK(*fhi == doctest::Approx(pins::gray_scott::kDefaultFeedMax).epsilon(1e-12));
  double vmax = 0;
  for (size_t p = 0; p < n; ++p) {
    CHECK(w[p] + w[n + p] == doctest::Approx(1.0).epsilon(1e-15));  // u = 1 − v
    CHECK(w[n + p] >= 0);
    vmax = std::max(vmax, w[n + p]);
  }
  CHECK(vmax <= 0.5);
  CHECK(vmax > 0.3);  // the bumps are there
  CHECK(seeds[0] != seeds[1]);
}
