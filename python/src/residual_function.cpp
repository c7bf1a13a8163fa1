// pins.petsc.residual_function: a petsc4py SNES's own residual F(u) as a differentiable torch
// function (pins::petsc::ResidualFunction). petsc4py hands over the SNES as its address
// (`snes.handle`); both link the same libpetsc, so it is the same object, and pins takes its
// own reference to it. The autograd node is pins' C++ node, part of Python's graph.
//
// The GIL stays held in forward: a SNES whose callbacks are Python functions needs it, and
// petsc4py's callbacks take it themselves when torch's backward runs without it.

#include <torch/types.h>

#include <torch/csrc/utils/pybind.h>

#include <cstdint>

#include "bindings.hpp"
#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/residual_function.hpp"

namespace pins::python {

void bind_residual_function(py::module_& m) {
  py::class_<petsc::ResidualFunction>(m, "_ResidualFunction")
      .def(
          "__call__",
          [](const petsc::ResidualFunction& F, const torch::Tensor& u) {
            petsc::ErrorCapture capture;  // PETSc errors become one-line exceptions
            return F(u);
          },
          py::arg("u"))
      .def_property_readonly("local_size", &petsc::ResidualFunction::local_size);
  m.def(
      "residual_function",
      [](std::uintptr_t handle) {
        ensure_petsc();
        PINS_CHECK(handle != 0, "pins.petsc.residual_function: the SNES is not created (handle 0)");
        petsc::ErrorCapture capture;
        return petsc::ResidualFunction(reinterpret_cast<SNES>(handle));
      },
      py::arg("snes_handle"));
}

}  // namespace pins::python
