#pragma once
/// \file
/// What reading a whole dataset (pins::read_dataset) and reading samples on demand
/// (pins::DatasetStream) share: opening the file with clear messages, the header (attributes,
/// sample count, mesh), opening an array checked against the shape the layout expects, and
/// the check for non-finite values. Private to pins::core; every failure is a one-line
/// pins::Error naming the file and the array.

#include <cstdint>
#include <string>
#include <vector>

#include "hdf5_util.hpp"
#include "pins/core/dataset.hpp"

namespace pins::dataset_read {

/// "[2, 3, 4]".
std::string shape_string(const std::vector<hsize_t>& dims);

/// Opens `path` read-only after the checks that give the clearest messages (missing:
/// pins::FileNotFound; a folder, not HDF5, unreadable: pins::Error).
hdf5::Handle open_file(const std::string& path);

/// An opened array with its shape, checked against what the layout expects.
struct Array {
  hdf5::Handle ds;
  std::vector<hsize_t> dims;
};

/// Opens array `name` and checks its value class (H5T_FLOAT or H5T_INTEGER) and its shape.
Array open_array(hid_t file, const std::string& path, const char* name, H5T_class_t kind,
                 const std::vector<hsize_t>& expected);

/// Throws naming the first non-finite value of `values` (shape `dims`) by its index; with
/// `samples`, index 0 along the first axis is sample samples[0] of the file, and so on.
void check_finite(const double* values, const std::vector<hsize_t>& dims,
                  const std::string& path, const char* name,
                  const std::int64_t* samples = nullptr);

/// {n, shape...}.
std::vector<hsize_t> with_samples(hsize_t n, const std::vector<std::int64_t>& shape);

/// The attributes, the mesh, the sample count (from the first input array, also stored in
/// `samples`) and the seed streams of an open dataset; no array values.
Dataset read_header(hid_t file, const std::string& path, hsize_t* samples);

}  // namespace pins::dataset_read
