// Reading and checking pins datasets (layout in pins/core/dataset.hpp). Every failure is a
// one-line pins::Error that names the file and the array or attribute at fault.

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "dataset_layout.hpp"
#include "dataset_read.hpp"
#include "hdf5_util.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"

namespace pins {

namespace fs = std::filesystem;
using hdf5::Handle;

namespace dataset_read {

std::string shape_string(const std::vector<hsize_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

Handle open_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw FileNotFound(path + ": no such file");
  if (fs::is_directory(path, ec)) throw Error(path + ": is a folder, expected an HDF5 file");
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 <= 0) {
    const std::string detail = hdf5::last_error();
    if (is_hdf5 == 0) throw Error(path + ": not an HDF5 file");
    throw Error(path + ": cannot read the file" + (detail.empty() ? "" : " (" + detail + ")"));
  }
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file) {
    const std::string detail = hdf5::last_error();
    throw Error(path + ": cannot open the HDF5 file (corrupt?)" +
                (detail.empty() ? "" : ": " + detail));
  }
  return file;
}

std::vector<Attribute> read_root_attributes(hid_t file, const std::string& path) {
  std::vector<Attribute> out;
  try {
    for (const auto& name : hdf5::attribute_names(file))
      out.push_back({name, *hdf5::read_attribute(file, name)});
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return out;
}

Array open_array(hid_t file, const std::string& path, const char* name, H5T_class_t kind,
                 const std::vector<hsize_t>& expected) {
  const htri_t exists = H5Lexists(file, name, H5P_DEFAULT);
  if (exists <= 0) throw Error(path + ": array '" + name + "' is missing");
  Array a;
  a.ds = Handle(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  if (!a.ds) throw Error(path + ": '" + name + "' is not a readable array: " + hdf5::last_error());
  Handle type(H5Dget_type(a.ds.get()), H5Tclose);
  hdf5::check(type.get(), path + ": array '" + name + "'");
  if (H5Tget_class(type.get()) != kind)
    throw Error(path + ": array '" + name + "' must hold " +
                (kind == H5T_FLOAT ? "floating-point" : "integer") + " values");
  Handle space(H5Dget_space(a.ds.get()), H5Sclose);
  hdf5::check(space.get(), path + ": array '" + name + "'");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  hdf5::check(rank, path + ": array '" + name + "'");
  a.dims.resize(size_t(rank));
  H5Sget_simple_extent_dims(space.get(), a.dims.data(), nullptr);
  if (a.dims != expected)
    throw Error(path + ": array '" + name + "' has shape " + shape_string(a.dims) + ", expected " +
                shape_string(expected));
  // pins writes every value of every array, uncompressed (Fletcher32 only): an array whose
  // storage holds fewer bytes than its values was never (fully) written and would read back
  // as fill values; a few-kB file could declare terabytes of them. Arrays compressed by
  // another writer (e.g. h5py with gzip) are not checked.
  Handle dcpl(H5Dget_create_plist(a.ds.get()), H5Pclose);
  hdf5::check(dcpl.get(), path + ": array '" + name + "'");
  bool compressed = false;
  const int filters = H5Pget_nfilters(dcpl.get());
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0, config = 0;
    size_t values = 0;
    const H5Z_filter_t f =
        H5Pget_filter2(dcpl.get(), unsigned(i), &flags, &values, nullptr, 0, nullptr, &config);
    compressed = compressed || (f != H5Z_FILTER_FLETCHER32 && f != H5Z_FILTER_SHUFFLE);
  }
  double bytes = double(H5Tget_size(type.get()));
  for (hsize_t d : a.dims) bytes *= double(d);
  if (!compressed && double(H5Dget_storage_size(a.ds.get())) < bytes)
    throw Error(path + ": array '" + name + "' of shape " + shape_string(a.dims) +
                " is incomplete: the file does not hold all of its values (an unfinished or "
                "truncated write)");
  return a;
}

// Reads samples first .. first + count − 1 of `a` (all of them: count < 0) into `out`.
template <class T>
void read_array(const Array& a, hid_t mem_type, std::vector<T>& out, const std::string& path,
                const char* name, hsize_t first = 0, long long count = -1) {
  std::vector<hsize_t> dims = a.dims;
  if (count >= 0) dims[0] = hsize_t(count);
  size_t n = 1;
  bool fits = true;
  for (hsize_t d : dims) {
    fits = fits && (d == 0 || n <= out.max_size() / size_t(d));
    n = fits ? n * size_t(d) : 0;
  }
  try {
    if (!fits) throw std::length_error("too many values");
    out.resize(n);
  } catch (const std::exception&) {  // std::bad_alloc, std::length_error
    throw Error(path + ": array '" + name + "' of shape " + shape_string(dims) +
                " does not fit in memory (read the dataset as a stream instead: -train_memory)");
  }
  Handle file_space, mem_space;
  if (count >= 0) {
    file_space = Handle(H5Dget_space(a.ds.get()), H5Sclose);
    std::vector<hsize_t> start(dims.size(), 0);
    start[0] = first;
    hdf5::check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                                    dims.data(), nullptr),
                path + ": array '" + name + "'");
    mem_space = Handle(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  }
  if (n > 0 && H5Dread(a.ds.get(), mem_type, count >= 0 ? mem_space.get() : H5S_ALL,
                       count >= 0 ? file_space.get() : H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
    const std::string detail = hdf5::last_error();
    throw Error(path + ": array '" + name + "' cannot be read (corrupt file or checksum error" +
                (detail.empty() ? ")" : ": " + detail + ")"));
  }
}

void check_finite(const double* v, const std::vector<hsize_t>& dims, const std::string& path,
                  const char* name, const std::int64_t* samples) {
  size_t n = 1;
  for (hsize_t d : dims) n *= size_t(d);
  for (size_t p = 0; p < n; ++p) {
    if (std::isfinite(v[p])) continue;
    std::string where;
    size_t rest = p;
    std::vector<size_t> index(dims.size());
    for (size_t d = dims.size(); d-- > 0;) {
      index[d] = rest % dims[d];
      rest /= dims[d];
    }
    if (samples) index[0] = size_t(samples[index[0]]);
    for (size_t d = 0; d < index.size(); ++d) where += (d ? ", " : "") + std::to_string(index[d]);
    throw Error(path + ": array '" + name + "' holds a non-finite value (" + std::to_string(v[p]) +
                ") at [" + where + "]");
  }
}

std::vector<hsize_t> array_dims(hid_t file, const std::string& path, const std::string& name) {
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0)
    throw Error(path + ": array '" + name + "' is missing");
  Handle ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds) throw Error(path + ": array '" + name + "' is not readable");
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  hdf5::check(rank, path + ": array '" + name + "'");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

std::vector<hsize_t> with_samples(hsize_t n, const std::vector<std::int64_t>& shape) {
  std::vector<hsize_t> dims = {n};
  for (auto s : shape) dims.push_back(hsize_t(s));
  return dims;
}

// Reads /mesh/* into the mesh from_attributes started (cell type only) and checks it.
void read_mesh(hid_t file, const std::string& path, DatasetInfo& info) {
  if (!info.mesh) return;
  auto mesh = std::make_shared<Mesh>(*info.mesh);
  if (H5Lexists(file, "mesh", H5P_DEFAULT) <= 0)
    throw Error(path + ": attribute 'mesh' is " + mesh->cell_type +
                ", but the group 'mesh' (coordinates, cells, points) is missing");
  const std::vector<hsize_t> xd = array_dims(file, path, "mesh/coordinates");
  if (xd.size() != 2 || (xd[1] != 2 && xd[1] != 3) || xd[0] < 1)
    throw Error(path + ": array 'mesh/coordinates' has shape " + shape_string(xd) +
                ", expected [vertices, 2 or 3]");
  mesh->dim = int(xd[1]);
  read_array(open_array(file, path, "mesh/coordinates", H5T_FLOAT, xd), H5T_NATIVE_DOUBLE,
             mesh->coordinates, path, "mesh/coordinates");
  const std::vector<hsize_t> cd = array_dims(file, path, "mesh/cells");
  const hsize_t k = hsize_t(mesh->cell_vertices());
  if (cd.size() != 2 || cd[1] != k || cd[0] < 1)
    throw Error(path + ": array 'mesh/cells' has shape " + shape_string(cd) + ", expected [cells, " +
                std::to_string(k) + "] (" + mesh->cell_type + ")");
  read_array(open_array(file, path, "mesh/cells", H5T_INTEGER, cd), H5T_NATIVE_INT64, mesh->cells,
             path, "mesh/cells");
  read_array(open_array(file, path, "mesh/points", H5T_INTEGER, {hsize_t(info.grid[0])}),
             H5T_NATIVE_INT64, mesh->point_vertex, path, "mesh/points");
  try {
    mesh->check("mesh");
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  info.mesh = mesh;
}

// Shared part of read_dataset and read_dataset_info: attributes, N from the first input
// array, the seed streams from /seeds.
Dataset read_header(hid_t file, const std::string& path, hsize_t* samples_out) {
  Dataset d;
  d.info = dataset_layout::from_attributes(read_root_attributes(file, path), path);
  read_mesh(file, path, d.info);
  const FieldSpec& first = d.info.inputs.front();
  const std::vector<hsize_t> dims = array_dims(file, path, first.name);
  const std::vector<std::int64_t> shape = d.info.input_shape(first);
  if (dims.size() != shape.size() + 1)
    throw Error(path + ": array '" + first.name + "' has shape " + shape_string(dims) +
                ", expected [N, " + shape_string(with_samples(0, shape)).substr(4));
  if (dims[0] < 1) throw Error(path + ": the dataset holds no samples");
  *samples_out = dims[0];
  d.samples = std::int64_t(dims[0]);
  const std::vector<hsize_t> seeds = array_dims(file, path, dataset_layout::kSeeds);
  if (seeds.size() != 2 || seeds[1] < 1 || seeds[1] > 64)
    throw Error(path + ": array 'seeds' has shape " + shape_string(seeds) +
                ", expected [N, streams] with 1 to 64 streams");
  d.info.seed_streams = int(seeds[1]);
  return d;
}

}  // namespace dataset_read

namespace {

using namespace dataset_read;

DatasetArray read_field(hid_t file, const std::string& path, hsize_t n, const std::string& name,
                        const std::vector<std::int64_t>& shape, hsize_t first, hsize_t count) {
  DatasetArray out;
  out.name = name;
  out.shape = shape;
  const Array a = open_array(file, path, name.c_str(), H5T_FLOAT, with_samples(n, shape));
  read_array(a, H5T_NATIVE_DOUBLE, out.values, path, name.c_str(), first, (long long)count);
  std::vector<std::int64_t> samples(count);
  for (hsize_t i = 0; i < count; ++i) samples[i] = std::int64_t(first + i);
  check_finite(out.values.data(), with_samples(count, shape), path, name.c_str(),
               samples.data());
  return out;
}

}  // namespace

using namespace dataset_read;

Dataset read_dataset_info(const std::string& path) {
  hdf5::QuietErrors quiet;
  Handle file = open_file(path);
  hsize_t n = 0;
  return read_header(file.get(), path, &n);
}

std::vector<Attribute> read_dataset_attributes(const std::string& path) {
  hdf5::QuietErrors quiet;
  Handle file = open_file(path);
  std::vector<Attribute> attrs = read_root_attributes(file.get(), path);
  dataset_layout::from_attributes(attrs, path);  // only to check it is a pins dataset
  return attrs;
}

Dataset read_dataset(const std::string& path) { return read_dataset(path, 0, -1); }

Dataset read_dataset(const std::string& path, std::int64_t first, std::int64_t count) {
  hdf5::QuietErrors quiet;
  Handle file = open_file(path);
  hsize_t n = 0;
  Dataset d = read_header(file.get(), path, &n);
  if (count < 0) count = std::int64_t(n) - first;
  PINS_CHECK(first >= 0 && count >= 1 && first + count <= std::int64_t(n), path,
             ": samples ", first, " to ", first + count - 1, " asked for, but the dataset holds ",
             n, " samples");
  const hsize_t f = hsize_t(first), k = hsize_t(count);
  d.samples = count;
  for (const auto& in : d.info.inputs)
    d.inputs.push_back(read_field(file.get(), path, n, in.name, d.info.input_shape(in), f, k));
  if (d.info.labelled) {
    d.u = read_field(file.get(), path, n, dataset_layout::kSolution, d.info.solution_shape(), f, k);
    {
      const Array a = open_array(file.get(), path, dataset_layout::kIterations, H5T_INTEGER, {n});
      read_array(a, H5T_NATIVE_INT32, d.iterations, path, dataset_layout::kIterations, f,
                 (long long)k);
    }
    {
      const Array a = open_array(file.get(), path, dataset_layout::kResidual, H5T_FLOAT, {n});
      read_array(a, H5T_NATIVE_DOUBLE, d.residual, path, dataset_layout::kResidual, f,
                 (long long)k);
      std::vector<std::int64_t> samples(k);
      for (hsize_t i = 0; i < k; ++i) samples[i] = first + std::int64_t(i);
      check_finite(d.residual.data(), {k}, path, dataset_layout::kResidual, samples.data());
    }
  } else {
    // Solutions in a file that says it has none: which one is wrong is not ours to guess.
    for (const char* name :
         {dataset_layout::kSolution, dataset_layout::kIterations, dataset_layout::kResidual})
      if (H5Lexists(file.get(), name, H5P_DEFAULT) > 0)
        throw Error(path +
                    ": attribute 'labelled' is 0 (inputs only), but the file holds an "
                    "array '" +
                    name + "' (set labelled to 1 if it holds solutions)");
    d.u.name = dataset_layout::kSolution;  // the shape solutions would have; no values
    d.u.shape = d.info.solution_shape();
  }
  {
    const Array a = open_array(file.get(), path, dataset_layout::kSeeds, H5T_INTEGER,
                               {n, hsize_t(d.info.seed_streams)});
    read_array(a, H5T_NATIVE_UINT64, d.seeds, path, dataset_layout::kSeeds, f, (long long)k);
  }
  return d;
}

}  // namespace pins
