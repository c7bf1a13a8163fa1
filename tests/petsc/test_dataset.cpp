// pins datasets (pins/core/dataset.hpp): round trip, atomic writing, and the reader's
// one-line errors for missing, foreign, damaged and incomplete files.

#include <doctest/doctest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>

#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/dataset_stream.hpp"
#include "error_of.hpp"

namespace fs = std::filesystem;

namespace {

// A fresh, empty folder per test case, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("pins_dataset_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  size_t entries() const {
    return size_t(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
  }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

pins::Dataset small_dataset(std::int64_t n = 3, int ny = 4, int nx = 5) {
  pins::Dataset d;
  d.samples = n;
  d.info.pde = "darcy";
  d.info.equation = "-div(kappa grad u) = f";
  d.info.discretisation = "cell-centred finite volumes, 5-point, harmonic face averages";
  d.info.domain = "(0,1)x(0,1)";
  d.info.boundary_condition = "u = 0 on the whole boundary (Dirichlet)";
  d.info.grid = {ny, nx};
  d.info.inputs = {{"kappa", 1}, {"f", 1}};
  d.info.operator_description = "stencil: dim=2 star width=1 dof=1";
  d.info.seed = 42;
  d.info.sampler = {
      {"kappa_type", std::string("threshold")}, {"alpha", 2.0}, {"modes", std::int64_t{0}}};
  d.info.ksp_type = "cg";
  d.info.pc_type = "gamg";
  d.info.rtol = 1e-10;
  d.info.extra = {{"command", std::string("test")}, {"version.petsc", std::string("3.18.5")}};
  const size_t total = size_t(n) * ny * nx;
  d.inputs = {{"kappa", {ny, nx}, {}}, {"f", {ny, nx}, {}}};
  d.u = {"u", {ny, nx}, {}};
  for (size_t p = 0; p < total; ++p) {
    d.inputs[0].values.push_back(1.0 + double(p % 7));
    d.inputs[1].values.push_back(1.0);
    d.u.values.push_back(std::sin(double(p)) * 1e-3);
  }
  for (std::int64_t i = 0; i < n; ++i) {
    d.iterations.push_back(int(10 + i));
    d.residual.push_back(1e-11 * double(i + 1));
    d.seeds.push_back(1000 + std::uint64_t(i));
    d.seeds.push_back(0xffffffffffffff00ull + std::uint64_t(i));  // full 64-bit range
  }
  return d;
}

using pins::test::error_of;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Opens a dataset for surgery with the HDF5 API (damaging it on purpose).
struct RawFile {
  hid_t id;
  explicit RawFile(const std::string& path) : id(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) {
    REQUIRE(id >= 0);
  }
  ~RawFile() { H5Fclose(id); }
};

}  // namespace

TEST_CASE("dataset round trip keeps arrays, attributes and order") {
  TempDir dir;
  const std::string path = dir.file("d.h5");
  const pins::Dataset d = small_dataset();
  pins::write_dataset(path, d);
  CHECK(dir.entries() == 1);  // no temporary left behind

  const pins::Dataset r = pins::read_dataset(path);
  CHECK(r.samples == d.samples);
  CHECK(r.input("kappa").values == d.inputs[0].values);
  CHECK(r.input("f").values == d.inputs[1].values);
  CHECK(r.u.values == d.u.values);
  CHECK(r.u.shape == std::vector<std::int64_t>{4, 5});
  CHECK(r.iterations == d.iterations);
  CHECK(r.residual == d.residual);
  CHECK(r.seeds == d.seeds);
  CHECK(r.info.pde == "darcy");
  CHECK(r.info.nx() == 5);
  CHECK(r.info.ny() == 4);
  CHECK(r.info.dim() == 2);
  CHECK(r.info.dof == 1);
  CHECK(r.info.input_list() == "kappa,f");
  CHECK(r.info.operator_description == "stencil: dim=2 star width=1 dof=1");
  CHECK(r.info.seed_streams == 2);
  CHECK(r.info.seed == 42);
  CHECK(r.info.rtol == 1e-10);
  CHECK(r.info.ksp_type == "cg");
  REQUIRE(r.info.sampler.size() == 3);
  CHECK(r.info.sampler[0].name == "kappa_type");
  CHECK(std::get<std::string>(r.info.sampler[0].value) == "threshold");
  CHECK(std::get<double>(*r.info.find_sampler("alpha")) == 2.0);
  CHECK(std::get<std::int64_t>(*r.info.find_sampler("modes")) == 0);
  REQUIRE(r.info.find_extra("version.pins"));
  REQUIRE(r.info.find_extra("version.hdf5"));
  REQUIRE(r.info.find_extra("version.kokkos"));
  CHECK(std::get<std::string>(*r.info.find_extra("version.petsc")) == "3.18.5");

  const auto attrs = pins::read_dataset_attributes(path);
  REQUIRE(attrs.size() >= 3);
  CHECK(attrs[0].name == "format");  // creation order, as documented
  CHECK(attrs[1].name == "format_version");
  CHECK(attrs[2].name == "pde");

  const pins::Dataset header = pins::read_dataset_info(path);
  CHECK(header.samples == 3);
  CHECK(header.u.values.empty());
}

TEST_CASE("datasets of any rank: 3-D grids, multi-component inputs, dof > 1, seed streams") {
  TempDir dir;
  pins::Dataset d = small_dataset(2);
  d.info.pde = "elasticity3d";
  d.info.grid = {3, 4, 5};  // nz, ny, nx
  d.info.inputs = {{"lambda", 1}, {"body_force", 3}};
  d.info.dof = 3;
  d.info.seed_streams = 1;
  d.info.operator_description = "stencil: dim=3 star width=1 dof=3";
  const std::int64_t points = 3 * 4 * 5;
  d.inputs = {{"lambda", {3, 4, 5}, {}}, {"body_force", {3, 3, 4, 5}, {}}};
  d.u = {"u", {3, 3, 4, 5}, {}};
  for (std::int64_t p = 0; p < 2 * points; ++p) d.inputs[0].values.push_back(1.0 + double(p));
  for (std::int64_t p = 0; p < 2 * 3 * points; ++p) {
    d.inputs[1].values.push_back(-double(p));
    d.u.values.push_back(0.5 * double(p));
  }
  d.seeds = {11, 12};
  const std::string path = dir.file("d3.h5");
  pins::write_dataset(path, d);
  const pins::Dataset r = pins::read_dataset(path);
  CHECK(r.info.grid == std::vector<std::int64_t>{3, 4, 5});
  CHECK(r.info.nz() == 3);
  CHECK(r.info.grid_string() == "5x4x3");
  CHECK(r.info.input_list() == "lambda,body_force:3");
  CHECK(r.info.dof == 3);
  CHECK(r.info.seed_streams == 1);
  CHECK(r.input("body_force").shape == std::vector<std::int64_t>{3, 3, 4, 5});
  CHECK(r.input("body_force").values == d.inputs[1].values);
  CHECK(r.input("lambda").values == d.inputs[0].values);
  CHECK(r.u.values == d.u.values);
  CHECK(r.seeds == d.seeds);
  CHECK(contains(error_of([&] { r.input("kappa"); }), "has no input array 'kappa'"));
  // An array whose shape disagrees with the info is refused before anything is written.
  d.inputs[1].shape = {3, 4, 5};
  CHECK(contains(error_of([&] { pins::write_dataset(dir.file("bad.h5"), d); }),
                 "array 'body_force'"));
  CHECK(!fs::exists(dir.file("bad.h5")));
}

TEST_CASE("format version 1 files (2-D Darcy, before families had inputs) stay readable") {
  TempDir dir;
  const std::string path = dir.file("v1.h5");
  const pins::Dataset d = small_dataset();
  pins::write_dataset(path, d);
  {  // What pins wrote before format version 2: no dim/dof/inputs/operator, version 1.
    RawFile f(path);
    for (const char* name : {"dim", "dof", "inputs", "operator"})
      REQUIRE(H5Adelete(f.id, name) >= 0);
    hid_t a = H5Aopen(f.id, "format_version", H5P_DEFAULT);
    const std::int64_t one = 1;
    REQUIRE(H5Awrite(a, H5T_NATIVE_INT64, &one) >= 0);
    H5Aclose(a);
  }
  const pins::Dataset r = pins::read_dataset(path);
  CHECK(r.info.dim() == 2);
  CHECK(r.info.grid == std::vector<std::int64_t>{4, 5});
  CHECK(r.info.input_list() == "kappa,f");
  CHECK(r.info.dof == 1);
  CHECK(r.input("kappa").values == d.inputs[0].values);
  CHECK(r.u.values == d.u.values);
}

TEST_CASE("an existing dataset is refused unless forced") {
  TempDir dir;
  const std::string path = dir.file("d.h5");
  pins::write_dataset(path, small_dataset(2));
  const std::string e = error_of([&] { pins::write_dataset(path, small_dataset(3)); });
  CHECK(contains(e, "already exists"));
  CHECK(pins::read_dataset(path).samples == 2);  // untouched
  pins::write_dataset(path, small_dataset(3), /*force=*/true);
  CHECK(pins::read_dataset(path).samples == 3);
  CHECK(dir.entries() == 1);
}

TEST_CASE("failed writes leave nothing behind") {
  TempDir dir;
  SUBCASE("missing folder") {
    const std::string e =
        error_of([&] { pins::write_dataset(dir.file("no/such/d.h5"), small_dataset()); });
    CHECK(contains(e, "does not exist"));
  }
  SUBCASE("non-finite value") {
    pins::Dataset d = small_dataset();
    d.u.values[7] = std::numeric_limits<double>::quiet_NaN();
    const std::string e = error_of([&] { pins::write_dataset(dir.file("d.h5"), d); });
    CHECK(contains(e, "sample 0"));
    CHECK(contains(e, "'u'"));
  }
  SUBCASE("a sample never written") {
    const std::string e = error_of([&] {
      pins::DatasetWriter w(dir.file("d.h5"), small_dataset().info, 2, false);
      CHECK(fs::exists(w.temporary_path()));
      w.commit();
    });
    CHECK(contains(e, "sample 0 was never written"));
  }
  SUBCASE("writer destroyed without commit") {
    pins::DatasetWriter w(dir.file("d.h5"), small_dataset().info, 1, false);
    CHECK(dir.entries() == 1);  // only the temporary
  }
  CHECK(dir.entries() == 0);
}

TEST_CASE("reader errors name the file and what is wrong") {
  TempDir dir;
  SUBCASE("missing file") {
    CHECK_THROWS_AS(pins::read_dataset(dir.file("none.h5")), pins::FileNotFound);
    CHECK(contains(error_of([&] { pins::read_dataset(dir.file("none.h5")); }),
                   "none.h5: no such file"));
  }
  SUBCASE("not an HDF5 file") {
    std::ofstream(dir.file("text.h5")) << "hello\n";
    CHECK(contains(error_of([&] { pins::read_dataset(dir.file("text.h5")); }),
                   "text.h5: not an HDF5 file"));
  }
  const std::string path = dir.file("d.h5");
  pins::write_dataset(path, small_dataset());
  SUBCASE("missing array") {
    {
      RawFile f(path);
      REQUIRE(H5Ldelete(f.id, "u", H5P_DEFAULT) >= 0);
    }
    CHECK(contains(error_of([&] { pins::read_dataset(path); }), "d.h5: array 'u' is missing"));
  }
  SUBCASE("missing attribute") {
    {
      RawFile f(path);
      REQUIRE(H5Adelete(f.id, "nx") >= 0);
    }
    CHECK(contains(error_of([&] { pins::read_dataset(path); }), "attribute 'nx' is missing"));
  }
  SUBCASE("mis-shaped array") {
    {
      RawFile f(path);
      REQUIRE(H5Ldelete(f.id, "f", H5P_DEFAULT) >= 0);
      const hsize_t dims[3] = {3, 4, 4};
      hid_t space = H5Screate_simple(3, dims, nullptr);
      hid_t ds =
          H5Dcreate2(f.id, "f", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      REQUIRE(ds >= 0);
      H5Dclose(ds);
      H5Sclose(space);
    }
    CHECK(contains(error_of([&] { pins::read_dataset(path); }),
                   "array 'f' has shape [3, 4, 4], expected [3, 4, 5]"));
  }
  SUBCASE("NaN in an array") {
    {
      RawFile f(path);
      hid_t ds = H5Dopen2(f.id, "kappa", H5P_DEFAULT);
      hid_t space = H5Dget_space(ds);
      const hsize_t start[3] = {1, 2, 3}, count[3] = {1, 1, 1};
      H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
      hid_t mem = H5Screate_simple(3, count, nullptr);
      const double nan = std::numeric_limits<double>::quiet_NaN();
      REQUIRE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, &nan) >= 0);
      H5Sclose(mem);
      H5Sclose(space);
      H5Dclose(ds);
    }
    CHECK(contains(error_of([&] { pins::read_dataset(path); }),
                   "array 'kappa' holds a non-finite value (nan) at [1, 2, 3]"));
  }
  SUBCASE("checksum error") {
    // Flip one byte inside the first chunk of 'u': Fletcher32 must catch it.
    haddr_t address = 0;
    {
      RawFile f(path);
      hid_t ds = H5Dopen2(f.id, "u", H5P_DEFAULT);
      const hsize_t offset[3] = {0, 0, 0};
      unsigned mask = 0;
      hsize_t size = 0;
      REQUIRE(H5Dget_chunk_info_by_coord(ds, offset, &mask, &address, &size) >= 0);
      H5Dclose(ds);
    }
    {
      std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
      file.seekg(std::streamoff(address + 8));
      char c;
      file.get(c);
      file.seekp(std::streamoff(address + 8));
      file.put(char(c ^ 0x5a));
    }
    const std::string e = error_of([&] { pins::read_dataset(path); });
    CHECK(contains(e, "array 'u' cannot be read"));
  }
  SUBCASE("not a pins dataset") {
    {
      RawFile f(path);
      REQUIRE(H5Adelete(f.id, "format") >= 0);
    }
    CHECK(contains(error_of([&] { pins::read_dataset(path); }), "not a pins dataset"));
  }
}

namespace {

// small_dataset() as an inputs-only dataset: the same inputs and seeds, no solutions. Its
// solver fields stay set: the writer must leave them out all the same.
pins::Dataset inputs_only_dataset() {
  pins::Dataset d = small_dataset();
  d.info.labelled = false;
  d.u.values.clear();
  d.iterations.clear();
  d.residual.clear();
  return d;
}

bool has_link(const std::string& path, const char* name) {
  RawFile f(path);
  return H5Lexists(f.id, name, H5P_DEFAULT) > 0;
}

// Sets the integer root attribute `name` of the file at `path` (creating it if absent).
void set_int_attribute(const std::string& path, const char* name, std::int64_t value) {
  RawFile f(path);
  if (H5Aexists(f.id, name) > 0) REQUIRE(H5Adelete(f.id, name) >= 0);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(f.id, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(a >= 0);
  REQUIRE(H5Awrite(a, H5T_NATIVE_INT64, &value) >= 0);
  H5Aclose(a);
  H5Sclose(space);
}

}  // namespace

TEST_CASE("inputs-only datasets round trip without solutions or a solver") {
  TempDir dir;
  const std::string path = dir.file("inputs.h5");
  const pins::Dataset d = inputs_only_dataset();
  pins::write_dataset(path, d);
  CHECK(dir.entries() == 1);
  for (const char* name : {"u", "iterations", "residual"}) {
    INFO(name);
    CHECK_FALSE(has_link(path, name));
  }
  CHECK(has_link(path, "kappa"));
  CHECK(has_link(path, "seeds"));

  const pins::Dataset r = pins::read_dataset(path);
  CHECK_FALSE(r.info.labelled);
  CHECK(r.samples == 3);
  CHECK(r.input("kappa").values == d.inputs[0].values);
  CHECK(r.input("f").values == d.inputs[1].values);
  CHECK(r.seeds == d.seeds);
  CHECK(r.u.name == "u");
  CHECK(r.u.values.empty());
  CHECK(r.u.shape == std::vector<std::int64_t>{4, 5});  // what a solution would be
  CHECK(r.iterations.empty());
  CHECK(r.residual.empty());
  // No solver ran: none is recorded, whatever DatasetInfo held.
  CHECK(r.info.ksp_type.empty());
  CHECK(r.info.pc_type.empty());
  CHECK(r.info.rtol == 0);
  CHECK_FALSE(pins::read_dataset_info(path).info.labelled);

  bool seen = false;
  for (const auto& a : pins::read_dataset_attributes(path)) {
    CHECK(a.name.rfind("solver.", 0) != 0);
    if (a.name == "labelled") seen = std::get<std::int64_t>(a.value) == 0;
  }
  CHECK(seen);

  // Written again from what was read: the same file contents.
  pins::write_dataset(dir.file("again.h5"), r);
  const pins::Dataset again = pins::read_dataset(dir.file("again.h5"));
  CHECK_FALSE(again.info.labelled);
  CHECK(again.input("kappa").values == d.inputs[0].values);

  // A labelled file says so.
  pins::write_dataset(dir.file("labelled.h5"), small_dataset());
  bool labelled = false;
  for (const auto& a : pins::read_dataset_attributes(dir.file("labelled.h5")))
    if (a.name == "labelled") labelled = std::get<std::int64_t>(a.value) == 1;
  CHECK(labelled);
  CHECK(pins::read_dataset(dir.file("labelled.h5")).info.labelled);
}

TEST_CASE("a file without the labelled attribute (written before it existed) is labelled") {
  TempDir dir;
  const std::string path = dir.file("old.h5");
  const pins::Dataset d = small_dataset();
  pins::write_dataset(path, d);
  {
    RawFile f(path);
    REQUIRE(H5Adelete(f.id, "labelled") >= 0);
  }
  const pins::Dataset r = pins::read_dataset(path);
  CHECK(r.info.labelled);
  CHECK(r.u.values == d.u.values);
  CHECK(r.info.ksp_type == "cg");
}

TEST_CASE("solutions are required exactly where the dataset is labelled") {
  TempDir dir;
  SUBCASE("write_dataset: a labelled dataset without u") {
    pins::Dataset d = small_dataset();
    d.u.values.clear();
    CHECK(contains(error_of([&] { pins::write_dataset(dir.file("d.h5"), d); }), "array 'u'"));
  }
  SUBCASE("write_dataset: an inputs-only dataset with solutions") {
    pins::Dataset d = inputs_only_dataset();
    d.u.values.assign(3 * 4 * 5, 1.0);
    CHECK(contains(error_of([&] { pins::write_dataset(dir.file("d.h5"), d); }),
                   "inputs-only dataset (info.labelled = false) stores no solutions"));
  }
  const pins::Dataset d = small_dataset(1);
  pins::SampleRecord r;
  for (const auto& a : d.inputs) r.inputs.push_back(a.sample(0));
  r.seeds = d.seeds.data();
  SUBCASE("DatasetWriter: a labelled sample without u") {
    const std::string e = error_of([&] {
      pins::DatasetWriter w(dir.file("d.h5"), d.info, 1, false);
      w.write_sample(0, r);  // r.u is null
    });
    CHECK(contains(e, "sample 0 has no 'u' array"));
    CHECK(contains(e, "inputs-only"));
  }
  SUBCASE("DatasetWriter: an inputs-only sample with u") {
    pins::DatasetInfo info = d.info;
    info.labelled = false;
    r.u = d.u.sample(0);
    const std::string e = error_of([&] {
      pins::DatasetWriter w(dir.file("d.h5"), info, 1, false);
      w.write_sample(0, r);
    });
    CHECK(contains(e, "inputs-only (labelled = false) and stores none"));
  }
  SUBCASE("DatasetWriter: an inputs-only sample without u") {
    pins::DatasetInfo info = d.info;
    info.labelled = false;
    pins::DatasetWriter w(dir.file("d.h5"), info, 1, false);
    w.write_sample(0, r);
    w.commit();
    CHECK(pins::read_dataset(dir.file("d.h5")).input("f").values == d.inputs[1].values);
    CHECK(dir.entries() == 1);
  }
  if (!fs::exists(dir.file("d.h5"))) CHECK(dir.entries() == 0);  // failures leave nothing
}

TEST_CASE("the labelled attribute and the arrays must agree") {
  TempDir dir;
  const std::string path = dir.file("d.h5");
  pins::write_dataset(path, small_dataset());
  SUBCASE("labelled = 0 with a /u array") {
    set_int_attribute(path, "labelled", 0);
    CHECK(contains(error_of([&] { pins::read_dataset(path); }),
                   "d.h5: attribute 'labelled' is 0 (inputs only), but the file holds an "
                   "array 'u'"));
  }
  SUBCASE("labelled = 1 without /u: a damaged file") {
    {
      RawFile f(path);
      REQUIRE(H5Ldelete(f.id, "u", H5P_DEFAULT) >= 0);
    }
    CHECK(contains(error_of([&] { pins::read_dataset(path); }), "d.h5: array 'u' is missing"));
  }
  SUBCASE("labelled neither 0 nor 1") {
    set_int_attribute(path, "labelled", 2);
    CHECK(contains(error_of([&] { pins::read_dataset(path); }),
                   "attribute 'labelled' must be 1 (solutions stored) or 0 (inputs only), got 2"));
  }
}

TEST_CASE("require_labelled refuses inputs-only datasets in one line naming the file") {
  pins::DatasetInfo info = small_dataset().info;
  CHECK_NOTHROW(pins::require_labelled(info, "a.h5", "x"));
  info.labelled = false;
  const std::string e =
      error_of([&] { pins::require_labelled(info, "a.h5", "pins verify checks solutions"); });
  CHECK(e ==
        "a.h5: the dataset holds no solutions (inputs only, written with -inputs_only); "
        "pins verify checks solutions");
}

namespace {
// A 2 x 2 square of 8 triangles (3 x 3 vertices); the centre vertex is the one point.
pins::Dataset mesh_dataset() {
  pins::Dataset d = small_dataset(2);
  auto mesh = std::make_shared<pins::Mesh>();
  mesh->cell_type = "triangle";
  mesh->dim = 2;
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 3; ++i) mesh->coordinates.insert(mesh->coordinates.end(), {0.5 * i, 0.5 * j});
  mesh->cells = {0, 1, 4, 0, 4, 3, 1, 2, 5, 1, 5, 4, 3, 4, 7, 3, 7, 6, 4, 5, 8, 4, 8, 7};
  mesh->point_vertex = {4};
  d.info.pde = "darcy_fem";
  d.info.mesh = mesh;
  d.info.grid = {1};
  d.info.inputs = {{"kappa", 1, true}, {"f", 1, true}};
  d.info.operator_description = "sparse: P1/Q1 finite elements on the mesh, CSR over its points";
  d.inputs = {{"kappa", {8}, {}}, {"f", {8}, {}}};
  d.u = {"u", {1}, {0.25, 0.5}};
  for (int p = 0; p < 16; ++p) {
    d.inputs[0].values.push_back(1.0 + p);
    d.inputs[1].values.push_back(-p);
  }
  return d;
}
}  // namespace

TEST_CASE("datasets on a mesh: the mesh and per-cell inputs round trip") {
  TempDir dir;
  const pins::Dataset d = mesh_dataset();
  const std::string path = dir.file("mesh.h5");
  pins::write_dataset(path, d);
  const pins::Dataset r = pins::read_dataset(path);
  REQUIRE(r.info.mesh);
  CHECK(*r.info.mesh == *d.info.mesh);
  CHECK(r.info.input_list() == "kappa@cells,f@cells");
  CHECK(r.info.inputs[0].on_cells);
  CHECK(r.input("kappa").shape == std::vector<std::int64_t>{8});
  CHECK(r.input("f").values == d.inputs[1].values);
  CHECK(r.u.shape == std::vector<std::int64_t>{1});
  CHECK(r.u.values == d.u.values);
  const pins::Dataset header = pins::read_dataset_info(path);
  REQUIRE(header.info.mesh);
  CHECK(header.info.mesh->point_count() == 1);
  CHECK(header.samples == 2);
}

TEST_CASE("datasets on a mesh: inconsistent meshes and files are refused in one line") {
  TempDir dir;
  SUBCASE("a cell naming a vertex that does not exist") {
    pins::Dataset d = mesh_dataset();
    auto mesh = std::make_shared<pins::Mesh>(*d.info.mesh);
    mesh->cells[5] = 9;
    d.info.mesh = mesh;
    CHECK(contains(error_of([&] { pins::write_dataset(dir.file("a.h5"), d); }),
                   "mesh cell 1 names vertex 9, outside [0, 9)"));
    CHECK(dir.entries() == 0);
  }
  SUBCASE("a grid that is not the mesh's points") {
    pins::Dataset d = mesh_dataset();
    d.info.grid = {2};
    CHECK(contains(error_of([&] { pins::DatasetWriter(dir.file("b.h5"), d.info, 2, false); }),
                   "must be the mesh's 1 points"));
    CHECK(dir.entries() == 0);
  }
  SUBCASE("per-cell inputs without a mesh") {
    pins::Dataset d = mesh_dataset();
    d.info.mesh = nullptr;
    CHECK(contains(error_of([&] { pins::write_dataset(dir.file("c.h5"), d); }),
                   "is stored per cell, but the dataset has no mesh"));
  }
  SUBCASE("a file whose mesh group is missing") {
    const std::string path = dir.file("d.h5");
    pins::write_dataset(path, mesh_dataset());
    {
      RawFile f(path);
      REQUIRE(H5Ldelete(f.id, "mesh", H5P_DEFAULT) >= 0);
    }
    CHECK(contains(error_of([&] { pins::read_dataset(path); }),
                   "the group 'mesh' (coordinates, cells, points) is missing"));
  }
  SUBCASE("a file whose cells have the wrong width") {
    const std::string path = dir.file("e.h5");
    pins::write_dataset(path, mesh_dataset());
    {
      RawFile f(path);
      REQUIRE(H5Ldelete(f.id, "mesh/cells", H5P_DEFAULT) >= 0);
      const hsize_t dims[2] = {6, 4};
      const hid_t space = H5Screate_simple(2, dims, nullptr);
      const hid_t ds = H5Dcreate2(f.id, "mesh/cells", H5T_STD_I64LE, space, H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT);
      std::vector<std::int64_t> zeros(24, 0);
      H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data());
      H5Dclose(ds);
      H5Sclose(space);
    }
    CHECK(contains(error_of([&] { pins::read_dataset(path); }),
                   "array 'mesh/cells' has shape [6, 4], expected [cells, 3] (triangle)"));
  }
}

TEST_CASE("a dataset streamed sample by sample reads what read_dataset reads") {
  TempDir dir;
  const std::string path = dir.file("stream.h5");
  const pins::Dataset d = small_dataset(7);
  pins::write_dataset(path, d);
  pins::DatasetStream s(path);
  CHECK(s.header().samples == 7);
  CHECK(s.header().inputs.empty());  // attributes only: values are read on demand
  CHECK(s.sample_size("kappa") == 20);
  // Any order, repeats, and consecutive runs (read as one block).
  const std::vector<std::int64_t> rows = {5, 1, 2, 3, 5, 0};
  for (const auto& [name, array] : {std::pair{std::string("kappa"), &d.inputs[0]},
                                    std::pair{std::string("u"), &d.u}}) {
    std::vector<double> got(rows.size() * 20);
    s.read(name, rows, got.data());
    for (size_t k = 0; k < rows.size(); ++k)
      for (int p = 0; p < 20; ++p)
        CHECK(got[k * 20 + size_t(p)] == array->sample(rows[k])[p]);
  }
  std::vector<double> range(3 * 20);
  s.read_range("f", 4, 3, range.data());
  for (int p = 0; p < 60; ++p) CHECK(range[size_t(p)] == d.inputs[1].sample(4)[p]);
  CHECK(error_of([&] { s.read("kappa", {7}, range.data()); }).find("sample 7") !=
        std::string::npos);
  CHECK(error_of([&] { s.read("sigma", {0}, range.data()); }).find("no array 'sigma'") !=
        std::string::npos);

  // A range of samples read as a dataset of its own.
  const pins::Dataset part = pins::read_dataset(path, 2, 4);
  CHECK(part.samples == 4);
  CHECK(part.inputs[0].values ==
        std::vector<double>(d.inputs[0].sample(2), d.inputs[0].sample(6)));
  CHECK(part.u.values == std::vector<double>(d.u.sample(2), d.u.sample(6)));
  CHECK(part.residual == std::vector<double>(d.residual.begin() + 2, d.residual.begin() + 6));
  CHECK(part.iterations == std::vector<std::int32_t>(d.iterations.begin() + 2, d.iterations.begin() + 6));
  CHECK(part.seeds == std::vector<std::uint64_t>(d.seeds.begin() + 4, d.seeds.begin() + 12));
  CHECK(error_of([&] { pins::read_dataset(path, 5, 3); }).find("holds 7 samples") !=
        std::string::npos);
}

TEST_CASE("a non-finite value met while streaming is named by its sample in the file") {
  TempDir dir;
  const std::string path = dir.file("nan.h5");
  pins::Dataset d = small_dataset(6);
  pins::write_dataset(path, d);
  {  // Put a NaN into sample 4 of kappa behind the writer's back (it refuses NaN).
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, "kappa", H5P_DEFAULT);
    hid_t space = H5Dget_space(ds);
    const hsize_t start[3] = {4, 1, 2}, count[3] = {1, 1, 1};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    hid_t mem = H5Screate_simple(3, count, nullptr);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, &nan);
    H5Sclose(mem);
    H5Sclose(space);
    H5Dclose(ds);
    H5Fclose(f);
  }
  pins::DatasetStream s(path);
  std::vector<double> v(2 * 20);
  s.read("kappa", {0, 3}, v.data());  // the damaged sample is not read: no error
  const std::string e = error_of([&] { s.read("kappa", {2, 4}, v.data()); });
  CHECK(e.find("nan.h5") != std::string::npos);
  CHECK(e.find("'kappa' holds a non-finite value") != std::string::npos);
  CHECK(e.find("at [4, 1, 2]") != std::string::npos);
  CHECK(error_of([&] { pins::read_dataset(path, 3, 2); }).find("at [4, 1, 2]") !=
        std::string::npos);
}
