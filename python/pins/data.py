"""Datasets: making them with PETSc (`generate`) and reading them (`Dataset`)."""

import os

import numpy as np
import torch

from ._runtime import _pins, ensure_petsc, option_dict


def generate(output, *, pde="darcy", grid=32, samples=16, seed=0, force=False, progress=False,
             inputs_only=False, options=None, **kwargs):
    """Draws `samples` problems of family `pde` on a `grid` (n in every direction, or
    (nx, ny) / (nx, ny, nz), x first as on the command line), solves each
    with PETSc and writes a pins dataset (HDF5) to `output`, as ``pins generate`` does.

    ``inputs_only=True`` (``pins generate -inputs_only``) writes the sampled inputs alone,
    bit for bit those of a labelled run with the same seed, without solving anything: the
    file has no ``u``, ``iterations`` or ``residual`` and ``Dataset.labelled`` is False.

    Sampler and solver options are the command line's, given as keywords or in `options`
    (names with or without the dash): ``kappa_type="lognormal"``, ``ksp_rtol=1e-8``,
    ``{"-pc_type": "gamg"}``. An existing `output` is refused unless ``force=True``.
    Under ``mpiexec`` the call is collective (each process solves its share and writes its
    own samples); ``generate_procs_per_sample=k`` solves each sample on a group of k
    processes (the process count a multiple of k).

    Returns a dict summarising the run (samples, iterations_min/max/mean, residual_max,
    ksp_type, pc_type, seconds, inputs_only, ...). Raises ValueError with a one-line message for bad
    options or a sample that does not converge (no file is written then).

    >>> pins.generate("train.h5", grid=32, samples=64, seed=1, kappa_type="threshold")
    """
    grid = [int(grid)] if isinstance(grid, int) else [int(g) for g in grid]
    if int(seed) < 0:
        raise ValueError("seed must be a non-negative integer, got %d" % int(seed))
    ensure_petsc()
    return _pins.generate(pde, grid, int(samples), int(seed), os.fspath(output), bool(force),
                          bool(progress), bool(inputs_only), option_dict(options, **kwargs))


class Dataset:
    """A pins dataset (HDF5, written by ``pins generate`` or `pins.generate`) in memory.

    Arrays are numpy views of the C++ buffers (no copies): one per input field of the
    family (``inputs``, e.g. ``kappa`` and ``f``) and the solutions ``u``, shaped
    ``[N, (c,) (nz,) ny, nx]`` (``grid`` is the per-sample grid, slowest direction first);
    ``[N]`` for ``iterations`` and ``residual``; ``[N, streams]`` for ``seeds``. ``tensor(name)`` and ``tensors()`` give torch tensors that share that memory.
    ``metadata`` holds every attribute of the file (problem, grid, sampler, solver,
    versions) as a dict.

    An inputs-only dataset (written with ``inputs_only=True`` / ``-inputs_only``;
    ``labelled`` is False) holds the inputs and seeds only: ``u``, ``iterations`` and
    ``residual`` raise ValueError saying the file holds no solutions, and ``arrays`` and
    ``ds[i]`` leave them out.

    Raises FileNotFoundError for a missing file and ValueError naming the problem for a
    file that is not a valid pins dataset.

    >>> ds = pins.Dataset("train.h5")
    >>> ds.kappa.shape, ds.metadata["solver.ksp_type"]
    ((64, 32, 32), 'cg')
    """

    def __init__(self, path):
        """Reads and checks the dataset at `path`."""
        self._handle = _pins._Dataset(os.fspath(path))

    def __repr__(self):
        return "pins.Dataset(%r: %d samples of %s on %s)" % (
            self.path, self.samples, self.pde, " x ".join(str(g) for g in reversed(self.grid)))

    def __len__(self):
        """The number of samples N."""
        return self.samples

    def __getitem__(self, index):
        """Sample `index` as a dict of torch tensors (views): each input and u (labelled
        datasets only)."""
        if not -self.samples <= index < self.samples:
            raise IndexError("sample %d out of range for %d samples" % (index, self.samples))
        names = self.inputs + (["u"] if self.labelled else [])
        return {name: self.tensor(name)[index] for name in names}

    @property
    def path(self):
        """The file this dataset was read from."""
        return self._handle.path

    @property
    def samples(self):
        """The number of samples N."""
        return self._handle.samples

    @property
    def grid(self):
        """Cells per direction, slowest first as the arrays store them: (ny, nx) in 2-D,
        (nz, ny, nx) in 3-D."""
        return tuple(self._handle.grid)

    @property
    def nx(self):
        """Cells along x (the last array index)."""
        return self.grid[-1]

    @property
    def ny(self):
        """Cells along y (1 on a 1-D grid)."""
        return self.grid[-2] if len(self.grid) >= 2 else 1

    @property
    def inputs(self):
        """The input arrays of the family, in the order networks see them, e.g. ["kappa", "f"]."""
        return list(self._handle.inputs)

    @property
    def labelled(self):
        """True if the file holds solutions; False for an inputs-only dataset (written with
        ``inputs_only=True`` / ``pins generate -inputs_only``), which has inputs and seeds only."""
        return self._handle.labelled

    @property
    def arrays(self):
        """The names of every array: the inputs, u, iterations, residual (labelled datasets
        only), seeds."""
        solved = ["u", "iterations", "residual"] if self.labelled else []
        return self.inputs + solved + ["seeds"]

    @property
    def mesh(self):
        """The unstructured mesh of a mesh family's dataset (e.g. ``darcy_fem``), else None: a
        dict of numpy views — ``cell_type`` ("triangle" or "quadrilateral"), ``coordinates``
        [vertices, 2], ``cells`` [cells, 3 or 4] (vertex indices), ``points`` [n] (the vertex of
        each entry of a point field such as ``u``; boundary vertices, where u = 0, are not
        points). Per-cell inputs (``kappa``, ``f`` of darcy_fem) are [N, cells]."""
        return self._handle.mesh()

    @property
    def pde(self):
        """The problem family, e.g. "darcy"."""
        return self._handle.pde

    @property
    def metadata(self):
        """Every root attribute of the file, in file order, as a dict (ints, floats, str)."""
        return self._handle.attributes()

    def system(self, start=0, stop=None):
        """The family's linear system for samples ``[start, stop)`` (all by default): a
        ``pins.Operator`` ``A`` (stencil coefficients on a grid; on a mesh, a sparse operator
        assembled from the mesh in the file) and the right-hand sides ``f``, as pins' trainer
        and ``pins verify`` build them, so ``pins.residual(A, u, f)`` checks stored solutions.
        Raises ValueError for nonlinear families.

        >>> A, f = ds.system(0, 4)
        >>> pins.relative_residual(A, ds.tensor("u")[:4], f)
        """
        stop = self.samples if stop is None else stop
        return _pins.dataset_system(self._handle, start, stop)

    def array(self, name):
        """Array `name` (one of `arrays`) as a numpy view of the dataset's memory."""
        return self._handle.array(name)

    def tensor(self, name):
        """Array `name` as a torch tensor sharing the dataset's memory (no copy). torch has
        no uint64, so ``seeds`` comes as int64 with the same bits."""
        a = self.array(name)
        if a.dtype == np.uint64:
            a = a.view(np.int64)  # a reinterpreting view, still no copy
        return torch.from_numpy(a)

    def tensors(self):
        """All arrays as torch tensors sharing the dataset's memory: a dict by name."""
        return {name: self.tensor(name) for name in self.arrays}

    kappa = property(lambda self: self.array("kappa"),
                     doc="Coefficient fields [N, (nz,) ny, nx] (families with an input 'kappa').")
    f = property(lambda self: self.array("f"),
                 doc="Right-hand sides [N, (nz,) ny, nx] (families with an input 'f').")
    u = property(lambda self: self.array("u"),
                 doc="PETSc solutions [N, (dof,) (nz,) ny, nx]; ValueError if inputs-only.")
    iterations = property(lambda self: self.array("iterations"),
                          doc="Solver iterations per sample [N].")
    residual = property(lambda self: self.array("residual"),
                        doc="True relative residual of each stored solution [N].")
    seeds = property(lambda self: self.array("seeds"),
                     doc="Per-sample random stream seeds [N, streams] (Darcy: kappa, f).")


def as_dataset(data):
    """`data` if it is a Dataset, else the Dataset read from the path `data`."""
    return data if isinstance(data, Dataset) else Dataset(data)
