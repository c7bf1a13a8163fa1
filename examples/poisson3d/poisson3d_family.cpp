// The "poisson3d" family: its pins::Family (fields, operator) and its pins::ProblemFamily
// (sampler, DMDA assembly), and their registration. See poisson3d_family.hpp.
#include "poisson3d_family.hpp"

#include <petscdmda.h>
#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "pde/problem_family.hpp"   // pins::ProblemFamily (installed with pins)
#include "pde/registry.hpp"         // pins::register_problem_family
#include "pins/core/check.hpp"      // PINS_CHECK, pins::Error
#include "pins/core/family.hpp"     // pins::Family, pins::register_family
#include "pins/core/random.hpp"     // pins::sample_seed
#include "pins/core/stencil_operator.hpp"

namespace poisson3d {

namespace {

constexpr const char* kName = "poisson3d";
constexpr int kPoints = 7;  // the 3-D star of width 1: C, W, E, S, N, D, U (pins' order)

// The weights of the 7-point operator at cell (k, j, i) of an nz × ny × nx grid, in pins'
// channel order. Both halves use this one function, so the PETSc matrix and the physics
// loss's operator agree to the last bit.
void row_weights(std::int64_t nz, std::int64_t ny, std::int64_t nx, std::int64_t k, std::int64_t j,
                 std::int64_t i, double w[kPoints]) {
  const double hx = double(nx) * double(nx), hy = double(ny) * double(ny);
  const double hz = double(nz) * double(nz);
  // A face to a neighbour weighs 1/h²; a face on the wall, half a cell away, 2/h².
  const double west = i > 0 ? hx : 2 * hx, east = i < nx - 1 ? hx : 2 * hx;
  const double south = j > 0 ? hy : 2 * hy, north = j < ny - 1 ? hy : 2 * hy;
  const double down = k > 0 ? hz : 2 * hz, up = k < nz - 1 ? hz : 2 * hz;
  w[0] = west + east + south + north + down + up;
  w[1] = i > 0 ? -hx : 0;  // couplings out of the grid are zero (pins ignores them)
  w[2] = i < nx - 1 ? -hx : 0;
  w[3] = j > 0 ? -hy : 0;
  w[4] = j < ny - 1 ? -hy : 0;
  w[5] = k > 0 ? -hz : 0;
  w[6] = k < nz - 1 ? -hz : 0;
}

// ---- the PETSc-free half -------------------------------------------------------------

class Poisson3DFamily final : public pins::Family {
 public:
  std::string name() const override { return kName; }
  std::string summary() const override {
    return "-laplace(u) = f on (0,1)^3, u = 0 on the boundary (out-of-tree example)";
  }
  pins::Stencil stencil() const override {
    return pins::Stencil{3, pins::StencilShape::kStar, 1, 1};
  }
  std::vector<pins::InputField> inputs() const override {
    return {{"f", pins::FieldTransform::kScale, "source term"}};
  }

  pins::OperatorPtr make_operator(const pins::FieldMap& in) const override {
    check_inputs(in, "poisson3d operator");
    const torch::Tensor& f = in.at("f");
    PINS_CHECK(f.dim() == 4, "poisson3d operator: f must be [B, nz, ny, nx], got ", f.sizes());
    const std::int64_t nz = f.size(1), ny = f.size(2), nx = f.size(3);
    // One operator for every sample: build it once, then repeat it along the batch.
    torch::Tensor c = torch::empty({kPoints, nz, ny, nx}, torch::kFloat64);
    double* p = c.data_ptr<double>();
    const std::int64_t cells = nz * ny * nx;
    for (std::int64_t k = 0; k < nz; ++k)
      for (std::int64_t j = 0; j < ny; ++j)
        for (std::int64_t i = 0; i < nx; ++i) {
          double w[kPoints];
          row_weights(nz, ny, nx, k, j, i, w);
          for (int q = 0; q < kPoints; ++q) p[q * cells + (k * ny + j) * nx + i] = w[q];
        }
    const torch::Tensor coeffs =
        c.to(f.scalar_type()).unsqueeze(0).expand({f.size(0), kPoints, nz, ny, nx}).contiguous();
    return std::make_shared<pins::StencilOperator>(stencil(), coeffs);
  }

  torch::Tensor rhs(const pins::FieldMap& in) const override {
    check_inputs(in, "poisson3d right-hand side");
    return in.at("f");
  }
};

// ---- the PETSc half ------------------------------------------------------------------

class Poisson3DProblem final : public pins::ProblemFamily {
 public:
  const char* name() const override { return kName; }

  PetscErrorCode SetFromOptions(MPI_Comm comm, const char* prefix) override {
    PetscInt modes = modes_;
    PetscFunctionBeginUser;
    PetscOptionsBegin(comm, prefix, "poisson3d sampler options", "poisson3d");
    PetscCall(PetscOptionsInt("-poisson3d_modes", "Sine modes summed in each source f (>= 1)",
                              "poisson3d", modes, &modes, nullptr));
    PetscOptionsEnd();
    PetscCheck(modes >= 1 && modes <= 64, comm, PETSC_ERR_ARG_OUTOFRANGE,
               "-poisson3d_modes must be in [1, 64], got %d", (int)modes);
    modes_ = int(modes);
    PetscFunctionReturn(0);
  }

  void set_up(const std::vector<std::int64_t>& grid, std::uint64_t seed) override {
    PINS_CHECK(grid.size() == 3, "poisson3d: the grid must be 3-D (nz, ny, nx), got ",
               grid.size(), " directions");
    grid_ = grid;
    seed_ = seed;
  }

  void describe(pins::DatasetInfo* info) const override {
    info->pde = kName;
    info->equation = "-laplace(u) = f";
    info->discretisation = "cell-centred finite differences, 7-point";
    info->domain = "(0,1)^3";
    info->boundary_condition = "u = 0 on the whole boundary (Dirichlet)";
    info->seed = std::int64_t(seed_);
    info->seed_streams = 1;
    info->sampler = {{"f_type", std::string("sum of random sine modes, frequencies 1-3")},
                     {"modes", std::int64_t{modes_}}};
  }

  // f = Σ_m a_m sin(πl x) sin(πm y) sin(πn z), a_m uniform in [-1, 1], l, m, n in {1, 2, 3},
  // from one random stream per sample: the sample depends on (seed, index) only.
  void sample(std::uint64_t index, const std::vector<double*>& inputs,
              std::uint64_t* seeds) const override {
    PINS_CHECK(inputs.size() == 1 && grid_.size() == 3, "poisson3d: sample() needs set_up() "
               "and one input array (f)");
    seeds[0] = pins::sample_seed(seed_, index, 0);
    std::mt19937_64 rng(seeds[0]);
    auto uniform = [&] { return double(rng() >> 11) * 0x1.0p-53; };  // portable, in [0, 1)
    const std::int64_t nz = grid_[0], ny = grid_[1], nx = grid_[2];
    double* f = inputs[0];
    std::fill(f, f + nz * ny * nx, 0.0);
    for (int m = 0; m < modes_; ++m) {
      const double a = 2 * uniform() - 1;
      const int l = 1 + int(rng() % 3), q = 1 + int(rng() % 3), r = 1 + int(rng() % 3);
      for (std::int64_t k = 0; k < nz; ++k)
        for (std::int64_t j = 0; j < ny; ++j)
          for (std::int64_t i = 0; i < nx; ++i)
            f[(k * ny + j) * nx + i] += a * std::sin(M_PI * l * (i + 0.5) / nx) *
                                        std::sin(M_PI * q * (j + 0.5) / ny) *
                                        std::sin(M_PI * r * (k + 0.5) / nz);
    }
  }

  PetscErrorCode CreateDM(MPI_Comm comm, DM* dm) const override {
    PetscFunctionBeginUser;
    PetscCheck(grid_.size() == 3, comm, PETSC_ERR_ORDER, "poisson3d: CreateDM() before set_up()");
    PetscCall(DMDACreate3d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                           DMDA_STENCIL_STAR, PetscInt(grid_[2]), PetscInt(grid_[1]),
                           PetscInt(grid_[0]), PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, 1, 1,
                           nullptr, nullptr, nullptr, dm));
    PetscCall(DMSetUp(*dm));
    PetscFunctionReturn(0);
  }

  PetscErrorCode AssembleOperator(DM da, const std::vector<const double*>&,
                                  Mat A) const override {
    PetscInt mx, my, mz, xs, ys, zs, xm, ym, zm;
    PetscFunctionBeginUser;
    PetscCall(DMDAGetInfo(da, nullptr, &mx, &my, &mz, nullptr, nullptr, nullptr, nullptr, nullptr,
                          nullptr, nullptr, nullptr, nullptr));
    PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
    const int dk[kPoints] = {0, 0, 0, 0, 0, -1, 1}, dj[kPoints] = {0, 0, 0, -1, 1, 0, 0};
    const int di[kPoints] = {0, -1, 1, 0, 0, 0, 0};
    for (PetscInt k = zs; k < zs + zm; ++k)
      for (PetscInt j = ys; j < ys + ym; ++j)
        for (PetscInt i = xs; i < xs + xm; ++i) {
          double w[kPoints];
          row_weights(mz, my, mx, k, j, i, w);
          MatStencil row{}, cols[kPoints]{};
          PetscScalar vals[kPoints];
          PetscInt n = 0;
          row.k = k;
          row.j = j;
          row.i = i;
          for (int q = 0; q < kPoints; ++q) {
            if (q > 0 && w[q] == 0) continue;  // a neighbour outside the grid
            cols[n].k = k + dk[q];
            cols[n].j = j + dj[q];
            cols[n].i = i + di[q];
            vals[n++] = w[q];
          }
          PetscCall(MatSetValuesStencil(A, 1, &row, n, cols, vals, INSERT_VALUES));
        }
    PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
    PetscCall(MatSetOption(A, MAT_SPD, PETSC_TRUE));
    PetscFunctionReturn(0);
  }

  PetscErrorCode AssembleRHS(DM da, const std::vector<const double*>& inputs,
                             Vec b) const override {
    PetscInt mx, my, xs, ys, zs, xm, ym, zm;
    PetscScalar*** bb;
    PetscFunctionBeginUser;
    PetscCall(DMDAGetInfo(da, nullptr, &mx, &my, nullptr, nullptr, nullptr, nullptr, nullptr,
                          nullptr, nullptr, nullptr, nullptr, nullptr));
    PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
    const double* f = inputs[0];
    PetscCall(DMDAVecGetArray(da, b, &bb));
    for (PetscInt k = zs; k < zs + zm; ++k)
      for (PetscInt j = ys; j < ys + ym; ++j)
        for (PetscInt i = xs; i < xs + xm; ++i) bb[k][j][i] = f[(size_t(k) * my + j) * mx + i];
    PetscCall(DMDAVecRestoreArray(da, b, &bb));
    PetscFunctionReturn(0);
  }

 private:
  std::vector<std::int64_t> grid_;
  std::uint64_t seed_ = 0;
  int modes_ = 4;
};

}  // namespace

void register_poisson3d() {
  pins::register_family(std::make_shared<Poisson3DFamily>());
  pins::register_problem_family(
      {kName, "-laplace(u) = f on (0,1)^3 (out-of-tree example)",
       []() -> std::unique_ptr<pins::ProblemFamily> { return std::make_unique<Poisson3DProblem>(); }});
}

}  // namespace poisson3d
