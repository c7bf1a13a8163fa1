# The surrogate PC/KSPGuess in a plain PETSc program via -dll_append (issue: surrogates inside
# PETSc solvers). A fixture trains a small 32x32 MgNet preconditioner first (no data needed).
set(_pc_dir ${CMAKE_CURRENT_BINARY_DIR}/surrogate_pc)
set(_pc_model ${_pc_dir}/pc32.pins)
add_test(NAME surrogate_pc_train_model
         COMMAND ${CMAKE_COMMAND} -E env ${PINS_TEST_MPI_ENV}
                 $<TARGET_FILE:pins> train -task precondition -grid 32 -train_steps 100
                 -train_batch_size 8 -surrogate_type mgnet -mgnet_width 8
                 -precondition_smooth 0 -train_threads 2
                 -train_monitor_every 100 -force -o ${_pc_model})
set_tests_properties(surrogate_pc_train_model PROPERTIES FIXTURES_SETUP surrogate_pc_model
                     TIMEOUT 600 LABELS "petsc;surrogate_pc")
file(MAKE_DIRECTORY ${_pc_dir})
if(PINS_TEST_PYTHON)
  set(_flags "")
  foreach(_f IN LISTS PINS_TEST_MPIEXEC_FLAGS)
    list(APPEND _flags --mpiexec-flag=${_f})
  endforeach()
  foreach(_case fewer_iterations mpi broken_model safety_net replace replace_amat_pmat
                replace_refine one_process_fails log_view operator_flag bad_input newton
                true_residual galerkin fno_pieces unet_pieces)
    add_test(NAME surrogate_pc_${_case}
             COMMAND ${PINS_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/surrogate_pc_test.py
                     --example $<TARGET_FILE:example_plain_petsc_diffusion>
                     --nonlinear-example $<TARGET_FILE:example_plain_petsc_nonlinear_darcy>
                     --library $<TARGET_FILE:pins_petsc> --model ${_pc_model}
                     --pins $<TARGET_FILE:pins>
                     --mpiexec ${MPIEXEC_EXECUTABLE} ${_flags}
                     --workdir ${_pc_dir}/${_case} ${_case})
    set_tests_properties(surrogate_pc_${_case} PROPERTIES ENVIRONMENT "${PINS_TEST_MPI_ENV}"
                         FIXTURES_REQUIRED surrogate_pc_model TIMEOUT 300
                         LABELS "petsc;surrogate_pc")
  endforeach()
endif()
