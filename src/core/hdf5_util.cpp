#include "hdf5_util.hpp"

#include <cstdlib>

#include "pins/core/check.hpp"

namespace pins::hdf5 {

QuietErrors::QuietErrors() {
  H5Eget_auto2(H5E_DEFAULT, &old_func_, &old_data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() {
  H5Eset_auto2(H5E_DEFAULT, old_func_, old_data_);
}

namespace {
herr_t collect_innermost(unsigned n, const H5E_error2_t* err, void* data) {
  // Walking upward, entry 0 is the most specific one: keep it and stop.
  if (n == 0 && err->desc) *static_cast<std::string*>(data) = err->desc;
  return 1;
}
}  // namespace

std::string last_error() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_innermost, &message);
  H5Eclear2(H5E_DEFAULT);
  return message;
}

void check(long long status, const std::string& what) {
  if (status >= 0) return;
  const std::string detail = last_error();
  throw Error(detail.empty() ? what : what + ": " + detail);
}

Handle string_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  check(t.get(), "HDF5: cannot create a string type");
  check(H5Tset_size(t.get(), H5T_VARIABLE), "HDF5: H5Tset_size");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "HDF5: H5Tset_cset");
  return t;
}

void write_attribute(hid_t object, const std::string& name, const AttributeValue& value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  check(space.get(), "HDF5: cannot create a scalar dataspace");
  const std::string what = "cannot write attribute '" + name + "'";
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    Handle a(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
             H5Aclose);
    check(a.get(), what);
    check(H5Awrite(a.get(), H5T_NATIVE_INT64, i), what);
  } else if (const auto* d = std::get_if<double>(&value)) {
    Handle a(
        H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
    check(a.get(), what);
    check(H5Awrite(a.get(), H5T_NATIVE_DOUBLE, d), what);
  } else {
    const std::string& s = std::get<std::string>(value);
    Handle type = string_type();
    Handle a(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
             H5Aclose);
    check(a.get(), what);
    const char* p = s.c_str();
    check(H5Awrite(a.get(), type.get(), &p), what);
  }
}

std::optional<AttributeValue> read_attribute(hid_t object, const std::string& name) {
  const htri_t exists = H5Aexists(object, name.c_str());
  check(exists, "cannot look up attribute '" + name + "'");
  if (!exists) return std::nullopt;
  const std::string what = "cannot read attribute '" + name + "'";
  Handle a(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  check(a.get(), what);
  Handle space(H5Aget_space(a.get()), H5Sclose);
  check(space.get(), what);
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  PINS_CHECK(points == 1, "attribute '", name, "' must be a scalar, found ", points, " values");
  Handle type(H5Aget_type(a.get()), H5Tclose);
  check(type.get(), what);
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER: {
      std::int64_t v = 0;
      check(H5Aread(a.get(), H5T_NATIVE_INT64, &v), what);
      return v;
    }
    case H5T_FLOAT: {
      double v = 0;
      check(H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v), what);
      return v;
    }
    case H5T_STRING: {
      if (H5Tis_variable_str(type.get()) > 0) {
        Handle mem(H5Tcopy(type.get()), H5Tclose);
        check(mem.get(), what);
        char* p = nullptr;
        check(H5Aread(a.get(), mem.get(), &p), what);
        std::string s = p ? p : "";
        if (p) H5free_memory(p);
        return s;
      }
      const size_t size = H5Tget_size(type.get());
      std::string s(size, '\0');
      check(H5Aread(a.get(), type.get(), s.data()), what);
      s.resize(s.find_last_not_of('\0') + 1);  // strip NUL padding (npos + 1 == 0)
      return s;
    }
    default:
      throw Error("attribute '" + name + "' must be an integer, a float or a string");
  }
}

namespace {
herr_t collect_name(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> attribute_names(hid_t object) {
  // HDF5 1.10 (Debian 12's libhdf5) crashes in H5Aiterate2 when an attribute stored in the
  // object header fails to decode: it builds a table of the attributes, and on the failure
  // frees the table's unfilled slots (H5A__attr_release_table -> H5A__close(NULL), found by
  // fuzzing, scripts/fuzz.sh). Looking up a name decodes every attribute message the same
  // way without building that table, and reports the failure as an error: do that first.
  check(H5Aexists(object, "pins: probe that every attribute decodes"), "cannot list attributes");
  std::vector<std::string> names;
  hsize_t idx = 0;
  // Creation order exists only where the writer tracked it (pins does); fall back to names.
  if (H5Aiterate2(object, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, collect_name, &names) < 0) {
    H5Eclear2(H5E_DEFAULT);
    names.clear();
    idx = 0;
    check(H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, &names),
          "cannot list attributes");
  }
  return names;
}

}  // namespace pins::hdf5
