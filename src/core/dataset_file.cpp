// The pieces of a pins dataset file that DatasetWriter and ParallelDatasetWriter share.

#include "dataset_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "dataset_layout.hpp"
#include "pins/core/check.hpp"

namespace pins::dataset_file {

namespace fs = std::filesystem;
using hdf5::Handle;

namespace {

std::string where(const std::string& path) {
  return "'" + path + "'";
}

// fsync a file or folder so that a committed dataset survives a crash (best effort: a
// failure here does not make the data wrong, only less durable).
void sync_path(const std::string& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Creates a chunked (`chunk` per chunk), Fletcher32-checksummed dataset.
Handle create_array(hid_t file, const char* name, hid_t file_type, const std::vector<hsize_t>& dims,
                    const std::vector<hsize_t>& chunk) {
  const std::string what = std::string("cannot create array '") + name + "'";
  Handle space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  hdf5::check(space.get(), what);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  hdf5::check(dcpl.get(), what);
  hdf5::check(H5Pset_chunk(dcpl.get(), int(chunk.size()), chunk.data()), what);
  hdf5::check(H5Pset_fletcher32(dcpl.get()), what);
  Handle ds(H5Dcreate2(file, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
            H5Dclose);
  hdf5::check(ds.get(), what);
  return ds;
}

// Writes a whole array, or (writer = false) takes part in a collective write with nothing.
void write_whole(hid_t ds, hid_t mem_type, const void* data, const char* name, hid_t transfer,
                 bool writer) {
  const std::string what = std::string("cannot write array '") + name + "'";
  Handle space(H5Dget_space(ds), H5Sclose);
  hdf5::check(space.get(), what);
  Handle mem(H5Scopy(space.get()), H5Sclose);
  hdf5::check(mem.get(), what);
  if (!writer) {
    hdf5::check(H5Sselect_none(space.get()), what);
    hdf5::check(H5Sselect_none(mem.get()), what);
  }
  hdf5::check(H5Dwrite(ds, mem_type, mem.get(), space.get(), transfer, data), what);
}

// /mesh/coordinates, /mesh/cells, /mesh/points (pins/core/dataset.hpp), checksummed like the
// fields; chunks of at most 2^16 rows.
void write_mesh(hid_t file, const Mesh& mesh, hid_t transfer, bool writer) {
  Handle group(H5Gcreate2(file, "mesh", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  hdf5::check(group.get(), "cannot create group 'mesh'");
  auto rows = [](std::int64_t n) { return std::min<hsize_t>(hsize_t(n), 1 << 16); };
  const hsize_t nv = hsize_t(mesh.vertex_count()), nc = hsize_t(mesh.cell_count());
  const hsize_t d = hsize_t(mesh.dim), k = hsize_t(mesh.cell_vertices());
  const hsize_t np = hsize_t(mesh.point_count());
  Handle x = create_array(file, "mesh/coordinates", H5T_IEEE_F64LE, {nv, d}, {rows(nv), d});
  write_whole(x.get(), H5T_NATIVE_DOUBLE, mesh.coordinates.data(), "mesh/coordinates", transfer,
              writer);
  Handle c = create_array(file, "mesh/cells", H5T_STD_I64LE, {nc, k}, {rows(nc), k});
  write_whole(c.get(), H5T_NATIVE_INT64, mesh.cells.data(), "mesh/cells", transfer, writer);
  Handle p = create_array(file, "mesh/points", H5T_STD_I64LE, {np}, {rows(np)});
  write_whole(p.get(), H5T_NATIVE_INT64, mesh.point_vertex.data(), "mesh/points", transfer, writer);
  hdf5::write_attribute(p.get(), "definition",
                        "the vertex (row of mesh/coordinates) each point of the fields lies on");
}

// Temporary files of live writers, for the signal handler. A signal handler may only touch
// lock-free atomics and call async-signal-safe functions (unlink, signal, raise), hence
// fixed slots of plain char arrays, each published by a sig_atomic_t flag.
constexpr int kTempSlots = 16;
struct TempSlot {
  volatile std::sig_atomic_t used = 0;
  char path[PATH_MAX] = {};
};
TempSlot temp_slots[kTempSlots];

extern "C" void remove_temporaries_and_reraise(int sig) {
  for (auto& slot : temp_slots)
    if (slot.used) ::unlink(slot.path);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void install_signal_cleanup() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, remove_temporaries_and_reraise);
}

int register_temporary(const std::string& path) {
  if (path.size() >= PATH_MAX) return -1;
  for (int k = 0; k < kTempSlots; ++k) {
    if (temp_slots[k].used) continue;
    std::memcpy(temp_slots[k].path, path.c_str(), path.size() + 1);
    temp_slots[k].used = 1;
    return k;
  }
  return -1;  // more live writers than slots: those are not cleaned up on signals
}

void unregister_temporary(int slot) {
  if (slot >= 0) temp_slots[slot].used = 0;
}

bool Layout::close() {
  bool ok = true;
  for (auto& h : fields) ok = h.close() && ok;
  ok = iterations.close() && ok;  // (closing an unopened handle is a no-op)
  ok = residual.close() && ok;
  ok = seeds.close() && ok;
  return ok;
}

std::string temporary_path(const std::string& path, bool force) {
  PINS_CHECK(!path.empty(), "dataset: the output path is empty");
  const fs::path target(path);
  PINS_CHECK(target.has_filename(), "cannot write dataset ", where(path),
             ": the path names a folder, expected a file name");
  std::error_code ec;
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  PINS_CHECK(fs::is_directory(folder, ec), "cannot write dataset ", where(path), ": folder '",
             folder.string(), "' does not exist");
  PINS_CHECK(!fs::is_directory(target, ec), "cannot write dataset ", where(path),
             ": it is a folder");
  PINS_CHECK(force || !fs::exists(target, ec), "dataset ", where(path),
             " already exists (refusing to overwrite it unless forced)");
  return (folder / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid())))
      .string();
}

void create_temporary(const std::string& tmp, const std::string& path) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0666);
  if (fd < 0)
    throw Error("cannot write dataset " + where(path) + ": cannot create '" + tmp +
                "': " + std::strerror(errno));
  ::close(fd);
}

Handle file_create_properties(const std::string& path) {
  Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
  hdf5::check(fcpl.get(), "cannot write dataset " + where(path));
  hdf5::check(H5Pset_attr_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
              "cannot write dataset " + where(path));
  return fcpl;
}

Layout create_layout(hid_t file, const DatasetInfo& info, std::int64_t samples, hid_t mesh_transfer,
                     bool mesh_writer) {
  Layout m;
  for (const auto& a : dataset_layout::to_attributes(info))
    hdf5::write_attribute(file, a.name, a.value);
  const hsize_t n = hsize_t(samples);
  auto add_field = [&](const std::string& name, const std::vector<std::int64_t>& shape) {
    std::vector<hsize_t> dims = {n}, chunk = {1};
    for (auto s : shape) {
      dims.push_back(hsize_t(s));
      chunk.push_back(hsize_t(s));
    }
    m.names.push_back(name);
    m.shapes.emplace_back(chunk.begin() + 1, chunk.end());
    m.fields.push_back(create_array(file, name.c_str(), H5T_IEEE_F64LE, dims, chunk));
  };
  for (const auto& in : info.inputs) add_field(in.name, info.input_shape(in));
  if (info.mesh) write_mesh(file, *info.mesh, mesh_transfer, mesh_writer);
  const hsize_t chunk1 = std::min<hsize_t>(n, 1 << 16);
  if (info.labelled) {  // inputs-only files have no solutions and nothing solved them
    add_field(dataset_layout::kSolution, info.solution_shape());
    m.iterations = create_array(file, dataset_layout::kIterations, H5T_STD_I32LE, {n}, {chunk1});
    m.residual = create_array(file, dataset_layout::kResidual, H5T_IEEE_F64LE, {n}, {chunk1});
    hdf5::write_attribute(
        m.residual.get(), "definition",
        "true relative residual ||f - A u||_2 / ||f||_2 (||f - A u||_2 if f = 0)");
  }
  const hsize_t streams = hsize_t(info.seed_streams);
  m.seeds =
      create_array(file, dataset_layout::kSeeds, H5T_STD_U64LE, {n, streams}, {chunk1, streams});
  hdf5::write_attribute(m.seeds.get(), "columns",
                        "the seeds of the sample's random streams, in the family's order");
  return m;
}

std::vector<const double*> sample_arrays(const Layout& layout, const SampleRecord& r) {
  std::vector<const double*> out(r.inputs.begin(), r.inputs.end());
  if (layout.fields.size() > out.size()) out.push_back(r.u);
  return out;
}

void check_sample(const Layout& layout, const DatasetInfo& info, std::int64_t samples,
                  std::int64_t index, const SampleRecord& r, const std::string& w) {
  PINS_CHECK(index >= 0 && index < samples, "dataset ", w, ": sample index ", index,
             " is outside [0, ", samples, ")");
  const size_t inputs_n = info.inputs.size();  // the fields after them: u, if labelled
  PINS_CHECK(r.inputs.size() == inputs_n, "dataset ", w, ": sample ", index, " has ",
             r.inputs.size(), " input arrays, expected ", inputs_n, " (", info.input_list(), ")");
  PINS_CHECK(info.labelled || r.u == nullptr, "dataset ", w, ": sample ", index,
             " has a solution u, but the dataset is inputs-only (labelled = false) and stores "
             "none");
  PINS_CHECK(r.seeds != nullptr, "dataset ", w, ": sample ", index, " has no seeds");
  const std::vector<const double*> arrays = sample_arrays(layout, r);
  for (size_t k = 0; k < layout.fields.size(); ++k) {
    const double* a = arrays[k];
    PINS_CHECK(a != nullptr, "dataset ", w, ": sample ", index, " has no '", layout.names[k],
               "' array",
               k < inputs_n ? "" : " (only an inputs-only dataset, labelled = false, has none)");
    size_t points = 1;
    for (auto s : layout.shapes[k]) points *= size_t(s);
    for (size_t p = 0; p < points; ++p)
      PINS_CHECK(std::isfinite(a[p]), "dataset ", w, ": sample ", index, " array '",
                 layout.names[k], "' holds a non-finite value (", a[p], ") at flat index ", p,
                 " of its ", points, " values");
  }
  PINS_CHECK(!info.labelled || (std::isfinite(r.residual) && r.residual >= 0), "dataset ", w,
             ": sample ", index, " residual must be finite and >= 0, got ", r.residual);
}

Handle select_sample(const Layout& layout, size_t k, hid_t space, std::int64_t index,
                     const std::string& what) {
  std::vector<hsize_t> start(layout.shapes[k].size() + 1, 0), count = {1};
  start[0] = hsize_t(index);
  count.insert(count.end(), layout.shapes[k].begin(), layout.shapes[k].end());
  Handle mem(H5Screate_simple(int(count.size()), count.data(), nullptr), H5Sclose);
  hdf5::check(mem.get(), what);
  hdf5::check(
      H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
      what);
  return mem;
}

void publish(const std::string& tmp, const std::string& path, bool force) {
  sync_path(tmp);
  const std::string w = where(path);
  if (force) {
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw Error("cannot write dataset " + w + ": renaming '" + tmp +
                  "' failed: " + std::strerror(errno));
  } else if (::link(tmp.c_str(), path.c_str()) == 0) {
    ::unlink(tmp.c_str());
  } else if (errno == EEXIST) {
    throw Error("dataset " + w + " already exists (refusing to overwrite it unless forced)");
  } else {
    // File systems without hard links (some network and FAT mounts): check, then rename.
    std::error_code ec;
    PINS_CHECK(!fs::exists(path, ec), "dataset ", w,
               " already exists (refusing to overwrite it unless forced)");
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw Error("cannot write dataset " + w + ": renaming '" + tmp +
                  "' failed: " + std::strerror(errno));
  }
  const fs::path parent = fs::path(path).parent_path();
  sync_path(parent.empty() ? "." : parent.string());
}

}  // namespace pins::dataset_file
