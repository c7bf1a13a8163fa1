"""pins.generate from a Python program on several MPI processes (mpi_generate.cmake runs it
under mpiexec -n 2): the call is collective, and the dataset is bitwise the one a single
process wrote before (samples depend on the seed only); with generate_procs_per_sample=2 the
inputs are the same and u agrees to the solver's tolerance. Usage: mpi_generate.py <folder>,
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
# Each sample solved by both processes together: the same inputs, u within the solver's
# tolerance (a solve split over 2 processes sums in another order).
group = pins.generate(folder + "/group.h5", grid=8, samples=5, seed=3, force=True,
                      generate_procs_per_sample=2)
assert group["procs_per_sample"] == 2, group
comm.barrier()
if comm.getRank() == 0:
    grouped, serial = pins.Dataset(folder + "/group.h5"), pins.Dataset(folder + "/serial.h5")
    for name in ("kappa", "f", "seeds"):
        assert np.array_equal(grouped.array(name), serial.array(name)), name
    u, v = grouped.array("u"), serial.array("u")
    assert np.abs(u - v).max() <= 1e-8 * np.abs(v).max(), np.abs(u - v).max()
    print("mpi_generate: OK, generate_procs_per_sample=2 gives the serial inputs and u")
