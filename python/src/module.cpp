// pins._pins: the C++ half of the pins Python package. Python users import `pins`, whose
// modules wrap these functions with docstrings, argument handling and progress display.

#include "bindings.hpp"

PYBIND11_MODULE(_pins, m) {
  m.doc() = "C++ extension of the pins package (use `import pins`, not this module)";
  pins::python::bind_errors(m);
  pins::python::bind_tensors(m);
  pins::python::bind_dataset(m);
  pins::python::bind_models(m);
  pins::python::bind_train(m);
  pins::python::bind_evaluate(m);
  pins::python::bind_petsc(m);
  pins::python::bind_precondition(m);
  pins::python::bind_operators(m);
  pins::python::bind_residual_function(m);
}
