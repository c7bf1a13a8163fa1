// pins::petsc::generate in-process: every stored solution is certified by the Kokkos
// operator, a solver that cannot converge fails the run without leaving files, and
// -inputs_only writes a labelled run's inputs without ever setting up a solver.

#include <petscksp.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "doctest_torch.hpp"  // torch (training_data's tensors), then doctest
#include "pins/core/dataset.hpp"
#include "pins/core/trainer.hpp"
#include "pins/petsc/generate.hpp"
#include "pins/petsc/verify.hpp"

namespace fs = std::filesystem;

#include "scoped_option.hpp"
#include "temp_dir.hpp"

namespace {

// This file's scratch folders: <tmp>/pins_generate_test_<tag>_<pid>.
struct TempDir : pins::test::TempDir {
  explicit TempDir(const char* tag) : pins::test::TempDir("generate", tag) {}
};

pins::petsc::GenerateOptions small_run(const fs::path& out) {
  pins::petsc::GenerateOptions o;
  o.pde = "darcy";
  o.grid = {24, 16};  // nx, ny as typed
  o.samples = 6;
  o.seed = 7;
  o.output = out.string();
  o.progress = false;
  return o;
}

}  // namespace

TEST_CASE("generated solutions meet the solver rtol under the Kokkos operator") {
  TempDir dir("verify");
  ScopedOption contrast("-kappa_contrast", "100");
  const auto opts = small_run(dir.path / "d.h5");
  const pins::petsc::GenerateSummary s = pins::petsc::generate(PETSC_COMM_SELF, opts);
  CHECK(s.samples == 6);
  CHECK(s.rtol == 1e-10);
  CHECK(s.ksp_type == "cg");
  CHECK(s.pc_type == "gamg");
  CHECK(s.iterations_min >= 1);
  CHECK(s.residual_max <= 1e-10);
  CHECK(dir.entries() == 1);

  const pins::Dataset d = pins::read_dataset(opts.output);
  CHECK(d.samples == 6);
  CHECK(d.info.nx() == 24);
  CHECK(d.info.ny() == 16);
  CHECK(d.info.grid == std::vector<std::int64_t>{16, 24});
  CHECK(d.info.input_list() == "kappa,f");
  CHECK(d.info.dof == 1);
  CHECK(d.info.operator_description == "stencil: dim=2 star width=1 dof=1");
  CHECK(s.grid_text == "24x16");
  CHECK(std::get<double>(*d.info.find_sampler("kappa_high")) == 100.0);
  CHECK(std::get<double>(*d.info.find_sampler("kappa_low")) == 1.0);
  for (double r : d.residual) CHECK(r <= 1e-10);

  const pins::petsc::VerifyReport report = pins::petsc::verify_dataset(d);
  CHECK(report.failures == 0);
  CHECK(report.max_residual <= 1e-10 + report.max_allowance);
  CHECK(report.max_residual > 0);
  // Recomputed (Kokkos) and stored (PETSc MatMult) residuals are the same quantity; each is
  // within half the rounding allowance of the exact one, so they differ by at most that.
  CHECK(report.max_stored_difference <= report.max_allowance);
  // The same check with an impossible tolerance fails: it does look at the data.
  CHECK(pins::petsc::verify_dataset(d, 1e-30).failures == 6);
}

TEST_CASE("a solver that does not converge fails the run and leaves no file") {
  TempDir dir("diverge");
  ScopedOption max_it("-ksp_max_it", "2");
  const auto opts = small_run(dir.path / "d.h5");
  std::string message;
  try {
    pins::petsc::generate(PETSC_COMM_SELF, opts);
  } catch (const pins::petsc::CollectiveError& e) {
    message = e.what();
  }
  CHECK(message.find("sample 0") != std::string::npos);
  CHECK(message.find("DIVERGED_ITS") != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(dir.entries() == 0);
}

TEST_CASE("bad generate options are rejected before anything is written") {
  TempDir dir("options");
  auto opts = small_run(dir.path / "d.h5");
  auto error = [&](const pins::petsc::GenerateOptions& o) {
    try {
      pins::petsc::generate(PETSC_COMM_SELF, o);
    } catch (const pins::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  SUBCASE("grid") {
    opts.grid = {2, 16};
    CHECK(error(opts).find("-grid must be at least 3") != std::string::npos);
  }
  SUBCASE("grid of another dimension") {
    opts.grid = {8, 8, 8};
    CHECK(error(opts).find("-grid 8,8,8 has 3 directions, but -pde darcy is 2-D") !=
          std::string::npos);
  }
  SUBCASE("samples") {
    opts.samples = 0;
    CHECK(error(opts).find("-samples must be at least 1") != std::string::npos);
  }
  SUBCASE("pde") {
    opts.pde = "heat";
    CHECK(
        error(opts).find(
            "-pde 'heat' is not a known problem family (known: darcy, darcy3d, nonlinear_darcy, darcy_fem, allen_cahn, gray_scott)") !=
        std::string::npos);
  }
  SUBCASE("kappa") {
    ScopedOption low("-kappa_low", "0");
    CHECK(error(opts).find("-kappa_low must be a positive conductivity") != std::string::npos);
  }
  CHECK(dir.entries() == 0);
}

namespace {

// How often PETSc's log saw KSPSetUp (called by every KSPSolve too) in the main stage.
// Events are only counted once logging is on, hence PetscLogDefaultBegin first. (Not
// KSPSolve: a PETSc error inside a solve while logging is on leaves that event "running",
// and then it never counts again; the error-boundary tests make such errors on purpose.)
int ksp_setups() {
  REQUIRE(KSPInitializePackage() == 0);  // registers the KSP events
  PetscLogEvent event = -1;
  REQUIRE(PetscLogEventGetId("KSPSetUp", &event) == 0);
  PetscEventPerfInfo info{};
  REQUIRE(PetscLogEventGetPerfInfo(0, event, &info) == 0);
  return info.count;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("-inputs_only writes the labelled run's inputs and never sets up a KSP") {
  TempDir dir("inputs_only");
  REQUIRE(PetscLogDefaultBegin() == 0);
  ScopedOption lognormal("-kappa_type", "lognormal");
  ScopedOption source("-f_type", "grf");  // both inputs random, so both are compared
  auto labelled_opts = small_run(dir.path / "labelled.h5");
  const int setups = ksp_setups();
  pins::petsc::generate(PETSC_COMM_SELF, labelled_opts);
  // The counter does see solvers: a labelled run sets up one KSP per sample.
  CHECK(ksp_setups() >= setups + 6);

  auto inputs_opts = small_run(dir.path / "inputs.h5");
  inputs_opts.inputs_only = true;
  pins::petsc::GenerateSummary s;
  {
    // A solver type that does not exist: any KSP configured from the options would fail.
    ScopedOption impossible("-ksp_type", "nonexistent");
    const int setups0 = ksp_setups();
    s = pins::petsc::generate(PETSC_COMM_SELF, inputs_opts);
    CHECK(ksp_setups() == setups0);
    // The option is not inert: a labelled run reads it and fails.
    auto refused = small_run(dir.path / "refused.h5");
    CHECK_THROWS_AS(pins::petsc::generate(PETSC_COMM_SELF, refused), pins::Error);
    CHECK(!fs::exists(refused.output));
  }
  CHECK(s.inputs_only);
  CHECK(s.samples == 6);
  CHECK(s.iterations_max == 0);
  CHECK(s.ksp_type.empty());

  const pins::Dataset labelled = pins::read_dataset(labelled_opts.output);
  const pins::Dataset inputs = pins::read_dataset(inputs_opts.output);
  CHECK(labelled.info.labelled);
  CHECK_FALSE(inputs.info.labelled);
  CHECK(inputs.samples == 6);
  CHECK(inputs.info.grid == labelled.info.grid);
  CHECK(inputs.info.input_list() == "kappa,f");
  CHECK(inputs.info.ksp_type.empty());
  CHECK(inputs.info.find_extra("solver.norm_type") == nullptr);
  CHECK(std::get<std::string>(*inputs.info.find_sampler("kappa_type")) == "lognormal");
  REQUIRE(inputs.inputs.size() == 2);
  for (size_t k = 0; k < 2; ++k) {
    INFO("input ", labelled.inputs[k].name);
    CHECK(inputs.inputs[k].name == labelled.inputs[k].name);
    CHECK(same_bits(inputs.inputs[k].values, labelled.inputs[k].values));
  }
  CHECK(inputs.seeds == labelled.seeds);
  CHECK(inputs.u.values.empty());
  CHECK(inputs.iterations.empty());
  CHECK(inputs.residual.empty());

  // Nothing to verify; the message names the problem in one line.
  std::string message;
  try {
    pins::petsc::verify_dataset(inputs);
  } catch (const pins::Error& e) {
    message = e.what();
  }
  CHECK(message.find("holds no solutions") != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);

  // Training data: the same inputs, u left undefined for physics-only training, and a
  // fingerprint of its own (a labelled file's also covers u).
  const pins::TrainingData a = pins::training_data(labelled), b = pins::training_data(inputs);
  CHECK(a.u.defined());
  CHECK_FALSE(b.u.defined());
  CHECK(torch::equal(a.input("kappa"), b.input("kappa")));
  CHECK(torch::equal(a.input("f"), b.input("f")));
  CHECK(b.fingerprint.size() == 64);
  CHECK(b.fingerprint != a.fingerprint);
  CHECK(pins::training_data(inputs).fingerprint == b.fingerprint);
  CHECK_FALSE(b.select(torch::arange(2)).u.defined());
}
