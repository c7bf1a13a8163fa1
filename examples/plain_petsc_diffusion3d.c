/* What this shows: the 3-D companion of plain_petsc_diffusion.c -- a plain PETSc program
   (PETSc headers only, never calls pins) that solves -div(kappa grad u) = 1 on the unit cube
   with a 3-D DMDA and a 7-point stencil, and gets pins' learned sparse smoother inside
   PETSc's own algebraic multigrid from the command line through PETSc's dynamic loading.
   Vertex-centred grid, Dirichlet points as identity rows scaled like their neighbours,
   interior rows scaled by h (a finite-element habit): the smoother reads D^-1/2 A D^-1/2, so
   the scaling does not matter to it.

   Sample runs (libpins_petsc.so is in the build's src/petsc folder, the model from
   `pins train -task smoother -o sm.pins`):
     ./example_plain_petsc_diffusion3d -ksp_type cg -pc_type gamg -ksp_converged_reason
     ./example_plain_petsc_diffusion3d -dll_append <build>/src/petsc/libpins_petsc.so \
        -ksp_type cg -pc_type gamg -mg_levels_pc_type surrogate_smoother \
        -mg_levels_pc_surrogate_smoother_model sm.pins -ksp_converged_reason
     mpiexec -n 2 ./example_plain_petsc_diffusion3d -da_grid_x 65 -da_grid_y 65 -da_grid_z 65 ...

   Expected output: the iteration count, the true relative residual, and CONVERGED_RTOL. */
#include <petscdmda.h>
#include <petscksp.h>

/* 1. The conductivity: two values in a pattern of soft blobs (contrast -kappa_contrast). */
static PetscReal conductivity(PetscReal x, PetscReal y, PetscReal z, PetscReal contrast) {
  const PetscReal g = PetscSinReal(5.0 * x + 1.0) * PetscCosReal(4.0 * y - 0.5) +
                      0.6 * PetscSinReal(9.0 * x * z + 2.0) - 0.3 * PetscCosReal(7.0 * y * z);
  return g > 0 ? contrast : 1.0;
}

static PetscBool on_boundary(PetscInt i, PetscInt j, PetscInt k, PetscInt M, PetscInt N, PetscInt P) {
  return (PetscBool)(i == 0 || j == 0 || k == 0 || i == M - 1 || j == N - 1 || k == P - 1);
}

int main(int argc, char **argv) {
  DM          da;
  Mat         A;
  Vec         b, x, r;
  KSP         ksp;
  PetscInt    M, N, P, xs, ys, zs, xm, ym, zm, its;
  PetscReal   contrast = 4.0, h, rnorm, bnorm;
  MatStencil  row, col[7];
  PetscScalar v[7];

  PetscCall(PetscInitialize(&argc, &argv, NULL, "plain PETSc 3-D diffusion solve"));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-kappa_contrast", &contrast, NULL));

  /* 2. A 3-D DMDA of 17^3 vertices (change with -da_grid_x/-da_grid_y/-da_grid_z). */
  PetscCall(DMDACreate3d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                         DMDA_STENCIL_STAR, 17, 17, 17, PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE,
                         1, 1, NULL, NULL, NULL, &da));
  PetscCall(DMSetFromOptions(da));
  PetscCall(DMSetUp(da));
  PetscCall(DMDAGetInfo(da, NULL, &M, &N, &P, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscCheck(M == N && N == P, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
             "this example wants a cube: -da_grid_x, -da_grid_y and -da_grid_z equal, got %" PetscInt_FMT
             ", %" PetscInt_FMT ", %" PetscInt_FMT, M, N, P);
  h = 1.0 / (M - 1);

  /* 3. Assemble: interior rows h-scaled 7-point flux differences with arithmetic-mean face
        conductivities; Dirichlet points are identity rows (scaled), and interior rows do not
        couple to them (u = 0 there), so the matrix stays symmetric. */
  PetscCall(DMCreateMatrix(da, &A));
  for (PetscInt k = zs; k < zs + zm; ++k)
    for (PetscInt j = ys; j < ys + ym; ++j)
      for (PetscInt i = xs; i < xs + xm; ++i) {
        const PetscReal px = i * h, py = j * h, pz = k * h;
        const PetscReal kc = conductivity(px, py, pz, contrast);
        const PetscInt  di[6] = {-1, 1, 0, 0, 0, 0}, dj[6] = {0, 0, -1, 1, 0, 0}, dk[6] = {0, 0, 0, 0, -1, 1};
        PetscReal       diag = 0;
        PetscInt        n = 1;
        row.i = i; row.j = j; row.k = k;
        if (on_boundary(i, j, k, M, N, P)) {
          v[0] = 6.0 * kc * h;
          PetscCall(MatSetValuesStencil(A, 1, &row, 1, &row, v, INSERT_VALUES));
          continue;
        }
        for (PetscInt f = 0; f < 6; ++f) {
          const PetscReal kf = 0.5 * (kc + conductivity(px + di[f] * h, py + dj[f] * h, pz + dk[f] * h, contrast));
          diag += kf * h;
          if (on_boundary(i + di[f], j + dj[f], k + dk[f], M, N, P)) continue;
          col[n].i = i + di[f]; col[n].j = j + dj[f]; col[n].k = k + dk[f];
          v[n++] = -kf * h;
        }
        col[0] = row;
        v[0] = diag;
        PetscCall(MatSetValuesStencil(A, 1, &row, n, col, v, INSERT_VALUES));
      }
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));

  /* 4. The right-hand side f = 1 (times h^3 like the rows' h), zero on the boundary. */
  PetscCall(DMCreateGlobalVector(da, &b));
  {
    PetscScalar ***bb;
    PetscCall(DMDAVecGetArray(da, b, &bb));
    for (PetscInt k = zs; k < zs + zm; ++k)
      for (PetscInt j = ys; j < ys + ym; ++j)
        for (PetscInt i = xs; i < xs + xm; ++i) bb[k][j][i] = on_boundary(i, j, k, M, N, P) ? 0.0 : h * h * h;
    PetscCall(DMDAVecRestoreArray(da, b, &bb));
  }

  /* 5. Solve with whatever the command line asks for. */
  PetscCall(VecDuplicate(b, &x));
  PetscCall(KSPCreate(PETSC_COMM_WORLD, &ksp));
  PetscCall(KSPSetOperators(ksp, A, A));
  /* The grid goes to the KSP too, inactive (the matrix above stays the operator), so that
     geometric multigrid can coarsen it: -pc_type mg -pc_mg_levels 5 -pc_mg_galerkin both. */
  PetscCall(KSPSetDM(ksp, da));
  PetscCall(KSPSetDMActive(ksp, PETSC_FALSE));
  PetscCall(KSPSetFromOptions(ksp));
  PetscCall(KSPSolve(ksp, b, x));

  /* 6. Report: iterations and the true relative residual. */
  PetscCall(KSPGetIterationNumber(ksp, &its));
  PetscCall(VecDuplicate(b, &r));
  PetscCall(MatMult(A, x, r));
  PetscCall(VecAYPX(r, -1.0, b));
  PetscCall(VecNorm(r, NORM_2, &rnorm));
  PetscCall(VecNorm(b, NORM_2, &bnorm));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "grid %" PetscInt_FMT " x %" PetscInt_FMT " x %" PetscInt_FMT
                        ": %" PetscInt_FMT " iterations, true relative residual %.3e\n",
                        M, N, P, its, (double)(rnorm / bnorm)));

  PetscCall(VecDestroy(&r));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&b));
  PetscCall(MatDestroy(&A));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(DMDestroy(&da));
  PetscCall(PetscFinalize());
  return 0;
}
