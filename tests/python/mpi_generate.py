"""pins.generate from a Python program on several MPI processes (mpi_generate.cmake runs it
under mpiexec -n 2): the call is collective, and the dataset is bitwise the one a single
process wrote before (samples depend on the seed only). Usage: mpi_generate.py <folder>,
where <folder>/serial.h5 was made by one process with the same settings."""

import sys

import numpy as np

import pins
from petsc4py import PETSc

folder = sys.argv[1]
comm = PETSc.COMM_WORLD
summary = pins.generate(folder + "/mpi.h5", grid=8, samples=5, seed=3, force=True)
assert summary["processes"] == comm.getSize() == 2, summary
comm.barrier()
if comm.getRank() == 0:
    mpi, serial = pins.Dataset(folder + "/mpi.h5"), pins.Dataset(folder + "/serial.h5")
    for name in ("kappa", "f", "u", "seeds"):
        assert np.array_equal(mpi.array(name), serial.array(name)), name
    print("mpi_generate: OK, %d samples from %d processes match the serial run"
          % (mpi.samples, comm.getSize()))
