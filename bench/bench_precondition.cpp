// Krylov solvers with and without pins' surrogate PC, side by side in one run.
//
// For each grid and operator set (Darcy κ ∈ {12, 3}, and high contrast κ ∈ {1, 10⁴}), the
// program draws samples the model never saw (seed -seed, default 1000; training used
// sampled operators from seed 0), assembles A(κ) and b = 1 with pins' Darcy assembly on a
// DMDA, and solves to -rtol (1e-8) with each configuration, a fresh KSP per solve. Reported
// per configuration: mean iterations, mean set-up + solve time, and the worst true relative
// residual. Replace mode's row gives the surrogate's relative L2 error against a CG + GAMG
// solve to 1e-12 and its time.
//
// -baselines a.pins,b.pins adds a row "FGMRES + <file>" per model (no extra sweeps), e.g.
// the untrained network; -window sets the PC's stall window (-pc_surrogate_window).
// -smoother sm.pins (from `pins train -task smoother`) adds the learned sparse smoother on
// every level of GAMG, and alone as CG's preconditioner. Either -model or -smoother is needed;
// without -model the surrogate PC's rows are left out.
//
//   bench_precondition -model pc.pins -grids 64,128,256 -samples 3 [-baselines u.pins]
//   bench_precondition -smoother sm.pins -grids 256,1024 -samples 2
//   mpiexec -n 2 bench_precondition -model pc.pins -grids 1024 -cycles   (an MgNet applied as
//     distributed matrices and by the network on rank 0, side by side)
//   bench_precondition -model pc.pins -grids 1024 -fgmres_gamg   (adds GAMG under FGMRES)
//   bench_precondition -model pc.pins -grids 1024 -galerkin   (adds the MgNet cycle with A's own
//     coarse operators, -pc_surrogate_galerkin symmetric)
#include <algorithm>
#include <petscdmda.h>
#include <petscksp.h>
#include <petsctime.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "pde/darcy/darcy_petsc.hpp"
#include "pde/darcy/darcy_sampler.hpp"
#include "pins/petsc/register.hpp"

namespace {

struct Config {
  std::string name, options;
};

struct Outcome {
  double its = 0, seconds = 0, worst_residual = 0, error = 0;
  int solves = 0;
  bool failed = false;
};

PetscErrorCode solve(DM da, Mat A, Vec b, Vec x, const std::string& options, int tag,
                     PetscInt* its, double* seconds, double* residual, KSPConvergedReason* reason) {
  PetscFunctionBeginUser;
  const std::string prefix = "b" + std::to_string(tag) + "_";
  std::string prefixed;
  std::vector<std::string> names;  // cleared after the solve: PETSc's table holds 512 options
  std::istringstream in(options);
  for (std::string w; in >> w;) {
    const bool name = w[0] == '-' && !std::isdigit(w[1]);
    if (name) names.push_back("-" + prefix + w.substr(1));
    prefixed += (name ? names.back() : w) + " ";
  }
  PetscCall(PetscOptionsInsertString(nullptr, prefixed.c_str()));
  KSP ksp;
  PetscCall(KSPCreate(PETSC_COMM_WORLD, &ksp));
  PetscCall(KSPSetOptionsPrefix(ksp, prefix.c_str()));
  PetscCall(KSPSetOperators(ksp, A, A));
  PetscCall(KSPSetDM(ksp, da));
  PetscCall(KSPSetDMActive(ksp, PETSC_FALSE));
  PetscCall(KSPSetFromOptions(ksp));
  PetscCall(VecZeroEntries(x));
  PetscLogDouble t0, t1;
  PetscCall(PetscTime(&t0));
  PetscCall(KSPSetUp(ksp));
  PetscCall(KSPSolve(ksp, b, x));
  PetscCall(PetscTime(&t1));
  *seconds = t1 - t0;
  PetscCall(KSPGetIterationNumber(ksp, its));
  PetscCall(KSPGetConvergedReason(ksp, reason));
  Vec r;
  PetscReal rn, bn;
  PetscCall(VecDuplicate(b, &r));
  PetscCall(MatMult(A, x, r));
  PetscCall(VecAYPX(r, -1.0, b));
  PetscCall(VecNorm(r, NORM_2, &rn));
  PetscCall(VecNorm(b, NORM_2, &bn));
  *residual = rn / bn;
  PetscCall(VecDestroy(&r));
  PetscCall(KSPDestroy(&ksp));
  for (const auto& n : names) PetscCall(PetscOptionsClearValue(nullptr, n.c_str()));
  PetscFunctionReturn(0);
}

}  // namespace

int main(int argc, char** argv) {
  PetscCall(PetscInitialize(&argc, &argv, nullptr, "pins preconditioner benchmark"));
  PetscCall(pins::petsc::register_all());
  char model[PETSC_MAX_PATH_LEN] = "";
  char smoother[PETSC_MAX_PATH_LEN] = "";
  char grids_text[256] = "64,128,256";
  // More models to compare as "FGMRES + <file name>" rows, e.g. an untrained one.
  char baselines_text[2048] = "";
  PetscInt samples = 3, seed = 1000, smooth = 2;
  PetscReal rtol = 1e-8;
  PetscInt window = 0;  // the surrogate PC's stall window (-pc_surrogate_window; 0: its default)
  PetscCall(PetscOptionsGetString(nullptr, nullptr, "-model", model, sizeof model, nullptr));
  PetscCall(PetscOptionsGetString(nullptr, nullptr, "-smoother", smoother, sizeof smoother, nullptr));
  PetscCall(PetscOptionsGetString(nullptr, nullptr, "-grids", grids_text, sizeof grids_text, nullptr));
  PetscCall(PetscOptionsGetInt(nullptr, nullptr, "-samples", &samples, nullptr));
  PetscCall(PetscOptionsGetInt(nullptr, nullptr, "-seed", &seed, nullptr));
  PetscCall(PetscOptionsGetInt(nullptr, nullptr, "-smooth", &smooth, nullptr));
  PetscCall(PetscOptionsGetReal(nullptr, nullptr, "-rtol", &rtol, nullptr));
  PetscCall(PetscOptionsGetInt(nullptr, nullptr, "-window", &window, nullptr));
  PetscBool cycle_rows = PETSC_FALSE;
  PetscCall(PetscOptionsGetBool(nullptr, nullptr, "-cycles", &cycle_rows, nullptr));
  // -skip a,b: leave out the rows whose names contain a or b (e.g. "Jacobi,ICC" at 1024²).
  char skip_text[512] = "";
  PetscCall(PetscOptionsGetString(nullptr, nullptr, "-skip", skip_text, sizeof skip_text, nullptr));
  PetscCall(PetscOptionsGetString(nullptr, nullptr, "-baselines", baselines_text,
                                  sizeof baselines_text, nullptr));
  PetscCheck(model[0] || smoother[0], PETSC_COMM_WORLD, PETSC_ERR_ARG_NULL,
             "-model <pc.pins> or -smoother <sm.pins> is required");
  std::vector<int> grids;
  {
    std::stringstream ss(grids_text);
    for (std::string g; std::getline(ss, g, ',');) grids.push_back(std::stoi(g));
  }
  char rtol_text[32];
  std::snprintf(rtol_text, sizeof rtol_text, "%g", (double)rtol);
  const std::string m = model, tol = std::string(" -ksp_rtol ") + rtol_text + " -ksp_max_it 2000";
  // Every method stops on the true (unpreconditioned) residual, so the rows compare alike.
  const std::string cg = "-ksp_type cg -ksp_norm_type unpreconditioned";
  // Classical Gram-Schmidt with refinement where needed: without it FGMRES loses
  // orthogonality on the 1:1e4 operators and stalls (measured: 211 iterations instead of 30
  // for the same preconditioner at 256²). CG needs no such setting.
  // -flex " <options>" adds options to every FGMRES row (e.g. " -ksp_gmres_modifiedgramschmidt").
  // PETSc reads an argument that starts with '-' as the next option, not as -flex's value, so
  // the value must start with a space; without one -flex would be silently empty.
  char flex_extra[512] = "";
  PetscBool flex_set = PETSC_FALSE;
  PetscCall(PetscOptionsGetString(nullptr, nullptr, "-flex", flex_extra, sizeof flex_extra, &flex_set));
  PetscCheck(!flex_set || flex_extra[0], PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
             "-flex got no value: PETSc takes an argument starting with '-' for the next option; "
             "start the options with a space, e.g. -flex ' -ksp_gmres_modifiedgramschmidt'");
  const std::string flex =
      " -ksp_type fgmres -ksp_gmres_restart 200 -ksp_gmres_cgs_refinement_type refine_ifneeded " +
      std::string(flex_extra);
  const std::string window_option =
      window > 0 ? " -pc_surrogate_window " + std::to_string(window) : std::string();
  auto surrogate_pc = [&](const std::string& model_path) {
    return " -pc_type surrogate -pc_surrogate_model " + model_path + window_option;
  };
  const std::string sur = surrogate_pc(m);
  // "FGMRES + surrogate" is row kSurrogateRow; the -baselines rows follow it.
  constexpr std::size_t kSurrogateRow = 4;
  std::vector<Config> configs = {
      {"CG + Jacobi", cg + " -pc_type jacobi" + tol},
      // ICC(0) of each process's block (PETSc's ICC is sequential): plain ICC(0) on one process.
      {"CG + ICC(0)", cg + " -pc_type bjacobi -sub_pc_type icc" + tol},
      {"CG + GAMG", cg + " -pc_type gamg" + tol},
      {"CG + BoomerAMG", cg + " -pc_type hypre -pc_hypre_type boomeramg" + tol},
      {"FGMRES + surrogate", flex + sur + " -pc_surrogate_smooth 0" + tol},
      {"FGMRES + surrogate, " + std::to_string(smooth) + "+" + std::to_string(smooth) + " Jacobi",
       flex + sur + " -pc_surrogate_smooth " + std::to_string(smooth) + tol},
      {"CG + GAMG, surrogate guess",
       cg + " -pc_type gamg -ksp_guess_type surrogate -ksp_guess_surrogate_model " + m + tol},
      {"replace (surrogate only)", "-ksp_type preonly" + sur + " -pc_surrogate_mode replace "
                                   "-pc_surrogate_certify_rtol 0.999 -pc_surrogate_smooth " +
                                       std::to_string(smooth)},
  };
  auto learned_smoother = [&](const std::string& prefix) {
    return " -" + prefix + "pc_type surrogate_smoother -" + prefix +
           "pc_surrogate_smoother_model " + smoother;
  };
  if (smoother[0]) {
    configs.push_back(
        {"CG + GAMG, learned smoother", cg + " -pc_type gamg" + learned_smoother("mg_levels_") + tol});
    configs.push_back({"CG + learned smoother alone", cg + learned_smoother("") + tol});
  }
  if (!model[0]) {  // no surrogate PC: keep the classical rows and the smoother's
    std::vector<Config> kept(configs.begin(), configs.begin() + kSurrogateRow);
    for (std::size_t c = kSurrogateRow; c < configs.size(); ++c)
      if (configs[c].name.find("learned smoother") != std::string::npos) kept.push_back(configs[c]);
    configs = kept;
  }
  if (model[0] && cycle_rows) {
    // Where the MgNet's applications run, side by side (-pc_surrogate_cycle): as distributed
    // matrices on every process, or by the network on rank 0 on the gathered grid — both on
    // the network's own hierarchy (D⁻¹A), so that they are the same cycle.
    configs.insert(configs.begin() + kSurrogateRow + 1,
                   {{"FGMRES + surrogate, cycle as matrices on D^-1 A",
                     flex + sur +
                         " -pc_surrogate_smooth 0 -pc_surrogate_cycle matrices"
                         " -pc_surrogate_galerkin scaled" +
                         tol},
                    {"FGMRES + surrogate, network on rank 0",
                     flex + sur + " -pc_surrogate_smooth 0 -pc_surrogate_cycle network" + tol}});
  }
  // -galerkin: the MgNet's cycle as matrices with A's own coarse operators
  // (-pc_surrogate_galerkin symmetric, the default since session 21) without the PC's own
  // smoothing steps, beside the default row.
  PetscBool galerkin_row = PETSC_FALSE;
  PetscCall(PetscOptionsGetBool(nullptr, nullptr, "-galerkin", &galerkin_row, nullptr));
  if (model[0] && galerkin_row)
    configs.insert(configs.begin() + kSurrogateRow + 1,
                   {"FGMRES + surrogate, Galerkin on A",
                    flex + sur + " -pc_surrogate_smooth 0 -pc_surrogate_galerkin symmetric" + tol});
  if (model[0]) {
    std::stringstream ss(baselines_text);
    for (std::string path; std::getline(ss, path, ',');) {
      if (path.empty()) continue;
      const std::string name = path.substr(path.find_last_of('/') + 1);
      configs.insert(configs.begin() + kSurrogateRow + 1,
                     {"FGMRES + " + name, flex + surrogate_pc(path) + " -pc_surrogate_smooth 0" + tol});
    }
  }
  // -fgmres_gamg: GAMG under the surrogate rows' FGMRES settings too, so a difference between
  // the rows can be told apart into the Krylov method's and the preconditioner's.
  PetscBool fgmres_gamg = PETSC_FALSE;
  PetscCall(PetscOptionsGetBool(nullptr, nullptr, "-fgmres_gamg", &fgmres_gamg, nullptr));
  if (fgmres_gamg)
    configs.push_back({"FGMRES + GAMG", flex + " -pc_type gamg" + tol});
  {
    std::stringstream ss(skip_text);
    for (std::string word; std::getline(ss, word, ',');) {
      if (word.empty()) continue;
      configs.erase(std::remove_if(configs.begin(), configs.end(),
                                   [&](const Config& c) {
                                     return c.name.find(word) != std::string::npos &&
                                            c.name != "FGMRES + surrogate";
                                   }),
                    configs.end());
    }
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "model %s; smoother %s; %" PetscInt_FMT " unseen samples per set (seed %" PetscInt_FMT
                        "), b = 1, rtol %g\n",
                        model[0] ? model : "none", smoother[0] ? smoother : "none", samples, seed,
                        (double)rtol));
  int tag = 0;
  for (const int n : grids) {
    for (const std::string set : {"darcy 12/3", "contrast 1:1e4"}) {
      DM da;
      Mat A;
      Vec b, x, xref;
      PetscCall(pins::darcy::create_dmda(PETSC_COMM_WORLD, n, n, &da));
      PetscCall(DMCreateMatrix(da, &A));
      PetscCall(DMCreateGlobalVector(da, &b));
      PetscCall(VecDuplicate(b, &x));
      PetscCall(VecDuplicate(b, &xref));
      pins::darcy::SamplerOptions so;
      so.seed = std::uint64_t(seed);
      if (set != "darcy 12/3") so.kappa_high = 1e4, so.kappa_low = 1;
      pins::darcy::Sampler sampler(so, n, n);
      std::vector<double> kappa(size_t(n) * n), f(size_t(n) * n);
      std::vector<Outcome> out(configs.size());
      for (PetscInt s = 0; s < samples; ++s) {
        sampler.sample(std::uint64_t(s), kappa.data(), f.data());
        PetscCall(pins::darcy::assemble_operator(da, kappa.data(), A));
        PetscCall(pins::darcy::assemble_rhs(da, f.data(), b));
        PetscInt its;
        double secs, res;
        KSPConvergedReason reason;
        if (s == 0) {
          // One untimed network solve first: LibTorch's thread pool and first-touch
          // allocations would otherwise be charged to whichever row runs first.
          std::size_t warm = configs.size() - 1;
          for (std::size_t c = 0; c < configs.size(); ++c)
            if (model[0] && configs[c].name == "FGMRES + surrogate") warm = c;
          PetscCall(solve(da, A, b, x, configs[warm].options, tag++, &its, &secs, &res, &reason));
        }
        PetscCall(solve(da, A, b, xref, "-ksp_type cg -pc_type gamg -ksp_rtol 1e-13", tag++, &its,
                        &secs, &res, &reason));
        PetscReal refn;
        PetscCall(VecNorm(xref, NORM_2, &refn));
        for (size_t c = 0; c < configs.size(); ++c) {
          PetscCall(solve(da, A, b, x, configs[c].options, tag++, &its, &secs, &res, &reason));
          Outcome& o = out[c];
          o.its += double(its);
          o.seconds += secs;
          o.worst_residual = std::max(o.worst_residual, res);
          o.failed = o.failed || reason < 0;
          PetscReal en;
          PetscCall(VecAXPY(x, -1.0, xref));
          PetscCall(VecNorm(x, NORM_2, &en));
          o.error = std::max(o.error, double(en / refn));
          ++o.solves;
        }
      }
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "\n### %d x %d, %s\n\n| solver | iterations | set-up + solve (s) | worst true rel. residual | worst rel. error |\n|---|---|---|---|---|\n",
                            n, n, set.c_str()));
      for (size_t c = 0; c < configs.size(); ++c) {
        const Outcome& o = out[c];
        PetscCall(PetscPrintf(PETSC_COMM_WORLD, "| %s | %.1f | %.4f | %.2e | %.2e |%s\n",
                              configs[c].name.c_str(), o.its / o.solves, o.seconds / o.solves,
                              o.worst_residual, o.error, o.failed ? " DIVERGED" : ""));
      }
      PetscCall(VecDestroy(&b));
      PetscCall(VecDestroy(&x));
      PetscCall(VecDestroy(&xref));
      PetscCall(MatDestroy(&A));
      PetscCall(DMDestroy(&da));
    }
  }
  PetscCall(PetscFinalize());
  return 0;
}
