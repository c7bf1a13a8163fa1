// The error boundary between pins' C++ code and Python: every exception that leaves a
// binding becomes a Python exception with the same one-line message, never a crash.
//   pins::FileNotFound -> FileNotFoundError
//   pins::Error        -> ValueError    (bad input: options, files, shapes, dtypes)
//   c10::Error         -> RuntimeError  (LibTorch; message without its C++ backtrace)
//   anything else      -> RuntimeError  (pybind11's default for std::exception)

#include <c10/util/Exception.h>

#include "bindings.hpp"
#include "pins/core/check.hpp"

namespace pins::python {

void throw_if_python_signal() {
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

void bind_errors(py::module_& /*m*/) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const pins::FileNotFound& e) {
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    } catch (const pins::Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const c10::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what_without_backtrace());
    }
  });
}

}  // namespace pins::python
