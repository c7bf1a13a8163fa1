// Time-dependent families in the trainer: trajectories become step rows (state → next
// state), the split keeps each trajectory on one side, the network learns the step's change,
// and a one-step surrogate rolls out. The data are allen_cahn trajectories solved here by
// Newton on the family's own residual (dense Jacobian), so no PETSc is needed.
#include <cmath>

#include "helpers.hpp"
#include "pde/allen_cahn/allen_cahn_family.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/rollout.hpp"

using namespace pins;
using namespace pins::test;

namespace {

// n trajectories of `steps` backward Euler steps on a grid² grid: κ and u(0) smooth and
// random, each step Newton on G(u) = A u − u_prev + dt u³ to machine precision.
Dataset allen_cahn_trajectories(int n, int grid, int steps, double dt = 0.05) {
  const auto family = allen_cahn::family(0.05, dt);
  const int64_t m = int64_t(grid) * grid;
  torch::manual_seed(11);
  const torch::Tensor x = torch::linspace(0, 1, grid, torch::kFloat64);
  const torch::Tensor kappa =
      (1.5 + torch::sin(6.0 * x).view({1, 1, grid}) * torch::rand({n, 1, 1}, torch::kFloat64))
          .expand({n, grid, grid})
          .contiguous();
  const torch::Tensor u0 = (torch::rand({n, grid, grid}, torch::kFloat64) - 0.5) * 1.2;
  torch::Tensor u = torch::empty({n, steps + 1, grid, grid}, torch::kFloat64);
  u.select(1, 0).copy_(u0);
  for (int i = 0; i < n; ++i) {
    const FieldMap one = {{"kappa", kappa.narrow(0, i, 1)}};
    const OperatorPtr A1 = family->make_operator(one);
    // Column j of A is A e_j: the whole matrix from m applications of the operator.
    const torch::Tensor eye = torch::eye(m, torch::kFloat64).view({m, grid, grid});
    const torch::Tensor A =
        A1->with_values(A1->values().expand({m, 5, grid, grid}).contiguous())->apply(eye);
    const torch::Tensor dense = A.view({m, m}).t();
    for (int s = 0; s < steps; ++s) {
      const torch::Tensor prev = u[i][s].reshape({m});
      torch::Tensor v = prev.clone();
      for (int it = 0; it < 20; ++it) {
        const torch::Tensor g = dense.matmul(v) - prev + dt * v.pow(3);
        const torch::Tensor J = dense + torch::diag(3 * dt * v.square());
        v = v - torch::linalg_solve(J, g.unsqueeze(1)).squeeze(1);
      }
      u[i][s + 1].copy_(v.view({grid, grid}));
    }
  }
  Dataset d;
  d.samples = n;
  d.info.pde = "allen_cahn";
  d.info.grid = {grid, grid};
  d.info.inputs = {{"kappa", 1, false}};
  d.info.times = steps + 1;
  d.info.sampler = {{"epsilon", 0.05}, {"dt", dt}};
  d.inputs.push_back({"kappa", {grid, grid},
                      std::vector<double>(kappa.data_ptr<double>(),
                                          kappa.data_ptr<double>() + kappa.numel())});
  d.u = {"u", {steps + 1, grid, grid},
         std::vector<double>(u.data_ptr<double>(), u.data_ptr<double>() + u.numel())};
  d.iterations.assign(size_t(n), 0);
  d.residual.assign(size_t(n), 0);
  return d;
}

std::shared_ptr<Surrogate> one_step_fno() {
  torch::manual_seed(5);
  return make_surrogate("fno",
                        OptionMap::from_args({"-fno_modes", "3", "-fno_width", "8",
                                              "-fno_layers", "2", "-fno_padding", "2",
                                              "-fno_hidden", "16"}),
                        /*in: kappa, u_prev*/ 2, 1);
}

}  // namespace

TEST_CASE("trajectories become step rows whose residual is the family's step equation") {
  const Dataset d = allen_cahn_trajectories(3, 6, 4);
  const TrainingData td = training_data(d);
  CHECK(td.group == 4);
  CHECK(td.samples() == 12);
  CHECK(td.u.sizes() == torch::IntArrayRef({12, 6, 6}));
  const torch::Tensor u = torch::from_blob(const_cast<double*>(d.u.values.data()), {3, 5, 6, 6},
                                           torch::kFloat64);
  // Row 4 i + t: state u[i, t], target u[i, t + 1], κ of sample i.
  CHECK(torch::equal(td.input("u_prev")[6], u[1][2]));
  CHECK(torch::equal(td.u[6], u[1][3]));
  CHECK(torch::equal(td.input("kappa")[7], td.input("kappa")[4]));
  // The stored steps solve the family's equation: the residual is at rounding level.
  const auto family = family_for("allen_cahn", td.parameters);
  CHECK(family->relative_residual(td.inputs, td.u).max().item<double>() < 1e-12);
  // And the rows go back to the trajectories.
  const Trajectories back = trajectories(td, *family);
  CHECK(torch::equal(back.u, u));
  CHECK(back.inputs.count("u_prev") == 0);
  CHECK(back.inputs.at("kappa").size(0) == 3);
}

TEST_CASE("a trajectory dataset and a single-state family (and the reverse) are refused") {
  Dataset d = allen_cahn_trajectories(2, 5, 2);
  Dataset single = d;
  single.info.times = 0;
  single.u.shape = {5, 5};
  single.u.values.resize(2 * 25);
  CHECK(error_of([&] { training_data(single); }).find("holds single states") != std::string::npos);
  Dataset darcy = d;
  darcy.info.pde = "darcy";
  darcy.info.sampler.clear();
  darcy.info.inputs = {{"kappa", 1, false}, {"f", 1, false}};
  darcy.inputs.push_back({"f", {5, 5}, std::vector<double>(50, 1.0)});
  CHECK(error_of([&] { training_data(darcy); }).find("is not time-dependent") !=
        std::string::npos);
}

TEST_CASE("a one-step surrogate learns the change, keeps trajectories whole and rolls out") {
  const Dataset d = allen_cahn_trajectories(8, 8, 3);
  const TrainingData td = training_data(d);
  TrainOptions o = quick_options();
  o.epochs = 20;
  o.batch_size = 6;
  o.physics_weight = 1;
  auto model = one_step_fno();
  const TrainResult r = train_surrogate(*model, td, o);
  // 8 trajectories, a quarter validated: 2 whole ones (6 rows), 6 trained on (18 rows).
  CHECK(r.val_samples == 6);
  CHECK(r.train_samples == 18);
  const Normalisation& norm = r.normalisation;
  CHECK(norm.state == "u_prev");
  // The target is the change, scaled to unit size; the solution adds it to the state.
  const torch::Tensor target = norm.target(td.u, td.inputs);
  CHECK(std::abs(target.square().mean().item<double>() - 1.0) < 0.5);
  CHECK(torch::allclose(norm.solution(target, td.inputs), td.u));
  CHECK(Normalisation::from_json(norm.to_json()).state == "u_prev");
  CHECK(std::isfinite(r.history.back().physics_loss));
  // Trained for 20 tiny epochs it is no good solver, but it beats doing nothing on the step.
  const auto family = family_for("allen_cahn", td.parameters);
  const torch::Tensor one_step = predict(*model, norm, td.inputs, 64, family.get());
  const double err = relative_l2(one_step - td.input("u_prev"), td.u - td.input("u_prev"))
                         .mean()
                         .item<double>();
  CHECK(err < 1.0);

  const Trajectories t = trajectories(td, *family);
  const torch::Tensor u = rollout(*model, norm, *family, t.inputs, t.u.select(1, 0), 3);
  CHECK(u.sizes() == t.u.sizes());
  CHECK(torch::equal(u.select(1, 0), t.u.select(1, 0)));
  // Its first step is the one-step prediction of each trajectory's first row (float32
  // network: batches of other sizes round differently).
  const torch::Tensor first_rows = torch::arange(0, 24, 3, torch::kInt64);
  CHECK(torch::allclose(u.select(1, 1), one_step.index_select(0, first_rows), 1e-5, 1e-6));
  const torch::Tensor e = rollout_errors(u, t.u);
  CHECK(e.sizes() == torch::IntArrayRef({8, 3}));
  CHECK(torch::isfinite(e).all().item<bool>());
  CHECK(error_of([&] { rollout(*model, norm, *family, t.inputs, t.u.select(1, 0), 0); })
            .find("steps must be at least 1") != std::string::npos);
}
