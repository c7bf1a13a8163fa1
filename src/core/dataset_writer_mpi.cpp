// ParallelDatasetWriter: one pins dataset written by all processes of a communicator with
// parallel HDF5 (pins/core/dataset_parallel.hpp).

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>

#include "dataset_file.hpp"
#include "dataset_layout.hpp"
#include "hdf5_util.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset_parallel.hpp"

namespace pins {

using hdf5::Handle;

namespace {

// Collective: throws pins::Error on every process if any process has a message, with the
// message of the lowest such rank, so that all leave the same collective call together.
void throw_if_any(MPI_Comm comm, const std::optional<std::string>& mine) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  struct {
    int ok;
    int rank;
  } local{mine ? 0 : 1, rank}, first{};
  MPI_Allreduce(&local, &first, 1, MPI_2INT, MPI_MINLOC, comm);
  if (first.ok) return;
  std::string message = mine ? *mine : std::string();
  long length = long(message.size());
  MPI_Bcast(&length, 1, MPI_LONG, first.rank, comm);
  message.resize(size_t(length));
  if (length > 0) MPI_Bcast(message.data(), int(length), MPI_CHAR, first.rank, comm);
  throw Error(message);
}

// Runs `fn`; an exception becomes the message it returns.
template <class Fn>
std::optional<std::string> capture(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace

struct ParallelDatasetWriter::Impl {
  MPI_Comm comm = MPI_COMM_NULL;  // a duplicate: this writer's messages stay its own
  int rank = 0;
  std::string path, tmp;
  DatasetInfo info;
  std::int64_t samples = 0;
  bool force = false;
  bool committed = false;
  bool tmp_exists = false;  // rank 0 only
  int signal_slot = -1;     // rank 0 only

  Handle file, transfer;
  dataset_file::Layout layout;
  // This process's samples: their indices (increasing), iterations, residuals and seeds.
  std::vector<hsize_t> indices;
  std::set<std::int64_t> written;
  std::vector<std::int32_t> iterations;
  std::vector<double> residual;
  std::vector<std::uint64_t> seeds;

  ~Impl() {
    // Every process gets here at the same point (the callers agree on failures), so the
    // collective close matches on all of them. Close before unlinking so HDF5 does not
    // write into a removed file.
    {
      hdf5::QuietErrors quiet;
      layout.close();
      file.reset();
    }
    if (tmp_exists && !committed) ::unlink(tmp.c_str());
    dataset_file::unregister_temporary(signal_slot);
    if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }

  std::string where() const { return "'" + path + "'"; }
};

ParallelDatasetWriter::ParallelDatasetWriter(MPI_Comm comm, const std::string& path,
                                             const DatasetInfo& info, std::int64_t samples,
                                             bool force)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  MPI_Comm_dup(comm, &m.comm);
  MPI_Comm_rank(m.comm, &m.rank);
  m.path = path;
  m.info = info;
  m.samples = samples;
  m.force = force;

  // 1. Rank 0 checks the destination and creates the temporary file; all learn its name.
  std::optional<std::string> failure = capture([&] {
    PINS_CHECK(!path.empty(), "dataset: the output path is empty");
    PINS_CHECK(samples >= 1, "dataset ", m.where(), ": needs at least one sample, got ", samples);
    dataset_layout::to_attributes(info);  // checks info before any file exists
    if (m.rank != 0) return;
    m.tmp = dataset_file::temporary_path(path, force);
    dataset_file::create_temporary(m.tmp, path);
    m.tmp_exists = true;
    m.signal_slot = dataset_file::register_temporary(m.tmp);
  });
  throw_if_any(m.comm, failure);
  long length = long(m.tmp.size());
  MPI_Bcast(&length, 1, MPI_LONG, 0, m.comm);
  m.tmp.resize(size_t(length));
  MPI_Bcast(m.tmp.data(), int(length), MPI_CHAR, 0, m.comm);

  // 2. All processes create the HDF5 file in it (collective creation of the file, its
  //    attributes and arrays); rank 0 alone gives the mesh's values.
  hdf5::QuietErrors quiet;
  failure = capture([&] {
    Handle fcpl = dataset_file::file_create_properties(path);
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    hdf5::check(fapl.get(), "cannot write dataset " + m.where());
    hdf5::check(H5Pset_fapl_mpio(fapl.get(), m.comm, MPI_INFO_NULL),
                "cannot write dataset " + m.where() + ": MPI-IO");
    // Metadata (attributes, chunk index) written once, collectively, rather than by every
    // process on its own: HDF5's advice for many processes.
    hdf5::check(H5Pset_coll_metadata_write(fapl.get(), true), "cannot write dataset " + m.where());
    m.file = Handle(H5Fcreate(m.tmp.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), H5Fclose);
    hdf5::check(m.file.get(), "cannot write dataset " + m.where() + ": cannot create '" + m.tmp +
                                  "' as an HDF5 file");
    m.transfer = Handle(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
    hdf5::check(m.transfer.get(), "cannot write dataset " + m.where());
    hdf5::check(H5Pset_dxpl_mpio(m.transfer.get(), H5FD_MPIO_COLLECTIVE),
                "cannot write dataset " + m.where());
    try {
      m.layout =
          dataset_file::create_layout(m.file.get(), info, samples, m.transfer.get(), m.rank == 0);
    } catch (const Error& e) {
      throw Error("cannot write dataset " + m.where() + ": " + e.what());
    }
  });
  throw_if_any(m.comm, failure);
}

ParallelDatasetWriter::~ParallelDatasetWriter() = default;

const std::string& ParallelDatasetWriter::path() const {
  return impl_->path;
}
const std::string& ParallelDatasetWriter::temporary_path() const {
  return impl_->tmp;
}

void ParallelDatasetWriter::check_sample(std::int64_t index, const SampleRecord& r) const {
  const Impl& m = *impl_;
  PINS_CHECK(!m.committed, "dataset ", m.where(), ": write after commit");
  dataset_file::check_sample(m.layout, m.info, m.samples, index, r, m.where());
  PINS_CHECK(!m.written.count(index), "dataset ", m.where(), ": sample ", index,
             " was written twice");
}

void ParallelDatasetWriter::write_round(std::int64_t index, const SampleRecord& r) {
  Impl& m = *impl_;
  hdf5::QuietErrors quiet;
  const std::vector<const double*> arrays =
      index >= 0 ? dataset_file::sample_arrays(m.layout, r) : std::vector<const double*>();
  const double nothing = 0;  // a valid buffer for a process that writes no element
  for (size_t k = 0; k < m.layout.fields.size(); ++k) {
    const std::string what = "dataset " + m.where() + ": cannot write sample " +
                             std::to_string(index) + " of '" + m.layout.names[k] + "'";
    Handle space(H5Dget_space(m.layout.fields[k].get()), H5Sclose);
    hdf5::check(space.get(), what);
    Handle mem;
    if (index >= 0) {
      mem = dataset_file::select_sample(m.layout, k, space.get(), index, what);
    } else {
      const hsize_t one = 1;
      mem = Handle(H5Screate_simple(1, &one, nullptr), H5Sclose);
      hdf5::check(mem.get(), what);
      hdf5::check(H5Sselect_none(mem.get()), what);
      hdf5::check(H5Sselect_none(space.get()), what);
    }
    hdf5::check(H5Dwrite(m.layout.fields[k].get(), H5T_NATIVE_DOUBLE, mem.get(), space.get(),
                         m.transfer.get(), index >= 0 ? arrays[k] : &nothing),
                what);
  }
  if (index < 0) return;
  m.indices.push_back(hsize_t(index));
  m.written.insert(index);
  m.iterations.push_back(r.iterations);
  m.residual.push_back(r.residual);
  m.seeds.insert(m.seeds.end(), r.seeds, r.seeds + m.info.seed_streams);
}

namespace {
// Collective: each process writes its own rows (`indices`, `columns` values each) of the
// [N] or [N, columns] array `ds`.
void write_rows(hid_t ds, hid_t mem_type, const void* values, const std::vector<hsize_t>& indices,
                hsize_t columns, hid_t transfer, const std::string& what) {
  Handle space(H5Dget_space(ds), H5Sclose);
  hdf5::check(space.get(), what);
  const hsize_t n = hsize_t(indices.size()) * columns;
  const hsize_t mem_n = std::max<hsize_t>(n, 1);
  Handle mem(H5Screate_simple(1, &mem_n, nullptr), H5Sclose);
  hdf5::check(mem.get(), what);
  if (n == 0) {
    hdf5::check(H5Sselect_none(space.get()), what);
    hdf5::check(H5Sselect_none(mem.get()), what);
  } else {
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> coords;
    coords.reserve(size_t(n) * size_t(rank));
    for (hsize_t i : indices)
      for (hsize_t c = 0; c < columns; ++c) {
        coords.push_back(i);
        if (rank == 2) coords.push_back(c);
      }
    hdf5::check(H5Sselect_elements(space.get(), H5S_SELECT_SET, size_t(n), coords.data()), what);
  }
  const std::uint64_t nothing = 0;
  hdf5::check(H5Dwrite(ds, mem_type, mem.get(), space.get(), transfer, n ? values : &nothing),
              what);
}
}  // namespace

void ParallelDatasetWriter::commit(const std::vector<Attribute>& closing) {
  Impl& m = *impl_;
  long long mine = (long long)m.indices.size(), total = 0;
  MPI_Allreduce(&mine, &total, 1, MPI_LONG_LONG, MPI_SUM, m.comm);
  std::optional<std::string> failure = capture([&] {
    PINS_CHECK(!m.committed, "dataset ", m.where(), ": committed twice");
    PINS_CHECK(total == m.samples, "dataset ", m.where(), ": ", total, " of its ", m.samples,
               " samples were written");
  });
  throw_if_any(m.comm, failure);

  // Iterations, residuals and seeds: each process its own rows; then the collective close.
  failure = capture([&] {
    hdf5::QuietErrors quiet;
    const std::string what = "cannot write dataset " + m.where();
    if (m.info.labelled) {
      write_rows(m.layout.iterations.get(), H5T_NATIVE_INT32, m.iterations.data(), m.indices, 1,
                 m.transfer.get(), what + ": cannot write array 'iterations'");
      write_rows(m.layout.residual.get(), H5T_NATIVE_DOUBLE, m.residual.data(), m.indices, 1,
                 m.transfer.get(), what + ": cannot write array 'residual'");
    }
    write_rows(m.layout.seeds.get(), H5T_NATIVE_UINT64, m.seeds.data(), m.indices,
               hsize_t(m.info.seed_streams), m.transfer.get(),
               what + ": cannot write array 'seeds'");
    // Attribute writes are collective metadata operations: every process, the same values.
    for (const Attribute& a : closing) hdf5::write_attribute(m.file.get(), a.name, a.value);
  });
  throw_if_any(m.comm, failure);
  failure = capture([&] {
    hdf5::QuietErrors quiet;
    bool ok = m.layout.close();
    ok = m.transfer.close() && ok;
    ok = m.file.close() && ok;  // flushes everything; a full disk shows up here
    if (!ok)
      throw Error("cannot write dataset " + m.where() + ": closing '" + m.tmp +
                  "' failed: " + hdf5::last_error());
  });
  throw_if_any(m.comm, failure);

  // Publish: rank 0 alone renames, once every process has closed the file.
  failure = capture([&] {
    if (m.rank == 0) dataset_file::publish(m.tmp, m.path, m.force);
  });
  throw_if_any(m.comm, failure);
  m.committed = true;
  m.tmp_exists = false;
  dataset_file::unregister_temporary(m.signal_slot);
  m.signal_slot = -1;
}

}  // namespace pins
