#pragma once
/// \file
/// What the one-process writer (DatasetWriter) and the collective one (ParallelDatasetWriter)
/// share, so that both write the same file: the checks of the destination, the temporary
/// file and its removal on signals, the root attributes and empty arrays of a new file, the
/// checks of one sample, and publishing the finished file. Private to pins::core.

#include <cstdint>
#include <string>
#include <vector>

#include "hdf5_util.hpp"
#include "pins/core/dataset.hpp"

namespace pins::dataset_file {

/// The arrays of a new dataset, as create_layout() made them.
struct Layout {
  std::vector<std::string> names;            ///< the input arrays, then u (labelled only)
  std::vector<std::vector<hsize_t>> shapes;  ///< per-sample shape of each
  std::vector<hdf5::Handle> fields;
  hdf5::Handle iterations, residual, seeds;  ///< iterations/residual: labelled files only
  /// Closes every array now; false if closing one failed.
  bool close();
};

/// Throws pins::Error unless a dataset can be written to `path`: a file name in an existing
/// folder, not a folder, and (unless `force`) not an existing file. Returns the temporary
/// file to write first: "<folder>/.<name>.tmp.<pid>".
std::string temporary_path(const std::string& path, bool force);

/// Creates the empty temporary file `tmp` (which must not exist yet): errno gives a clear
/// reason (permissions, read-only file system) where HDF5 would only say "unable to open".
void create_temporary(const std::string& tmp, const std::string& path);

/// Registers `tmp` for removal by the handler of remove_dataset_temporaries_on_signal();
/// returns the slot to unregister, or -1 if none was free.
int register_temporary(const std::string& tmp);
void unregister_temporary(int slot);

/// Makes SIGINT, SIGTERM and SIGHUP remove the registered temporaries (see
/// remove_dataset_temporaries_on_signal()).
void install_signal_cleanup();

/// File-creation properties of every dataset: attribute creation order tracked, so that h5py
/// and `pins info` list the root attributes in the documented order.
hdf5::Handle file_create_properties(const std::string& path);

/// Writes the root attributes of `info` and creates its empty arrays (chunked one sample per
/// chunk, Fletcher32) and its mesh, in the order both writers use. Collective when `file`
/// was opened with the MPI-IO driver (every process passes the same `info`).
/// `mesh_transfer`: the transfer properties of the mesh's whole-array writes (collective ones
/// under MPI-IO: a checksummed array is written collectively or not at all); only processes
/// with `mesh_writer` give the mesh's values, the others take part with nothing.
Layout create_layout(hid_t file, const DatasetInfo& info, std::int64_t samples,
                     hid_t mesh_transfer = H5P_DEFAULT, bool mesh_writer = true);

/// Throws pins::Error naming the sample and the array if `record` does not match `layout`
/// and `info` (inputs, u present exactly for labelled files, seeds) or holds a NaN or an
/// infinite value. `where` names the dataset ("'out.h5'").
void check_sample(const Layout& layout, const DatasetInfo& info, std::int64_t samples,
                  std::int64_t index, const SampleRecord& record, const std::string& where);

/// The per-sample arrays of `record` in layout order (the inputs, then u if labelled).
std::vector<const double*> sample_arrays(const Layout& layout, const SampleRecord& record);

/// Selects sample `index` of array `k` in `space` ([N, shape...]) and returns the matching
/// memory space ([1, shape...]).
hdf5::Handle select_sample(const Layout& layout, size_t k, hid_t space, std::int64_t index,
                           const std::string& what);

/// Makes the closed temporary file `tmp` durable and moves it to `path`. Without `force`,
/// link() refuses an existing destination atomically (a check-then-rename would race with
/// another writer); with `force`, rename() replaces it. Throws pins::Error on failure, when
/// `tmp` is left for the caller to remove.
void publish(const std::string& tmp, const std::string& path, bool force);

}  // namespace pins::dataset_file
