"""pins.plot: each helper draws what it says (panels, titles, curves) and refuses bad input."""

import numpy as np
import pytest
import torch

import pins


def test_fields_side_by_side():
    a = torch.rand(3, 8, 8)
    fig = pins.plot.fields({"kappa": a, "u": a.numpy() * 2, "single": a[0]}, sample=2)
    images = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in images] == ["kappa", "u", "single"]
    assert np.allclose(images[0].images[0].get_array(), a[2].numpy())
    assert np.allclose(images[2].images[0].get_array(), a[0].numpy())
    fig = pins.plot.fields([a[0], a[1]], shared_scale=True)
    lims = {ax.images[0].get_clim() for ax in fig.axes if ax.images}
    assert len(lims) == 1


def test_error_map():
    t = torch.rand(2, 6, 6, dtype=torch.float64)
    p = t + 0.01
    fig = pins.plot.error_map(p, t, sample=1)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["truth", "prediction", "|error|"]
    assert np.allclose(panels[2].images[0].get_array(), 0.01)
    with pytest.raises(ValueError, match="shape"):
        pins.plot.error_map(p[:, :5], t)


def test_convergence():
    fig = pins.plot.convergence({"jacobi": [1.0, 0.5, 0.25], "gamg": np.array([2.0, 0.02])})
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["jacobi (2 its)", "gamg (1 its)"]
    assert np.allclose(ax.lines[1].get_ydata(), [1.0, 0.01])  # relative to the first value
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError):
        pins.plot.convergence({})


def test_training_history():
    h = [{"epoch": 1, "loss": 1.0, "data_loss": 0.9, "physics_loss": None, "val_rel_l2": 0.5},
         {"epoch": 2, "loss": 0.5, "data_loss": 0.4, "physics_loss": None, "val_rel_l2": 0.3}]
    fig = pins.plot.training_history(h)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["training loss", "data loss", "validation rel. L2"]


def test_bad_field_shape():
    with pytest.raises(ValueError, match="field"):
        pins.plot.fields({"x": np.zeros(5)})


def test_slices_of_3d_fields():
    v = torch.rand(2, 6, 5, 4)
    fig = pins.plot.slices({"kappa": v, "u": v[1].numpy()}, sample=1)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["kappa, z = 1/2", "kappa, y = 1/2", "kappa, x = 1/2",
                      "u, z = 1/2", "u, y = 1/2", "u, x = 1/2"]
    # The middle z plane of sample 1 is what the first panel shows.
    assert np.array_equal(fig.axes[0].images[0].get_array(), v[1, 3].numpy())
    # fields() shows a 3-D batch by its middle z plane.
    fig = pins.plot.fields({"kappa": v})
    assert fig.axes[0].images[0].get_array().shape == (5, 4)
    with pytest.raises(ValueError, match=r"\[nz, ny, nx\]"):
        pins.plot.slices(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="nothing"):
        pins.plot.slices({})


def test_fields_on_a_mesh(tmp_path):
    # A 2 x 1 rectangle of two triangles and one quadrilateral-free mesh: point and cell fields.
    mesh = {"cell_type": "triangle",
            "coordinates": np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]], float),
            "cells": np.array([[0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]]),
            "points": np.array([4])}
    fig = pins.plot.mesh_fields(mesh, {"kappa": np.array([[1.0, 2, 3, 4]]),
                                       "u": torch.tensor([[0.7]])}, edges=True)
    assert len(fig.axes) == 4  # two panels and their colour bars
    fig.savefig(tmp_path / "mesh.png")
    quads = dict(mesh, cells=np.array([[0, 1, 2, 3]]), cell_type="quadrilateral")
    assert len(pins.plot.mesh_fields(quads, {"kappa": np.array([2.0])}).axes) == 2
    with pytest.raises(ValueError, match=r"expected \[1\] \(points\) or \[4\] \(cells\)"):
        pins.plot.mesh_fields(mesh, {"bad": np.zeros(3)})
    with pytest.raises(ValueError, match="has no mesh"):
        pins.plot.mesh_fields(None, {"u": np.zeros(1)})


def test_rollout():
    truth = torch.rand(3, 5, 6, 6, dtype=torch.float64) + 1
    pred = truth.clone()
    pred[:, 2:] *= 1.1  # 10 % off from the second step on
    fig = pins.plot.rollout(truth, pred, dt=0.5, sample=1, times=3)
    curve = fig.axes[0]
    assert curve.get_xlabel() == "t"
    assert np.allclose(curve.lines[0].get_xdata(), [0.5, 1.0, 1.5, 2.0])
    assert np.allclose(curve.lines[0].get_ydata(), [0, 0.1, 0.1, 0.1], atol=1e-12)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == ["true, t = 0", "rollout, t = 0", "true, t = 1", "rollout, t = 1",
                      "true, t = 2", "rollout, t = 2"]
    with pytest.raises(ValueError, match="trajectories"):
        pins.plot.rollout(truth[0], pred[0])
