// Atomic, checksummed writing of pins datasets (layout in pins/core/dataset.hpp).

#include <unistd.h>

#include "dataset_file.hpp"
#include "dataset_layout.hpp"
#include "hdf5_util.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"

namespace pins {

using hdf5::Handle;

std::string hdf5_version_string() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

void remove_dataset_temporaries_on_signal() {
  dataset_file::install_signal_cleanup();
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
  dataset_file::Layout layout;
  std::vector<std::int32_t> iterations;
  std::vector<double> residual;
  std::vector<std::uint64_t> seeds;
  std::vector<char> written;

  ~Impl() {
    // Close before unlinking so HDF5 does not write into a removed file.
    layout.close();
    {
      hdf5::QuietErrors quiet;
      file.reset();
    }
    if (tmp_exists && !committed) ::unlink(tmp.c_str());
    dataset_file::unregister_temporary(signal_slot);
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
  dataset_layout::to_attributes(info);  // checks info before any file exists
  m.tmp = dataset_file::temporary_path(path, force);
  dataset_file::create_temporary(m.tmp, path);
  m.tmp_exists = true;
  m.signal_slot = dataset_file::register_temporary(m.tmp);

  hdf5::QuietErrors quiet;
  Handle fcpl = dataset_file::file_create_properties(path);
  m.file = Handle(H5Fcreate(m.tmp.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), H5Fclose);
  hdf5::check(m.file.get(), "cannot write dataset " + m.where() + ": cannot create '" + m.tmp +
                                "' as an HDF5 file");
  try {
    m.layout = dataset_file::create_layout(m.file.get(), info, samples);
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
  dataset_file::check_sample(m.layout, m.info, m.samples, index, r, m.where());
  PINS_CHECK(!m.written[size_t(index)], "dataset ", m.where(), ": sample ", index,
             " was written twice");

  hdf5::QuietErrors quiet;
  const std::vector<const double*> arrays = dataset_file::sample_arrays(m.layout, r);
  for (size_t k = 0; k < arrays.size(); ++k) {
    const std::string what = "dataset " + m.where() + ": cannot write sample " +
                             std::to_string(index) + " of '" + m.layout.names[k] + "'";
    Handle space(H5Dget_space(m.layout.fields[k].get()), H5Sclose);
    hdf5::check(space.get(), what);
    Handle mem = dataset_file::select_sample(m.layout, k, space.get(), index, what);
    hdf5::check(H5Dwrite(m.layout.fields[k].get(), H5T_NATIVE_DOUBLE, mem.get(), space.get(),
                         H5P_DEFAULT, arrays[k]),
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
    auto write_whole = [&](hid_t ds, hid_t type, const void* data, const char* name) {
      hdf5::check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
                  what + ": cannot write array '" + name + "'");
    };
    if (m.info.labelled) {
      write_whole(m.layout.iterations.get(), H5T_NATIVE_INT32, m.iterations.data(),
                  dataset_layout::kIterations);
      write_whole(m.layout.residual.get(), H5T_NATIVE_DOUBLE, m.residual.data(),
                  dataset_layout::kResidual);
    }
    write_whole(m.layout.seeds.get(), H5T_NATIVE_UINT64, m.seeds.data(), dataset_layout::kSeeds);
    bool ok = m.layout.close();
    ok = m.file.close() && ok;  // flushes everything; a full disk shows up here
    if (!ok) throw Error(what + ": closing '" + m.tmp + "' failed: " + hdf5::last_error());
  }
  dataset_file::publish(m.tmp, m.path, m.force);
  m.committed = true;
  m.tmp_exists = false;
  dataset_file::unregister_temporary(m.signal_slot);
  m.signal_slot = -1;
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
