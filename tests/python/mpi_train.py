"""pins.train from a Python program on several MPI processes (mpi_train.cmake runs it under
mpiexec -n 2): the call is collective and data parallel, every process gets the trained model,
and the history is the single-process one up to floating-point summation order (relative
1e-5). Usage: mpi_train.py <folder>, where <folder>/train.h5 is the dataset and
<folder>/serial.json the history one process trained with OPTIONS."""

import json
import math
import sys

import pins
from petsc4py import PETSc

OPTIONS = dict(train_epochs=3, train_batch_size=7, train_threads=1, train_physics_weight=0.1,
               fno_modes=4, fno_width=8, fno_layers=2, fno_padding=2, fno_hidden=16)

if __name__ == "__main__":
    folder = sys.argv[1]
    comm = PETSc.COMM_WORLD
    model = pins.train(folder + "/train.h5", folder + "/mpi.pins", force=True, progress=False,
                       **OPTIONS)
    serial = json.load(open(folder + "/serial.json"))
    mine = model.history
    assert len(mine) == len(serial), (len(mine), len(serial))
    for a, b in zip(serial, mine):
        for key in ("loss", "data_loss", "physics_loss", "val_rel_l2"):
            x, y = a[key], b[key]
            assert math.isclose(x, y, rel_tol=1e-5), (a["epoch"], key, x, y)
    comm.barrier()
    if comm.getRank() == 0:
        print("mpi_train: OK, %d epochs on %d processes match the serial run"
              % (len(mine), comm.getSize()))
