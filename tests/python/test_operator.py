"""pins.Operator from petsc4py matrices (pins.petsc.operator): A u against PETSc's MatMult,
gradients to u and the values (torch.autograd.gradcheck), [n] and [B, n] fields, batches of
matrices, and ValueError for bad input."""

import numpy as np
import pytest
import torch

import pins

PETSc = pytest.importorskip("petsc4py.PETSc")


def entry(i, j):
    return 4.0 + 0.1 * i if i == j else -0.5 + 0.3 * np.sin(1.3 * i + 0.37 * j)


def matrix(n=12, scale=1.0, extra=False):
    """A hand-assembled AIJ matrix with an irregular pattern."""
    A = PETSc.Mat().createAIJ([n, n], nnz=6, comm=PETSc.COMM_SELF)
    for i in range(n):
        cols = sorted({i, (3 * i + 1) % n, (5 * i + 2) % n} | ({0} if extra and i == n - 1 else set()))
        A.setValues([i], cols, [scale * entry(i, j) for j in cols])
    A.assemble()
    return A


def petsc_mult(A, x, transpose=False):
    X, Y = A.createVecs()
    X.setArray(x.detach().numpy())
    (A.multTranspose if transpose else A.mult)(X, Y)
    return torch.from_numpy(Y.getArray().copy())


def test_apply_matches_matmult_for_n_and_batched_fields():
    A = matrix()
    op = pins.petsc.operator(A)
    assert isinstance(op, pins.Operator)
    assert op.kind == "sparse" and op.batch == 1 and op.field_shape == [12]
    assert op.values.shape == (1, A.getInfo()["nz_used"])
    u = torch.randn(12, dtype=torch.float64)
    want = petsc_mult(A, u)
    eps = torch.finfo(torch.float64).eps
    bound = 8 * eps * 3 * 5.2 * u.abs().max()  # 3 entries per row, |a| <= 5.2
    assert (pins.apply(op, u) - want).abs().max() <= bound
    assert pins.apply(op, u).shape == (12,)
    # [B, n]: one matrix for many fields (values with batch 1 broadcast).
    U = torch.randn(3, 12, dtype=torch.float64)
    out = pins.apply(op, U)
    assert out.shape == (3, 12)
    for b in range(3):
        assert (out[b] - petsc_mult(A, U[b])).abs().max() <= bound * U.abs().max() / u.abs().max()
    f = torch.randn(12, dtype=torch.float64)
    r = pins.residual(op, u, f)
    assert r.shape == (12,)
    assert torch.allclose(r, pins.apply(op, u) - f, rtol=0, atol=4 * float(bound))
    assert (op.apply_transpose(U) - torch.stack([petsc_mult(A, U[b], True) for b in range(3)])
            ).abs().max() <= bound * U.abs().max() / u.abs().max()
    d = op.diagonal()
    assert torch.equal(d[0], torch.tensor([entry(i, i) for i in range(12)], dtype=torch.float64))
    assert float(pins.residual_loss(op, u, f)) == pytest.approx(float((r ** 2).mean()), rel=1e-12)
    assert float(pins.relative_residual(op, u, f)) == pytest.approx(
        float(r.norm() / f.norm()), rel=1e-12)


def test_batch_of_matrices_is_one_operator():
    mats = [matrix(scale=s) for s in (1.0, 2.0, 3.0)]
    op = pins.petsc.operator(mats)
    assert op.batch == 3
    U = torch.randn(3, 12, dtype=torch.float64)
    out = pins.apply(op, U)
    for b in range(3):
        assert torch.allclose(out[b], petsc_mult(mats[b], U[b]), rtol=0, atol=1e-13)


def test_gradients_reach_u_f_and_values():
    op = pins.petsc.operator(matrix(9))
    values = op.values.clone().requires_grad_()
    op2 = op.with_values(values)
    u = torch.randn(2, 9, dtype=torch.float64, requires_grad=True)
    f = torch.randn(2, 9, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v, u, f: pins.residual(op.with_values(v), u, f),
                                    (values, u, f))
    loss = pins.residual_loss(op2, u, f)
    loss.backward()
    assert values.grad is not None and values.grad.abs().sum() > 0
    assert u.grad is not None and u.grad.abs().sum() > 0
    # An unbatched u gets its gradient in its own shape.
    u1 = torch.randn(9, dtype=torch.float64, requires_grad=True)
    pins.apply(op, u1).sum().backward()
    assert u1.grad.shape == (9,)
    assert torch.allclose(u1.grad, op.apply_transpose(torch.ones(1, 9, dtype=torch.float64))[0])


def test_float32_fields_need_float32_values():
    op = pins.petsc.operator(matrix())
    with pytest.raises(ValueError, match="u has dtype Float but values have Double"):
        pins.apply(op, torch.randn(12, dtype=torch.float32))
    op32 = op.with_values(op.values.float())
    out = pins.apply(op32, torch.ones(12))
    assert out.dtype == torch.float32


def test_bad_input_raises_value_error():
    A = matrix()
    op = pins.petsc.operator(A)
    with pytest.raises(ValueError, match=r"u must have shape \[B, cols\] = \[B, 12\], got \[1, 5\]"):
        pins.apply(op, torch.zeros(5, dtype=torch.float64))
    with pytest.raises(ValueError, match="all have a batch axis or all lack one"):
        pins.residual(op, torch.zeros(12, dtype=torch.float64),
                      torch.zeros(1, 12, dtype=torch.float64))
    with pytest.raises(ValueError, match="expected a petsc4py.PETSc.Mat, got an object of type list"):
        pins.petsc.operator([[1, 2]])
    with pytest.raises(ValueError, match="expected a petsc4py.PETSc.Mat"):
        pins.petsc.operator(torch.zeros(3))
    shell = PETSc.Mat().create(comm=PETSc.COMM_SELF)
    shell.setSizes([4, 4])
    shell.setType(PETSc.Mat.Type.SHELL)
    shell.setUp()
    with pytest.raises(ValueError, match="has type shell, which gives no row access"):
        pins.petsc.operator(shell)
    with pytest.raises(ValueError, match="matrix 1 of 2 has a different nonzero pattern"):
        pins.petsc.operator([A, matrix(extra=True)])
    bad = matrix()
    bad.setValue(3, 3, float("nan"))
    bad.assemble()
    with pytest.raises(ValueError, match="matrix 0 of 1 has a NaN or Inf entry at row 3, column 3"):
        pins.petsc.operator(bad)
    with pytest.raises(ValueError, match="scaling must be 'none' or 'diagonal'"):
        pins.residual_loss(op, torch.zeros(12, dtype=torch.float64),
                           torch.zeros(12, dtype=torch.float64), scaling="bogus")


def test_stencil_operator_of_any_shape():
    torch.manual_seed(0)
    c = torch.rand(2, 5, 6, 7, dtype=torch.float64)
    u = torch.randn(2, 6, 7, dtype=torch.float64)
    five = pins.stencil_operator(c)                    # the 2-D 5-point case
    assert five.kind == "stencil" and five.field_shape == [6, 7]
    assert torch.equal(pins.apply(five, u), pins.apply(c, u))
    c7 = torch.rand(1, 7, 4, 5, 6, dtype=torch.float64, requires_grad=True)
    u3 = torch.randn(1, 4, 5, 6, dtype=torch.float64, requires_grad=True)
    op = pins.stencil_operator(c7, dim=3)
    pins.residual_loss(op, u3, torch.ones_like(u3)).backward()
    assert u3.grad is not None and c7.grad is not None
    with pytest.raises(ValueError, match="shape must be 'star' or 'box'"):
        pins.stencil_operator(c7, dim=3, shape="cross")
    with pytest.raises(ValueError, match=r"coeffs must have shape \[B, 27, nz, ny, nx\]"):
        pins.stencil_operator(c7, dim=3, shape="box")
