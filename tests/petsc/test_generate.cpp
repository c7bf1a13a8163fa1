// pins::petsc::generate in-process: every stored solution is certified by the Kokkos
// operator, and a solver that cannot converge fails the run without leaving files.

#include <doctest/doctest.h>
#include <petscsys.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "pins/core/dataset.hpp"
#include "pins/petsc/generate.hpp"
#include "pins/petsc/verify.hpp"

namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const char* tag) {
    path = fs::temp_directory_path() /
           (std::string("pins_generate_test_") + tag + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  size_t entries() const {
    return size_t(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
  }
};

// Sets a PETSc option for the lifetime of the object.
struct ScopedOption {
  const char* name;
  ScopedOption(const char* n, const char* value) : name(n) {
    PetscOptionsSetValue(nullptr, n, value);
  }
  ~ScopedOption() { PetscOptionsClearValue(nullptr, name); }
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
    CHECK(error(opts).find("-pde 'heat' is not a known problem family (known: darcy)") !=
          std::string::npos);
  }
  SUBCASE("kappa") {
    ScopedOption low("-kappa_low", "0");
    CHECK(error(opts).find("-kappa_low must be a positive conductivity") != std::string::npos);
  }
  CHECK(dir.entries() == 0);
}
