"""pins.petsc.residual_function: a petsc4py SNES whose callbacks are Python functions, used as
a differentiable torch function. Forward against snes.computeFunction, backward against the
transpose of snes.computeJacobian's matrix, a finite-difference gradcheck, and the refusals."""

import numpy as np
import pytest
import torch

import pins
import pins.petsc

PETSc = pytest.importorskip("petsc4py.PETSc")

N = 12
H = 1.0 / (N + 1)
C = 3.0  # convection: makes the Jacobian non-symmetric, so Jᵀ g and J g differ


def residual(snes, x, f):
    """F(x)_i = 2x_i − x_{i−1} − x_{i+1} + h² (c x_i (x_{i+1} − x_{i−1})/(2h) + x_i³ − 1)."""
    u = x.getArray(readonly=True)
    p = np.concatenate(([0.0], u, [0.0]))
    w, e = p[:-2], p[2:]
    f.setArray(2 * u - w - e + H * H * (C * u * (e - w) / (2 * H) + u**3 - 1))


def jacobian(snes, x, J, P):
    u = x.getArray(readonly=True)
    p = np.concatenate(([0.0], u, [0.0]))
    for i in range(N):
        P.setValue(i, i, 2 + H * H * (C * (p[i + 2] - p[i]) / (2 * H) + 3 * u[i] ** 2))
        if i > 0:
            P.setValue(i, i - 1, -1 - H * H * C * u[i] / (2 * H))
        if i < N - 1:
            P.setValue(i, i + 1, -1 + H * H * C * u[i] / (2 * H))
    P.assemble()
    if J != P:
        J.assemble()


def make_snes(with_jacobian=True):
    snes = PETSc.SNES().create(comm=PETSc.COMM_SELF)
    r = PETSc.Vec().createSeq(N, comm=PETSc.COMM_SELF)
    snes.setFunction(residual, r)
    if with_jacobian:
        J = PETSc.Mat().createAIJ([N, N], nnz=3, comm=PETSc.COMM_SELF)
        J.setUp()
        snes.setJacobian(jacobian, J)
    return snes


def petsc_vec(values):
    v = PETSc.Vec().createSeq(N, comm=PETSc.COMM_SELF)
    v.setArray(values.detach().numpy())
    return v


def test_forward_matches_compute_function():
    snes = make_snes()
    F = pins.petsc.residual_function(snes)
    assert F.local_size == N
    u = torch.randn(3, N, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    r = F(u)
    assert r.shape == (3, N) and r.dtype == torch.float64
    for b in range(3):
        y = petsc_vec(torch.zeros(N, dtype=torch.float64))
        snes.computeFunction(petsc_vec(u[b]), y)
        assert np.array_equal(y.getArray(), r[b].numpy())
    assert torch.equal(F(u[1]), r[1])  # one field [n]
    assert F(u.float()).dtype == torch.float32  # float32 converted, result converted back


def test_gradients_reach_u():
    snes = make_snes()
    F = pins.petsc.residual_function(snes)
    gen = torch.Generator().manual_seed(1)
    u = torch.randn(2, N, dtype=torch.float64, generator=gen).requires_grad_(True)
    g = torch.randn(2, N, dtype=torch.float64, generator=gen)
    F(u).backward(g)
    assert u.grad is not None
    J = PETSc.Mat().createAIJ([N, N], nnz=3, comm=PETSc.COMM_SELF)
    J.setUp()
    for b in range(2):
        snes.computeJacobian(petsc_vec(u[b]), J, J)
        jt, jg = petsc_vec(torch.zeros(N, dtype=torch.float64)), petsc_vec(torch.zeros(N))
        J.multTranspose(petsc_vec(g[b]), jt)
        J.mult(petsc_vec(g[b]), jg)
        assert np.array_equal(jt.getArray(), u.grad[b].numpy())
        assert not np.allclose(jg.getArray(), jt.getArray())  # the transpose matters here
    # Finite differences in double precision through torch's own checker.
    v = torch.randn(2, N, dtype=torch.float64, generator=gen).requires_grad_(True)
    assert torch.autograd.gradcheck(F, (v,))


def test_refusals():
    with pytest.raises(ValueError, match="no Jacobian"):
        pins.petsc.residual_function(make_snes(with_jacobian=False))
    with pytest.raises(TypeError, match="SNES"):
        pins.petsc.residual_function(PETSc.KSP().create(comm=PETSc.COMM_SELF))
    F = pins.petsc.residual_function(make_snes())
    with pytest.raises(ValueError, match="n_local = %d" % N):
        F(torch.zeros(2, N + 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="floating-point"):
        F(torch.zeros(N, dtype=torch.int64))
