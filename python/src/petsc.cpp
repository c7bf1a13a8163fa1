// The PETSc side of the module: PETSc's lifetime in a Python process, pins.generate, and the
// registration of pins' PC/KSPGuess types for petsc4py programs.
//
// PETSc is initialised once per process. When petsc4py is importable, pins/_runtime.py
// imports it first, so petsc4py owns PETSc (and finalises it at exit) and pins uses the same
// PETSc: the two link the same system libpetsc. Without petsc4py, ensure_petsc initialises it.

#include <petscsys.h>

#if __has_include("pins/petsc/register.hpp")
#include "pins/petsc/register.hpp"
#define PINS_PYTHON_HAVE_REGISTER 1
#endif

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/generate.hpp"

namespace pins::python {

void ensure_petsc() {
  PetscBool initialised = PETSC_FALSE;
  PetscInitialized(&initialised);
  if (initialised) return;
  PINS_CHECK(PetscInitializeNoArguments() == 0, "could not initialise PETSc");
}

namespace {

// Sets `options` (names as on the command line, "-kappa_type") in PETSc's options database
// under `prefix` for the lifetime of this object, so a call cannot leak options into the next.
class ScopedOptions {
 public:
  ScopedOptions(const std::string& prefix, const OptionDict& options) {
    for (const auto& [name, value] : options) {
      PINS_CHECK(name.size() > 1 && name[0] == '-', "option names start with '-', got '", name,
                 "'");
      const std::string full = "-" + prefix + name.substr(1);
      PINS_PETSC_CALL(PetscOptionsSetValue(nullptr, full.c_str(), value.c_str()));
      names_.push_back(full);
    }
  }
  ~ScopedOptions() {
    for (const auto& n : names_) PetscOptionsClearValue(nullptr, n.c_str());
  }

 private:
  std::vector<std::string> names_;
};

}  // namespace

void bind_petsc(py::module_& m) {
  m.def("ensure_petsc", &ensure_petsc);
  m.def(
      "generate",
      [](const std::string& pde, const std::vector<std::int64_t>& grid, std::int64_t samples,
         std::uint64_t seed, const std::string& output, bool force, bool progress, bool inputs_only,
         const OptionDict& options) {
        ensure_petsc();
        petsc::GenerateOptions o;
        o.pde = pde;
        o.grid = grid;
        o.samples = samples;
        o.seed = seed;
        o.output = output;
        o.force = force;
        o.progress = progress;
        o.inputs_only = inputs_only;
        // generate_procs_per_sample=k: each sample solved on a group of k processes, as
        // `pins generate -generate_procs_per_sample k` (the other options go to the family
        // and the solver).
        OptionDict rest = options;
        if (const auto k = rest.find("-generate_procs_per_sample"); k != rest.end()) {
          try {
            o.procs_per_sample = std::stoi(k->second);
          } catch (const std::exception&) {
            throw Error("generate_procs_per_sample must be an integer, got '" + k->second + "'");
          }
          rest.erase(k);
        }
        o.prefix = "pins_python_generate_";  // family and solver options read under it
        o.command = "pins.generate (Python)";
        o.validate();
        petsc::ErrorCapture capture;  // PETSc errors become one-line exceptions, not tracebacks
        ScopedOptions scoped(o.prefix, rest);
        petsc::GenerateSummary s;
        {
          py::gil_scoped_release release;
          s = petsc::generate(PETSC_COMM_WORLD, o);
        }
        py::dict d;
        d["output"] = s.output;
        d["samples"] = s.samples;
        d["inputs_only"] = s.inputs_only;
        d["grid"] = s.grid;  // slowest direction first, as the dataset's arrays
        d["nx"] = s.grid.back();
        if (s.grid.size() >= 2) d["ny"] = s.grid[s.grid.size() - 2];
        if (s.grid.size() >= 3) d["nz"] = s.grid[s.grid.size() - 3];
        d["processes"] = s.processes;
        d["procs_per_sample"] = s.procs_per_sample;
        d["iterations_min"] = s.iterations_min;
        d["iterations_max"] = s.iterations_max;
        d["iterations_mean"] = s.iterations_mean;
        d["residual_max"] = s.residual_max;
        d["rtol"] = s.rtol;
        d["ksp_type"] = s.ksp_type;
        d["pc_type"] = s.pc_type;
        d["seconds"] = s.seconds;
        d["solve_seconds"] = s.solve_seconds;
        return d;
      },
      py::arg("pde"), py::arg("grid"), py::arg("samples"), py::arg("seed"), py::arg("output"),
      py::arg("force"), py::arg("progress"), py::arg("inputs_only"), py::arg("options"));

  m.def("have_petsc_register", [] {
#ifdef PINS_PYTHON_HAVE_REGISTER
    return true;
#else
    return false;
#endif
  });
  m.def("petsc_register", [] {
    ensure_petsc();
#ifdef PINS_PYTHON_HAVE_REGISTER
    petsc::ErrorCapture capture;
    PINS_PETSC_CALL(pins::petsc::register_all());
#else
    throw std::runtime_error(
        "this pins build has no PETSc PC/KSPGuess types (include/pins/petsc/register.hpp was "
        "missing when the module was compiled)");
#endif
  });
}

}  // namespace pins::python
