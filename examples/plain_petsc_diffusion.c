/* What this shows: a plain PETSc program -- it includes only PETSc headers and never calls
   pins -- that solves -div(kappa grad u) = 1 on the unit square with a 2-D DMDA, and still
   gets pins' neural preconditioner from the command line through PETSc's dynamic loading.
   Its conventions differ from pins' own Darcy discretisation on purpose: grid points sit
   on the vertices, boundary points are identity rows scaled by the diagonal of their
   neighbours, and interior rows are scaled by h^2 (a finite-element habit). The surrogate
   PC reads the 5-point stencil out of this matrix and scales by the diagonal, so it does
   not care.

   Sample runs (libpins_petsc.so is in the build's lib folder, the model from
   `pins train -task precondition -grid 32 -o pc.pins`):
     ./example_plain_petsc_diffusion -ksp_type cg -pc_type jacobi -ksp_converged_reason
     ./example_plain_petsc_diffusion -dll_append <build>/src/petsc/libpins_petsc.so \
        -ksp_type fgmres -pc_type surrogate -pc_surrogate_model pc.pins -ksp_converged_reason
     ./example_plain_petsc_diffusion -da_grid_x 129 -da_grid_y 129 -kappa_contrast 1e4 ...
   -pmat_diagonal_shift s builds the preconditioner from P = A + s diag(A) instead of A
   (Amat != Pmat, as programs that precondition with a simpler matrix do); the solve and the
   reported residual stay with A.

   Expected output: the iteration count, the true relative residual, and CONVERGED_RTOL. */
#include <petscdmda.h>
#include <petscksp.h>

/* 1. The conductivity: two values in a pattern of soft blobs (contrast -kappa_contrast). */
static PetscReal conductivity(PetscReal x, PetscReal y, PetscReal contrast) {
  const PetscReal g = PetscSinReal(5.0 * x + 1.0) * PetscCosReal(4.0 * y - 0.5) +
                      0.6 * PetscSinReal(9.0 * x * y + 2.0);
  return g > 0 ? contrast : 1.0;
}

int main(int argc, char **argv) {
  DM          da;
  Mat         A, P;
  Vec         b, x, r;
  KSP         ksp;
  PetscInt    M, N, xs, ys, xm, ym, its;
  PetscReal   contrast = 4.0, shift = 0.0, hx, hy, rnorm, bnorm;
  PetscBool   nine = PETSC_FALSE;
  MatStencil  row, col[6];
  PetscScalar v[6];

  PetscCall(PetscInitialize(&argc, &argv, NULL, "plain PETSc diffusion solve"));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-kappa_contrast", &contrast, NULL));
  /* -nine_point adds a diagonal coupling per row: not a 5-point operator any more. */
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-nine_point", &nine, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-pmat_diagonal_shift", &shift, NULL));

  /* 2. A 2-D DMDA of 33 x 33 vertices (change with -da_grid_x/-da_grid_y). */
  PetscCall(DMDACreate2d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                         nine ? DMDA_STENCIL_BOX : DMDA_STENCIL_STAR,
                         33, 33, PETSC_DECIDE, PETSC_DECIDE, 1, 1, NULL, NULL, &da));
  PetscCall(DMSetFromOptions(da));
  PetscCall(DMSetUp(da));
  PetscCall(DMDAGetInfo(da, NULL, &M, &N, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  PetscCall(DMDAGetCorners(da, &xs, &ys, NULL, &xm, &ym, NULL));
  hx = 1.0 / (M - 1);
  hy = 1.0 / (N - 1);

  /* 3. Assemble: interior rows h^2-scaled 5-point flux differences with arithmetic-mean
        face conductivities; Dirichlet points are identity rows (scaled), and interior rows
        do not couple to them (u = 0 there), so the matrix stays symmetric. */
  PetscCall(DMCreateMatrix(da, &A));
  PetscCall(DMCreateGlobalVector(da, &b));
  for (PetscInt j = ys; j < ys + ym; ++j)
    for (PetscInt i = xs; i < xs + xm; ++i) {
      const PetscReal px = i * hx, py = j * hy, kc = conductivity(px, py, contrast);
      row.i = i;
      row.j = j;
      if (i == 0 || j == 0 || i == M - 1 || j == N - 1) {
        v[0] = 4.0 * kc;
        PetscCall(MatSetValuesStencil(A, 1, &row, 1, &row, v, INSERT_VALUES));
        PetscCall(VecSetValue(b, j * M + i, 0.0, INSERT_VALUES));
        continue;
      }
      const PetscReal kw = 0.5 * (kc + conductivity(px - hx, py, contrast));
      const PetscReal ke = 0.5 * (kc + conductivity(px + hx, py, contrast));
      const PetscReal ks = 0.5 * (kc + conductivity(px, py - hy, contrast));
      const PetscReal kn = 0.5 * (kc + conductivity(px, py + hy, contrast));
      PetscInt n = 0;
      col[n].i = i; col[n].j = j; v[n++] = (kw + ke) * hy / hx + (ks + kn) * hx / hy;
      if (i > 1)     { col[n].i = i - 1; col[n].j = j; v[n++] = -kw * hy / hx; }
      if (i < M - 2) { col[n].i = i + 1; col[n].j = j; v[n++] = -ke * hy / hx; }
      if (j > 1)     { col[n].i = i; col[n].j = j - 1; v[n++] = -ks * hx / hy; }
      if (j < N - 2) { col[n].i = i; col[n].j = j + 1; v[n++] = -kn * hx / hy; }
      if (nine && i < M - 2 && j < N - 2) { col[n].i = i + 1; col[n].j = j + 1; v[n++] = -0.01 * kc; }
      PetscCall(MatSetValuesStencil(A, 1, &row, n, col, v, INSERT_VALUES));
    }
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscCall(VecDestroy(&b));

  /* 4. The right-hand side f = 1 (times h^2 like the rows), zero on the boundary. */
  PetscCall(DMCreateGlobalVector(da, &b));
  {
    PetscScalar **bb;
    PetscCall(DMDAVecGetArray(da, b, &bb));
    for (PetscInt j = ys; j < ys + ym; ++j)
      for (PetscInt i = xs; i < xs + xm; ++i)
        bb[j][i] = (i == 0 || j == 0 || i == M - 1 || j == N - 1) ? 0.0 : hx * hy;
    PetscCall(DMDAVecRestoreArray(da, b, &bb));
  }

  /* 5. The preconditioning matrix: A itself, or P = A + shift diag(A). */
  if (shift != 0.0) {
    Vec d;
    PetscCall(MatDuplicate(A, MAT_COPY_VALUES, &P));
    PetscCall(MatCreateVecs(A, &d, NULL));
    PetscCall(MatGetDiagonal(A, d));
    PetscCall(VecScale(d, shift));
    PetscCall(MatDiagonalSet(P, d, ADD_VALUES));
    PetscCall(VecDestroy(&d));
  } else {
    PetscCall(PetscObjectReference((PetscObject)A));
    P = A;
  }

  /* 6. Solve with whatever the command line asks for. */
  PetscCall(VecDuplicate(b, &x));
  PetscCall(KSPCreate(PETSC_COMM_WORLD, &ksp));
  PetscCall(KSPSetOperators(ksp, A, P));
  PetscCall(KSPSetDM(ksp, da));
  PetscCall(KSPSetDMActive(ksp, PETSC_FALSE));
  PetscCall(KSPSetFromOptions(ksp));
  PetscCall(KSPSolve(ksp, b, x));

  /* 7. Report: iterations and the true relative residual (against A). */
  PetscCall(KSPGetIterationNumber(ksp, &its));
  PetscCall(VecDuplicate(b, &r));
  PetscCall(MatMult(A, x, r));
  PetscCall(VecAYPX(r, -1.0, b));
  PetscCall(VecNorm(r, NORM_2, &rnorm));
  PetscCall(VecNorm(b, NORM_2, &bnorm));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "grid %" PetscInt_FMT " x %" PetscInt_FMT
                        ": %" PetscInt_FMT " iterations, true relative residual %.3e\n",
                        M, N, its, (double)(rnorm / bnorm)));

  PetscCall(VecDestroy(&r));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&b));
  PetscCall(MatDestroy(&P));
  PetscCall(MatDestroy(&A));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(DMDestroy(&da));
  PetscCall(PetscFinalize());
  return 0;
}
