# The surrogate as Newton's initial guess (issue 13): -snes_surrogate_guess in a plain PETSc SNES
# program via -dll_append, and pins evaluate's Newton comparison. A fixture makes a tiny
# 32x32 nonlinear_darcy FNO first (96 samples, 15 epochs on one core: about 30 s).
set(_sg_dir ${CMAKE_CURRENT_BINARY_DIR}/snes_guess)
file(MAKE_DIRECTORY ${_sg_dir})
if(PINS_TEST_PYTHON)
  set(_flags "")
  foreach(_f IN LISTS PINS_TEST_MPIEXEC_FLAGS)
    list(APPEND _flags --mpiexec-flag=${_f})
  endforeach()
  foreach(_case setup fewer_iterations input_flag mpi bad_input evaluate)
    add_test(NAME snes_guess_${_case}
             COMMAND ${PINS_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/snes_guess_test.py
                     --pins $<TARGET_FILE:pins>
                     --example $<TARGET_FILE:example_plain_petsc_nonlinear_darcy>
                     --library $<TARGET_FILE:pins_petsc> --fixture ${_sg_dir}/fixture
                     --mpiexec ${MPIEXEC_EXECUTABLE} ${_flags}
                     --workdir ${_sg_dir}/${_case} ${_case})
    set_tests_properties(snes_guess_${_case} PROPERTIES ENVIRONMENT "${PINS_TEST_MPI_ENV}"
                         TIMEOUT 600 LABELS "petsc;snes_guess")
  endforeach()
  set_tests_properties(snes_guess_setup PROPERTIES FIXTURES_SETUP snes_guess_model)
  set_tests_properties(snes_guess_fewer_iterations snes_guess_input_flag snes_guess_mpi
                       snes_guess_bad_input
                       snes_guess_evaluate PROPERTIES FIXTURES_REQUIRED snes_guess_model)
endif()
