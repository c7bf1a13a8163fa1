# PINS_ENABLE_PYTHON (included by the top-level CMakeLists.txt, before the option list is used).
# The module is built for one interpreter, Debian's own /usr/bin/python3 by default: it has
# python3-torch, the same LibTorch build pins links, so tensors cross without copies. (A
# pyenv or virtualenv python3 first on PATH sees none of Debian's packages.) The option is
# on by default when PETSc is on, that interpreter imports torch and pybind11 is found.
set(PINS_PYTHON_EXECUTABLE /usr/bin/python3 CACHE FILEPATH
    "Python interpreter the pins module is built for (must import torch of the LibTorch pins links)")
set(_pins_python_default OFF)
# The module calls pins::petsc (generate, evaluate, the petsc4py types), so builds without
# PETSc (e.g. pins::core alone on a GPU machine) leave it off.
if(PINS_ENABLE_PETSC AND EXISTS "${PINS_PYTHON_EXECUTABLE}")
  execute_process(COMMAND "${PINS_PYTHON_EXECUTABLE}" -c "import torch"
                  RESULT_VARIABLE _pins_python_torch OUTPUT_QUIET ERROR_QUIET)
  # pybind11's CMake package looks for Python itself: point it at the same interpreter.
  set(PYBIND11_FINDPYTHON ON)
  set(Python_EXECUTABLE "${PINS_PYTHON_EXECUTABLE}")
  find_package(pybind11 CONFIG QUIET)
  if(_pins_python_torch EQUAL 0 AND pybind11_FOUND)
    set(_pins_python_default ON)
  endif()
endif()
option(PINS_ENABLE_PYTHON "Build the Python module (pybind11, for PINS_PYTHON_EXECUTABLE)"
       ${_pins_python_default})
# A cache left ON from a PETSc build (or -DPINS_ENABLE_PYTHON=ON) cannot hold without PETSc.
if(PINS_ENABLE_PYTHON AND NOT PINS_ENABLE_PETSC)
  message(WARNING "pins: PINS_ENABLE_PYTHON is switched off: the Python module needs "
                  "PINS_ENABLE_PETSC=ON (it calls pins::petsc)")
  set(PINS_ENABLE_PYTHON OFF)
endif()
