// The contract of the nonlinear_darcy family: PETSc's SNES residual (the DMDA local
// function) and the Kokkos kernel compute the same F(u) — on 1 process and on every process
// of a parallel DMDA — and its Jacobian's transpose is the Kokkos adjoint; `pins generate`
// solves it with Newton, certifies ‖F(u)‖/‖F(0)‖ and fails on a divergent sample.

#include "doctest_torch.hpp"  // first: keeps glog's CHECK out of doctest's way

#include <petscdmda.h>
#include <petscsnes.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "pde/darcy/darcy_petsc.hpp"
#include "pde/darcy/darcy_sampler.hpp"
#include "pde/nonlinear_darcy/nonlinear_darcy_kernels.hpp"
#include "pde/nonlinear_darcy/nonlinear_darcy_petsc.hpp"
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

TEST_CASE("nonlinear_darcy: Kokkos F(u) and J^T g agree with SNESComputeFunction/Jacobian") {
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  const double eps = std::numeric_limits<double>::epsilon();
  std::vector<MPI_Comm> comms = {PETSC_COMM_SELF};
  if (size > 1) comms.push_back(PETSC_COMM_WORLD);
  struct K {
    const char *name, *beta;
    pins::nonlinear_darcy::Conductivity k;
  };
  const K ks[] = {{"quadratic", "1", {0, 1.0}}, {"exp", "0.75", {1, 0.75}}};
  const int grids[][2] = {{16, 16}, {31, 17}, {3, 3}};  // {ny, nx}
  for (MPI_Comm comm : comms)
    for (const K& k : ks)
      for (const auto& g : grids) {
        const int ny = g[0], nx = g[1];
        CAPTURE(k.name);
        CAPTURE(ny);
        CAPTURE(nx);
        ScopedOption kind("-nltest_nonlinearity", k.name),
            beta("-nltest_nonlinearity_beta", k.beta);
        ScopedOption ftype("-nltest_f_type", "grf");
        auto family = pins::nonlinear_darcy::create_problem_family();
        PINS_PETSC_CALL(family->SetFromOptions(PETSC_COMM_SELF, "nltest_"));
        family->set_up({ny, nx}, 3);
        const size_t n = size_t(ny) * nx;
        std::vector<double> kappa(n), f(n), u(n), gvals(n);
        std::uint64_t seeds[2];
        family->sample(4, {kappa.data(), f.data()}, seeds);
        pins::Rng rng(pins::sample_seed(77, 4, 9));
        for (auto& v : u) v = rng.normal();
        for (auto& v : gvals) v = rng.normal();

        DM da;
        SNES snes;
        Vec U, F, G, JTG;
        Mat J;
        PINS_PETSC_CALL(family->CreateDM(comm, &da));
        PINS_PETSC_CALL(family->SetSNESFunctions(da, {kappa.data(), f.data()}));
        PINS_PETSC_CALL(SNESCreate(comm, &snes));
        PINS_PETSC_CALL(SNESSetDM(snes, da));
        PINS_PETSC_CALL(DMCreateGlobalVector(da, &U));
        PINS_PETSC_CALL(VecDuplicate(U, &F));
        PINS_PETSC_CALL(VecDuplicate(U, &G));
        PINS_PETSC_CALL(VecDuplicate(U, &JTG));
        PINS_PETSC_CALL(DMCreateMatrix(da, &J));
        fill(da, u, U);
        fill(da, gvals, G);
        PINS_PETSC_CALL(SNESComputeFunction(snes, U, F));
        PINS_PETSC_CALL(SNESComputeJacobian(snes, U, J, J));
        PINS_PETSC_CALL(MatMultTranspose(J, G, JTG));
        const std::vector<double> F_petsc = gather(da, F, n), JTg_petsc = gather(da, JTG, n);

        const torch::Tensor kt = as_tensor(kappa, ny, nx), ft = as_tensor(f, ny, nx),
                            ut = as_tensor(u, ny, nx), gt = as_tensor(gvals, ny, nx);
        const torch::Tensor F_kokkos = pins::nonlinear_darcy::residual(k.k, kt, ft, ut);
        const torch::Tensor m = pins::nonlinear_darcy::residual_magnitude(k.k, kt, ft, ut);
        // Rounding bound per row: the same face fluxes in the same order, each a handful of
        // roundings of terms of the size m: 10 eps m.
        double worst = 0;
        for (size_t p = 0; p < n; ++p)
          worst = std::max(worst, std::abs(F_petsc[p] - F_kokkos.data_ptr<double>()[p]) /
                                      (10 * eps * m.data_ptr<double>()[p]));
        CHECK(worst <= 1.0);
        CHECK(F_kokkos.abs().max().item<double>() > 1.0);  // u is random: F is not small
        // Jᵀ g: PETSc sums a column's entries in another order than the adjoint kernel
        // gathers them (the entries themselves are the same face derivatives). Each entry of
        // either is within ~5 eps of (|J|ᵀ|g|)_m ≤ ‖J‖₁ max|g|: bound 64 eps ‖J‖₁ max|g|.
        const torch::Tensor JTg_kokkos = pins::nonlinear_darcy::residual_adjoint(k.k, kt, ut, gt);
        PetscReal J1;
        PINS_PETSC_CALL(MatNorm(J, NORM_1, &J1));
        const double tol = 64 * eps * J1 * gt.abs().max().item<double>();
        double jworst = 0;
        for (size_t p = 0; p < n; ++p)
          jworst = std::max(jworst, std::abs(JTg_petsc[p] - JTg_kokkos.data_ptr<double>()[p]));
        CHECK(jworst <= tol);
        CHECK(JTg_kokkos.abs().max().item<double>() > 1.0);
        MatDestroy(&J);
        VecDestroy(&JTG);
        VecDestroy(&G);
        VecDestroy(&F);
        VecDestroy(&U);
        SNESDestroy(&snes);
        DMDestroy(&da);
      }
}

namespace {
// This file's scratch folders: <tmp>/pins_nonlinear_test_<tag>_<pid>.
struct TempDir : pins::test::TempDir {
  explicit TempDir(const char* tag) : pins::test::TempDir("nonlinear", tag) {}
};

pins::petsc::GenerateOptions nonlinear_run(const fs::path& out) {
  pins::petsc::GenerateOptions o;
  o.pde = "nonlinear_darcy";
  o.grid = {20, 16};  // nx, ny as typed
  o.samples = 4;
  o.seed = 11;
  o.output = out.string();
  o.progress = false;
  return o;
}
}  // namespace

TEST_CASE("nonlinear_darcy: generate solves with Newton and verify recomputes F with Kokkos") {
  TempDir dir("generate");
  const auto opts = nonlinear_run(dir.path / "d.h5");
  const pins::petsc::GenerateSummary s = pins::petsc::generate(PETSC_COMM_SELF, opts);
  CHECK(s.snes_type == "newtonls");
  CHECK(s.ksp_type == "gmres");
  CHECK(s.pc_type == "gamg");
  CHECK(s.rtol == 1e-10);
  CHECK(s.residual_max <= 1e-10);
  CHECK(s.iterations_min >= 3);  // a nonlinear problem: more than one Newton step
  CHECK(s.iterations_max <= 20);
  const pins::Dataset d = pins::read_dataset(opts.output);
  CHECK(d.info.pde == "nonlinear_darcy");
  CHECK(d.info.equation == "-div(kappa k(u) grad u) = f, k(u) = 1 + u^2");
  CHECK(std::get<std::string>(*d.info.find_sampler("nonlinearity")) == "quadratic");
  CHECK(std::get<double>(*d.info.find_sampler("f_value")) == 100.0);
  bool snes_attribute = false;
  for (const auto& a : d.info.extra)
    if (a.name == "solver.snes_type") snes_attribute = std::get<std::string>(a.value) == "newtonls";
  CHECK(snes_attribute);
  // u = O(1): the nonlinearity matters at the default f.
  double umax = 0;
  for (double v : d.u.values) umax = std::max(umax, std::abs(v));
  CHECK(umax > 0.3);
  const pins::petsc::VerifyReport report = pins::petsc::verify_dataset(d);
  CHECK(report.failures == 0);
  CHECK(report.max_residual > 0);
  CHECK(report.max_stored_difference <= report.max_allowance);
  // Newton ends far below rtol (often at rounding level), so a tiny tolerance need not fail;
  // a perturbed u must: verify does look at the solutions.
  pins::Dataset perturbed = d;
  for (double& v : perturbed.u.values) v *= 1.0001;
  CHECK(pins::petsc::verify_dataset(perturbed).failures == 4);
}

TEST_CASE("nonlinear_darcy: exp nonlinearity, divergent samples and bad options") {
  {
    TempDir dir("exp");
    ScopedOption kind("-nonlinearity", "exp"), beta("-nonlinearity_beta", "1.5");
    const auto opts = nonlinear_run(dir.path / "d.h5");
    const pins::petsc::GenerateSummary s = pins::petsc::generate(PETSC_COMM_SELF, opts);
    CHECK(s.residual_max <= 1e-10);
    const pins::Dataset d = pins::read_dataset(opts.output);
    CHECK(std::get<double>(*d.info.find_sampler("nonlinearity_beta")) == 1.5);
    // verify sets the family up from the file's parameters: exp(1.5 u), not 1 + u².
    CHECK(pins::petsc::verify_dataset(d).failures == 0);
  }
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
    ScopedOption max_it("-snes_max_it", "1");
    const std::string message = error(nonlinear_run(dir.path / "d.h5"));
    CHECK(message.find("sample 0: SNES did not converge: DIVERGED_MAX_IT") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
    CHECK(dir.entries() == 0);
  }
  {
    TempDir dir("bad");
    ScopedOption kind("-nonlinearity", "cubic");
    const std::string message = error(nonlinear_run(dir.path / "d.h5"));
    CHECK(message.find("-nonlinearity must be quadratic") != std::string::npos);
    CHECK(dir.entries() == 0);
  }
}
