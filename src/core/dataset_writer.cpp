// Atomic, checksummed writing of pins datasets (layout in pins/core/dataset.hpp).

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "dataset_layout.hpp"
#include "hdf5_util.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"

namespace pins {

namespace fs = std::filesystem;
using hdf5::Handle;

std::string hdf5_version_string() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

namespace {

std::string errno_text(int e) {
  return std::strerror(e);
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

void write_whole(hid_t ds, hid_t mem_type, const void* data, const char* name) {
  hdf5::check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
              std::string("cannot write array '") + name + "'");
}

void write_text_attribute(hid_t ds, const char* name, const std::string& text) {
  hdf5::write_attribute(ds, name, text);
}

// /mesh/coordinates, /mesh/cells, /mesh/points (pins/core/dataset.hpp), checksummed like the
// fields; chunks of at most 2^16 rows.
void write_mesh(hid_t file, const Mesh& mesh) {
  Handle group(H5Gcreate2(file, "mesh", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  hdf5::check(group.get(), "cannot create group 'mesh'");
  auto rows = [](std::int64_t n) { return std::min<hsize_t>(hsize_t(n), 1 << 16); };
  const hsize_t nv = hsize_t(mesh.vertex_count()), nc = hsize_t(mesh.cell_count());
  const hsize_t d = hsize_t(mesh.dim), k = hsize_t(mesh.cell_vertices());
  const hsize_t np = hsize_t(mesh.point_count());
  Handle x = create_array(file, "mesh/coordinates", H5T_IEEE_F64LE, {nv, d}, {rows(nv), d});
  write_whole(x.get(), H5T_NATIVE_DOUBLE, mesh.coordinates.data(), "mesh/coordinates");
  Handle c = create_array(file, "mesh/cells", H5T_STD_I64LE, {nc, k}, {rows(nc), k});
  write_whole(c.get(), H5T_NATIVE_INT64, mesh.cells.data(), "mesh/cells");
  Handle p = create_array(file, "mesh/points", H5T_STD_I64LE, {np}, {rows(np)});
  write_whole(p.get(), H5T_NATIVE_INT64, mesh.point_vertex.data(), "mesh/points");
  write_text_attribute(p.get(), "definition",
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

extern "C" void remove_temporaries_and_reraise(int sig) {
  for (auto& slot : temp_slots)
    if (slot.used) ::unlink(slot.path);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void remove_dataset_temporaries_on_signal() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, remove_temporaries_and_reraise);
}

struct DatasetWriter::Impl {
  std::string path;
  std::string tmp;
  DatasetInfo info;
  std::int64_t samples = 0;
  bool force = false;
  bool committed = false;
  bool tmp_exists = false;
  int signal_slot = -1;

  Handle file;
  std::vector<std::string> names;            // the input arrays, then u (labelled only)
  std::vector<std::vector<hsize_t>> shapes;  // per-sample shape of each
  std::vector<Handle> fields;
  Handle iterations_ds, residual_ds, seeds_ds;
  std::vector<std::int32_t> iterations;
  std::vector<double> residual;
  std::vector<std::uint64_t> seeds;
  std::vector<char> written;

  ~Impl() {
    // Close before unlinking so HDF5 does not write into a removed file.
    for (auto& h : fields) h.reset();
    iterations_ds.reset();
    residual_ds.reset();
    seeds_ds.reset();
    {
      hdf5::QuietErrors quiet;
      file.reset();
    }
    if (tmp_exists && !committed) ::unlink(tmp.c_str());
    unregister_temporary(signal_slot);
  }

  std::string where() const { return "'" + path + "'"; }
};

DatasetWriter::DatasetWriter(const std::string& path, const DatasetInfo& info, std::int64_t samples,
                             bool force)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  m.info = info;
  m.samples = samples;
  m.force = force;
  PINS_CHECK(!path.empty(), "dataset: the output path is empty");
  PINS_CHECK(samples >= 1, "dataset ", m.where(), ": needs at least one sample, got ", samples);
  const std::vector<Attribute> attributes = dataset_layout::to_attributes(info);

  const fs::path target(path);
  PINS_CHECK(target.has_filename(), "cannot write dataset ", m.where(),
             ": the path names a folder, expected a file name");
  std::error_code ec;
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  PINS_CHECK(fs::is_directory(folder, ec), "cannot write dataset ", m.where(), ": folder '",
             folder.string(), "' does not exist");
  PINS_CHECK(!fs::is_directory(target, ec), "cannot write dataset ", m.where(), ": it is a folder");
  PINS_CHECK(force || !fs::exists(target, ec), "dataset ", m.where(),
             " already exists (refusing to overwrite it unless forced)");

  m.tmp =
      (folder / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
  // Create the temporary file ourselves first: errno gives a clear reason (permissions,
  // read-only file system) where HDF5 would only say "unable to open file".
  const int fd = ::open(m.tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0666);
  if (fd < 0)
    throw Error("cannot write dataset " + m.where() + ": cannot create '" + m.tmp +
                "': " + errno_text(errno));
  ::close(fd);
  m.tmp_exists = true;
  m.signal_slot = register_temporary(m.tmp);

  hdf5::QuietErrors quiet;
  Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
  hdf5::check(fcpl.get(), "cannot write dataset " + m.where());
  // Keep the root attributes in the documented order for h5py and `pins info`.
  hdf5::check(H5Pset_attr_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
              "cannot write dataset " + m.where());
  m.file = Handle(H5Fcreate(m.tmp.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), H5Fclose);
  hdf5::check(m.file.get(), "cannot write dataset " + m.where() + ": cannot create '" + m.tmp +
                                "' as an HDF5 file");
  try {
    for (const auto& a : attributes) hdf5::write_attribute(m.file.get(), a.name, a.value);
    const hsize_t n = hsize_t(samples);
    auto add_field = [&](const std::string& name, const std::vector<std::int64_t>& shape) {
      std::vector<hsize_t> dims = {n}, chunk = {1};
      for (auto s : shape) {
        dims.push_back(hsize_t(s));
        chunk.push_back(hsize_t(s));
      }
      m.names.push_back(name);
      m.shapes.emplace_back(chunk.begin() + 1, chunk.end());
      m.fields.push_back(create_array(m.file.get(), name.c_str(), H5T_IEEE_F64LE, dims, chunk));
    };
    for (const auto& in : info.inputs) add_field(in.name, info.input_shape(in));
    if (info.mesh) write_mesh(m.file.get(), *info.mesh);
    const hsize_t chunk1 = std::min<hsize_t>(n, 1 << 16);
    if (info.labelled) {  // inputs-only files have no solutions and nothing solved them
      add_field(dataset_layout::kSolution, info.solution_shape());
      m.iterations_ds =
          create_array(m.file.get(), dataset_layout::kIterations, H5T_STD_I32LE, {n}, {chunk1});
      m.residual_ds =
          create_array(m.file.get(), dataset_layout::kResidual, H5T_IEEE_F64LE, {n}, {chunk1});
      write_text_attribute(
          m.residual_ds.get(), "definition",
          "true relative residual ||f - A u||_2 / ||f||_2 (||f - A u||_2 if f = 0)");
    }
    const hsize_t streams = hsize_t(info.seed_streams);
    m.seeds_ds = create_array(m.file.get(), dataset_layout::kSeeds, H5T_STD_U64LE, {n, streams},
                              {chunk1, streams});
    write_text_attribute(m.seeds_ds.get(), "columns",
                         "the seeds of the sample's random streams, in the family's order");
  } catch (const Error& e) {
    throw Error("cannot write dataset " + m.where() + ": " + e.what());
  }
  m.iterations.assign(size_t(samples), 0);
  m.residual.assign(size_t(samples), 0.0);
  m.seeds.assign(size_t(samples) * size_t(info.seed_streams), 0);
  m.written.assign(size_t(samples), 0);
}

DatasetWriter::~DatasetWriter() = default;

const std::string& DatasetWriter::path() const {
  return impl_->path;
}
const std::string& DatasetWriter::temporary_path() const {
  return impl_->tmp;
}

void DatasetWriter::write_sample(std::int64_t index, const SampleRecord& r) {
  Impl& m = *impl_;
  PINS_CHECK(!m.committed, "dataset ", m.where(), ": write_sample after commit");
  PINS_CHECK(index >= 0 && index < m.samples, "dataset ", m.where(), ": sample index ", index,
             " is outside [0, ", m.samples, ")");
  PINS_CHECK(!m.written[size_t(index)], "dataset ", m.where(), ": sample ", index,
             " was written twice");
  const size_t arrays_n = m.fields.size();
  const size_t inputs_n = m.info.inputs.size();  // the fields after them: u, if labelled
  PINS_CHECK(r.inputs.size() == inputs_n, "dataset ", m.where(), ": sample ", index, " has ",
             r.inputs.size(), " input arrays, expected ", inputs_n, " (", m.info.input_list(), ")");
  PINS_CHECK(m.info.labelled || r.u == nullptr, "dataset ", m.where(), ": sample ", index,
             " has a solution u, but the dataset is inputs-only (labelled = false) and stores "
             "none");
  PINS_CHECK(r.seeds != nullptr, "dataset ", m.where(), ": sample ", index, " has no seeds");
  auto array_of = [&](size_t k) { return k < inputs_n ? r.inputs[k] : r.u; };
  for (size_t k = 0; k < arrays_n; ++k) {
    const double* a = array_of(k);
    PINS_CHECK(a != nullptr, "dataset ", m.where(), ": sample ", index, " has no '", m.names[k],
               "' array",
               k < inputs_n ? "" : " (only an inputs-only dataset, labelled = false, has none)");
    size_t points = 1;
    for (auto s : m.shapes[k]) points *= size_t(s);
    for (size_t p = 0; p < points; ++p)
      PINS_CHECK(std::isfinite(a[p]), "dataset ", m.where(), ": sample ", index, " array '",
                 m.names[k], "' holds a non-finite value (", a[p], ") at flat index ", p,
                 " of its ", points, " values");
  }
  PINS_CHECK(!m.info.labelled || (std::isfinite(r.residual) && r.residual >= 0), "dataset ",
             m.where(), ": sample ", index, " residual must be finite and >= 0, got ", r.residual);

  hdf5::QuietErrors quiet;
  for (size_t k = 0; k < arrays_n; ++k) {
    const std::string what =
        "dataset " + m.where() + ": cannot write sample " + std::to_string(index) + " of '" +
        m.names[k] + "'";
    std::vector<hsize_t> start(m.shapes[k].size() + 1, 0), count = {1};
    start[0] = hsize_t(index);
    count.insert(count.end(), m.shapes[k].begin(), m.shapes[k].end());
    Handle mem(H5Screate_simple(int(count.size()), count.data(), nullptr), H5Sclose);
    hdf5::check(mem.get(), what);
    Handle space(H5Dget_space(m.fields[k].get()), H5Sclose);
    hdf5::check(space.get(), what);
    hdf5::check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr,
                                    count.data(), nullptr),
                what);
    hdf5::check(H5Dwrite(m.fields[k].get(), H5T_NATIVE_DOUBLE, mem.get(), space.get(), H5P_DEFAULT,
                         array_of(k)),
                what);
  }
  m.iterations[size_t(index)] = r.iterations;
  m.residual[size_t(index)] = r.residual;
  const size_t streams = size_t(m.info.seed_streams);
  for (size_t c = 0; c < streams; ++c) m.seeds[size_t(index) * streams + c] = r.seeds[c];
  m.written[size_t(index)] = 1;
}

void DatasetWriter::commit() {
  Impl& m = *impl_;
  PINS_CHECK(!m.committed, "dataset ", m.where(), ": committed twice");
  for (std::int64_t i = 0; i < m.samples; ++i)
    PINS_CHECK(m.written[size_t(i)], "dataset ", m.where(), ": sample ", i, " was never written");
  {
    hdf5::QuietErrors quiet;
    const std::string what = "cannot write dataset " + m.where();
    try {
      if (m.info.labelled) {
        write_whole(m.iterations_ds.get(), H5T_NATIVE_INT32, m.iterations.data(),
                    dataset_layout::kIterations);
        write_whole(m.residual_ds.get(), H5T_NATIVE_DOUBLE, m.residual.data(),
                    dataset_layout::kResidual);
      }
      write_whole(m.seeds_ds.get(), H5T_NATIVE_UINT64, m.seeds.data(), dataset_layout::kSeeds);
    } catch (const Error& e) {
      throw Error(what + ": " + e.what());
    }
    bool ok = true;
    for (auto& h : m.fields) ok = h.close() && ok;
    ok = m.iterations_ds.close() && ok;  // (closing an unopened handle is a no-op)
    ok = m.residual_ds.close() && ok;
    ok = m.seeds_ds.close() && ok;
    ok = m.file.close() && ok;  // flushes everything; a full disk shows up here
    if (!ok) throw Error(what + ": closing '" + m.tmp + "' failed: " + hdf5::last_error());
  }
  sync_path(m.tmp);

  // Publish. Without force, link() refuses an existing destination atomically (a
  // check-then-rename would race with another writer); with force, rename() replaces it.
  if (m.force) {
    if (::rename(m.tmp.c_str(), m.path.c_str()) != 0)
      throw Error("cannot write dataset " + m.where() + ": renaming '" + m.tmp +
                  "' failed: " + errno_text(errno));
  } else if (::link(m.tmp.c_str(), m.path.c_str()) == 0) {
    ::unlink(m.tmp.c_str());
  } else if (errno == EEXIST) {
    throw Error("dataset " + m.where() +
                " already exists (refusing to overwrite it unless forced)");
  } else {
    // File systems without hard links (some network and FAT mounts): check, then rename.
    std::error_code ec;
    PINS_CHECK(!fs::exists(m.path, ec), "dataset ", m.where(),
               " already exists (refusing to overwrite it unless forced)");
    if (::rename(m.tmp.c_str(), m.path.c_str()) != 0)
      throw Error("cannot write dataset " + m.where() + ": renaming '" + m.tmp +
                  "' failed: " + errno_text(errno));
  }
  m.committed = true;
  m.tmp_exists = false;
  unregister_temporary(m.signal_slot);
  m.signal_slot = -1;
  const fs::path parent = fs::path(m.path).parent_path();
  sync_path(parent.empty() ? "." : parent.string());
}

void write_dataset(const std::string& path, const Dataset& data, bool force) {
  const size_t n = size_t(data.samples);
  const DatasetInfo& info = data.info;
  auto check_array = [&](const DatasetArray& a, const std::vector<std::int64_t>& shape) {
    PINS_CHECK(a.shape == shape && a.values.size() == n * size_t(a.sample_size()),
               "write_dataset '", path, "': array '", a.name, "' must hold samples x ",
               DatasetArray{a.name, shape, {}}.sample_size(), " values, got ", a.values.size());
  };
  PINS_CHECK(data.inputs.size() == info.inputs.size(), "write_dataset '", path, "': ",
             data.inputs.size(), " input arrays for the inputs ", info.input_list());
  for (size_t k = 0; k < data.inputs.size(); ++k) {
    PINS_CHECK(data.inputs[k].name == info.inputs[k].name, "write_dataset '", path,
               "': input array ", k, " is '", data.inputs[k].name, "', expected '",
               info.inputs[k].name, "'");
    check_array(data.inputs[k], info.input_shape(info.inputs[k]));
  }
  if (info.labelled) {
    check_array(data.u, info.solution_shape());
    PINS_CHECK(data.iterations.size() == n && data.residual.size() == n, "write_dataset '", path,
               "': iterations and residual must hold ", n, " values, got ", data.iterations.size(),
               " and ", data.residual.size());
  } else {
    PINS_CHECK(data.u.values.empty() && data.iterations.empty() && data.residual.empty(),
               "write_dataset '", path,
               "': an inputs-only dataset (info.labelled = false) stores no solutions, but u "
               "holds ",
               data.u.values.size(), " values, iterations ", data.iterations.size(),
               " and residual ", data.residual.size());
  }
  const size_t streams = size_t(info.seed_streams);
  PINS_CHECK(data.seeds.size() == n * streams, "write_dataset '", path, "': seeds must hold ",
             n * streams, " values (samples x ", streams, "), got ", data.seeds.size());
  DatasetWriter writer(path, info, data.samples, force);
  for (size_t i = 0; i < n; ++i) {
    SampleRecord r;
    for (const auto& a : data.inputs) r.inputs.push_back(a.sample(std::int64_t(i)));
    if (info.labelled) {
      r.u = data.u.sample(std::int64_t(i));
      r.iterations = data.iterations[i];
      r.residual = data.residual[i];
    }
    r.seeds = data.seeds.data() + i * streams;
    writer.write_sample(std::int64_t(i), r);
  }
  writer.commit();
}

}  // namespace pins
