# The learned sparse smoother (-pc_type surrogate_smoother) inside PETSc's GAMG (and PCMG on a
# DMDA or a DMPlex refinement hierarchy) in plain PETSc programs (2-D and 3-D DMDA, and DMPlex
# finite elements) via -dll_append.
# A fixture trains a small smoother first (no data).
set(_sm_dir ${CMAKE_CURRENT_BINARY_DIR}/smoother_pc)
set(_sm_model ${_sm_dir}/sm.pins)
add_test(NAME smoother_pc_train_model
         COMMAND ${CMAKE_COMMAND} -E env ${PINS_TEST_MPI_ENV}
                 $<TARGET_FILE:pins> train -task smoother -grid 24 -smoother_grid3d 10
                 -train_steps 300 -train_batch_size 4 -train_lr 3e-3 -train_threads 2
                 -train_monitor_every 100 -force -o ${_sm_model})
set_tests_properties(smoother_pc_train_model PROPERTIES FIXTURES_SETUP smoother_pc_model
                     TIMEOUT 600 LABELS "petsc;smoother_pc")
file(MAKE_DIRECTORY ${_sm_dir})
if(PINS_TEST_PYTHON)
  set(_flags "")
  foreach(_f IN LISTS PINS_TEST_MPIEXEC_FLAGS)
    list(APPEND _flags --mpiexec-flag=${_f})
  endforeach()
  foreach(_case gamg alone mpi bad_input plex multifield two_grid pcmg plex_pcmg)
    add_test(NAME smoother_pc_${_case}
             COMMAND ${PINS_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/smoother_pc_test.py
                     --example $<TARGET_FILE:example_plain_petsc_diffusion>
                     --example3d $<TARGET_FILE:example_plain_petsc_diffusion3d>
                     --example-plex $<TARGET_FILE:example_plain_petsc_plex>
                     --library $<TARGET_FILE:pins_petsc> --pins $<TARGET_FILE:pins>
                     --model ${_sm_model}
                     --mpiexec ${MPIEXEC_EXECUTABLE} ${_flags}
                     --workdir ${_sm_dir}/${_case} ${_case})
    set_tests_properties(smoother_pc_${_case} PROPERTIES ENVIRONMENT "${PINS_TEST_MPI_ENV}"
                         FIXTURES_REQUIRED smoother_pc_model TIMEOUT 300
                         LABELS "petsc;smoother_pc")
  endforeach()
endif()
