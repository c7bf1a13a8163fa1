// The error boundary between PETSc and pins' C++ code (pins/petsc/error.hpp): a C++
// exception inside a function that PETSc calls comes out of the PETSc call as a PETSc error
// with the exception's message, never as a crash or std::terminate. ctest runs the
// "boundary" cases on one and on two processes: on two, a failure that only rank 0 sees (its
// network's features) must still stop both ranks with the same error instead of a hang.

#include "doctest_torch.hpp"  // first: keeps glog's CHECK out of doctest's way

#include <petscdmda.h>
#include <petscksp.h>
#include <unistd.h>

#include <cstdio>
#include <new>
#include <string>

#include "pins/core/model_file.hpp"
#include "pins/core/precondition.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/register.hpp"
#include "surrogates/registry.hpp"

namespace {

constexpr char kShell[] = "test shell";

// Shell-matrix products that fail in C++ in the ways pins code can.
PetscErrorCode mult_torch_throws(Mat, Vec, Vec) {
  PetscFunctionBeginUser;
  // Shapes [2] and [3] do not broadcast: LibTorch throws c10::Error (with a C++ backtrace).
  const torch::Tensor sum = torch::ones({2}, torch::kFloat64) + torch::ones({3}, torch::kFloat64);
  (void)sum;
  PetscFunctionReturn(0);
}

PetscErrorCode mult_out_of_memory(Mat, Vec, Vec) {
  PetscFunctionBeginUser;
  throw std::bad_alloc();
  PetscFunctionReturn(0);
}

PetscErrorCode mult_throws_int(Mat, Vec, Vec) {
  PetscFunctionBeginUser;
  throw 42;
  PetscFunctionReturn(0);
}

PetscErrorCode mult_ok(Mat, Vec x, Vec y) {
  PetscFunctionBeginUser;
  PetscCall(VecCopy(x, y));
  PetscFunctionReturn(0);
}

// MatMult through PETSc on a 4 x 4 shell matrix whose product is `mult`: the error code and
// the recorded message (tests/petsc/main.cpp records PETSc errors instead of printing them).
template <PetscErrorCode (*Mult)(Mat, Vec, Vec)>
std::pair<PetscErrorCode, std::string> shell_mult() {
  Mat A;
  Vec x, y;
  PINS_PETSC_CALL(MatCreateShell(PETSC_COMM_SELF, 4, 4, 4, 4, nullptr, &A));
  PINS_PETSC_CALL(
      MatShellSetOperation(A, MATOP_MULT, (void (*)(void))pins::petsc::guarded<kShell, Mult>));
  PINS_PETSC_CALL(MatCreateVecs(A, &x, &y));
  PINS_PETSC_CALL(VecSet(x, 1.0));
  const PetscErrorCode code = MatMult(A, x, y);
  const std::string message = code ? pins::petsc::take_petsc_error(code) : std::string();
  VecDestroy(&x);
  VecDestroy(&y);
  MatDestroy(&A);
  return {code, message};
}

}  // namespace

TEST_CASE("boundary: a LibTorch exception in a PETSc callback is a PETSc error, one line") {
  const auto [code, message] = shell_mult<mult_torch_throws>();
  CHECK(code == PETSC_ERR_LIB);
  CHECK(message.rfind("test shell: ", 0) == 0);
  CHECK(message.find("must match the size of tensor b (3)") != std::string::npos);
  CHECK(message.find("Exception raised from") == std::string::npos);  // no C++ backtrace
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("boundary: std::bad_alloc is PETSC_ERR_MEM, a non-std exception is still an error") {
  const auto [mem_code, mem_message] = shell_mult<mult_out_of_memory>();
  CHECK(mem_code == PETSC_ERR_MEM);
  CHECK(mem_message == "test shell: out of memory in C++ code (std::bad_alloc)");
  const auto [int_code, int_message] = shell_mult<mult_throws_int>();
  CHECK(int_code == PETSC_ERR_LIB);
  CHECK(int_message == "test shell: unknown C++ exception");
}

TEST_CASE("boundary: a callback that does not throw passes its result through") {
  const auto [code, message] = shell_mult<mult_ok>();
  CHECK(code == 0);
  CHECK(message.empty());
  // PETSc keeps working after the errors above (its debug stack is balanced again).
  const auto [again, again_message] = shell_mult<mult_torch_throws>();
  CHECK(again == PETSC_ERR_LIB);
}

namespace {

// A 5-point operator on an n x n DMDA whose grid point (bi, bj) has diagonal `diag` and east
// coupling `east`: a matrix PETSc accepts and stencil_from_matrix reads, but whose scaled
// couplings east / diag overflow to Inf inside pins' feature code on rank 0.
Mat badly_scaled_operator(DM da, PetscInt n, PetscInt bi, PetscInt bj, double diag, double east) {
  Mat A;
  PINS_PETSC_CALL(DMCreateMatrix(da, &A));
  PetscInt xs, ys, xm, ym;
  PINS_PETSC_CALL(DMDAGetCorners(da, &xs, &ys, nullptr, &xm, &ym, nullptr));
  for (PetscInt j = ys; j < ys + ym; ++j)
    for (PetscInt i = xs; i < xs + xm; ++i) {
      MatStencil row{}, cols[5]{};
      PetscScalar vals[5];
      PetscInt nc = 0;
      row.i = i;
      row.j = j;
      const bool bad = i == bi && j == bj;
      const auto add = [&](PetscInt ii, PetscInt jj, double v) {
        cols[nc].i = ii;
        cols[nc].j = jj;
        vals[nc++] = v;
      };
      add(i, j, bad ? diag : 4.0);
      if (i > 0) add(i - 1, j, -1.0);
      if (i < n - 1) add(i + 1, j, bad ? east : -1.0);
      if (j > 0) add(i, j - 1, -1.0);
      if (j < n - 1) add(i, j + 1, -1.0);
      PINS_PETSC_CALL(MatSetValuesStencil(A, 1, &row, nc, cols, vals, INSERT_VALUES));
    }
  PINS_PETSC_CALL(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PINS_PETSC_CALL(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  return A;
}

}  // namespace

TEST_CASE(
    "boundary: -pc_type surrogate refuses an operator its features overflow on, on every rank") {
  PINS_PETSC_CALL(pins::petsc::register_all());
  // An untrained MgNet is a valid preconditioner model; each process writes its own copy.
  const std::string model = "/tmp/pins_test_boundary_" + std::to_string(long(::getpid())) + ".pins";
  pins::ModelManifest manifest;
  manifest.task = pins::kPreconditionTask;
  pins::save_model(
      model,
      *pins::make_surrogate("mgnet", pins::OptionMap{{"-mgnet_width", "4"}, {"-mgnet_smooth", "1"}},
                            pins::kPreconditionChannels, 1),
      manifest, true);

  const PetscInt n = 8;
  DM da;
  PINS_PETSC_CALL(DMDACreate2d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                               DMDA_STENCIL_STAR, n, n, PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr,
                               nullptr, &da));
  PINS_PETSC_CALL(DMSetUp(da));
  // 1e308 / 1e-10 overflows; the diagonal itself is finite and non-zero, so the matrix
  // passes stencil_from_matrix's checks and the failure comes from the C++ feature code.
  Mat A = badly_scaled_operator(da, n, 5, 6, 1e-10, 1e308);
  KSP ksp;
  PC pc;
  PINS_PETSC_CALL(KSPCreate(PETSC_COMM_WORLD, &ksp));
  PINS_PETSC_CALL(KSPSetOperators(ksp, A, A));
  PINS_PETSC_CALL(KSPSetDM(ksp, da));
  PINS_PETSC_CALL(KSPSetDMActive(ksp, PETSC_FALSE));
  PINS_PETSC_CALL(KSPSetType(ksp, KSPFGMRES));
  PINS_PETSC_CALL(KSPGetPC(ksp, &pc));
  PINS_PETSC_CALL(PCSetType(pc, "surrogate"));
  PINS_PETSC_CALL(PetscOptionsSetValue(nullptr, "-boundary_pc_surrogate_model", model.c_str()));
  PINS_PETSC_CALL(KSPSetOptionsPrefix(ksp, "boundary_"));
  PINS_PETSC_CALL(KSPSetFromOptions(ksp));
  const PetscErrorCode code = KSPSetUp(ksp);
  const std::string message = code ? pins::petsc::take_petsc_error(code) : std::string();
  CHECK(code == PETSC_ERR_LIB);
  CHECK(message.rfind("-pc_type surrogate: stencil coefficients at sample 0, row 6, column 5:",
                      0) == 0);
  CHECK(message.find("every coefficient finite") != std::string::npos);
  // The same operator with a usable scaling sets up: the error above was about the values.
  Mat good = badly_scaled_operator(da, n, 5, 6, 4.0, -1.0);
  PINS_PETSC_CALL(KSPSetOperators(ksp, good, good));
  CHECK(KSPSetUp(ksp) == 0);
  PINS_PETSC_CALL(PetscOptionsClearValue(nullptr, "-boundary_pc_surrogate_model"));
  KSPDestroy(&ksp);
  MatDestroy(&good);
  MatDestroy(&A);
  DMDestroy(&da);
  std::remove(model.c_str());
}
