// The contract of the Darcy families (darcy, 2-D; darcy3d, 3-D): PETSc's assembled matrix
// and the Kokkos stencil kernel are the same operator. Entries must agree bit for bit (both
// come from darcy_stencil.hpp with the same operations), and residuals A u − f to rounding
// (the two sum a row's terms in different orders).

#include "doctest_torch.hpp"  // first: keeps glog's CHECK out of doctest's way

#include <petscdmda.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pde/darcy/darcy_petsc.hpp"
#include "pde/darcy/darcy_sampler.hpp"
#include "pins/core/random.hpp"
#include "pins/core/stencil.hpp"
#include "pins/core/stencil_operator.hpp"
#include "pins/petsc/error.hpp"

namespace {

using pins::darcy::KappaKind;
using pins::darcy::SamplerOptions;

struct Case {
  std::string name;
  SamplerOptions sampler;
};

std::vector<Case> kappa_cases() {
  SamplerOptions threshold;  // 12 / 3, the FNO setting
  SamplerOptions lognormal;
  lognormal.kappa_kind = KappaKind::kLogNormal;
  lognormal.sigma = 1.5;
  SamplerOptions contrast;  // 1 : 1e4
  contrast.kappa_low = 1.0;
  contrast.kappa_high = 1e4;
  return {{"threshold 12/3", threshold},
          {"lognormal sigma 1.5", lognormal},
          {"threshold contrast 1:1e4", contrast}};
}

// Grids {nz, ny, nx}, nz = 0 for a 2-D grid; non-square and odd sizes included.
struct Grid {
  int nz, ny, nx;
  int dim() const { return nz > 0 ? 3 : 2; }
  int layers() const { return nz > 0 ? nz : 1; }
  size_t points() const { return size_t(layers()) * ny * nx; }
  std::vector<int> cells() const {
    return nz > 0 ? std::vector<int>{nz, ny, nx} : std::vector<int>{ny, nx};
  }
  std::vector<std::int64_t> batch_shape() const {
    return nz > 0 ? std::vector<std::int64_t>{1, nz, ny, nx}
                  : std::vector<std::int64_t>{1, ny, nx};
  }
};
const Grid kGrids[] = {{0, 16, 16}, {0, 32, 32}, {0, 16, 24}, {0, 31, 17}, {0, 3, 3},
                       {8, 8, 8},   {5, 7, 9},   {12, 3, 6},  {3, 3, 3}};

// The whole-grid kappa, f and a random u (row-major [(nz,) ny, nx]).
struct Fields {
  std::vector<double> kappa, f, u;
};

Fields make_fields(const SamplerOptions& opt, const Grid& g, std::uint64_t index) {
  Fields s;
  const size_t n = g.points();
  s.kappa.resize(n);
  s.f.resize(n);
  s.u.resize(n);
  SamplerOptions o = opt;
  o.forcing = pins::darcy::ForcingKind::kRandomField;  // a non-trivial f
  pins::darcy::Sampler(o, g.cells()).sample(index, s.kappa.data(), s.f.data());
  pins::Rng rng(pins::sample_seed(99, index, 7));
  for (auto& v : s.u) v = rng.normal();
  return s;
}

torch::Tensor as_tensor(std::vector<double>& v, const Grid& g) {
  return torch::from_blob(v.data(), g.batch_shape(), torch::kFloat64);
}

pins::Stencil stencil_of(const Grid& g) {
  return pins::Stencil{g.dim(), pins::StencilShape::kStar, 1, 1};
}

// PETSc's A u − f on comm (each process assembles its rows), gathered to every process.
std::vector<double> petsc_residual(MPI_Comm comm, const Fields& s, const Grid& g, Mat* A_out,
                                   DM* da_out) {
  DM da;
  Mat A;
  Vec u, f, r, all;
  VecScatter to_all;
  if (g.dim() == 3)
    PINS_PETSC_CALL(pins::darcy::create_dmda(comm, g.nx, g.ny, g.nz, &da));
  else
    PINS_PETSC_CALL(pins::darcy::create_dmda(comm, g.nx, g.ny, &da));
  PINS_PETSC_CALL(DMCreateMatrix(da, &A));
  PINS_PETSC_CALL(pins::darcy::assemble_operator(da, s.kappa.data(), A));
  PINS_PETSC_CALL(DMCreateGlobalVector(da, &u));
  PINS_PETSC_CALL(VecDuplicate(u, &f));
  PINS_PETSC_CALL(VecDuplicate(u, &r));
  // u is filled like a right-hand side: assemble_rhs copies a whole-grid array into the
  // process's own cells.
  PINS_PETSC_CALL(pins::darcy::assemble_rhs(da, s.u.data(), u));
  PINS_PETSC_CALL(pins::darcy::assemble_rhs(da, s.f.data(), f));
  PINS_PETSC_CALL(MatMult(A, u, r));
  PINS_PETSC_CALL(VecAXPY(r, -1.0, f));
  // A DMDA's global vector is in PETSc ordering; the natural ordering is [(nz,) ny, nx].
  Vec natural;
  PINS_PETSC_CALL(DMDACreateNaturalVector(da, &natural));
  PINS_PETSC_CALL(DMDAGlobalToNaturalBegin(da, r, INSERT_VALUES, natural));
  PINS_PETSC_CALL(DMDAGlobalToNaturalEnd(da, r, INSERT_VALUES, natural));
  PINS_PETSC_CALL(VecScatterCreateToAll(natural, &to_all, &all));
  PINS_PETSC_CALL(VecScatterBegin(to_all, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  PINS_PETSC_CALL(VecScatterEnd(to_all, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  const PetscScalar* a;
  PINS_PETSC_CALL(VecGetArrayRead(all, &a));
  std::vector<double> out(a, a + g.points());
  PINS_PETSC_CALL(VecRestoreArrayRead(all, &a));
  VecScatterDestroy(&to_all);
  VecDestroy(&all);
  VecDestroy(&natural);
  VecDestroy(&r);
  VecDestroy(&f);
  VecDestroy(&u);
  if (A_out) {
    *A_out = A;
    *da_out = da;
  } else {
    MatDestroy(&A);
    DMDestroy(&da);
  }
  return out;
}

}  // namespace

TEST_CASE("PETSc matrix entries equal the Kokkos stencil coefficients bit for bit") {
  for (const auto& c : kappa_cases()) {
    for (const Grid& g : kGrids) {
      CAPTURE(c.name);
      CAPTURE(g.nz);
      CAPTURE(g.ny);
      CAPTURE(g.nx);
      Fields s = make_fields(c.sampler, g, 3);
      Mat A;
      DM da;
      petsc_residual(PETSC_COMM_SELF, s, g, &A, &da);
      const torch::Tensor coeffs =
          pins::darcy::stencil_coefficients(as_tensor(s.kappa, g)).contiguous();
      const double* C = coeffs.data_ptr<double>();
      const auto offsets = stencil_of(g).offsets();  // (dz, dy, dx) in channel order
      const int nz = g.layers();
      long mismatches = 0, entries = 0;
      for (int p = 0; p < nz; ++p)
        for (int i = 0; i < g.ny; ++i)
          for (int j = 0; j < g.nx; ++j)
            for (size_t ch = 0; ch < offsets.size(); ++ch) {
              const int pp = p + offsets[ch][0], ii = i + offsets[ch][1],
                        jj = j + offsets[ch][2];
              if (pp < 0 || pp >= nz || ii < 0 || ii >= g.ny || jj < 0 || jj >= g.nx) continue;
              // On one process the DMDA's global index is the natural one.
              const PetscInt r = (PetscInt(p) * g.ny + i) * g.nx + j;
              const PetscInt cidx = (PetscInt(pp) * g.ny + ii) * g.nx + jj;
              PetscScalar v;
              PINS_PETSC_CALL(MatGetValues(A, 1, &r, 1, &cidx, &v));
              ++entries;
              if (v != C[ch * g.points() + size_t(r)]) ++mismatches;
            }
      CHECK(entries > 0);
      CHECK(mismatches == 0);
      // Exactly the stencil's in-grid couplings: nothing beyond them was assembled.
      MatInfo info;
      PINS_PETSC_CALL(MatGetInfo(A, MAT_LOCAL, &info));
      CHECK(long(info.nz_used) == entries);
      MatDestroy(&A);
      DMDestroy(&da);
    }
  }
}

TEST_CASE("Kokkos residual equals PETSc's MatMult(A, u) - f to rounding") {
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  const double eps = std::numeric_limits<double>::epsilon();
  // PETSC_COMM_SELF checks the serial assembly; PETSC_COMM_WORLD, when the test runs on
  // several processes, checks that each process assembles exactly its own rows.
  std::vector<MPI_Comm> comms = {PETSC_COMM_SELF};
  if (size > 1) comms.push_back(PETSC_COMM_WORLD);
  for (MPI_Comm comm : comms) {
    for (const auto& c : kappa_cases()) {
      for (const Grid& g : kGrids) {
        CAPTURE(c.name);
        CAPTURE(g.nz);
        CAPTURE(g.ny);
        CAPTURE(g.nx);
        Fields s = make_fields(c.sampler, g, 11);
        const std::vector<double> r_petsc = petsc_residual(comm, s, g, nullptr, nullptr);

        const torch::Tensor coeffs = pins::darcy::stencil_coefficients(as_tensor(s.kappa, g));
        const pins::StencilOperator A(stencil_of(g), coeffs), A_abs(stencil_of(g), coeffs.abs());
        const torch::Tensor u = as_tensor(s.u, g), f = as_tensor(s.f, g);
        const torch::Tensor r_kokkos = A.residual(u, f).contiguous();
        // Rounding bound per row: each evaluation makes at most ~8 roundings of terms of
        // size (|A||u| + |f|); 10 eps of that is a safe, still tight, tolerance.
        const torch::Tensor bound = (10 * eps * (A_abs.apply(u.abs()) + f.abs())).contiguous();
        const double* rk = r_kokkos.data_ptr<double>();
        const double* b = bound.data_ptr<double>();
        double worst = 0;  // largest |difference| / bound
        for (size_t p = 0; p < r_petsc.size(); ++p)
          worst = std::max(worst, std::abs(r_petsc[p] - rk[p]) / b[p]);
        CHECK(worst <= 1.0);
        // The residual is not trivially small: u is random, so the check has teeth.
        CHECK(torch::abs(r_kokkos).max().item<double>() > 1.0);
      }
    }
  }
}

TEST_CASE("a different face average would be caught by the agreement tolerance") {
  // Guard against a vacuous tolerance: replacing the harmonic face average with the
  // arithmetic one in the Kokkos coefficients must break the agreement.
  const Grid g{0, 16, 16};
  const int nx = g.nx;
  Fields s = make_fields(kappa_cases()[0].sampler, g, 5);
  const std::vector<double> r_petsc = petsc_residual(PETSC_COMM_SELF, s, g, nullptr, nullptr);
  // East face of the first cell whose east neighbour differs: arithmetic mean instead.
  size_t p = 0;
  while (p + 1 < s.kappa.size() && (p % nx == size_t(nx) - 1 || s.kappa[p] == s.kappa[p + 1])) ++p;
  REQUIRE(p + 1 < s.kappa.size());
  const int i = int(p / nx), j = int(p % nx);
  torch::Tensor coeffs = pins::darcy::stencil_coefficients(as_tensor(s.kappa, g)).clone();
  const double k0 = s.kappa[p], k1 = s.kappa[p + 1];
  coeffs[0][2][i][j] = -(k0 + k1) / 2 * nx * nx;
  const torch::Tensor u = as_tensor(s.u, g), f = as_tensor(s.f, g);
  const torch::Tensor r = pins::stencil_residual(coeffs, u, f);
  const torch::Tensor bound = 10 * std::numeric_limits<double>::epsilon() *
                              (pins::stencil_apply(coeffs.abs(), u.abs()) + f.abs());
  const double diff = std::abs(r[0][i][j].item<double>() - r_petsc[p]);
  CHECK(diff > 1e3 * bound[0][i][j].item<double>());
}
