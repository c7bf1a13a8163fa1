#pragma once
/// \file
/// pins datasets: HDF5 files holding N samples of a problem family — its input fields and
/// the solutions PETSc computed — on a structured grid of any dimension (or n mesh points).
/// An *inputs-only* dataset (`pins generate -inputs_only`, attribute labelled = 0) holds the
/// input fields and seeds alone: sampling is free, solutions cost solves, and physics-only
/// training needs none.
///
/// Layout ("pins-dataset", format version 2), readable with h5py alone:
///
///   /<input>     [N, (c,) (nz,) (ny,) nx] float64   one array per input field of the family,
///                                                    e.g. /kappa and /f for Darcy (c: the
///                                                    field's components, when more than 1)
///   /u           [N, (T,) (dof,) (nz,) (ny,) nx] float64   the solutions (T: output times of
///                                                    a trajectory, when time-dependent)
///   /iterations  [N]         int32     solver iterations per sample
///   /residual    [N]         float64   true relative residual ‖f − A u‖₂ / ‖f‖₂ per sample
///   /seeds       [N, S]      uint64    per-sample random stream seeds (S streams)
///   /mesh/coordinates [V, d] float64, /mesh/cells [C, k] int64, /mesh/points [n] int64
///                            families on an unstructured mesh only (pins::Mesh): the
///                            vertices, each cell's k vertices, the vertex of each point
///
/// On a mesh (attribute mesh = its cell type, e.g. "triangle"), the grid is the n points
/// (the unknowns): dim 1, nx = n, and point fields are [N, (c,) n]; an input stored per cell
/// (listed as "name@cells" in `inputs`) is [N, (c,) C].
///
/// Inputs-only datasets (labelled = 0) have no /u, /iterations and /residual arrays.
///
/// Every array is chunked (one sample per chunk) and Fletcher32-checksummed. Root attributes,
/// in this order: format, format_version, pde, equation, discretisation, domain,
/// boundary_condition, dim, nx, ny (dim ≥ 2), nz (dim 3), dof, times (trajectories only),
/// inputs ("kappa,f": the input arrays in channel order, "name:c" for c components),
/// operator (its description, e.g. "stencil: dim=2 star width=1 dof=1"), labelled (1: the
/// file holds solutions, 0: inputs only; a file without it, written before it existed, is
/// labelled), seed, sampler.<name>..., solver.ksp_type, solver.pc_type, solver.rtol
/// (labelled files only: an inputs-only file was solved by nothing), then any extra
/// attributes (e.g. solver.norm_type, command, created) and version.<software> (pins, hdf5,
/// kokkos always; petsc, mpi when the writer supplies them).
///
/// Format version 1 (2-D Darcy files written before 3-D families existed: /kappa, /f, /u as
/// [N, ny, nx], no dim/dof/inputs/operator attributes) is read as dim 2, dof 1, inputs
/// "kappa,f".
///
/// Files are written atomically: to a hidden temporary file in the destination folder,
/// which is renamed over the destination only once it is complete and closed. On any
/// failure the temporary file is removed and the destination is untouched.
///
/// Example:
/// \code
///   pins::Dataset d = pins::read_dataset("darcy64.h5");       // throws pins::Error
///   const pins::DatasetArray& kappa = d.input("kappa");         // kappa.shape: {ny, nx}
///   auto t = torch::from_blob(const_cast<double*>(kappa.values.data()),
///                             {d.samples, d.info.ny(), d.info.nx()}, torch::kFloat64);
/// \endcode

#include <cstdint>
#include <memory>

#include "pins/core/mesh.hpp"
#include <string>
#include <variant>
#include <vector>

namespace pins {

/// Name and version that identify the file format; written as the attributes
/// `format` and `format_version`.
inline constexpr const char* kDatasetFormat = "pins-dataset";
inline constexpr int kDatasetFormatVersion = 2;

/// An HDF5 attribute value: a 64-bit integer, a double or a (UTF-8) string.
using AttributeValue = std::variant<std::int64_t, double, std::string>;

/// A named attribute; names may carry a dotted namespace ("sampler.alpha").
struct Attribute {
  std::string name;
  AttributeValue value;
};

/// Renders an attribute value for humans (integers exactly, doubles with 17 digits).
std::string to_string(const AttributeValue& value);

/// One input array of a dataset: its name and its components per grid point (or cell).
struct FieldSpec {
  std::string name;    ///< array name, e.g. "kappa"
  int components = 1;  ///< values per grid point (1: the array is [N, grid...])
  /// Stored per cell of the dataset's mesh ([N, (c,) cells]) rather than per point.
  bool on_cells = false;
};

/// What a dataset is: the problem, its grid and fields, how it was sampled and solved.
struct DatasetInfo {
  std::string pde;                 ///< problem family, e.g. "darcy"
  std::string equation;            ///< e.g. "-div(kappa grad u) = f"
  std::string discretisation;      ///< e.g. "cell-centred finite volumes, 5-point, ..."
  std::string domain;              ///< e.g. "(0,1)x(0,1)"
  std::string boundary_condition;  ///< e.g. "u = 0 on the whole boundary (Dirichlet)"
  /// Cells per direction, slowest-varying first as the arrays store them: {ny, nx} in 2-D,
  /// {nz, ny, nx} in 3-D, {n} for n points of a mesh or a 1-D grid.
  std::vector<std::int64_t> grid;
  std::vector<FieldSpec> inputs;   ///< the input arrays, in the order networks see them
  int dof = 1;                     ///< components of the solution per grid point
  std::int64_t times = 0;          ///< output times T of trajectories (0: not time-dependent)
  std::string operator_description;  ///< attribute "operator", e.g. "stencil: dim=2 star ..."
  int seed_streams = 2;            ///< columns of /seeds (random streams per sample)
  std::int64_t seed = 0;           ///< global seed of the sampler
  std::vector<Attribute> sampler;  ///< sampler parameters, stored as "sampler.<name>"
  /// Whether the file holds solutions (/u, /iterations, /residual): attribute "labelled".
  /// False for inputs-only datasets (`pins generate -inputs_only`); consumers that need
  /// solutions refuse those with require_labelled().
  bool labelled = true;
  /// PETSc KSP type, PC type and relative tolerance of the solves (every stored residual is
  /// below rtol). Only labelled datasets have a solver: for inputs-only ones these are not
  /// written (whatever they hold) and read back empty and 0.
  std::string ksp_type;
  std::string pc_type;
  double rtol = 0;
  /// Everything else, stored under its own name (e.g. "solver.norm_type", "command",
  /// "version.petsc"). The writer adds version.pins, version.hdf5 and version.kokkos.
  std::vector<Attribute> extra;
  /// The unstructured mesh the fields live on (families on DMPlex), or null on a grid.
  /// With a mesh, grid is {mesh->point_count()}.
  std::shared_ptr<const Mesh> mesh;

  int dim() const { return int(grid.size()); }
  /// Cells along x (the fast index), y and z; 1 where the grid has no such direction.
  std::int64_t nx() const;
  std::int64_t ny() const;
  std::int64_t nz() const;
  /// Grid points per sample (product of grid).
  std::int64_t points() const;
  /// The grid as the -grid option spells it, x first: "64x32" ("nx x ny (x nz)").
  std::string grid_string() const;
  /// Per-sample shape of a field with `components` values per point: [(c,) grid...].
  std::vector<std::int64_t> field_shape(int components) const;
  /// Per-sample shape of an input array: field_shape(components), or [(c,) cells] for an
  /// input stored per cell of the mesh.
  std::vector<std::int64_t> input_shape(const FieldSpec& input) const;
  /// Values per sample of an input array (the product of input_shape).
  std::int64_t input_size(const FieldSpec& input) const;
  /// Per-sample shape of the solution u: [(T,) (dof,) grid...].
  std::vector<std::int64_t> solution_shape() const;
  /// Input names joined with commas ("kappa,f"; "name:c" for c components, "name@cells" for
  /// an input stored per cell).
  std::string input_list() const;

  /// The sampler parameter `name` (without "sampler."), or nullptr.
  const AttributeValue* find_sampler(const std::string& name) const;
  /// The extra attribute `name`, or nullptr.
  const AttributeValue* find_extra(const std::string& name) const;
};

/// One array of a dataset in memory: name, per-sample shape and the values [N, shape...].
struct DatasetArray {
  std::string name;
  std::vector<std::int64_t> shape;  ///< per sample (without the leading N)
  std::vector<double> values;       ///< row-major [N, shape...]
  /// Values per sample (product of shape).
  std::int64_t sample_size() const;
  /// Pointer to sample i's values.
  const double* sample(std::int64_t i) const { return values.data() + i * sample_size(); }
};

/// A whole dataset in memory. An inputs-only one (info.labelled false) has `u` with its
/// name and per-sample shape but no values, and empty `iterations` and `residual`.
struct Dataset {
  DatasetInfo info;
  std::int64_t samples = 0;              ///< N
  std::vector<DatasetArray> inputs;      ///< info.inputs, in that order
  DatasetArray u;                        ///< the solutions [N, (T,) (dof,) grid...]
  std::vector<std::int32_t> iterations;  ///< [N] (empty if inputs-only)
  std::vector<double> residual;          ///< [N] (empty if inputs-only)
  std::vector<std::uint64_t> seeds;      ///< [N, info.seed_streams]

  /// The input array `name`; throws pins::Error naming the dataset's inputs otherwise.
  const DatasetArray& input(const std::string& name) const;
};

/// One sample handed to DatasetWriter::write_sample: one pointer per input (info.inputs
/// order, info.field_shape(c) values each), the solution (info.solution_shape() values),
/// and info.seed_streams seeds. For an inputs-only dataset u must be null, and iterations
/// and residual are not stored.
struct SampleRecord {
  std::vector<const double*> inputs;
  const double* u = nullptr;
  std::int32_t iterations = 0;
  double residual = 0;
  const std::uint64_t* seeds = nullptr;
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
  /// (empty pde, a grid of no or more than 3 directions or a direction below 1, no inputs,
  /// samples < 1).
  DatasetWriter(const std::string& path, const DatasetInfo& info, std::int64_t samples, bool force);
  ~DatasetWriter();
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  /// Stores sample `index` (0 ≤ index < samples). Throws pins::Error naming the sample and
  /// the array if a value is NaN or infinite, if u is null in a labelled dataset or given
  /// in an inputs-only one, or if the write fails.
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

/// Writes `data` to `path` atomically (see DatasetWriter). Checks the array shapes against
/// `data.info`; an inputs-only dataset (info.labelled false) must have no u values,
/// iterations or residuals.
void write_dataset(const std::string& path, const Dataset& data, bool force = false);

/// Reads and checks a pins dataset. Throws pins::FileNotFound if `path` does not exist, and
/// pins::Error with a one-line message naming the file and the problem otherwise: not an
/// HDF5 file, not a pins dataset or a newer format version, a missing or mis-shaped array
/// or attribute (a labelled file without /u, an inputs-only file with one), a checksum
/// error, NaN/Inf in an array.
Dataset read_dataset(const std::string& path);

/// Samples first, ..., first + count − 1 of the dataset `path` (count < 0: to the end), as
/// read_dataset reads the whole file (samples = count; a non-finite value is named by its
/// sample in the file). Throws pins::Error for a range outside the file.
Dataset read_dataset(const std::string& path, std::int64_t first, std::int64_t count);

/// Refuses an inputs-only dataset where solutions are needed: throws pins::Error
/// "<path>: holds no solutions (an inputs-only dataset, written with -inputs_only); <why>"
/// unless info.labelled. `why` says what needed them, e.g. "pins verify checks solutions".
void require_labelled(const DatasetInfo& info, const std::string& path, const std::string& why);

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
