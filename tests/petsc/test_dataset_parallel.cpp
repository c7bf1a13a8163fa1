// ParallelDatasetWriter (pins/core/dataset_parallel.hpp): on 1 or 2 processes it writes the
// file DatasetWriter writes, and its errors come out on every process with nothing left on
// disk. Runs in petsc_unit_tests and again under mpiexec -n 2 (petsc_unit_tests_mpi2).

#include <doctest/doctest.h>
#include <petscsys.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>

#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/dataset_parallel.hpp"
#include "error_of.hpp"

namespace fs = std::filesystem;

namespace {

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  return size;
}

// One empty folder shared by all processes (named after rank 0's pid), removed afterwards.
struct SharedDir {
  fs::path path;
  SharedDir() {
    long pid = long(::getpid());
    MPI_Bcast(&pid, 1, MPI_LONG, 0, PETSC_COMM_WORLD);
    path = fs::temp_directory_path() / ("pins_dataset_parallel_test_" + std::to_string(pid));
    if (world_rank() == 0) {
      fs::remove_all(path);
      fs::create_directories(path);
    }
    MPI_Barrier(PETSC_COMM_WORLD);
  }
  ~SharedDir() {
    MPI_Barrier(PETSC_COMM_WORLD);
    if (world_rank() == 0) fs::remove_all(path);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  size_t entries() const {
    return size_t(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
  }
};

pins::Dataset sample_data(std::int64_t n) {
  pins::Dataset d;
  d.samples = n;
  d.info.pde = "darcy";
  d.info.equation = "-div(kappa grad u) = f";
  d.info.discretisation = "cell-centred finite volumes, 5-point, harmonic face averages";
  d.info.domain = "(0,1)x(0,1)";
  d.info.boundary_condition = "u = 0 on the whole boundary (Dirichlet)";
  d.info.grid = {4, 5};
  d.info.inputs = {{"kappa", 1}, {"f", 1}};
  d.info.operator_description = "stencil: dim=2 star width=1 dof=1";
  d.info.seed = 7;
  d.info.ksp_type = "cg";
  d.info.pc_type = "gamg";
  d.info.rtol = 1e-10;
  d.info.extra = {{"command", std::string("test")}, {"created", std::string("now")}};
  d.inputs = {{"kappa", {4, 5}, {}}, {"f", {4, 5}, {}}};
  d.u = {"u", {4, 5}, {}};
  for (std::int64_t p = 0; p < n * 20; ++p) {
    d.inputs[0].values.push_back(1.0 + double(p % 7));
    d.inputs[1].values.push_back(std::cos(double(p)));
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

pins::SampleRecord record_of(const pins::Dataset& d, std::int64_t i) {
  pins::SampleRecord r;
  for (const auto& a : d.inputs) r.inputs.push_back(a.sample(i));
  r.u = d.u.sample(i);
  r.iterations = d.iterations[size_t(i)];
  r.residual = d.residual[size_t(i)];
  r.seeds = d.seeds.data() + i * d.info.seed_streams;
  return r;
}

// Writes `d` collectively: sample i by rank i mod P, in rounds, as pins generate does;
// samples in `skip` are written by nobody.
void write_round_robin(const pins::Dataset& d, const std::string& path, std::int64_t skip = -1) {
  pins::ParallelDatasetWriter w(PETSC_COMM_WORLD, path, d.info, d.samples, false);
  const int rank = world_rank(), size = world_size();
  for (std::int64_t r = 0; r * size < d.samples; ++r) {
    const std::int64_t i = r * size + rank;
    const bool mine = i < d.samples && i != skip;
    const pins::SampleRecord record = mine ? record_of(d, i) : pins::SampleRecord{};
    if (mine) w.check_sample(i, record);
    w.write_round(mine ? i : -1, record);
  }
  w.commit();
}

using pins::test::error_of;

}  // namespace

TEST_CASE("ParallelDatasetWriter writes the file DatasetWriter writes") {
  SharedDir dir;
  const pins::Dataset d = sample_data(5);  // uneven over 2 processes
  if (world_rank() == 0) pins::write_dataset(dir.file("serial.h5"), d);
  write_round_robin(d, dir.file("parallel.h5"));
  MPI_Barrier(PETSC_COMM_WORLD);
  const pins::Dataset a = pins::read_dataset(dir.file("serial.h5"));
  const pins::Dataset b = pins::read_dataset(dir.file("parallel.h5"));
  REQUIRE(b.samples == 5);
  for (size_t k = 0; k < a.inputs.size(); ++k) CHECK(a.inputs[k].values == b.inputs[k].values);
  CHECK(a.u.values == b.u.values);
  CHECK(a.iterations == b.iterations);
  CHECK(a.residual == b.residual);
  CHECK(a.seeds == b.seeds);
  const auto attrs_a = pins::read_dataset_attributes(dir.file("serial.h5"));
  const auto attrs_b = pins::read_dataset_attributes(dir.file("parallel.h5"));
  REQUIRE(attrs_a.size() == attrs_b.size());
  for (size_t k = 0; k < attrs_a.size(); ++k) {
    CHECK(attrs_a[k].name == attrs_b[k].name);
    CHECK(pins::to_string(attrs_a[k].value) == pins::to_string(attrs_b[k].value));
  }
  MPI_Barrier(PETSC_COMM_WORLD);
}

TEST_CASE("ParallelDatasetWriter: a sample nobody wrote fails commit everywhere, no file left") {
  SharedDir dir;
  const pins::Dataset d = sample_data(3);
  const std::string message = error_of([&] { write_round_robin(d, dir.file("x.h5"), 1); });
  CHECK(message.find("2 of its 3 samples were written") != std::string::npos);
  MPI_Barrier(PETSC_COMM_WORLD);
  CHECK(dir.entries() == 0);
}

TEST_CASE("ParallelDatasetWriter: an existing file is refused on every process, unchanged") {
  SharedDir dir;
  if (world_rank() == 0) std::ofstream(dir.file("x.h5")) << "precious\n";
  MPI_Barrier(PETSC_COMM_WORLD);
  const pins::Dataset d = sample_data(2);
  const std::string message = error_of([&] { write_round_robin(d, dir.file("x.h5")); });
  CHECK(message.find("already exists") != std::string::npos);
  MPI_Barrier(PETSC_COMM_WORLD);
  CHECK(dir.entries() == 1);
  std::ifstream in(dir.file("x.h5"));
  std::string text;
  std::getline(in, text);
  CHECK(text == "precious");
  // A missing folder: the same message on every process.
  const std::string missing = error_of([&] { write_round_robin(d, dir.file("nowhere/x.h5")); });
  CHECK(missing.find("does not exist") != std::string::npos);
}

TEST_CASE("ParallelDatasetWriter::check_sample refuses a NaN, naming the sample and array") {
  SharedDir dir;
  pins::Dataset d = sample_data(2);
  d.u.values[20 + 3] = std::numeric_limits<double>::quiet_NaN();
  pins::ParallelDatasetWriter w(PETSC_COMM_WORLD, dir.file("x.h5"), d.info, d.samples, false);
  const std::string message = error_of([&] { w.check_sample(1, record_of(d, 1)); });
  CHECK(message.find("sample 1 array 'u' holds a non-finite value") != std::string::npos);
}
