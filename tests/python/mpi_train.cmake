# pins.train under MPI from Python: one process trains (serial.json), then mpi_train.py trains
# the same on 2 processes and compares the histories.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(
  COMMAND ${PYTHON} -c "
import json, sys
sys.path.insert(0, '${SCRIPT_DIR}')
import pins
from mpi_train import OPTIONS
pins.generate('${WORK}/train.h5', grid=16, samples=30, seed=3, f_type='grf')
m = pins.train('${WORK}/train.h5', '${WORK}/serial.pins', progress=False, **OPTIONS)
json.dump(m.history, open('${WORK}/serial.json', 'w'))
"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "serial pins.train failed")
endif()
execute_process(COMMAND ${MPIEXEC} -n 2 ${MPIFLAGS} ${PYTHON} ${SCRIPT_DIR}/mpi_train.py ${WORK}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pins.train on 2 MPI processes failed or differs from the serial run")
endif()
