// darcy_fem's contract: PETSc's own FEM assembly (PetscFE on DMPlex, κ and f as a P0
// auxiliary field) and pins' mesh assembly (pde/darcy_fem/fem_assembly.hpp, from the mesh a
// dataset stores) are the same operator and right-hand side — on built-in triangle and
// quadrilateral boxes, perturbed meshes, refined meshes and a Gmsh file — to rounding.

#include "doctest_torch.hpp"  // first: keeps glog's CHECK out of doctest's way

#include <petscdmplex.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "pde/registry.hpp"
#include "pins/core/check.hpp"
#include "pins/core/family.hpp"
#include "pins/core/sparse_operator.hpp"
#include "pins/petsc/error.hpp"
#include "scoped_option.hpp"

namespace {

namespace fs = std::filesystem;

struct Assembled {
  pins::DatasetInfo info;
  std::vector<double> kappa, f;
  Mat A = nullptr;
  Vec b = nullptr;
  ~Assembled() {
    MatDestroy(&A);
    VecDestroy(&b);
  }
};

// What `pins generate` does for one sample: set up the family from the options, draw sample
// `index`, assemble A and b with PETSc.
std::unique_ptr<Assembled> assemble_with_petsc(std::vector<std::int64_t> grid,
                                               std::uint64_t index) {
  auto out = std::make_unique<Assembled>();
  auto family = pins::find_problem_family("darcy_fem").create();
  PINS_PETSC_CALL(family->SetFromOptions(PETSC_COMM_SELF, nullptr));
  family->set_up(grid, 5);
  family->describe(&out->info);
  const auto& mesh = *out->info.mesh;
  out->kappa.resize(size_t(mesh.cell_count()));
  out->f.resize(size_t(mesh.cell_count()));
  std::uint64_t seeds[2];
  family->sample(index, {out->kappa.data(), out->f.data()}, seeds);
  DM dm = nullptr;
  PINS_PETSC_CALL(family->CreateDM(PETSC_COMM_SELF, &dm));
  PINS_PETSC_CALL(DMCreateMatrix(dm, &out->A));
  PINS_PETSC_CALL(DMCreateGlobalVector(dm, &out->b));
  PINS_PETSC_CALL(family->AssembleOperator(dm, {out->kappa.data(), out->f.data()}, out->A));
  PINS_PETSC_CALL(family->AssembleRHS(dm, {out->kappa.data(), out->f.data()}, out->b));
  PINS_PETSC_CALL(DMDestroy(&dm));
  return out;
}

torch::Tensor row_tensor(const std::vector<double>& v) {
  return torch::tensor(v, torch::kFloat64).unsqueeze(0);
}

// Entries, pattern, right-hand side and A u − f of the two assemblies agree to rounding.
void check_agreement(const Assembled& p) {
  const auto family = pins::find_family("darcy_fem").with_mesh(p.info.mesh);
  const pins::FieldMap inputs = {{"kappa", row_tensor(p.kappa)}, {"f", row_tensor(p.f)}};
  const pins::OperatorPtr op = family->make_operator(inputs);
  const auto* A = dynamic_cast<const pins::SparseOperator*>(op.get());
  REQUIRE(A != nullptr);
  const std::int64_t n = p.info.mesh->point_count();
  PetscInt rows, cols;
  PINS_PETSC_CALL(MatGetSize(p.A, &rows, &cols));
  REQUIRE(rows == n);
  const auto row_ptr = A->pattern().row_ptr();
  const auto col_idx = A->pattern().col_idx();
  const auto values = A->values()[0];
  const double eps = std::numeric_limits<double>::epsilon();
  int pattern_mismatches = 0, value_mismatches = 0;
  for (PetscInt i = 0; i < rows; ++i) {
    PetscInt ncols;
    const PetscInt* c;
    const PetscScalar* v;
    PINS_PETSC_CALL(MatGetRow(p.A, i, &ncols, &c, &v));
    const std::int64_t begin = row_ptr[i].item<std::int64_t>(),
                       end = row_ptr[i + 1].item<std::int64_t>();
    double scale = 0;
    for (PetscInt k = 0; k < ncols; ++k) scale = std::max(scale, std::abs(PetscRealPart(v[k])));
    if (end - begin != ncols) ++pattern_mismatches;
    for (PetscInt k = 0; k < ncols && k < end - begin; ++k) {
      if (col_idx[begin + k].item<std::int32_t>() != c[k]) ++pattern_mismatches;
      // A row sums up to a few element terms, each rounded: a small multiple of eps.
      if (std::abs(values[begin + k].item<double>() - PetscRealPart(v[k])) > 32 * eps * scale)
        ++value_mismatches;
    }
    PINS_PETSC_CALL(MatRestoreRow(p.A, i, &ncols, &c, &v));
  }
  CHECK(pattern_mismatches == 0);
  CHECK(value_mismatches == 0);

  const torch::Tensor b = family->rhs(inputs)[0];
  const PetscScalar* bb;
  PINS_PETSC_CALL(VecGetArrayRead(p.b, &bb));
  const torch::Tensor petsc_b =
      torch::from_blob(const_cast<double*>(bb), {n}, torch::kFloat64).clone();
  PINS_PETSC_CALL(VecRestoreArrayRead(p.b, &bb));
  CHECK((b - petsc_b).abs().max().item<double>() <= 16 * eps * petsc_b.abs().max().item<double>());

  // A u − f for a random u: MatMult against the Kokkos CSR kernel.
  const torch::Tensor u = torch::rand({1, n}, torch::kFloat64);
  Vec x, y;
  PINS_PETSC_CALL(VecDuplicate(p.b, &x));
  PINS_PETSC_CALL(VecDuplicate(p.b, &y));
  PetscScalar* xx;
  PINS_PETSC_CALL(VecGetArray(x, &xx));
  for (std::int64_t i = 0; i < n; ++i) xx[i] = u[0][i].item<double>();
  PINS_PETSC_CALL(VecRestoreArray(x, &xx));
  PINS_PETSC_CALL(MatMult(p.A, x, y));
  PINS_PETSC_CALL(VecAXPY(y, -1.0, p.b));
  const PetscScalar* yy;
  PINS_PETSC_CALL(VecGetArrayRead(y, &yy));
  const torch::Tensor petsc_r =
      torch::from_blob(const_cast<double*>(yy), {n}, torch::kFloat64).clone();
  PINS_PETSC_CALL(VecRestoreArrayRead(y, &yy));
  VecDestroy(&x);
  VecDestroy(&y);
  const torch::Tensor r = family->residual(inputs, u)[0];
  const double bound =
      64 * eps * (A->values().abs().max().item<double>() + petsc_b.abs().max().item<double>());
  CHECK((r - petsc_r).abs().max().item<double>() <= bound);
}

// A Gmsh 2.2 ASCII mesh of the unit square: a 3 × 3 vertex grid, 8 triangles.
void write_gmsh(const fs::path& path) {
  std::ofstream out(path);
  out << "$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$Nodes\n9\n";
  int id = 1;
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 3; ++i) out << id++ << " " << 0.5 * i << " " << 0.5 * j << " 0\n";
  out << "$EndNodes\n$Elements\n8\n";
  const int tri[8][3] = {{1, 2, 5}, {1, 5, 4}, {2, 3, 6}, {2, 6, 5},
                         {4, 5, 8}, {4, 8, 7}, {5, 6, 9}, {5, 9, 8}};
  for (int e = 0; e < 8; ++e)
    out << e + 1 << " 2 2 1 1 " << tri[e][0] << " " << tri[e][1] << " " << tri[e][2] << "\n";
  out << "$EndElements\n";
}

}  // namespace

TEST_CASE("darcy_fem: PETSc's FEM assembly equals pins' mesh assembly to rounding") {
  SUBCASE("triangles") {
    auto p = assemble_with_petsc({5, 7}, 0);
    CHECK(p->info.mesh->cell_type == "triangle");
    CHECK(p->info.mesh->point_count() == 4 * 6);  // interior vertices of a 7 x 5 box
    check_agreement(*p);
  }
  SUBCASE("quadrilaterals") {
    ScopedOption quads("-dm_plex_simplex", "0");
    auto p = assemble_with_petsc({6, 4}, 1);
    CHECK(p->info.mesh->cell_type == "quadrilateral");
    CHECK(p->info.mesh->cell_count() == 24);
    check_agreement(*p);
  }
  SUBCASE("perturbed triangles") {
    ScopedOption perturb("-mesh_perturb", "0.3");
    check_agreement(*assemble_with_petsc({8, 8}, 2));
  }
  SUBCASE("perturbed quadrilaterals (a bilinear map, 2 x 2 Gauss)") {
    ScopedOption quads("-dm_plex_simplex", "0"), perturb("-mesh_perturb", "0.3");
    check_agreement(*assemble_with_petsc({7, 6}, 3));
  }
  SUBCASE("refined") {
    ScopedOption refine("-dm_refine", "1");
    auto p = assemble_with_petsc({3, 3}, 4);
    CHECK(p->info.mesh->cell_count() == 4 * 18);
    check_agreement(*p);
  }
  SUBCASE("a Gmsh file") {
    const fs::path file =
        fs::temp_directory_path() / ("pins_darcy_fem_" + std::to_string(::getpid()) + ".msh");
    write_gmsh(file);
    ScopedOption mesh("-dm_plex_filename", file.c_str());
    auto p = assemble_with_petsc({3, 3}, 5);
    fs::remove(file);
    CHECK(p->info.mesh->cell_count() == 8);
    CHECK(p->info.mesh->point_count() == 1);  // the centre vertex
    check_agreement(*p);
  }
}

TEST_CASE("darcy_fem: P1 on the split unit-square grid is the 5-point Laplacian") {
  // κ = 1: the classic result — the diagonal couplings cancel, leaving 4 and −1.
  ScopedOption high("-kappa_high", "1"), low("-kappa_low", "1");
  auto p = assemble_with_petsc({6, 6}, 0);
  PetscInt ncols;
  const PetscInt* c;
  const PetscScalar* v;
  PINS_PETSC_CALL(MatGetRow(p->A, 7, &ncols, &c, &v));  // an interior point away from walls
  double diagonal = 0, off_sum = 0;
  int nonzero_off = 0;
  for (PetscInt k = 0; k < ncols; ++k) {
    if (c[k] == 7)
      diagonal = PetscRealPart(v[k]);
    else {
      off_sum += PetscRealPart(v[k]);
      if (std::abs(PetscRealPart(v[k])) > 1e-12) ++nonzero_off;
    }
  }
  PINS_PETSC_CALL(MatRestoreRow(p->A, 7, &ncols, &c, &v));
  CHECK(diagonal == doctest::Approx(4.0).epsilon(1e-12));
  CHECK(off_sum == doctest::Approx(-4.0).epsilon(1e-12));
  CHECK(nonzero_off == 4);
}

TEST_CASE("darcy_fem: the sampler draws one field of space, whatever the mesh") {
  // The same (seed, index) on a coarse and a refined mesh: a cell of the coarse mesh and a
  // fine cell inside it see the same field (their centroids differ, so compare statistics).
  auto coarse = assemble_with_petsc({8, 8}, 3);
  ScopedOption refine("-dm_refine", "1");
  auto fine = assemble_with_petsc({8, 8}, 3);
  auto fraction_high = [](const std::vector<double>& k) {
    int high = 0;
    for (double v : k) high += v > 5;
    return double(high) / double(k.size());
  };
  CHECK(std::abs(fraction_high(coarse->kappa) - fraction_high(fine->kappa)) < 0.1);
  CHECK(fine->kappa.size() == 4 * coarse->kappa.size());
}

TEST_CASE("darcy_fem: bad mesh options are refused with one line naming the option") {
  auto family = pins::find_problem_family("darcy_fem").create();
  SUBCASE("a mesh file that does not exist") {
    ScopedOption mesh("-dm_plex_filename", "/nonexistent/mesh.msh");
    CHECK_THROWS_WITH_AS(PINS_PETSC_CALL(family->SetFromOptions(PETSC_COMM_SELF, nullptr)),
                         doctest::Contains("-dm_plex_filename /nonexistent/mesh.msh: no such file"),
                         pins::Error);
  }
  SUBCASE("a file that is not a mesh") {
    const fs::path file =
        fs::temp_directory_path() / ("pins_not_a_mesh_" + std::to_string(::getpid()) + ".msh");
    std::ofstream(file) << "this is not a mesh\n";
    ScopedOption mesh("-dm_plex_filename", file.c_str());
    PINS_PETSC_CALL(family->SetFromOptions(PETSC_COMM_SELF, nullptr));
    CHECK_THROWS_AS(family->set_up({4, 4}, 1), pins::Error);
    fs::remove(file);
  }
  SUBCASE("perturbation out of range") {
    ScopedOption perturb("-mesh_perturb", "0.7");
    CHECK_THROWS_WITH_AS(PINS_PETSC_CALL(family->SetFromOptions(PETSC_COMM_SELF, nullptr)),
                         doctest::Contains("-mesh_perturb must be in [0, 0.5)"), pins::Error);
  }
  SUBCASE("non-positive kappa") {
    ScopedOption low("-kappa_low", "0");
    CHECK_THROWS_WITH_AS(PINS_PETSC_CALL(family->SetFromOptions(PETSC_COMM_SELF, nullptr)),
                         doctest::Contains("-kappa_low"), pins::Error);
  }
}
