"""pins and petsc4py in one program.

``register()`` adds pins' PETSc types — the preconditioner ``PC "surrogate"`` and the
initial guess ``KSPGuess "surrogate"`` — to the PETSc that petsc4py uses (both link the same
system libpetsc), so a petsc4py KSP can select them:

>>> from petsc4py import PETSc
>>> import pins.petsc
>>> pins.petsc.register()
>>> PETSc.Options()["pc_surrogate_model"] = "pc.pins"
>>> ksp.getPC().setType("surrogate"); ksp.setFromOptions()

``darcy_system`` builds a Darcy problem as petsc4py objects (DMDA, matrix, right-hand side)
from pins' own operator, and ``solve`` runs a KSP and records its convergence history, for
comparisons of preconditioners (``pins.plot.convergence``).
"""

import itertools
import time

import numpy as np

from ._runtime import _pins, ensure_petsc

_solve_counter = itertools.count()


def register():
    """Registers pins' PC and KSPGuess types (type name "surrogate") with PETSc; safe to
    call more than once. Initialises PETSc through petsc4py first if nobody has. Raises
    RuntimeError if this pins build has no PETSc types (see ``have_surrogate_types``)."""
    ensure_petsc()
    _pins.petsc_register()


def operator(A):
    """A ``pins.Operator`` from a petsc4py ``Mat`` with row access (AIJ: ``createAIJ``,
    ``DMDA.createMatrix``, ``DMPlex.createMatrix``), or from a list of matrices with one
    nonzero pattern (one operator with values ``[B, nnz]``). Its fields are this process's
    part of a PETSc vector, ``[n_local]`` or ``[B, n_local]``; on several processes apply and
    backward scatter ghost values (collective). The values are copied; NaN/Inf entries, a
    shell matrix or a pattern mismatch raise ValueError naming the matrix.

    >>> op = pins.petsc.operator(A)
    >>> r = pins.residual(op, u, f)              # A u - f, differentiable in u and f
    """
    ensure_petsc()
    return _pins.petsc_operator(A)


def have_surrogate_types():
    """Whether this pins build has the PETSc PC/KSPGuess types that ``register`` adds."""
    return bool(_pins.have_petsc_register())


def _PETSc():
    ensure_petsc()
    from petsc4py import PETSc

    return PETSc


def darcy_system(kappa, f=None, *, pde="darcy", comm=None):
    """The discrete problem A u = f for one coefficient field as petsc4py objects.

    `kappa` and `f` are [ny, nx] arrays or tensors (`f` defaults to ones). The matrix rows
    are pins' stencil coefficients (``pins.coefficients``), the operator the PETSc assembly of
    ``pins generate`` produces. Returns ``(A, b, da)``: an AIJ matrix on a 2-D DMDA (star
    stencil, so preconditioners can ask the DM for the grid), the right-hand side and the
    DMDA, distributed over `comm` (default: PETSc's COMM_WORLD)."""
    import torch

    PETSc = _PETSc()
    k = torch.as_tensor(kappa, dtype=torch.float64)
    if k.dim() != 2:
        raise ValueError("darcy_system: kappa must be [ny, nx], got shape %s" % (tuple(k.shape),))
    ny, nx = k.shape
    rhs = torch.ones_like(k) if f is None else torch.as_tensor(f, dtype=torch.float64)
    if rhs.shape != k.shape:
        raise ValueError("darcy_system: f %s and kappa %s differ in shape"
                         % (tuple(rhs.shape), tuple(k.shape)))
    coeffs = _pins.coefficients(k.unsqueeze(0).contiguous(), pde)[0].numpy()  # [5, ny, nx]
    da = PETSc.DMDA().create(dim=2, sizes=(nx, ny), dof=1, stencil_width=1,
                             stencil_type=PETSc.DMDA.StencilType.STAR,
                             comm=comm or PETSc.COMM_WORLD)
    da.setUp()
    A = da.createMatrix()
    (xs, xe), (ys, ye) = da.getRanges()
    row, col = PETSc.Mat.Stencil(), PETSc.Mat.Stencil()
    # Channel order C, W, E, S, N = offsets (0,0), (-1,0), (+1,0), (0,-1), (0,+1) in (x, y).
    offsets = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
    for j in range(ys, ye):
        for i in range(xs, xe):
            row.index = (i, j)
            for c, (di, dj) in enumerate(offsets):
                ii, jj = i + di, j + dj
                if 0 <= ii < nx and 0 <= jj < ny:
                    col.index = (ii, jj)
                    A.setValueStencil(row, col, float(coeffs[c, j, i]))
    A.assemble()
    b = da.createGlobalVec()
    da.getVecArray(b)[xs:xe, ys:ye] = rhs.numpy()[ys:ye, xs:xe].T
    return A, b, da


def _view_text(PETSc, ksp):
    """KSPView of `ksp` as a string (through a temporary file: PETSc's ASCII viewers write
    to files or stdout)."""
    import os
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".txt")
    os.close(fd)
    try:
        viewer = PETSc.Viewer().createASCII(path, comm=ksp.getComm())
        ksp.view(viewer)
        viewer.destroy()
        with open(path) as f:
            return f.read()
    finally:
        os.unlink(path)


def solve(A, b, *, ksp_type="cg", pc_type="jacobi", rtol=1e-8, max_it=2000, dm=None,
          options=None, view=False):
    """Solves A x = b with a fresh petsc4py KSP and reports what happened.

    `options` (dict, names without the dash, e.g. {"pc_surrogate_model": "pc.pins",
    "pc_gamg_threshold": 0.02}) are set under a private options prefix, so they reach only
    this solver. `dm` (e.g. the DMDA of ``darcy_system``) is attached to the KSP, without
    letting it build the operator. Returns a dict: x (the solution Vec), iterations,
    history (residual norm per iteration, as numpy), converged (bool), reason (PETSc's
    KSPConvergedReason), setup_seconds and solve_seconds; with ``view=True`` also "view",
    the text of KSPView after the solve (e.g. how often PC "surrogate" used its network)."""
    PETSc = _PETSc()
    prefix = "pins_solve%d_" % next(_solve_counter)
    opts = PETSc.Options()
    names = []
    for name, value in (options or {}).items():
        key = prefix + name.lstrip("-")
        opts[key] = value
        names.append(key)
    ksp = PETSc.KSP().create(comm=A.getComm())
    try:
        ksp.setOptionsPrefix(prefix)
        ksp.setOperators(A)
        if dm is not None:
            ksp.setDM(dm)
            ksp.setDMActive(False)
        ksp.setType(ksp_type)
        ksp.getPC().setType(pc_type)
        ksp.setTolerances(rtol=rtol, max_it=max_it)
        ksp.setConvergenceHistory(length=max_it + 1)
        ksp.setFromOptions()
        x = b.duplicate()
        x.set(0.0)
        t0 = time.perf_counter()
        ksp.setUp()
        t1 = time.perf_counter()
        ksp.solve(b, x)
        t2 = time.perf_counter()
        reason = ksp.getConvergedReason()
        result = {"x": x, "iterations": ksp.getIterationNumber(),
                  "history": np.array(ksp.getConvergenceHistory()), "converged": reason > 0,
                  "reason": reason, "setup_seconds": t1 - t0, "solve_seconds": t2 - t1}
        if view:
            result["view"] = _view_text(PETSc, ksp)
        return result
    finally:
        ksp.destroy()
        for key in names:
            opts.delValue(key)


class ResidualFunction:
    """The residual F(u) of a petsc4py SNES as a differentiable torch function (made by
    ``residual_function``). Calling it with u [n] or [B, n] (n = ``local_size``, this
    process's part of the solution vector in PETSc's ordering) gives F(u) of the same shape and
    dtype; backward applies the transpose of the SNES's assembled Jacobian."""

    def __init__(self, impl, snes):
        """Wraps the C++ function `impl` made for `snes` (use ``residual_function``)."""
        self._impl = impl
        self.snes = snes  # the petsc4py object (pins holds its own PETSc reference too)

    @property
    def local_size(self):
        """n: this process's length of the SNES solution vector."""
        return self._impl.local_size

    def __call__(self, u):
        """F(u) for u [n] or [B, n]; differentiable in u."""
        return self._impl(u)

    def __repr__(self):
        return "pins.petsc.ResidualFunction(local_size=%d)" % self.local_size


def residual_function(snes):
    """The user's own nonlinear residual as a physics loss, without re-implementing it.

    `snes` is a petsc4py ``SNES`` with a function and a Jacobian (``setFunction`` and
    ``setJacobian``, or a DM's). Returns a callable F: ``F(u)`` runs ``snes.computeFunction``
    for each sample of u (a float64 tensor [n] or [B, n]; float32 is converted and the result
    converted back), and gradients reach u through J(u)ᵀ g — the Jacobian assembled at u by
    the SNES's own callback, transpose-applied (a shell Jacobian must implement
    ``multTranspose``). On several processes each passes its own part of u; calls are
    collective. Raises ValueError for a SNES without a function or Jacobian, or a Jacobian
    without a transpose, and for u of the wrong shape or dtype.

    >>> F = pins.petsc.residual_function(snes)
    >>> loss = F(model(x)).square().mean(); loss.backward()
    """
    PETSc = _PETSc()
    if not isinstance(snes, PETSc.SNES):
        raise TypeError("residual_function: expected a petsc4py SNES, got %s" % type(snes).__name__)
    return ResidualFunction(_pins.residual_function(int(snes.handle)), snes)
