// Structure-aware fuzz harness of the dataset readers (fuzz/harness.hpp): the input is a
// text description of a pins dataset, one line per object,
//
//   attr <name> i|d|s <value>                         a root attribute (int64, double, string)
//   group <name>                                      a group, e.g. mesh
//   array <name> f64|i32|i64|u64 <d0,d1,...> [contiguous] <v0,v1,...>
//                                                     an array (chunked one row per chunk with
//                                                     Fletcher32 unless contiguous), its values
//                                                     the list repeated; no list: never written
//
// which the harness writes as an HDF5 file (with HDF5's own writer, so the file is always
// well formed) before handing it to the same readers as the dataset harness. Byte-level
// fuzzing of HDF5 files mostly exercises HDF5's parser; this target reaches pins' own checks
// of the layout: attributes of the wrong kind or value, shapes, meshes, non-finite values,
// unwritten arrays, sizes that overflow. Lines that HDF5 refuses are skipped.
#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "harness.hpp"
#include "pins/core/check.hpp"
#include "src/core/hdf5_util.hpp"

namespace pins::fuzz {

namespace {
using hdf5::Handle;

// Arrays with more values are created but not written (their storage stays unallocated).
constexpr hsize_t kMaxWrittenValues = hsize_t(1) << 16;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}

void add_array(hid_t file, std::istringstream& line) {
  std::string name, type, shape, word, values;
  line >> name >> type >> shape;
  hid_t file_type = type == "f64"   ? H5T_IEEE_F64LE
                    : type == "i32" ? H5T_STD_I32LE
                    : type == "i64" ? H5T_STD_I64LE
                    : type == "u64" ? H5T_STD_U64LE
                                    : hid_t(-1);
  if (file_type < 0 || name.empty()) return;
  std::vector<hsize_t> dims;
  hsize_t total = 1;
  bool overflow = false;
  for (const auto& d : split(shape, ',')) {
    const unsigned long long v = std::strtoull(d.c_str(), nullptr, 10);
    if (v == 0 || dims.size() >= 8) return;
    overflow = overflow || total > (~hsize_t(0)) / v;
    total *= v;
    dims.push_back(hsize_t(v));
  }
  if (dims.empty() || overflow) return;
  bool contiguous = false;
  if (line >> word) {
    if (word == "contiguous") {
      contiguous = true;
      line >> values;
    } else {
      values = word;
    }
  }
  Handle space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  if (!space) return;
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  hsize_t chunk_values = 1;
  for (size_t i = 1; i < dims.size(); ++i) chunk_values *= dims[i];
  if (!contiguous && chunk_values <= (hsize_t(1) << 24)) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = 1;
    H5Pset_chunk(dcpl.get(), int(chunk.size()), chunk.data());
    H5Pset_fletcher32(dcpl.get());
  }
  Handle ds(
      H5Dcreate2(file, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
      H5Dclose);
  if (!ds || values.empty() || total > kMaxWrittenValues) return;
  std::vector<double> pattern;
  for (const auto& v : split(values, ',')) pattern.push_back(std::strtod(v.c_str(), nullptr));
  if (pattern.empty()) return;
  std::vector<double> data(total);
  for (hsize_t i = 0; i < total; ++i) data[i] = pattern[i % pattern.size()];
  H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data());
}

void write_file(const std::string& path, const std::string& text) {
  hdf5::QuietErrors quiet;
  // Built in memory and written once on close (the core driver with a backing store); no
  // creation-order index: attributes stay in the object header (fast to write; the readers
  // then list them by name, the fallback the dataset target's pins-written seeds do not take).
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fapl_core(fapl.get(), 1 << 16, 1);
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
  if (!file) throw std::runtime_error("fuzz harness: cannot create " + path);
  int lines = 0;
  for (const auto& l : split(text, '\n')) {
    if (++lines > 256) break;
    std::istringstream line(l);
    std::string what;
    line >> what;
    if (what == "attr") {
      std::string name, kind, value;
      line >> name >> kind;
      std::getline(line >> std::ws, value);
      if (name.empty()) continue;
      try {
        if (kind == "i")
          hdf5::write_attribute(file.get(), name,
                                std::int64_t(std::strtoll(value.c_str(), nullptr, 10)));
        else if (kind == "d")
          hdf5::write_attribute(file.get(), name, std::strtod(value.c_str(), nullptr));
        else if (kind == "s")
          hdf5::write_attribute(file.get(), name, value);
      } catch (const Error&) {  // e.g. a repeated name: HDF5 refuses, the line is skipped
      }
    } else if (what == "group") {
      std::string name;
      line >> name;
      if (!name.empty())
        Handle(H5Gcreate2(file.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
               H5Gclose);
    } else if (what == "array") {
      add_array(file.get(), line);
    }
  }
}
}  // namespace

int dataset_layout(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_temporary(nullptr, 0, "layout.h5");
  write_file(path, std::string(reinterpret_cast<const char*>(data), size));
  read_dataset_file(path);
  return 0;
}

}  // namespace pins::fuzz
