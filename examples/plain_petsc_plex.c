/* What this shows: the unstructured companion of plain_petsc_diffusion3d.c -- a plain PETSc
   program (PETSc headers only, never calls pins) that solves -div(kappa grad u) = 1 with
   u = 0 on the boundary by finite elements on a DMPlex simplex mesh (irregular triangles, or
   tetrahedra with -dim 3), and gets pins' learned sparse smoother inside PETSc's own algebraic
   multigrid from the command line through PETSc's dynamic loading. The matrix comes the way
   DMPlex programs usually get theirs: PetscFE (P1 by default, -fe_degree to change it) with
   PetscDS pointwise functions, the residual F(u) = A u - b assembled by the DMPlex SNES
   helpers, A as its Jacobian and b = -F(0). Dirichlet dofs are constrained out of the global
   section (DMAddBoundary), so A holds interior unknowns only: no identity rows, no scaling
   convention at all -- unlike the DMDA examples -- and every row different (the interior
   vertices are jittered, -mesh_jitter, and kappa jumps inside elements).

   Sample runs (libpins_petsc.so is in the build's src/petsc folder, the model from
   `pins train -task smoother -o sm.pins`):
     ./example_plain_petsc_plex -ksp_type cg -pc_type gamg -ksp_converged_reason
     ./example_plain_petsc_plex -dll_append <build>/src/petsc/libpins_petsc.so \
        -ksp_type cg -pc_type gamg -mg_levels_pc_type surrogate_smoother \
        -mg_levels_pc_surrogate_smoother_model sm.pins -ksp_converged_reason
     mpiexec -n 2 ./example_plain_petsc_plex -dm_plex_box_faces 160,160 ...
     ./example_plain_petsc_plex -dim 3 -dm_plex_box_faces 24,24,24 ...   (or -dm_refine 1)
     ./example_plain_petsc_plex -dm_plex_box_faces 20,20 -dm_refine_hierarchy 4 -ksp_type cg \
        -pc_type mg -pc_mg_levels 5 -pc_mg_galerkin both ...   (PETSc's geometric multigrid)

   Expected output: CONVERGED_RTOL and one line with the mesh size, the iteration count and the
   true relative residual, e.g. with -dm_plex_box_faces 160,160 -ksp_rtol 1e-8
   -ksp_norm_type unpreconditioned and the learned smoother:
     mesh 51200 cells, 25281 unknowns: 14 iterations, true relative residual 2.384e-09 */
#include <petscdmplex.h>
#include <petscds.h>
#include <petscfe.h>
#include <petscksp.h>
#include <petscsnes.h>

/* 1. The conductivity: two values in a pattern of soft blobs (contrast -kappa_contrast), the
      same pattern as the DMDA examples' in 2-D and in 3-D. It is evaluated at the quadrature
      points, so the jumps cut through elements: the mesh does not follow the blobs. */
static PetscReal conductivity(PetscInt dim, const PetscReal x[], PetscReal contrast) {
  PetscReal g;
  const PetscReal s = PetscSinReal(5.0 * x[0] + 1.0) * PetscCosReal(4.0 * x[1] - 0.5);
  if (dim == 2) g = s + 0.6 * PetscSinReal(9.0 * x[0] * x[1] + 2.0);
  else g = s + 0.6 * PetscSinReal(9.0 * x[0] * x[2] + 2.0) - 0.3 * PetscCosReal(7.0 * x[1] * x[2]);
  return g > 0 ? contrast : 1.0;
}

/* 2. The pointwise functions of the weak form F(u) = int kappa grad u . grad v - f v, f = 1:
      f0 multiplies v, f1 multiplies grad v, g3 is dF/d(grad u) (the Jacobian's grad-grad
      block). The contrast travels as the PetscDS's one constant. */
static void f0_u(PetscInt dim, PetscInt Nf, PetscInt NfAux, const PetscInt uOff[],
                 const PetscInt uOff_x[], const PetscScalar u[], const PetscScalar u_t[],
                 const PetscScalar u_x[], const PetscInt aOff[], const PetscInt aOff_x[],
                 const PetscScalar a[], const PetscScalar a_t[], const PetscScalar a_x[],
                 PetscReal t, const PetscReal x[], PetscInt numConstants,
                 const PetscScalar constants[], PetscScalar f0[]) {
  f0[0] = -1.0;
}

static void f1_u(PetscInt dim, PetscInt Nf, PetscInt NfAux, const PetscInt uOff[],
                 const PetscInt uOff_x[], const PetscScalar u[], const PetscScalar u_t[],
                 const PetscScalar u_x[], const PetscInt aOff[], const PetscInt aOff_x[],
                 const PetscScalar a[], const PetscScalar a_t[], const PetscScalar a_x[],
                 PetscReal t, const PetscReal x[], PetscInt numConstants,
                 const PetscScalar constants[], PetscScalar f1[]) {
  const PetscReal k = conductivity(dim, x, PetscRealPart(constants[0]));
  for (PetscInt d = 0; d < dim; ++d) f1[d] = k * u_x[d];
}

static void g3_uu(PetscInt dim, PetscInt Nf, PetscInt NfAux, const PetscInt uOff[],
                  const PetscInt uOff_x[], const PetscScalar u[], const PetscScalar u_t[],
                  const PetscScalar u_x[], const PetscInt aOff[], const PetscInt aOff_x[],
                  const PetscScalar a[], const PetscScalar a_t[], const PetscScalar a_x[],
                  PetscReal t, PetscReal u_tShift, const PetscReal x[], PetscInt numConstants,
                  const PetscScalar constants[], PetscScalar g3[]) {
  const PetscReal k = conductivity(dim, x, PetscRealPart(constants[0]));
  for (PetscInt d = 0; d < dim; ++d) g3[d * dim + d] = k;
}

/* The Dirichlet value u = 0. */
static PetscErrorCode zero(PetscInt dim, PetscReal time, const PetscReal x[], PetscInt Nc,
                           PetscScalar *u, void *ctx) {
  for (PetscInt c = 0; c < Nc; ++c) u[c] = 0.0;
  return 0;
}

/* 3. The mesh: the unit square (cube) cut into boxes and every box into simplices -- 2
      triangles, the diagonal alternating like a chessboard, or the 6 tetrahedra around the
      box's main diagonal (the same diagonal in every box, so neighbours' faces match) -- with
      the interior vertices then moved by up to +-jitter/2 box widths in each direction, so that
      no two rows of the matrix are alike. Built here because DMPlexCreateBoxMesh makes
      simplices only through an external mesh generator (Triangle, TetGen), which PETSc builds
      such as Debian's do not have (its quadrilaterals/hexahedra would be another element).
      Process 0 holds the whole mesh, the others none, until DMPlexDistribute. */
static PetscReal hash01(PetscInt i, PetscInt c) { /* a fixed pseudo-random number in [0, 1) */
  unsigned long long z = (unsigned long long)i * 3ULL + (unsigned long long)c + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (PetscReal)(z >> 11) / 9007199254740992.0; /* 2^53 */
}

static PetscErrorCode simplex_box_mesh(MPI_Comm comm, PetscInt dim, const PetscInt n[],
                                       PetscReal jitter, DM *dm) {
  PetscMPIInt rank;
  PetscInt    nv = 1, nc = 1, corners = dim + 1, *cells = NULL;
  PetscReal  *xyz = NULL;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  for (PetscInt d = 0; d < dim; ++d) {
    nv *= n[d] + 1;
    nc *= n[d];
  }
  nc *= dim == 2 ? 2 : 6;
  if (rank == 0) {
    const PetscInt nz = dim == 3 ? n[2] : 1, sx = 1, sy = n[0] + 1, sz = (n[0] + 1) * (n[1] + 1);
    PetscInt       c = 0;
    PetscCall(PetscMalloc2(nv * dim, &xyz, nc * corners, &cells));
    /* Vertices, x fastest. */
    for (PetscInt k = 0; k <= (dim == 3 ? n[2] : 0); ++k)
      for (PetscInt j = 0; j <= n[1]; ++j)
        for (PetscInt i = 0; i <= n[0]; ++i) {
          const PetscInt v = i * sx + j * sy + k * sz, ijk[3] = {i, j, k};
          PetscBool      inside = PETSC_TRUE;
          for (PetscInt d = 0; d < dim; ++d) inside = (PetscBool)(inside && ijk[d] > 0 && ijk[d] < n[d]);
          for (PetscInt d = 0; d < dim; ++d)
            xyz[v * dim + d] = (ijk[d] + (inside ? jitter * (hash01(v, d) - 0.5) : 0.0)) / n[d];
        }
    /* Cells. */
    for (PetscInt k = 0; k < nz; ++k)
      for (PetscInt j = 0; j < n[1]; ++j)
        for (PetscInt i = 0; i < n[0]; ++i) {
          const PetscInt v0 = i * sx + j * sy + k * sz;
          if (dim == 2) {
            const PetscInt a = v0, b = v0 + sx, e = v0 + sy, f = v0 + sx + sy;
            const PetscInt t[2][3] = {{a, b, f}, {a, f, e}}, u[2][3] = {{a, b, e}, {b, f, e}};
            for (PetscInt q = 0; q < 2; ++q, ++c)
              for (PetscInt m = 0; m < 3; ++m) cells[c * 3 + m] = (i + j) % 2 ? u[q][m] : t[q][m];
          } else {
            /* v0, v0 + e_p0, v0 + e_p0 + e_p1, v0 + (1,1,1) for the 6 orders p of the axes. */
            const PetscInt step[3] = {sx, sy, sz};
            const PetscInt perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
            for (PetscInt q = 0; q < 6; ++q, ++c) {
              cells[c * 4 + 0] = v0;
              cells[c * 4 + 1] = v0 + step[perm[q][0]];
              cells[c * 4 + 2] = v0 + step[perm[q][0]] + step[perm[q][1]];
              cells[c * 4 + 3] = v0 + sx + sy + sz;
            }
          }
        }
    /* DMPlex's orientation: triangles counter-clockwise, tetrahedra with the first three
       vertices clockwise seen from the fourth (a negative right-handed volume). The other way
       round the element Jacobian's determinant is negative and the FE integrals flip sign (the
       matrix comes out negative definite): swap two vertices where needed. */
    for (c = 0; c < nc; ++c) {
      PetscInt *cv = &cells[c * corners];
      PetscReal e[3][3], det;
      for (PetscInt m = 0; m < dim; ++m)
        for (PetscInt d = 0; d < dim; ++d) e[m][d] = xyz[cv[m + 1] * dim + d] - xyz[cv[0] * dim + d];
      if (dim == 2) det = e[0][0] * e[1][1] - e[0][1] * e[1][0];
      else
        det = e[0][0] * (e[1][1] * e[2][2] - e[1][2] * e[2][1]) -
              e[0][1] * (e[1][0] * e[2][2] - e[1][2] * e[2][0]) +
              e[0][2] * (e[1][0] * e[2][1] - e[1][1] * e[2][0]);
      if (dim == 2 ? det < 0 : det > 0) {
        const PetscInt tmp = cv[0];
        cv[0] = cv[1];
        cv[1] = tmp;
      }
    }
  }
  PetscCall(DMPlexCreateFromCellListPetsc(comm, dim, rank ? 0 : nc, rank ? 0 : nv, corners,
                                          PETSC_TRUE, cells, dim, xyz, dm));
  PetscCall(PetscFree2(xyz, cells));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv) {
  DM          dm;
  DMLabel     wall;
  PetscFE     fe;
  PetscDS     ds;
  SNES        snes;
  Mat         A;
  Vec         b, x, r;
  KSP         ksp;
  PetscInt    dim = 2, degree = 1, faces[3], nfaces = 3, cStart, cEnd, cells, n, its;
  PetscReal   contrast = 4.0, jitter = 0.2, rnorm, bnorm;
  PetscScalar constant;
  PetscBool   set;
  const PetscInt wallId = 1;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "plain PETSc DMPlex diffusion solve"));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-kappa_contrast", &contrast, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-dim", &dim, NULL));
  PetscCheck(dim == 2 || dim == 3, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE,
             "-dim must be 2 or 3, got %" PetscInt_FMT, dim);

  /* 4. The mesh (built in 3.): 32 x 32 (12 x 12 x 12) boxes by default, -dm_plex_box_faces
        changes the counts; DMSetFromOptions applies -dm_refine & co. once the mesh is
        distributed (refining in parallel, not on one process). */
  for (PetscInt d = 0; d < 3; ++d) faces[d] = dim == 2 ? 32 : 12;
  PetscCall(PetscOptionsGetIntArray(NULL, NULL, "-dm_plex_box_faces", faces, &nfaces, &set));
  PetscCheck(!set || nfaces == dim, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
             "-dm_plex_box_faces wants %" PetscInt_FMT " counts, got %" PetscInt_FMT, dim, nfaces);
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-mesh_jitter", &jitter, NULL));
  /* Below 0.4 no two vertices of a simplex move far enough (together < 0.7 box widths) to
     turn it over: its heights are at least 0.7 box widths. */
  PetscCheck(jitter >= 0 && jitter < 0.4, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE,
             "-mesh_jitter must be in [0, 0.4), got %g", (double)jitter);
  PetscCall(simplex_box_mesh(PETSC_COMM_WORLD, dim, faces, jitter, &dm));
  /* The boundary label, made on the whole mesh before it is split up (a face on a cut between
     processes is not a boundary face); distribution and refinement carry it along. */
  PetscCall(DMCreateLabel(dm, "wall"));
  PetscCall(DMGetLabel(dm, "wall", &wall));
  PetscCall(DMPlexMarkBoundaryFaces(dm, wallId, wall));
  PetscCall(DMPlexLabelComplete(dm, wall));
  {
    DM dist = NULL;
    PetscCall(DMPlexDistribute(dm, 0, NULL, &dist));
    if (dist) {
      PetscCall(DMDestroy(&dm));
      dm = dist;
    }
  }
  /* -dm_refine_hierarchy L refines L times here and keeps every mesh on the way as the next
     one's coarse DM: the hierarchy PCMG coarsens along (see 7.). */
  PetscCall(DMSetFromOptions(dm));
  PetscCall(DMViewFromOptions(dm, NULL, "-dm_view"));

  /* 5. The discretisation: one scalar Lagrange PetscFE field (P1; -fe_degree k for Pk -- not
        PetscFECreateDefault, whose default degree is 0, piecewise constants, with no gradient
        to diffuse), the weak form, and u = 0 on the wall as an essential condition, which
        removes the wall's dofs from the global unknowns. */
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-fe_degree", &degree, NULL));
  PetscCheck(degree >= 1, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE,
             "-fe_degree must be >= 1, got %" PetscInt_FMT, degree);
  PetscCall(PetscFECreateLagrange(PETSC_COMM_WORLD, dim, 1, PETSC_TRUE, degree, PETSC_DETERMINE,
                                  &fe));
  PetscCall(PetscObjectSetName((PetscObject)fe, "u"));
  PetscCall(DMSetField(dm, 0, NULL, (PetscObject)fe));
  PetscCall(DMCreateDS(dm));
  PetscCall(DMGetDS(dm, &ds));
  PetscCall(PetscDSSetResidual(ds, 0, f0_u, f1_u));
  PetscCall(PetscDSSetJacobian(ds, 0, 0, NULL, NULL, NULL, g3_uu));
  constant = contrast;
  PetscCall(PetscDSSetConstants(ds, 1, &constant));
  PetscCall(DMGetLabel(dm, "wall", &wall));
  PetscCall(DMAddBoundary(dm, DM_BC_ESSENTIAL, "wall", wall, 1, &wallId, 0, 0, NULL,
                          (void (*)(void))zero, NULL, NULL, NULL));
  /* The coarse meshes of a refinement hierarchy get the same field and wall condition, so
     their global sections (the unknowns PCMG interpolates between) leave the wall out too. */
  for (DM cdm = dm; cdm;) {
    PetscCall(DMGetCoarseDM(cdm, &cdm));
    if (cdm) PetscCall(DMCopyDisc(dm, cdm));
  }

  /* 6. Assemble through the DMPlex SNES helpers (a SNES only as their carrier; it never
        solves): the problem is linear, so A = F'(0) and b = -F(0). */
  PetscCall(SNESCreate(PETSC_COMM_WORLD, &snes));
  PetscCall(SNESSetDM(snes, dm));
  PetscCall(DMPlexSetSNESLocalFEM(dm, NULL, NULL, NULL));
  PetscCall(DMCreateMatrix(dm, &A));
  PetscCall(DMCreateGlobalVector(dm, &x));
  PetscCall(VecDuplicate(x, &b));
  PetscCall(VecSet(x, 0.0));
  PetscCall(SNESComputeFunction(snes, x, b));
  PetscCall(VecScale(b, -1.0));
  PetscCall(SNESComputeJacobian(snes, x, A, A));

  /* 7. Solve with whatever the command line asks for (a KSP of its own, default prefix). With a
        refinement hierarchy the KSP gets the mesh, inactive (A is assembled already), so that
        `-pc_type mg -pc_mg_levels L+1 -pc_mg_galerkin both` coarsens along the meshes with
        DMPlex's nested interpolation -- geometric multigrid instead of GAMG's aggregation. */
  PetscCall(KSPCreate(PETSC_COMM_WORLD, &ksp));
  {
    DM cdm;
    PetscCall(DMGetCoarseDM(dm, &cdm));
    if (cdm) {
      PetscCall(KSPSetDM(ksp, dm));
      PetscCall(KSPSetDMActive(ksp, PETSC_FALSE));
    }
  }
  PetscCall(KSPSetOperators(ksp, A, A));
  PetscCall(KSPSetFromOptions(ksp));
  PetscCall(KSPSolve(ksp, b, x));

  /* 8. Report: mesh size, iterations and the true relative residual. Cells are counted on
        each process without overlap (DMPlexDistribute with overlap 0), so the sum is exact. */
  PetscCall(KSPGetIterationNumber(ksp, &its));
  PetscCall(VecDuplicate(b, &r));
  PetscCall(MatMult(A, x, r));
  PetscCall(VecAYPX(r, -1.0, b));
  PetscCall(VecNorm(r, NORM_2, &rnorm));
  PetscCall(VecNorm(b, NORM_2, &bnorm));
  PetscCall(VecGetSize(b, &n));
  PetscCall(DMPlexGetHeightStratum(dm, 0, &cStart, &cEnd));
  cells = cEnd - cStart;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &cells, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "mesh %" PetscInt_FMT " cells, %" PetscInt_FMT " unknowns: %" PetscInt_FMT
                        " iterations, true relative residual %.3e\n",
                        cells, n, its, (double)(rnorm / bnorm)));

  PetscCall(VecDestroy(&r));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&b));
  PetscCall(MatDestroy(&A));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(SNESDestroy(&snes));
  PetscCall(PetscFEDestroy(&fe));
  PetscCall(DMDestroy(&dm));
  PetscCall(PetscFinalize());
  return 0;
}
