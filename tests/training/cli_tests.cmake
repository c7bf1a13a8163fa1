# CLI tests of pins train / pins evaluate (cli_test.py), included when the CLI is built.
find_program(PINS_TRAIN_TEST_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT PINS_TRAIN_TEST_PYTHON)
  find_program(PINS_TRAIN_TEST_PYTHON NAMES python3)
endif()
if(PINS_TRAIN_TEST_PYTHON)
  foreach(_case learn bad_input option_spaces precondition_checkpoint refine refine_3d nonlinear fem allen_cahn gray_scott calibrate bench)
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

# Data-parallel pins train (data_parallel_test.py): 1 vs 2 processes, and 4 oversubscribed
# (correctness only: Open MPI needs --oversubscribe for more processes than cores).
if(PINS_TRAIN_TEST_PYTHON AND MPIEXEC_EXECUTABLE)
  execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE _pins_dp_mpiexec
                  ERROR_QUIET)
  set(_pins_dp_flags "")
  if(_pins_dp_mpiexec MATCHES "Open MPI|OpenRTE")
    set(_pins_dp_flags --mpiexec-flag=--oversubscribe)
  endif()
  foreach(_case history:2 history:4 sampled:2 resume:2 bad_input:2)
    string(REPLACE ":" ";" _parts ${_case})
    list(GET _parts 0 _name)
    list(GET _parts 1 _ranks)
    add_test(NAME train_data_parallel_${_name}_${_ranks}
             COMMAND ${PINS_TRAIN_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/data_parallel_test.py
                     --pins $<TARGET_FILE:pins> --mpiexec ${MPIEXEC_EXECUTABLE} ${_pins_dp_flags}
                     --ranks ${_ranks}
                     --workdir ${CMAKE_CURRENT_BINARY_DIR}/data_parallel_${_name}_${_ranks}
                     ${_name})
    set_tests_properties(train_data_parallel_${_name}_${_ranks} PROPERTIES
      ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
      TIMEOUT 600 SKIP_RETURN_CODE 77 PROCESSORS 2 LABELS "training;cli;mpi")
  endforeach()
endif()

# Training on datasets streamed from their files (streaming_test.py): the same result as in
# memory, memory that does not follow the dataset's size, bad values inside a streamed file.
if(PINS_TRAIN_TEST_PYTHON)
  set(_pins_stream_mpi "")
  if(MPIEXEC_EXECUTABLE)
    set(_pins_stream_mpi --mpiexec ${MPIEXEC_EXECUTABLE})
    if(_pins_dp_mpiexec MATCHES "Open MPI|OpenRTE")
      list(APPEND _pins_stream_mpi --mpiexec-flag=--oversubscribe)
    endif()
  endif()
  foreach(_case same memory bad_input)
    add_test(NAME train_streaming_${_case}
             COMMAND ${PINS_TRAIN_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/streaming_test.py
                     --pins $<TARGET_FILE:pins> ${_pins_stream_mpi}
                     --workdir ${CMAKE_CURRENT_BINARY_DIR}/streaming_${_case} ${_case})
    set_tests_properties(train_streaming_${_case} PROPERTIES
      ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
      TIMEOUT 600 SKIP_RETURN_CODE 77 PROCESSORS 2 LABELS "training;cli")
  endforeach()
endif()

# SIGKILL during checkpoint and model writes, 100 times, then resume (kill_test.py): every
# checkpoint loads and every resumed run ends with the uninterrupted run's weights bit for bit.
if(PINS_TRAIN_TEST_PYTHON)
  add_test(NAME train_kill_during_save
           COMMAND ${PINS_TRAIN_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/kill_test.py
                   --pins $<TARGET_FILE:pins> --workdir ${CMAKE_CURRENT_BINARY_DIR}/kill_during_save
                   --kills 100)
  set_tests_properties(train_kill_during_save PROPERTIES
    ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
    TIMEOUT 900 PROCESSORS 2 LABELS "training;cli;reliability")
endif()
