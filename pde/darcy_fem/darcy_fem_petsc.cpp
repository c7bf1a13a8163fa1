// darcy_fem on DMPlex + PetscFE (darcy_fem_petsc.hpp). Every sample is solved on
// PETSC_COMM_SELF (pins generate distributes samples, not meshes), so the mesh, its point
// numbering and the dataset are the same for any process count.

#include "pde/darcy_fem/darcy_fem_petsc.hpp"

#include <petscds.h>
#include <petscfe.h>
#include <petscsnes.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "pde/darcy/darcy_petsc.hpp"
#include "pde/darcy_fem/darcy_fem_sampler.hpp"
#include "pins/core/check.hpp"
#include "pins/core/random.hpp"
#include "pins/petsc/error.hpp"

namespace pins::darcy_fem {

namespace {

// Pointwise functions of PETSc's FEM assembly: F(u) = ∫ κ∇u·∇v − f v, aux field 0 = (κ, f).
void f0_source(PetscInt, PetscInt, PetscInt, const PetscInt[], const PetscInt[],
               const PetscScalar[], const PetscScalar[], const PetscScalar[], const PetscInt aOff[],
               const PetscInt[], const PetscScalar a[], const PetscScalar[], const PetscScalar[],
               PetscReal, const PetscReal[], PetscInt, const PetscScalar[], PetscScalar f0[]) {
  f0[0] = -a[aOff[0] + 1];
}
void f1_flux(PetscInt dim, PetscInt, PetscInt, const PetscInt[], const PetscInt[],
             const PetscScalar[], const PetscScalar[], const PetscScalar u_x[],
             const PetscInt aOff[], const PetscInt[], const PetscScalar a[], const PetscScalar[],
             const PetscScalar[], PetscReal, const PetscReal[], PetscInt, const PetscScalar[],
             PetscScalar f1[]) {
  for (PetscInt d = 0; d < dim; ++d) f1[d] = a[aOff[0]] * u_x[d];
}
void g3_kappa(PetscInt dim, PetscInt, PetscInt, const PetscInt[], const PetscInt[],
              const PetscScalar[], const PetscScalar[], const PetscScalar[], const PetscInt aOff[],
              const PetscInt[], const PetscScalar a[], const PetscScalar[], const PetscScalar[],
              PetscReal, PetscReal, const PetscReal[], PetscInt, const PetscScalar[],
              PetscScalar g3[]) {
  for (PetscInt d = 0; d < dim; ++d) g3[d * dim + d] = a[aOff[0]];
}
PetscErrorCode zero_value(PetscInt, PetscReal, const PetscReal[], PetscInt nc, PetscScalar* u,
                          void*) {
  for (PetscInt c = 0; c < nc; ++c) u[c] = 0;
  return 0;
}

struct MeshOptions {
  std::string filename;  // empty: the built-in box
  bool simplex = true;
  int refine = 0;
  double perturb = 0;
};

// The unit square with nx × ny cells (split into two triangles along the rising diagonal, or
// quadrilaterals), interior vertices moved by up to perturb · h from a fixed random stream.
PetscErrorCode create_box(MPI_Comm comm, const MeshOptions& o, PetscInt nx, PetscInt ny, DM* dm) {
  PetscFunctionBeginUser;
  const PetscInt nvx = nx + 1, nvy = ny + 1;
  std::vector<PetscReal> x(size_t(2 * nvx * nvy));
  Rng rng(sample_seed(0x6d657368ULL /* "mesh" */, 0, 0));
  for (PetscInt j = 0; j < nvy; ++j)
    for (PetscInt i = 0; i < nvx; ++i) {
      const size_t v = size_t(j * nvx + i);
      double dx = 0, dy = 0;
      if (o.perturb > 0) {  // drawn for every vertex, so the stream does not depend on which
        dx = (2 * rng.uniform() - 1) * o.perturb / double(nx);
        dy = (2 * rng.uniform() - 1) * o.perturb / double(ny);
      }
      const bool interior = i > 0 && i < nx && j > 0 && j < ny;
      x[2 * v] = double(i) / double(nx) + (interior ? dx : 0);
      x[2 * v + 1] = double(j) / double(ny) + (interior ? dy : 0);
    }
  std::vector<PetscInt> cells;
  for (PetscInt j = 0; j < ny; ++j)
    for (PetscInt i = 0; i < nx; ++i) {
      const PetscInt v00 = j * nvx + i, v10 = v00 + 1, v01 = v00 + nvx, v11 = v01 + 1;
      if (o.simplex)
        cells.insert(cells.end(), {v00, v10, v11, v00, v11, v01});
      else
        cells.insert(cells.end(), {v00, v10, v11, v01});
    }
  const PetscInt corners = o.simplex ? 3 : 4;
  PetscCall(DMPlexCreateFromCellListPetsc(comm, 2, PetscInt(cells.size()) / corners, nvx * nvy,
                                          corners, PETSC_TRUE, cells.data(), 2, x.data(), dm));
  PetscFunctionReturn(0);
}

// The mesh alone: box or file, refined.
PetscErrorCode create_mesh(MPI_Comm comm, const MeshOptions& o, PetscInt nx, PetscInt ny, DM* dm) {
  PetscFunctionBeginUser;
  if (o.filename.empty()) {
    PetscCall(create_box(comm, o, nx, ny, dm));
  } else {
    PetscCall(DMPlexCreateFromFile(comm, o.filename.c_str(), "darcy_fem", PETSC_TRUE, dm));
  }
  PetscInt dim;
  PetscCall(DMGetDimension(*dm, &dim));
  PetscCheck(dim == 2, comm, PETSC_ERR_ARG_WRONG,
             "darcy_fem: -dm_plex_filename %s is a %d-D mesh; darcy_fem needs a 2-D one",
             o.filename.c_str(), (int)dim);
  for (int r = 0; r < o.refine; ++r) {
    DM fine;
    PetscCall(DMRefine(*dm, comm, &fine));
    PetscCall(DMDestroy(dm));
    *dm = fine;
  }
  PetscInt cStart, cEnd;
  PetscCall(DMPlexGetHeightStratum(*dm, 0, &cStart, &cEnd));
  PetscCheck(cEnd > cStart, comm, PETSC_ERR_ARG_WRONG, "darcy_fem: the mesh has no cells");
  DMPolytopeType first;
  PetscCall(DMPlexGetCellType(*dm, cStart, &first));
  for (PetscInt c = cStart; c < cEnd; ++c) {
    DMPolytopeType t;
    PetscCall(DMPlexGetCellType(*dm, c, &t));
    PetscCheck(t == first && (t == DM_POLYTOPE_TRIANGLE || t == DM_POLYTOPE_QUADRILATERAL), comm,
               PETSC_ERR_ARG_WRONG,
               "darcy_fem: the mesh must consist of triangles only or quadrilaterals only "
               "(cell %d is a %s)",
               (int)(c - cStart), DMPolytopeTypes[t]);
  }
  PetscFunctionReturn(0);
}

// P1/Q1 on the mesh, u = 0 on the boundary, the pointwise functions, and the P0 auxiliary
// field (κ, f) (zero until a sample sets it).
PetscErrorCode add_discretisation(DM dm) {
  MPI_Comm comm = PetscObjectComm((PetscObject)dm);
  PetscInt cStart;
  DMPolytopeType type;
  PetscFunctionBeginUser;
  PetscCall(DMPlexGetHeightStratum(dm, 0, &cStart, nullptr));
  PetscCall(DMPlexGetCellType(dm, cStart, &type));
  const PetscBool simplex = type == DM_POLYTOPE_TRIANGLE ? PETSC_TRUE : PETSC_FALSE;
  // Lagrange degree 1 with PETSc's default quadrature, read from no options: a user's
  // -petscspace_degree must not change the family's discretisation.
  PetscFE fe, fe_aux;
  PetscCall(PetscFECreateLagrange(comm, 2, 1, simplex, 1, PETSC_DETERMINE, &fe));
  PetscCall(PetscObjectSetName((PetscObject)fe, "u"));
  PetscCall(DMSetField(dm, 0, nullptr, (PetscObject)fe));
  PetscCall(DMCreateDS(dm));
  PetscDS ds;
  PetscCall(DMGetDS(dm, &ds));
  PetscCall(PetscDSSetResidual(ds, 0, f0_source, f1_flux));
  PetscCall(PetscDSSetJacobian(ds, 0, 0, nullptr, nullptr, nullptr, g3_kappa));
  DMLabel boundary;
  PetscCall(DMCreateLabel(dm, "pins_boundary"));
  PetscCall(DMGetLabel(dm, "pins_boundary", &boundary));
  PetscCall(DMPlexMarkBoundaryFaces(dm, 1, boundary));
  PetscCall(DMPlexLabelComplete(dm, boundary));
  const PetscInt id = 1;
  PetscCall(DMAddBoundary(dm, DM_BC_ESSENTIAL, "wall", boundary, 1, &id, 0, 0, nullptr,
                          (void (*)(void))zero_value, nullptr, nullptr, nullptr));

  DM aux_dm;
  Vec aux;
  PetscCall(PetscFECreateLagrange(comm, 2, 2, simplex, 0, PETSC_DETERMINE, &fe_aux));
  PetscCall(PetscFECopyQuadrature(fe, fe_aux));
  PetscCall(DMClone(dm, &aux_dm));
  PetscCall(DMSetField(aux_dm, 0, nullptr, (PetscObject)fe_aux));
  PetscCall(DMCreateDS(aux_dm));
  PetscCall(DMCreateLocalVector(aux_dm, &aux));
  PetscCall(DMSetAuxiliaryVec(dm, nullptr, 0, 0, aux));
  PetscCall(VecDestroy(&aux));
  PetscCall(DMDestroy(&aux_dm));
  PetscCall(PetscFEDestroy(&fe_aux));
  PetscCall(PetscFEDestroy(&fe));
  PetscFunctionReturn(0);
}

// Writes κ and f (one value per cell, in cell order) into the auxiliary field; checks κ.
PetscErrorCode set_coefficients(DM dm, const double* kappa, const double* f) {
  Vec aux;
  DM aux_dm;
  PetscSection section;
  PetscInt cStart, cEnd;
  PetscScalar* a;
  PetscFunctionBeginUser;
  PetscCall(DMGetAuxiliaryVec(dm, nullptr, 0, 0, &aux));
  PetscCheck(aux, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "darcy_fem: the DM has no coefficient field (not made by the family's CreateDM)");
  PetscCall(VecGetDM(aux, &aux_dm));
  PetscCall(DMGetLocalSection(aux_dm, &section));
  PetscCall(DMPlexGetHeightStratum(dm, 0, &cStart, &cEnd));
  PetscCall(VecGetArray(aux, &a));
  for (PetscInt c = cStart; c < cEnd; ++c) {
    const double k = kappa[c - cStart];
    PetscCheck(std::isfinite(k) && k > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
               "darcy_fem: kappa must be finite and positive, got %g in cell %d", k,
               (int)(c - cStart));
    PetscInt off;
    PetscCall(PetscSectionGetOffset(section, c, &off));
    a[off] = k;
    a[off + 1] = f[c - cStart];
  }
  PetscCall(VecRestoreArray(aux, &a));
  PetscFunctionReturn(0);
}

// The pins::Mesh of a discretised DM: coordinates, cells, and each unknown's vertex.
Mesh extract_mesh(DM dm) {
  Mesh mesh;
  PetscInt cStart, cEnd, vStart, vEnd;
  PINS_PETSC_CALL(DMPlexGetHeightStratum(dm, 0, &cStart, &cEnd));
  PINS_PETSC_CALL(DMPlexGetDepthStratum(dm, 0, &vStart, &vEnd));
  DMPolytopeType type;
  PINS_PETSC_CALL(DMPlexGetCellType(dm, cStart, &type));
  mesh.cell_type = type == DM_POLYTOPE_TRIANGLE ? "triangle" : "quadrilateral";
  mesh.dim = 2;
  Vec coordinates;
  PetscSection coordinate_section;
  const PetscScalar* xx;
  PINS_PETSC_CALL(DMGetCoordinatesLocal(dm, &coordinates));
  PINS_PETSC_CALL(DMGetCoordinateSection(dm, &coordinate_section));
  PINS_PETSC_CALL(VecGetArrayRead(coordinates, &xx));
  for (PetscInt v = vStart; v < vEnd; ++v) {
    PetscInt off;
    PINS_PETSC_CALL(PetscSectionGetOffset(coordinate_section, v, &off));
    mesh.coordinates.push_back(PetscRealPart(xx[off]));
    mesh.coordinates.push_back(PetscRealPart(xx[off + 1]));
  }
  PINS_PETSC_CALL(VecRestoreArrayRead(coordinates, &xx));
  for (PetscInt c = cStart; c < cEnd; ++c) {
    PetscInt n, *closure = nullptr;
    PINS_PETSC_CALL(DMPlexGetTransitiveClosure(dm, c, PETSC_TRUE, &n, &closure));
    for (PetscInt k = 0; k < n; ++k)
      if (closure[2 * k] >= vStart && closure[2 * k] < vEnd)
        mesh.cells.push_back(closure[2 * k] - vStart);
    PINS_PETSC_CALL(DMPlexRestoreTransitiveClosure(dm, c, PETSC_TRUE, &n, &closure));
  }
  PetscSection global;
  PINS_PETSC_CALL(DMGetGlobalSection(dm, &global));
  std::vector<std::int64_t> point_vertex;
  for (PetscInt v = vStart; v < vEnd; ++v) {
    PetscInt dof, cdof, off;
    PINS_PETSC_CALL(PetscSectionGetDof(global, v, &dof));
    PINS_PETSC_CALL(PetscSectionGetConstraintDof(global, v, &cdof));
    if (dof - cdof <= 0) continue;  // on the boundary: u = 0 there, not an unknown
    PINS_PETSC_CALL(PetscSectionGetOffset(global, v, &off));
    if (std::int64_t(point_vertex.size()) <= off) point_vertex.resize(size_t(off) + 1, -1);
    point_vertex[size_t(off)] = v - vStart;
  }
  mesh.point_vertex = std::move(point_vertex);
  mesh.check("darcy_fem mesh");
  return mesh;
}

class DarcyFemProblem final : public ProblemFamily {
 public:
  const char* name() const override { return "darcy_fem"; }

  PetscErrorCode SetFromOptions(MPI_Comm comm, const char* prefix) override {
    char filename[PETSC_MAX_PATH_LEN] = "";
    PetscBool simplex = mesh_.simplex ? PETSC_TRUE : PETSC_FALSE, has_file = PETSC_FALSE;
    PetscInt refine = mesh_.refine;
    PetscReal perturb = mesh_.perturb;
    PetscFunctionBeginUser;
    PetscCall(darcy::read_sampler_options(comm, prefix, name(), 2, &sampler_options_));
    PetscOptionsBegin(comm, prefix, "darcy_fem mesh options (pins generate -pde darcy_fem)",
                      "pins");
    PetscCall(PetscOptionsString("-dm_plex_filename",
                                 "Mesh file PETSc reads (2-D triangles or "
                                 "quadrilaterals); default: the unit square with -grid cells",
                                 "pins generate", filename, filename, sizeof filename, &has_file));
    PetscCall(PetscOptionsBool("-dm_plex_simplex",
                               "Built-in box: triangles (true) or "
                               "quadrilaterals (false)",
                               "pins generate", simplex, &simplex, nullptr));
    PetscCall(PetscOptionsInt("-dm_refine", "Uniform refinements of the mesh", "pins generate",
                              refine, &refine, nullptr));
    PetscCall(PetscOptionsReal("-mesh_perturb",
                               "Built-in box: random vertex moves, in cell sizes "
                               "(0 <= p < 0.5)",
                               "pins generate", perturb, &perturb, nullptr));
    PetscOptionsEnd();
    PetscCallCXX({
      PINS_CHECK(refine >= 0 && refine <= 8, "-dm_refine must be in [0, 8], got ", refine);
      PINS_CHECK(std::isfinite(perturb) && perturb >= 0 && perturb < 0.5,
                 "-mesh_perturb must be in [0, 0.5) cell sizes, got ", perturb);
      if (has_file) {
        std::error_code ec;
        PINS_CHECK(
            std::filesystem::is_regular_file(filename, ec), "-dm_plex_filename ", filename,
            ": no such file (expected a 2-D mesh PETSc can read: Gmsh .msh, Exodus, HDF5, ...)");
        PINS_CHECK(perturb == 0,
                   "-mesh_perturb applies to the built-in box, not to "
                   "-dm_plex_filename");
      }
      mesh_.filename = has_file ? filename : "";
      mesh_.simplex = simplex;
      mesh_.refine = int(refine);
      mesh_.perturb = perturb;
    });
    PetscFunctionReturn(0);
  }

  void set_up(const std::vector<std::int64_t>& grid, std::uint64_t seed) override {
    PINS_CHECK(grid.size() == 2,
               "darcy_fem: -grid gives the built-in box's cells per direction "
               "(ny, nx), got ",
               grid.size(), " directions");
    grid_ = grid;
    DM dm = nullptr;
    try {
      PINS_PETSC_CALL(CreateDM(PETSC_COMM_SELF, &dm));
      extracted_ = std::make_shared<const Mesh>(extract_mesh(dm));
    } catch (const Error& e) {
      DMDestroy(&dm);
      // PETSc's readers do not always name the file they choke on.
      if (!mesh_.filename.empty() &&
          std::string(e.what()).find(mesh_.filename) == std::string::npos)
        throw Error("-dm_plex_filename " + mesh_.filename +
                    ": not a mesh darcy_fem can use: " + e.what());
      throw;
    } catch (...) {
      DMDestroy(&dm);
      throw;
    }
    DMDestroy(&dm);
    sampler_options_.seed = seed;
    sampler_ = std::make_unique<MeshSampler>(sampler_options_, *extracted_);
  }

  // The mesh options are in the dataset's sampler attributes; the mesh they build must be
  // the stored one (a mesh file may have changed since).
  void set_up_for(const DatasetInfo& info) override {
    auto text = [&](const char* name) {
      const AttributeValue* v = info.find_sampler(name);
      PINS_CHECK(v, "darcy_fem: the dataset has no attribute sampler.", name,
                 " (needed to rebuild its mesh)");
      return to_string(*v);
    };
    PINS_CHECK(info.mesh, "darcy_fem: the dataset holds no mesh");
    const std::string source = text("mesh_source");
    mesh_.filename = source == "box" ? "" : source;
    mesh_.simplex = info.mesh->cell_type == "triangle";
    mesh_.refine = std::stoi(text("mesh_refine"));
    mesh_.perturb = std::stod(text("mesh_perturb"));
    std::vector<std::int64_t> grid = {3, 3};
    if (source == "box") {
      const std::string cells = text("mesh_cells");  // "nx x ny"
      const size_t x = cells.find('x');
      PINS_CHECK(x != std::string::npos, "darcy_fem: sampler.mesh_cells must be NXxNY, got ",
                 cells);
      grid = {std::stoll(cells.substr(x + 1)), std::stoll(cells.substr(0, x))};
    }
    set_up(grid, std::uint64_t(info.seed));
    PINS_CHECK(*extracted_ == *info.mesh,
               "darcy_fem: the mesh rebuilt from the dataset's "
               "attributes (",
               extracted_->describe(), ") is not the one stored in it (", info.mesh->describe(),
               ")", source == "box" ? "" : "; has " + source + " changed?");
  }

  void describe(DatasetInfo* info) const override {
    PINS_CHECK(sampler_, name(), ": describe() before set_up()");
    const auto& o = sampler_options_;
    info->pde = name();
    info->equation = "-div(kappa grad u) = f";
    info->discretisation = std::string(extracted_->cell_type == "triangle" ? "P1" : "Q1") +
                           " finite elements (PetscFE on DMPlex), kappa and f constant per cell";
    info->domain = mesh_.filename.empty() ? "(0,1)x(0,1)" : "the mesh in " + mesh_.filename;
    info->boundary_condition = "u = 0 on the whole boundary (Dirichlet, essential)";
    info->seed = std::int64_t(o.seed);
    info->seed_streams = 2;
    info->mesh = extracted_;
    info->grid = {extracted_->point_count()};
    darcy::SamplerOptions recorded = o;
    recorded.modes = sampler_->modes();  // 0 means kDefaultModes here, not the grid size
    info->sampler = darcy::sampler_attributes(recorded);
    info->sampler.insert(
        info->sampler.end(),
        {{"mesh_source", mesh_.filename.empty() ? std::string("box") : mesh_.filename},
         {"mesh_cells", mesh_.filename.empty()
                            ? std::to_string(grid_[1]) + "x" + std::to_string(grid_[0])
                            : std::string("file")},
         {"mesh_refine", std::int64_t{mesh_.refine}},
         {"mesh_perturb", mesh_.perturb}});
  }

  void sample(std::uint64_t index, const std::vector<double*>& inputs,
              std::uint64_t* seeds) const override {
    PINS_CHECK(sampler_, name(), ": sample() before set_up()");
    PINS_CHECK(inputs.size() == 2, name(), ": sample() needs the arrays kappa and f");
    sampler_->sample(index, inputs[0], inputs[1]);
    seeds[0] = sample_seed(sampler_options_.seed, index, 0);
    seeds[1] = sample_seed(sampler_options_.seed, index, 1);
  }

  PetscErrorCode CreateDM(MPI_Comm comm, DM* dm) const override {
    PetscFunctionBeginUser;
    PetscCheck(grid_.size() == 2, comm, PETSC_ERR_ORDER, "darcy_fem: CreateDM() before set_up()");
    PetscCall(create_mesh(comm, mesh_, grid_[1], grid_[0], dm));
    PetscCall(add_discretisation(*dm));
    PetscFunctionReturn(0);
  }

  PetscErrorCode AssembleOperator(DM dm, const std::vector<const double*>& inputs,
                                  Mat A) const override {
    Vec x;
    PetscFunctionBeginUser;
    PetscCall(set_coefficients(dm, inputs.at(0), inputs.at(1)));
    PetscCall(DMGetLocalVector(dm, &x));
    PetscCall(VecZeroEntries(x));
    PetscCall(MatZeroEntries(A));
    PetscCall(DMPlexSNESComputeJacobianFEM(dm, x, A, A, nullptr));
    PetscCall(DMRestoreLocalVector(dm, &x));
    PetscCall(MatSetOption(A, MAT_SYMMETRIC, PETSC_TRUE));
    PetscCall(MatSetOption(A, MAT_SPD, PETSC_TRUE));
    PetscFunctionReturn(0);
  }

  // b = −F(0): the residual at u = 0 is −∫ f v.
  PetscErrorCode AssembleRHS(DM dm, const std::vector<const double*>& inputs,
                             Vec b) const override {
    Vec x, r;
    PetscFunctionBeginUser;
    PetscCall(set_coefficients(dm, inputs.at(0), inputs.at(1)));
    PetscCall(DMGetLocalVector(dm, &x));
    PetscCall(DMGetLocalVector(dm, &r));
    PetscCall(VecZeroEntries(x));
    PetscCall(VecZeroEntries(r));
    PetscCall(DMPlexSNESComputeResidualFEM(dm, x, r, nullptr));
    PetscCall(VecZeroEntries(b));
    PetscCall(DMLocalToGlobal(dm, r, ADD_VALUES, b));
    PetscCall(VecScale(b, -1.0));
    PetscCall(DMRestoreLocalVector(dm, &r));
    PetscCall(DMRestoreLocalVector(dm, &x));
    PetscFunctionReturn(0);
  }

 private:
  darcy::SamplerOptions sampler_options_;
  MeshOptions mesh_;
  std::vector<std::int64_t> grid_;
  std::shared_ptr<const Mesh> extracted_;  // the set-up mesh, as datasets store it
  std::unique_ptr<MeshSampler> sampler_;
};

}  // namespace

std::unique_ptr<ProblemFamily> create_problem_family() {
  return std::make_unique<DarcyFemProblem>();
}

}  // namespace pins::darcy_fem
