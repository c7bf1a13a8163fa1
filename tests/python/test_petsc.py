"""pins and petsc4py in one process: the Darcy system as petsc4py objects, KSP solves with
convergence histories, and pins' PC type "surrogate" on a petsc4py KSP."""

import numpy as np
import pytest
import torch

import pins
import pins.petsc

PETSc = pytest.importorskip("petsc4py.PETSc")


def kappa_field(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.where(torch.rand(n, n, generator=g, dtype=torch.float64) > 0.5, 12.0, 3.0).double()


def test_darcy_system_is_pins_operator():
    k = kappa_field()
    A, b, da = pins.petsc.darcy_system(k)
    u = torch.rand(16, 16, dtype=torch.float64)
    x = da.createGlobalVec()
    da.getVecArray(x)[:, :] = u.numpy().T
    y = A * x
    expected = pins.apply(pins.coefficients(k[None]), u[None])[0]
    assert np.allclose(da.getVecArray(y)[:, :].T, expected.numpy(), rtol=1e-12, atol=1e-12)
    assert np.allclose(b.getArray(), 1.0)
    assert A.isSymmetric(tol=1e-12)


def test_solve_reports_history():
    A, b, da = pins.petsc.darcy_system(kappa_field(), torch.rand(16, 16, dtype=torch.float64))
    jac = pins.petsc.solve(A, b, pc_type="jacobi", rtol=1e-8)
    gamg = pins.petsc.solve(A, b, pc_type="gamg", rtol=1e-8, dm=da,
                            options={"pc_gamg_threshold": 0.0})
    for r in (jac, gamg):
        assert r["converged"] and r["history"].size == r["iterations"] + 1
        assert r["history"][-1] <= 1e-8 * r["history"][0] * 1.0001
    assert gamg["iterations"] < jac["iterations"]
    x = jac["x"]
    res = b.duplicate()
    A.mult(x, res)
    res.axpy(-1.0, b)
    assert res.norm() <= 1e-7 * b.norm()
    # The private prefix keeps options from reaching later solvers.
    assert not PETSc.Options().hasName("pc_gamg_threshold")


@pytest.mark.skipif(not pins.petsc.have_surrogate_types(),
                    reason="this build has no PC 'surrogate' yet (include/pins/petsc/register.hpp "
                           "from issue 4 was missing when the module was compiled)")
def test_surrogate_pc_converges(work):
    model = work / "pc.pins"
    trained = pins.train_preconditioner(model, grid=16, train_steps=5, train_batch_size=4,
                                        mgnet_width=4, progress=False)
    assert trained.manifest["task"] == "precondition"
    pins.petsc.register()
    pins.petsc.register()  # idempotent
    A, b, da = pins.petsc.darcy_system(kappa_field(seed=3))
    # Keep the network in use throughout (no stall fallback), so convergence is its doing.
    r = pins.petsc.solve(A, b, ksp_type="fgmres", pc_type="surrogate", dm=da, rtol=1e-8,
                         view=True, options={"pc_surrogate_model": str(model),
                                             "pc_surrogate_stall": 1.0,
                                             "pc_surrogate_window": 100000})
    assert r["converged"], "KSPConvergedReason %d" % r["reason"]
    assert r["history"][-1] <= 1e-8 * r["history"][0] * 1.0001
    assert "pins surrogate: model %s" % model in r["view"]
    assert "FALLBACK ACTIVE" not in r["view"], r["view"]
    steps = int(r["view"].split("network steps ")[1].split(",")[0])
    assert steps >= r["iterations"] > 0


@pytest.mark.skipif(not pins.petsc.have_surrogate_types(), reason="no PC 'surrogate' in this build")
def test_plain_petsc4py_program(work):
    """The snippet of pins.petsc's docstring: a petsc4py KSP set up by hand, PC type set by
    name, its model given through the global options database."""
    model = work / "plain_pc.pins"
    pins.train_preconditioner(model, grid=16, train_steps=2, train_batch_size=2, mgnet_width=4,
                              progress=False)
    pins.petsc.register()
    A, b, _ = pins.petsc.darcy_system(kappa_field(seed=5))  # A carries its DMDA (the grid)
    opts = PETSc.Options()
    opts["pc_surrogate_model"] = str(model)
    try:
        ksp = PETSc.KSP().create()
        ksp.setOperators(A)
        ksp.setType("fgmres")
        ksp.getPC().setType("surrogate")
        ksp.setTolerances(rtol=1e-8, max_it=1000)
        ksp.setFromOptions()
        x = b.duplicate()
        ksp.solve(b, x)
        assert ksp.getPC().getType() == "surrogate"
        assert ksp.getConvergedReason() > 0
        r = b.duplicate()
        A.mult(x, r)
        r.axpy(-1.0, b)
        assert r.norm() <= 1e-7 * b.norm()
        ksp.destroy()
    finally:
        opts.delValue("pc_surrogate_model")


@pytest.mark.skipif(not pins.petsc.have_surrogate_types(), reason="no PC 'surrogate' in this build")
def test_surrogate_initial_guess(work):
    """KSPGuess "surrogate" from a petsc4py program: the network's guess starts the solve
    with a smaller residual than the zero guess, and the solve still converges."""
    model = work / "guess_pc.pins"
    pins.train_preconditioner(model, grid=16, train_steps=2, train_batch_size=2, mgnet_width=4,
                              progress=False)
    pins.petsc.register()
    A, b, da = pins.petsc.darcy_system(kappa_field(seed=4))
    zero = pins.petsc.solve(A, b, ksp_type="fgmres", pc_type="jacobi", dm=da)
    guess = pins.petsc.solve(A, b, ksp_type="fgmres", pc_type="jacobi", dm=da, view=True,
                             options={"ksp_guess_type": "surrogate",
                                      "ksp_guess_surrogate_model": str(model)})
    assert "pins surrogate guess" in guess["view"] and "1 guesses" in guess["view"]
    assert guess["converged"]
    assert zero["history"][0] == pytest.approx(b.norm())
    assert guess["history"][0] < zero["history"][0]


@pytest.mark.skipif(not pins.petsc.have_surrogate_types(), reason="no PC 'surrogate' in this build")
def test_surrogate_pc_bad_model_is_a_python_error(work):
    pins.petsc.register()
    A, b, da = pins.petsc.darcy_system(kappa_field(n=8))
    with pytest.raises(PETSc.Error):
        pins.petsc.solve(A, b, ksp_type="fgmres", pc_type="surrogate", dm=da,
                         options={"pc_surrogate_model": str(work / "no_such_model.pins")})


def test_register_without_types_says_why():
    if pins.petsc.have_surrogate_types():
        pins.petsc.register()
        pc = PETSc.PC().create()
        pc.setType("surrogate")
        assert pc.getType() == "surrogate"
        pc.destroy()
    else:
        with pytest.raises(RuntimeError, match="register.hpp"):
            pins.petsc.register()
