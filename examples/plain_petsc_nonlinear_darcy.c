/* What this shows: a plain PETSc program -- only PETSc headers, no pins calls -- that solves
   the nonlinear Darcy problem -div(kappa (1 + u^2) grad u) = f on the unit square with SNES on
   a 2-D DMDA, and still gets a neural network's prediction as Newton's initial guess from
   the command line (-snes_surrogate_guess) through PETSc's dynamic loading. pins reads the
   network's inputs from the program's own equation: f = -F(0), and kappa from the Jacobian
   at u = 0. The discretisation is the one of pins' nonlinear_darcy family (cell-centred
   finite volumes, harmonic face means of kappa, arithmetic face means of k(u), u = 0 at the
   walls, rows not scaled), written out here in plain C.

   Sample runs (libpins_petsc.so is in the build's lib folder; the model from
   `pins train -data <nonlinear_darcy dataset> -o nl.pins`; kappa.bin a PETSc binary vector,
   e.g. one sample's kappa, in natural order):
     ./example_plain_petsc_nonlinear_darcy -kappa_file kappa.bin -snes_converged_reason
     ./example_plain_petsc_nonlinear_darcy -dll_append <build>/lib/libpins_petsc.so \
        -kappa_file kappa.bin -snes_surrogate_guess nl.pins -snes_surrogate_guess_view \
        -snes_converged_reason
     mpiexec -n 2 ./example_plain_petsc_nonlinear_darcy -da_grid_x 128 -da_grid_y 128 ...

   Expected output: the Newton iteration count, ||F(u)||/||F(0)|| and CONVERGED_FNORM_RELATIVE. */
#include <petscdmda.h>
#include <petscsnes.h>

typedef struct {
  DM  da;
  Vec kappa_local; /* kappa with ghost cells: a face needs both cells' values */
  PetscReal f;
  PetscBool arithmetic; /* -arithmetic_faces: another discretisation than pins' (tests) */
} AppCtx;

/* 1. The physics: k(u) = 1 + u^2, face transmissibilities as in pins' darcy family (with
      -arithmetic_faces, arithmetic face means of kappa instead: another discretisation, which
      the guess must refuse to read kappa from). */
static PetscReal k_of(PetscReal u) { return 1.0 + u * u; }
static PetscReal dk_of(PetscReal u) { return 2.0 * u; }

/* The transmissibility of the face between (i, j) and (i + di, j + dj): harmonic mean / h^2,
   or 2 kappa / h^2 on a wall (where *inside is set false). */
static PetscReal face_t(const AppCtx *app, DMDALocalInfo *info, PetscScalar **kap, PetscInt i, PetscInt j,
                        PetscInt di, PetscInt dj, PetscBool *inside) {
  const PetscInt  ii = i + di, jj = j + dj;
  const PetscReal h2 = di ? (PetscReal)info->mx * info->mx : (PetscReal)info->my * info->my;
  const PetscReal km = kap[j][i];
  *inside = (PetscBool)(ii >= 0 && ii < info->mx && jj >= 0 && jj < info->my);
  if (!*inside) return 2.0 * km * h2;
  if (app->arithmetic) return 0.5 * (km + kap[jj][ii]) * h2;
  return 2.0 * km * kap[jj][ii] / (km + kap[jj][ii]) * h2;
}

/* -no_dm: a SNES that does not know its grid (plain vectors, F(u) = u, -snes_mf); the tests
   check that the guess refuses it with a clear message instead of guessing. */
static PetscErrorCode FormIdentity(SNES snes, Vec x, Vec F, void *ptr) {
  PetscFunctionBeginUser;
  PetscCall(VecCopy(x, F));
  PetscFunctionReturn(0);
}

static const PetscInt kFaces[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};

/* 2. F(u)_m = sum over faces t (k(u_m) + k(u_n)) / 2 (u_m - u_n) - f. */
static PetscErrorCode FormFunction(DMDALocalInfo *info, PetscScalar **x, PetscScalar **F, void *ptr) {
  AppCtx       *app = (AppCtx *)ptr;
  PetscScalar **kap;
  PetscFunctionBeginUser;
  PetscCall(DMDAVecGetArrayRead(app->da, app->kappa_local, &kap));
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      PetscReal acc = 0;
      for (int d = 0; d < 4; ++d) {
        PetscBool       in;
        const PetscReal t  = face_t(app, info, kap, i, j, kFaces[d][0], kFaces[d][1], &in);
        const PetscReal um = x[j][i], un = in ? x[j + kFaces[d][1]][i + kFaces[d][0]] : 0.0;
        acc += t * 0.5 * (k_of(um) + k_of(un)) * (um - un);
      }
      F[j][i] = acc - app->f;
    }
  PetscCall(DMDAVecRestoreArrayRead(app->da, app->kappa_local, &kap));
  PetscFunctionReturn(0);
}

/* 3. Its Jacobian, assembled (GAMG and the guess's kappa reader both need the matrix). */
static PetscErrorCode FormJacobian(DMDALocalInfo *info, PetscScalar **x, Mat J, Mat P, void *ptr) {
  AppCtx       *app = (AppCtx *)ptr;
  PetscScalar **kap;
  PetscFunctionBeginUser;
  PetscCall(DMDAVecGetArrayRead(app->da, app->kappa_local, &kap));
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      MatStencil  row = {0}, col[5] = {{0}};
      PetscScalar v[5];
      PetscInt    n = 1;
      PetscReal   diag = 0;
      row.i = i;
      row.j = j;
      for (int d = 0; d < 4; ++d) {
        PetscBool       in;
        const PetscReal t  = face_t(app, info, kap, i, j, kFaces[d][0], kFaces[d][1], &in);
        const PetscReal um = x[j][i], un = in ? x[j + kFaces[d][1]][i + kFaces[d][0]] : 0.0;
        const PetscReal kbar = 0.5 * (k_of(um) + k_of(un));
        diag += t * (kbar + 0.5 * dk_of(um) * (um - un));
        if (!in) continue;
        col[n].i = i + kFaces[d][0];
        col[n].j = j + kFaces[d][1];
        v[n++]   = t * (-kbar + 0.5 * dk_of(un) * (um - un));
      }
      col[0].i = i;
      col[0].j = j;
      v[0]     = diag;
      PetscCall(MatSetValuesStencil(P, 1, &row, n, col, v, INSERT_VALUES));
    }
  PetscCall(DMDAVecRestoreArrayRead(app->da, app->kappa_local, &kap));
  PetscCall(MatAssemblyBegin(P, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(P, MAT_FINAL_ASSEMBLY));
  if (J != P) {
    PetscCall(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv) {
  AppCtx    app;
  SNES      snes;
  Vec       u, kappa, r;
  char      kappa_file[PETSC_MAX_PATH_LEN] = "";
  PetscBool has_file = PETSC_FALSE, no_dm = PETSC_FALSE;
  PetscInt  its, xs, ys, xm, ym, M, N;
  PetscReal fnorm, fnorm0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "plain PETSc nonlinear Darcy solve"));
  app.f          = 100.0;
  app.arithmetic = PETSC_FALSE;
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-arithmetic_faces", &app.arithmetic, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-f_value", &app.f, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-kappa_file", kappa_file, sizeof kappa_file, &has_file));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-no_dm", &no_dm, NULL));

  /* 4. A 2-D DMDA of 32 x 32 cells (change with -da_grid_x/-da_grid_y). */
  PetscCall(DMDACreate2d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, 32, 32,
                         PETSC_DECIDE, PETSC_DECIDE, 1, 1, NULL, NULL, &app.da));
  PetscCall(DMSetFromOptions(app.da));
  PetscCall(DMSetUp(app.da));
  PetscCall(DMDAGetInfo(app.da, NULL, &M, &N, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));

  /* 5. kappa: from a PETSc binary file (natural order), else two values in soft blobs. */
  PetscCall(DMCreateGlobalVector(app.da, &kappa));
  if (has_file) {
    PetscViewer viewer;
    PetscCall(PetscViewerBinaryOpen(PETSC_COMM_WORLD, kappa_file, FILE_MODE_READ, &viewer));
    PetscCall(VecLoad(kappa, viewer));
    PetscCall(PetscViewerDestroy(&viewer));
  } else {
    PetscScalar **kk;
    PetscCall(DMDAGetCorners(app.da, &xs, &ys, NULL, &xm, &ym, NULL));
    PetscCall(DMDAVecGetArray(app.da, kappa, &kk));
    for (PetscInt j = ys; j < ys + ym; ++j)
      for (PetscInt i = xs; i < xs + xm; ++i) {
        const PetscReal x = (i + 0.5) / M, y = (j + 0.5) / N;
        const PetscReal g = PetscSinReal(5.0 * x + 1.0) * PetscCosReal(4.0 * y - 0.5) + 0.6 * PetscSinReal(9.0 * x * y + 2.0);
        kk[j][i] = g > 0 ? 12.0 : 3.0;
      }
    PetscCall(DMDAVecRestoreArray(app.da, kappa, &kk));
  }
  PetscCall(DMCreateLocalVector(app.da, &app.kappa_local));
  PetscCall(DMGlobalToLocal(app.da, kappa, INSERT_VALUES, app.kappa_local));

  /* 6. Solve from u = 0 with whatever the command line asks for. */
  PetscCall(SNESCreate(PETSC_COMM_WORLD, &snes));
  PetscCall(DMCreateGlobalVector(app.da, &u));
  PetscCall(VecDuplicate(u, &r));
  if (no_dm) {
    PetscCall(SNESSetFunction(snes, r, FormIdentity, NULL));
  } else {
    PetscCall(SNESSetDM(snes, app.da));
    PetscCall(DMDASNESSetFunctionLocal(app.da, INSERT_VALUES, (DMDASNESFunction)FormFunction, &app));
    PetscCall(DMDASNESSetJacobianLocal(app.da, (DMDASNESJacobian)FormJacobian, &app));
  }
  PetscCall(SNESSetFromOptions(snes));
  PetscCall(VecZeroEntries(u));
  {
    Vec f0; /* F(0), in a vector of its own: r is the SNES's residual vector with -no_dm */
    PetscCall(VecDuplicate(u, &f0));
    PetscCall(SNESComputeFunction(snes, u, f0));
    PetscCall(VecNorm(f0, NORM_2, &fnorm0));
    PetscCall(VecDestroy(&f0));
  }
  PetscCall(SNESSolve(snes, NULL, u));

  /* 7. Report: Newton iterations and the true relative residual. */
  PetscCall(SNESGetIterationNumber(snes, &its));
  {
    Vec f1;
    PetscCall(VecDuplicate(u, &f1));
    PetscCall(SNESComputeFunction(snes, u, f1));
    PetscCall(VecNorm(f1, NORM_2, &fnorm));
    PetscCall(VecDestroy(&f1));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "grid %" PetscInt_FMT " x %" PetscInt_FMT ": %" PetscInt_FMT " Newton iterations, ||F(u)||/||F(0)|| %.3e\n", M, N, its, (double)(fnorm0 > 0 ? fnorm / fnorm0 : fnorm)));

  PetscCall(VecDestroy(&r));
  PetscCall(VecDestroy(&u));
  PetscCall(VecDestroy(&kappa));
  PetscCall(VecDestroy(&app.kappa_local));
  PetscCall(SNESDestroy(&snes));
  PetscCall(DMDestroy(&app.da));
  PetscCall(PetscFinalize());
  return 0;
}
