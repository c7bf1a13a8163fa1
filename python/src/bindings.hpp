#pragma once
// Shared declarations of the pins Python extension (pins._pins). Each bind_* function adds
// one group of functions to the module; module.cpp calls them all. Files that pass tensors
// include torch/csrc/utils/pybind.h (torch.Tensor <-> at::Tensor without copies) themselves;
// it is heavy, and the PETSc-only files do not need it.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <string>

namespace pins::python {

namespace py = pybind11;

void bind_errors(py::module_& m);
void bind_tensors(py::module_& m);
void bind_dataset(py::module_& m);
void bind_models(py::module_& m);
void bind_train(py::module_& m);
void bind_evaluate(py::module_& m);
void bind_petsc(py::module_& m);
void bind_precondition(py::module_& m);
void bind_operators(py::module_& m);
void bind_residual_function(py::module_& m);

/// Initialises PETSc (and with it MPI) unless someone has already: petsc4py, when the
/// Python side imported it first (pins/_runtime.py does), or an earlier call.
void ensure_petsc();

/// Options as the command line spells them ({"-train_epochs": "5"}), the form the C++ API reads.
using OptionDict = std::map<std::string, std::string>;

/// Throws pins::Error unless a model file may be written to `path` (before training, so
/// that a bad path does not cost a training run): an existing file needs `force`, and its
/// folder must exist.
void check_model_output(const std::string& path, bool force);

/// Raises the pending Python exception (KeyboardInterrupt after Ctrl-C) as a C++ exception,
/// so long-running C++ loops that call back into Python stop promptly. Needs the GIL.
void throw_if_python_signal();

}  // namespace pins::python
