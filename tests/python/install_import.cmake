# Installs the build into PREFIX and imports pins from there with a clean environment:
# the installed package must find its extension and libpins_* through its own rpath.
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${PREFIX}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH "PYTHONPATH=${PREFIX}/${SITE}"
          ${PYTHON} -c
          "import pins, torch; assert pins.__file__.startswith('${PREFIX}'), pins.__file__; c = pins.coefficients(torch.ones(1, 4, 4, dtype=torch.float64)); print('installed pins OK', pins.__file__, tuple(c.shape))"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "import pins from ${PREFIX}/${SITE} failed")
endif()
