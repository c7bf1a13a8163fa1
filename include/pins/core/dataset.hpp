#pragma once
/// \file
/// pins datasets: HDF5 files holding N solved samples of a problem family on an ny × nx grid.
///
/// Layout ("pins-dataset", format version 1), readable with h5py alone:
///
///   /kappa       [N, ny, nx] float64   coefficient field κ of each sample
///   /f           [N, ny, nx] float64   right-hand side
///   /u           [N, ny, nx] float64   solution
///   /iterations  [N]         int32     solver iterations per sample
///   /residual    [N]         float64   true relative residual ‖f − A u‖₂ / ‖f‖₂ per sample
///   /seeds       [N, 2]      uint64    per-sample random stream seeds (κ stream, f stream)
///
/// Every dataset is chunked (one sample per chunk) and Fletcher32-checksummed. Root
/// attributes, in this order: format, format_version, pde, equation, discretisation, domain,
/// boundary_condition, nx, ny, seed, sampler.<name>..., solver.ksp_type, solver.pc_type,
/// solver.rtol, then any extra attributes (e.g. solver.norm_type, command, created) and
/// version.<software> (pins, hdf5, kokkos always; petsc, mpi when the writer supplies them).
///
/// Files are written atomically: to a hidden temporary file in the destination folder,
/// which is renamed over the destination only once it is complete and closed. On any
/// failure the temporary file is removed and the destination is untouched.
///
/// Example:
/// \code
///   pins::Dataset d = pins::read_dataset("darcy64.h5");       // throws pins::Error
///   auto kappa = torch::from_blob(d.kappa.data(), {d.samples, d.info.ny, d.info.nx},
///                                 torch::kFloat64);
/// \endcode

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace pins {

/// Name and version that identify the file format; written as the attributes
/// `format` and `format_version`.
inline constexpr const char* kDatasetFormat = "pins-dataset";
inline constexpr int kDatasetFormatVersion = 1;

/// An HDF5 attribute value: a 64-bit integer, a double or a (UTF-8) string.
using AttributeValue = std::variant<std::int64_t, double, std::string>;

/// A named attribute; names may carry a dotted namespace ("sampler.alpha").
struct Attribute {
  std::string name;
  AttributeValue value;
};

/// Renders an attribute value for humans (integers exactly, doubles with 17 digits).
std::string to_string(const AttributeValue& value);

/// What a dataset is: the problem, its discretisation, how it was sampled and solved.
struct DatasetInfo {
  std::string pde;                 ///< problem family, e.g. "darcy"
  std::string equation;            ///< e.g. "-div(kappa grad u) = f"
  std::string discretisation;      ///< e.g. "cell-centred finite volumes, 5-point, ..."
  std::string domain;              ///< e.g. "(0,1)x(0,1)"
  std::string boundary_condition;  ///< e.g. "u = 0 on the whole boundary (Dirichlet)"
  int nx = 0;                      ///< cells along x (the fast array index)
  int ny = 0;                      ///< cells along y
  std::int64_t seed = 0;           ///< global seed of the sampler
  std::vector<Attribute> sampler;  ///< sampler parameters, stored as "sampler.<name>"
  std::string ksp_type;            ///< PETSc KSP type used for the solves
  std::string pc_type;             ///< PETSc PC type
  double rtol = 0;                 ///< relative tolerance every stored residual is below
  /// Everything else, stored under its own name (e.g. "solver.norm_type", "command",
  /// "version.petsc"). The writer adds version.pins, version.hdf5 and version.kokkos.
  std::vector<Attribute> extra;

  /// The sampler parameter `name` (without "sampler."), or nullptr.
  const AttributeValue* find_sampler(const std::string& name) const;
  /// The extra attribute `name`, or nullptr.
  const AttributeValue* find_extra(const std::string& name) const;
};

/// A whole dataset in memory. Arrays are row-major with the shapes given.
struct Dataset {
  DatasetInfo info;
  std::int64_t samples = 0;              ///< N
  std::vector<double> kappa;             ///< [N, ny, nx]
  std::vector<double> f;                 ///< [N, ny, nx]
  std::vector<double> u;                 ///< [N, ny, nx]
  std::vector<std::int32_t> iterations;  ///< [N]
  std::vector<double> residual;          ///< [N]
  std::vector<std::uint64_t> seeds;      ///< [N, 2]: (κ stream, f stream) seed of each sample
};

/// One sample handed to DatasetWriter::write_sample (pointers to ny*nx values each).
struct SampleRecord {
  const double* kappa = nullptr;
  const double* f = nullptr;
  const double* u = nullptr;
  std::int32_t iterations = 0;
  double residual = 0;
  std::uint64_t seeds[2] = {0, 0};
};

/// Writes a dataset sample by sample, in any order, then publishes it atomically.
///
/// \code
///   pins::DatasetWriter w("out.h5", info, n, /*force=*/false);  // creates .out.h5.tmp.<pid>
///   for (i...) w.write_sample(i, record);
///   w.commit();                                               // renames to out.h5
/// \endcode
/// Destroying a writer that was not committed removes its temporary file.
class DatasetWriter {
 public:
  /// Creates the temporary file next to `path`. Throws pins::Error if `path` exists and
  /// `force` is false, if its folder is missing or not writable, or if `info` is invalid
  /// (empty pde, grid below 1 × 1, samples < 1).
  DatasetWriter(const std::string& path, const DatasetInfo& info, std::int64_t samples, bool force);
  ~DatasetWriter();
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  /// Stores sample `index` (0 ≤ index < samples). Throws pins::Error naming the sample and
  /// the array if a value is NaN or infinite, or if the write fails.
  void write_sample(std::int64_t index, const SampleRecord& record);

  /// Checks that every sample was written, closes the file and renames it to the
  /// destination (refusing, unless `force`, a destination that appeared meanwhile).
  void commit();

  /// The destination path and the temporary file currently being written.
  const std::string& path() const;
  const std::string& temporary_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes `data` to `path` atomically (see DatasetWriter). Checks the array sizes.
void write_dataset(const std::string& path, const Dataset& data, bool force = false);

/// Reads and checks a pins dataset. Throws pins::FileNotFound if `path` does not exist, and
/// pins::Error with a one-line message naming the file and the problem otherwise: not an
/// HDF5 file, not a pins dataset or a newer format version, a missing or mis-shaped array
/// or attribute, a checksum error, NaN/Inf in an array.
Dataset read_dataset(const std::string& path);

/// Reads only the attributes and the sample count (cheap; same checks on the attributes).
Dataset read_dataset_info(const std::string& path);

/// All root attributes of a pins dataset in file order, as stored (for `pins info`).
std::vector<Attribute> read_dataset_attributes(const std::string& path);

/// Makes SIGINT, SIGTERM and SIGHUP remove the temporary files of unfinished
/// DatasetWriters before the signal takes its usual effect, so an interrupted run leaves
/// nothing behind. Meant for programs (the pins CLI calls it once); it replaces any
/// handlers installed for those signals.
void remove_dataset_temporaries_on_signal();

/// Version string of the HDF5 library pins writes with, e.g. "1.10.8".
std::string hdf5_version_string();

}  // namespace pins
