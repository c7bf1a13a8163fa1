"""pins.generate and pins.Dataset: what is written, how arrays are shared, the metadata,
and the errors for bad options and bad files."""

import numpy as np
import pytest
import torch

import pins
from conftest import GRID


def test_generate_summary_and_file(train_file, work):
    ds = pins.Dataset(train_file)
    assert (ds.samples, ds.ny, ds.nx, ds.pde) == (12, GRID, GRID, "darcy")
    assert len(ds) == 12
    summary = pins.generate(work / "small.h5", grid=(8, 6), samples=2, seed=3,
                            kappa_type="lognormal", ksp_rtol=1e-9)
    assert summary["samples"] == 2 and (summary["nx"], summary["ny"]) == (8, 6)
    assert summary["rtol"] == pytest.approx(1e-9)
    assert 0 < summary["residual_max"] <= 1e-9
    small = pins.Dataset(work / "small.h5")
    assert small.kappa.shape == (2, 6, 8)
    assert small.metadata["sampler.kappa_type"] == "lognormal"


def test_generate_is_deterministic(work, train_file):
    pins.generate(work / "again.h5", grid=GRID, samples=12, seed=1)
    a, b = pins.Dataset(train_file), pins.Dataset(work / "again.h5")
    assert np.array_equal(a.u, b.u) and np.array_equal(a.kappa, b.kappa)


def test_generate_errors(work, train_file):
    with pytest.raises(ValueError, match="exists"):
        pins.generate(train_file, grid=GRID, samples=2)
    with pytest.raises(ValueError, match="grid"):
        pins.generate(work / "x.h5", grid=2, samples=2)
    with pytest.raises(ValueError, match="heat"):
        pins.generate(work / "x.h5", pde="heat", samples=2)
    with pytest.raises(ValueError, match="kappa_type"):
        pins.generate(work / "x.h5", grid=8, samples=2, kappa_type="banana")
    with pytest.raises(ValueError, match="seed"):
        pins.generate(work / "x.h5", grid=8, samples=2, seed=-1)
    assert not (work / "x.h5").exists()
    # Options given to one call do not leak into the next one.
    pins.generate(work / "y.h5", grid=8, samples=1, force=True)
    assert pins.Dataset(work / "y.h5").metadata["sampler.kappa_type"] == "threshold"


def test_arrays_share_memory(train_file):
    ds = pins.Dataset(train_file)
    kappa = ds.kappa
    t = ds.tensor("kappa")
    assert t.data_ptr() == kappa.ctypes.data           # torch and numpy: one buffer
    assert ds.kappa.ctypes.data == kappa.ctypes.data   # every access: the same C++ buffer
    before = float(t[0, 0, 0])
    kappa[0, 0, 0] = before + 1.0
    assert float(t[0, 0, 0]) == before + 1.0
    tensors = ds.tensors()
    assert tensors["iterations"].dtype == torch.int32 and tensors["seeds"].shape == (12, 2)
    assert np.array_equal(tensors["seeds"].numpy().view(np.uint64), ds.seeds)
    sample = ds[3]
    assert sample["u"].shape == (GRID, GRID) and torch.equal(sample["f"], ds.tensor("f")[3])
    with pytest.raises(IndexError):
        ds[12]
    with pytest.raises(ValueError, match="no array"):
        ds.array("pressure")


def test_arrays_outlive_the_dataset(train_file):
    u = pins.Dataset(train_file).tensor("u")  # the Dataset object is gone after this line
    import gc
    gc.collect()
    assert torch.isfinite(u).all() and u.abs().max() > 0


def test_stored_solutions_satisfy_the_operator(train_file):
    ds = pins.Dataset(train_file)
    t = ds.tensors()
    res = pins.relative_residual(pins.coefficients(t["kappa"]), t["u"], t["f"])
    assert torch.all(res <= ds.metadata["solver.rtol"] * 1.01)
    assert np.allclose(res.numpy(), ds.residual, rtol=1e-6, atol=1e-14)


def test_metadata(train_file):
    meta = pins.Dataset(train_file).metadata
    assert meta["format"] == "pins-dataset" and meta["pde"] == "darcy"
    assert meta["nx"] == GRID and isinstance(meta["nx"], int)
    assert isinstance(meta["solver.rtol"], float)
    assert "version.pins" in meta


def test_bad_files(work):
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        pins.Dataset(work / "missing.h5")
    junk = work / "junk.h5"
    junk.write_text("not hdf5\n")
    with pytest.raises(ValueError, match="junk.h5") as info:
        pins.Dataset(junk)
    assert "\n" not in str(info.value)


def test_generate_inputs_only(work, train_file, model_file):
    # The train file's inputs without its solves; an impossible solver option does not
    # matter, because no solver is configured at all.
    summary = pins.generate(work / "inputs.h5", grid=GRID, samples=12, seed=1, inputs_only=True,
                            ksp_type="nonexistent")
    assert summary["inputs_only"] and summary["iterations_max"] == 0
    labelled, ds = pins.Dataset(train_file), pins.Dataset(work / "inputs.h5")
    assert labelled.labelled and not ds.labelled
    assert ds.metadata["labelled"] == 0 and labelled.metadata["labelled"] == 1
    assert not any(k.startswith("solver.") for k in ds.metadata)
    for name in ("kappa", "f", "seeds"):
        assert ds.array(name).tobytes() == labelled.array(name).tobytes(), name
    assert ds.arrays == ["kappa", "f", "seeds"]
    assert set(ds[0]) == {"kappa", "f"}
    for name in ("u", "iterations", "residual"):
        with pytest.raises(ValueError, match="inputs.h5: the dataset holds no solutions"):
            ds.array(name)
    with pytest.raises(ValueError, match="-inputs_only"):
        ds.u
    with pytest.raises(ValueError, match="nonexistent"):  # a labelled run does read it
        pins.generate(work / "solved.h5", grid=GRID, samples=1, ksp_type="nonexistent")
    with pytest.raises(ValueError, match="holds no solutions"):
        pins.evaluate(pins.load_model(model_file), ds, solve_samples=1)


def test_generate_darcy_fem_mesh_in_the_file(work):
    # darcy_fem: fields over the mesh's points (u) and cells (kappa, f); the mesh is in the file.
    pins.generate(work / "fem.h5", pde="darcy_fem", grid=6, samples=3, seed=1, mesh_perturb=0.2)
    ds = pins.Dataset(work / "fem.h5")
    mesh = ds.mesh
    assert mesh["cell_type"] == "triangle"
    assert mesh["coordinates"].shape == (49, 2) and mesh["cells"].shape == (72, 3)
    assert mesh["points"].shape == (25,)
    assert ds.kappa.shape == (3, 72) and ds.u.shape == (3, 25) and ds.grid == (25,)
    assert ds.metadata["inputs"] == "kappa@cells,f@cells"
    # The stored solutions solve the sparse operator pins assembles from that mesh.
    A, f = ds.system()
    assert A.kind == "sparse" and tuple(f.shape) == (3, 25)
    assert float(pins.relative_residual(A, ds.tensor("u"), f).max()) <= 1e-9
    # Gradients reach u through the Kokkos CSR kernel.
    u = ds.tensor("u").clone().requires_grad_(True)
    pins.residual(A, u, f).square().sum().backward()
    assert u.grad is not None and torch.isfinite(u.grad).all()
    # Quadrilaterals on request; grid families have no mesh.
    pins.generate(work / "q.h5", pde="darcy_fem", grid=(5, 4), samples=1, dm_plex_simplex=0)
    assert pins.Dataset(work / "q.h5").mesh["cells"].shape == (20, 4)
    pins.generate(work / "g.h5", pde="darcy", grid=8, samples=1)
    assert pins.Dataset(work / "g.h5").mesh is None
    with pytest.raises(ValueError, match="no such file"):
        pins.generate(work / "x.h5", pde="darcy_fem", samples=1, dm_plex_filename="none.msh")
    assert not (work / "x.h5").exists()


def test_generate_darcy3d(work):
    # grid is x first, as on the command line; arrays are [N, nz, ny, nx].
    summary = pins.generate(work / "d3.h5", pde="darcy3d", grid=(6, 5, 4), samples=3, seed=2,
                            f_type="grf")
    assert (summary["nx"], summary["ny"], summary["nz"]) == (6, 5, 4)
    ds = pins.Dataset(work / "d3.h5")
    assert ds.pde == "darcy3d" and ds.grid == (4, 5, 6)
    assert ds.kappa.shape == ds.u.shape == (3, 4, 5, 6)
    assert ds.metadata["operator"] == "stencil: dim=3 star width=1 dof=1"
    # The stored solutions solve the 7-point operator pins.coefficients builds.
    coeffs = pins.coefficients(ds.tensor("kappa"), "darcy3d")
    assert tuple(coeffs.shape) == (3, 7, 4, 5, 6)
    op = pins.stencil_operator(coeffs, dim=3)
    r = pins.residual(op, ds.tensor("u"), ds.tensor("f"))
    rel = torch.linalg.vector_norm(r.flatten(1), dim=1) / torch.linalg.vector_norm(
        ds.tensor("f").flatten(1), dim=1)
    assert float(rel.max()) <= 1e-9
    with pytest.raises(ValueError, match=r"\[B, nz, ny, nx\] for -pde darcy3d"):
        pins.coefficients(ds.tensor("kappa")[0], "darcy3d")
    with pytest.raises(ValueError, match="3-D"):
        pins.generate(work / "x3.h5", pde="darcy3d", grid=(6, 5), samples=1)
