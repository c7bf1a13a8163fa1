# CLI tests of pins train / pins evaluate (cli_test.py), included when the CLI is built.
find_program(PINS_TRAIN_TEST_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT PINS_TRAIN_TEST_PYTHON)
  find_program(PINS_TRAIN_TEST_PYTHON NAMES python3)
endif()
if(PINS_TRAIN_TEST_PYTHON)
  foreach(_case learn bad_input option_spaces precondition_checkpoint refine refine_3d nonlinear fem allen_cahn gray_scott)
    add_test(NAME cli_train_${_case}
             COMMAND ${PINS_TRAIN_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/cli_test.py
                     --pins $<TARGET_FILE:pins>
                     --workdir ${CMAKE_CURRENT_BINARY_DIR}/cli_train_${_case} ${_case})
    # Open MPI refuses to run as root (containers) unless told.
    set_tests_properties(cli_train_${_case} PROPERTIES
      ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
      TIMEOUT 400 SKIP_RETURN_CODE 77 LABELS "training;cli")
  endforeach()
endif()
