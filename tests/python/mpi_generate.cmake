# pins.generate under MPI from Python: one process writes serial.h5, then mpi_generate.py
# runs on 2 processes and checks that its dataset is bitwise the same.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(
  COMMAND ${PYTHON} -c "import pins; pins.generate('${WORK}/serial.h5', grid=8, samples=5, seed=3)"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "serial pins.generate failed")
endif()
execute_process(COMMAND ${MPIEXEC} -n 2 ${MPIFLAGS} ${PYTHON} ${SCRIPT} ${WORK} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pins.generate on 2 MPI processes failed or differs from the serial run")
endif()
