"""The PDE's own discrete operator as differentiable torch functions.

Each function runs pins' Kokkos kernels on the tensors' memory (no copies) and is a
LibTorch autograd operation whose backward pass is the adjoint kernel, so it can sit inside
a training loop written in Python: gradients flow to the Python parameters that produced
``u`` (and ``coeffs``, ``f``).

Shapes: stencil coefficients ``coeffs`` are ``[B, 5, ny, nx]`` (channels centre, west, east,
south, north: row ``(i, j)`` of the operator), fields ``u`` and ``f`` are ``[B, ny, nx]``; all
float32 or all float64 CPU tensors. Non-contiguous tensors are made contiguous first.
Bad shapes, dtypes or devices raise ValueError naming the argument.

Where a function takes ``coeffs`` it also takes a ``pins.Operator`` (e.g. from
``pins.petsc.operator(A)`` for a petsc4py matrix); then fields are ``[n]`` or ``[B, n]``
(``op.field_shape`` without or with the batch axis), and gradients reach ``u``, ``f`` and
``op.values`` (when it requires grad).
"""

from ._runtime import _pins

Operator = _pins.Operator


def _batched(op, *fields):
    """Fields with the batch axis: an unbatched field (``len(op.field_shape)`` dimensions)
    gains one; returns the fields and whether the result must lose it again."""
    single = [f is not None and hasattr(f, "dim") and f.dim() == len(op.field_shape)
              for f in fields]
    if any(single) and not all(single):
        raise ValueError("the fields must all have a batch axis or all lack one, got shapes %s"
                         % [tuple(f.shape) for f in fields])
    if all(single):
        return [f.unsqueeze(0) for f in fields], True
    return list(fields), False


def stencil_operator(coeffs, dim=2, shape="star", width=1, dof=1):
    """A ``pins.Operator`` for stencil coefficients ``[B, K, (nz,) (ny,) nx]`` of any shape in
    PETSc's DMDA vocabulary (``dim`` 1-3, ``shape`` "star" or "box", ``width``, ``dof``;
    K = points x dof^2, centre first: see include/pins/core/stencil_operator.hpp). Fields are
    ``[B, dof, (nz,) (ny,) nx]`` (``[B, (nz,) (ny,) nx]`` for one dof).

    >>> op = pins.stencil_operator(coeffs, dim=3)   # a 3-D 7-point operator, coeffs [B,7,nz,ny,nx]
    >>> pins.residual_loss(op, u, f).backward()
    """
    return _pins.stencil_operator(coeffs, dim, shape, width, dof)


def coefficients(kappa, pde="darcy"):
    """Stencil coefficients of a problem family's operator for the coefficient fields
    ``kappa``: ``[B, 5, ny, nx]`` for ``kappa`` ``[B, ny, nx]`` (``darcy``), ``[B, 7, nz, ny,
    nx]`` for ``[B, nz, ny, nx]`` (``darcy3d``); the rows of the matrix PETSc assembles.

    >>> coeffs = pins.coefficients(kappa)          # Darcy: -div(kappa grad u) = f, u = 0 on the boundary
    >>> op = pins.stencil_operator(pins.coefficients(kappa3, "darcy3d"), dim=3)
    """
    return _pins.coefficients(kappa, pde)


def apply(coeffs, u):
    """``A u`` for stencil coefficients ``coeffs`` ``[B,5,ny,nx]`` and fields ``u``
    ``[B,ny,nx]``; differentiable in both."""
    if isinstance(coeffs, Operator):
        (u,), single = _batched(coeffs, u)
        out = coeffs.apply(u)
        return out.squeeze(0) if single else out
    return _pins.apply(coeffs, u)


def residual(coeffs, u, f):
    """The residual ``A u - f`` ``[B,ny,nx]`` (one fused Kokkos kernel); differentiable in
    ``coeffs``, ``u`` and ``f``.

    >>> r = pins.residual(coeffs, model(x), f)
    >>> (r ** 2).mean().backward()                  # gradients reach model's parameters
    """
    if isinstance(coeffs, Operator):
        (u, f), single = _batched(coeffs, u, f)
        out = coeffs.residual(u, f)
        return out.squeeze(0) if single else out
    return _pins.residual(coeffs, u, f)


def residual_loss(coeffs, u, f, scaling="none"):
    """Mean over batch and grid of ``r**2`` with ``r = A u - f`` (``scaling="none"``) or
    ``r = D^-1 (A u - f)`` with ``D = diag(A)`` (``scaling="diagonal"``). A scalar tensor."""
    if isinstance(coeffs, Operator):
        (u, f), _ = _batched(coeffs, u, f)
        return _pins.operator_residual_loss(coeffs, u, f, scaling)
    return _pins.residual_loss(coeffs, u, f, scaling)


def energy_loss(coeffs, u, f):
    """Batch mean of the energy ``1/2 u^T A u - f^T u`` (sums over the grid). For symmetric
    positive definite ``A`` its minimiser solves ``A u = f``. A scalar tensor."""
    if isinstance(coeffs, Operator):
        (u, f), _ = _batched(coeffs, u, f)
        return _pins.operator_energy_loss(coeffs, u, f)
    return _pins.energy_loss(coeffs, u, f)


def physics_loss(coeffs, u, f, kind="residual"):
    """The trainer's grid-independent physics loss (batch mean): ``kind="residual"``:
    ``|D^-1(A u - f)|^2 / |D^-1 f|^2`` per sample (weights the error by the square of the
    grid frequency); ``kind="energy"``: ``(1/2 u^T A u - f^T u) / (n f^T D^-1 f)`` with ``n``
    cells (the energy norm of the error, symmetric positive definite operators only);
    ``kind="preconditioned"``: ``|B(A u - f)|^2 / |B f|^2`` with ``B`` one fixed multigrid
    V-cycle (close to the relative L2 error squared; black-box multigrid for 2-D 5/9-point
    stencils, aggregation multigrid for 3-D 7-point ones).
    What ``-train_physics_weight`` weights in ``pins.train``."""
    if isinstance(coeffs, Operator):
        (u, f), _ = _batched(coeffs, u, f)
        return _pins.operator_physics_loss(coeffs, u, f, kind)
    return _pins.physics_loss(coeffs, u, f, kind)


def relative_residual(coeffs, u, f):
    """The true relative residual ``|f - A u|_2 / |f|_2`` per sample ``[B]`` (what datasets
    store for the PETSc solutions). Not differentiable."""
    if isinstance(coeffs, Operator):
        (u, f), single = _batched(coeffs, u, f)
        out = _pins.operator_relative_residual(coeffs, u, f)
        return out.squeeze(0) if single else out
    return _pins.relative_residual(coeffs, u, f)


def relative_l2(prediction, truth):
    """Relative L2 error per sample, ``|p - u| / |u|``, shape ``[B]``."""
    return _pins.relative_l2(prediction, truth)
