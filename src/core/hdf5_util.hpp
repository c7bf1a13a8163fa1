#pragma once
/// \file
/// Small RAII and error helpers over the HDF5 C API, private to pins' dataset code.
/// pins links the MPI build of HDF5 (the one PETSc links): DatasetWriter and the reader use
/// it from one process with the default (sec2) file driver, ParallelDatasetWriter from all
/// processes with the MPI-IO driver.

#include <hdf5.h>

#include <optional>
#include <string>
#include <vector>

#include "pins/core/dataset.hpp"

namespace pins::hdf5 {

/// Owns an HDF5 identifier and closes it with the matching H5?close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      closer_ = o.closer_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }
  /// Closes now and reports whether closing succeeded (a file's close flushes it).
  bool close() {
    if (id_ < 0) return true;
    const herr_t status = closer_(id_);
    id_ = H5I_INVALID_HID;
    return status >= 0;
  }
  void reset() { close(); }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

/// Silences HDF5's automatic error-stack printing while alive (pins reports errors as
/// one-line exceptions instead), restoring the previous handler afterwards.
class QuietErrors {
 public:
  QuietErrors();
  ~QuietErrors();
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t old_func_ = nullptr;
  void* old_data_ = nullptr;
};

/// The most specific message on HDF5's current error stack (empty if none). Call it right
/// after the failing call: every HDF5 API call clears the stack on entry.
std::string last_error();

/// Throws pins::Error("<what>: <HDF5 message>") if `status` is negative.
void check(long long status, const std::string& what);

/// Variable-length UTF-8 string type (h5py reads it as str).
Handle string_type();

/// Writes a scalar attribute on `object` (which must not have one of that name yet).
void write_attribute(hid_t object, const std::string& name, const AttributeValue& value);

/// Reads a scalar attribute: integers as int64, floats as double, strings (fixed or
/// variable length) as std::string. nullopt if it does not exist; throws pins::Error
/// (naming `name`) if it exists but is not a scalar of one of these kinds.
std::optional<AttributeValue> read_attribute(hid_t object, const std::string& name);

/// Names of `object`'s attributes in creation order where the file tracks it, else by name.
std::vector<std::string> attribute_names(hid_t object);

}  // namespace pins::hdf5
