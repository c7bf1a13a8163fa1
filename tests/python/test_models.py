"""pins.train, pins.load_model, pins.evaluate and the progress display."""

import io

import pytest
import torch

import pins
from conftest import GRID, threads
from pins.progress import ProgressBar


def test_train_returns_model_with_history(train_file, test_file):
    lines = []
    model = pins.train(train_file, train_epochs=2, train_batch_size=4, fno_modes=4, fno_width=8,
                       threads=threads(), progress=lines.append)
    assert [r["epoch"] for r in model.history] == [1, 2]
    assert sum(1 for line in lines if line.lstrip().startswith("epoch")) == 2
    assert model.architecture == "fno" and model.path == ""
    m = model.manifest
    assert m["task"] == "solution" and m["grid"] == {"nx": GRID, "ny": GRID}
    assert m["architecture"]["type"] == "fno" and m["architecture"]["options"]["modes"] == 4
    ds = pins.Dataset(test_file)
    u = model.predict(ds.tensor("kappa"), ds.tensor("f"))
    assert u.shape == (4, GRID, GRID) and u.dtype == torch.float64


def test_model_file_round_trip(model_file, test_file):
    model = pins.load_model(model_file)
    assert model.path == str(model_file) and model.history == []
    ds = pins.Dataset(test_file)
    k, f = ds.tensor("kappa"), ds.tensor("f")
    again = pins.load_model(model_file, pde="darcy", task="solution")
    assert torch.equal(model.predict(k, f), again.predict(k, f))
    x = model.features(k, f)
    assert x.shape == (4, 2, GRID, GRID)
    assert torch.allclose(model(x).squeeze(1).double() * model.manifest["normalisation"]["u_scale"],
                          model.predict(k, f), rtol=1e-5, atol=1e-12)


def test_model_gradients_reach_its_parameters(model_file, test_file):
    model = pins.load_model(model_file).train()
    assert model.training
    ds = pins.Dataset(test_file)
    x = model.features(ds.tensor("kappa"), ds.tensor("f"))
    params = model.parameters()
    before = [p.detach().clone() for p in params]
    opt = torch.optim.SGD(params, lr=1e-3)
    loss = model(x).square().mean()
    loss.backward()
    assert all(p.grad is not None for p in params)
    opt.step()
    after = model.parameters()  # the C++ module's tensors themselves changed
    assert any(not torch.equal(a, b) for a, b in zip(after, before))
    assert not model.eval().training


def test_model_bad_input(model_file):
    model = pins.load_model(model_file)
    with pytest.raises(ValueError, match=r"\[B, 2, ny, nx\]"):
        model(torch.ones(1, 3, 8, 8))
    with pytest.raises(ValueError, match="floating"):
        model(torch.ones(1, 2, 8, 8, dtype=torch.int64))
    with pytest.raises(ValueError, match="one shape"):
        model.predict(torch.ones(1, 8, 8), torch.ones(1, 8, 7))
    with pytest.raises(ValueError, match="batch"):
        model.predict(torch.ones(1, 8, 8), torch.ones(1, 8, 8), batch=0)
    # float32 inputs are accepted and give the same prediction as float64 ones
    k, f = torch.rand(2, 8, 8, dtype=torch.float64) + 1, torch.ones(2, 8, 8, dtype=torch.float64)
    assert torch.allclose(model.predict(k.float(), f.float()), model.predict(k, f), rtol=1e-5)


def test_save_and_reload(model_file, work):
    model = pins.load_model(model_file)
    out = work / "copy.pins"
    model.save(out)
    assert model.path == str(out)
    with pytest.raises(ValueError, match="exists"):
        model.save(out)
    model.save(out, force=True)


def test_load_model_errors(work, model_file):
    with pytest.raises(FileNotFoundError, match="nothing.pins"):
        pins.load_model(work / "nothing.pins")
    bad = work / "bad.pins"
    bad.write_bytes(b"PINSMODEL" + bytes(40))
    with pytest.raises(ValueError, match="bad.pins"):
        pins.load_model(bad)
    with pytest.raises(ValueError, match="task"):
        pins.load_model(model_file, task="precondition")


def test_train_errors(train_file, work):
    with pytest.raises(ValueError, match="-train_epochs"):
        pins.train(train_file, train_epochs="many", progress=False)
    with pytest.raises(ValueError, match="-train_nonsense"):
        pins.train(train_file, train_nonsense=1, progress=False)
    with pytest.raises(ValueError, match="-unet_depth"):
        pins.train(train_file, unet_depth=2, progress=False)
    with pytest.raises(ValueError, match="surrogate"):
        pins.train(train_file, surrogate_type="transformer", progress=False)
    with pytest.raises(FileNotFoundError):
        pins.train(work / "none.h5", progress=False)


def test_train_takes_cli_spellings(train_file, test_file):
    model = pins.train(train_file, options={"-surrogate_type": "mlp", "-train_epochs": 1,
                                            "-train_val_data": str(test_file)}, progress=False)
    assert model.architecture == "mlp"
    assert model.manifest["metrics"]["validation_data"] == str(test_file)
    assert model.manifest["metrics"]["val_samples"] == 4  # the whole validation file
    with pytest.raises(ValueError, match="task"):
        pins.train(train_file, task="denoise", progress=False)
    with pytest.raises(ValueError, match="no data"):
        pins.train(train_file, "x.pins", task="precondition", progress=False)


def test_train_writes_file_and_refuses_overwrite(train_file, model_file, work):
    with pytest.raises(ValueError, match="exists"):
        pins.train(train_file, model_file, train_epochs=1, progress=False)
    with pytest.raises(ValueError, match="does not exist"):
        pins.train(train_file, work / "no_folder" / "m.pins", train_epochs=1, progress=False)


def test_train_interrupted_by_python_exception(train_file):
    def stop(line):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pins.train(train_file, train_epochs=5, fno_modes=4, fno_width=8, progress=stop)


def test_ctrl_c_stops_training(train_file):
    """SIGINT while C++ trains (GIL released) raises KeyboardInterrupt at the next step."""
    import os
    import signal
    import threading
    import time

    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            pins.train(train_file, train_epochs=100000, fno_modes=2, fno_width=4,
                       threads=threads(), progress=False)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 30


def test_evaluate(model_file, test_file):
    report = pins.evaluate(model_file, test_file, solve_samples=2, threads=threads(),
                           return_predictions=True)
    assert report["samples"] == 4 and report["architecture"] == "fno"
    for key in ("relative_l2", "relative_residual_prediction", "relative_residual_petsc"):
        assert set(report[key]) == {"mean", "median", "p95", "max"}
    assert 0 < report["relative_l2"]["mean"] < 10
    assert report["seconds_per_sample"]["petsc_solve"] > 0
    assert report["prediction"].shape == (4, GRID, GRID)
    assert torch.allclose(report["relative_l2_per_sample"].mean(),
                          torch.tensor(report["relative_l2"]["mean"], dtype=torch.float64))


def test_evaluate_refine(model_file, test_file):
    # The session's model (3 epochs on 12 samples) is poor: multigrid cycles improve it.
    report = pins.evaluate(model_file, test_file, solve_samples=2, threads=threads(),
                           refine=[5, 0, 1])
    refine = report["refine"]
    assert [r["k"] for r in refine] == [0, 1, 5]
    assert refine[0]["relative_l2_mean"] == report["relative_l2"]["mean"]
    assert refine[0]["relative_residual_mean"] == report["relative_residual_prediction"]["mean"]
    e = [r["relative_l2_mean"] for r in refine]
    assert e[2] < e[1] < e[0]
    for r in refine:
        assert r["seconds_per_sample"] > 0 and r["petsc_samples_reached"] == 2
        assert r["ratio"] == pytest.approx(r["petsc_seconds_to_same_error"] /
                                           r["seconds_per_sample"], rel=1e-12)
    assert report["refine_petsc"]["samples"] == 2
    assert "refine" not in pins.evaluate(model_file, test_file, solve_samples=1,
                                         threads=threads())
    with pytest.raises(ValueError, match="0 or more, got -1"):
        pins.evaluate(model_file, test_file, refine=[0, -1])
    with pytest.raises(ValueError):
        pins.evaluate(model_file, test_file, refine=["abc"])


def test_evaluate_refuses_wrong_grid_for_grid_bound_models(train_file, work):
    # DeepONet's branch net reads the whole training grid: it is grid-bound (its traits say so).
    model = pins.train(train_file, surrogate_type="deeponet", deeponet_ny=16, deeponet_nx=16,
                       train_epochs=1, progress=False)
    other = work / "other_grid.h5"
    pins.generate(other, grid=8, samples=2, seed=5)
    with pytest.raises(ValueError, match="grid"):
        pins.evaluate(model, other)


def test_progress_bar_in_a_terminal():
    out = io.StringIO()
    bar = ProgressBar("t", notebook=False, stream=out)
    bar.line("epoch  1/4  loss 1.0e-01")
    bar.line("early stop: no better validation error")
    bar.line("epoch  2/4  loss 5.0e-02")
    bar.close()
    text = out.getvalue()
    assert (bar.done, bar.total) == (2, 4)
    assert "2/4" in text and "early stop" in text and text.endswith("\n")


def test_train_with_unlabelled_inputs(train_file, work):
    inputs = work / "unlabelled_for_train.h5"
    pins.generate(inputs, grid=GRID, samples=8, seed=9, inputs_only=True, progress=False)
    model = pins.train(train_file, unlabelled=inputs, train_epochs=2, train_batch_size=4,
                       train_physics_weight=10, train_physics_loss="preconditioned",
                       fno_modes=4, fno_width=8, threads=threads(), progress=False)
    m = model.manifest
    assert m["metrics"]["unlabelled_samples"] == 8
    assert m["metrics"]["unlabelled_data"] == str(inputs)
    assert all(r["physics_loss"] is not None for r in model.history)
    # Physics only: the inputs-only set alone, no data loss.
    alone = pins.train(unlabelled=inputs, train_epochs=1, train_data_weight=0,
                       train_physics_weight=1, fno_modes=4, fno_width=8, threads=threads(),
                       progress=False)
    assert alone.manifest["metrics"]["train_samples"] == 7  # 8 minus the validation sample
    # Each set in its place: labelled as -data, inputs only as unlabelled.
    with pytest.raises(ValueError, match="holds no solutions"):
        pins.train(inputs, train_epochs=1, progress=False)
    with pytest.raises(ValueError, match="holds solutions"):
        pins.train(train_file, unlabelled=train_file, train_epochs=1, train_physics_weight=1,
                   progress=False)
    with pytest.raises(ValueError, match="-train_physics_weight > 0"):
        pins.train(train_file, unlabelled=inputs, train_epochs=1, progress=False)
    with pytest.raises(ValueError, match="set -train_data_weight 0"):
        pins.train(unlabelled=inputs, train_epochs=1, train_physics_weight=1, progress=False)


def test_physics_loss_kinds():
    kappa = torch.ones(2, GRID, GRID, dtype=torch.float64)
    coeffs = pins.coefficients(kappa)
    f = torch.ones(2, GRID, GRID, dtype=torch.float64)
    u = torch.zeros(2, GRID, GRID, dtype=torch.float64, requires_grad=True)
    for kind in ("residual", "energy", "preconditioned"):
        loss = pins.physics_loss(coeffs, u, f, kind=kind)
        loss.backward()
        assert torch.isfinite(u.grad).all()
        u.grad = None
    # At u = 0 the preconditioned loss is |B f|^2 / |B f|^2 = 1, as the residual one.
    assert float(pins.physics_loss(coeffs, u, f, kind="preconditioned")) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="residual, energy or preconditioned"):
        pins.physics_loss(coeffs, u, f, kind="h1")


def test_train_streams_files_larger_than_train_memory(train_file):
    """A file path with train_memory below its size is streamed: the same history and weights
    as training on the Dataset in memory."""
    common = dict(train_epochs=2, train_batch_size=4, train_physics_weight=0.1, fno_modes=4,
                  fno_width=8, threads=1, progress=False)
    held = pins.train(pins.Dataset(train_file), **common)
    streamed = pins.train(str(train_file), train_memory=0.01, **common)
    assert streamed.manifest["metrics"]["streamed"] and not held.manifest["metrics"]["streamed"]
    assert [r["loss"] for r in held.history] == [r["loss"] for r in streamed.history]
    assert [r["val_rel_l2"] for r in held.history] == [r["val_rel_l2"] for r in streamed.history]
    for a, b in zip(held.parameters(), streamed.parameters()):
        assert torch.equal(a, b)
    assert streamed.manifest["metrics"]["peak_memory_mb"] > 0
    with pytest.raises(ValueError, match="-train_memory must be >= 0"):
        pins.train(str(train_file), train_memory=-1, **common)


def test_predict_with_evidence_and_calibrate(model_file, test_file, work):
    """predict(evidence=True): the certificate (the relative residual pins.evaluate reports),
    and after pins.calibrate the bound, OOD score and flag; the calibration travels with
    save; a 1:10^4 contrast input is flagged."""
    model = pins.load_model(model_file)
    ds = pins.Dataset(test_file)
    k, f = ds.tensor("kappa"), ds.tensor("f")
    a = model.predict(k, f, evidence=True)
    assert torch.equal(a.u, model.predict(k, f))
    assert a.certificate.shape == (4,) and a.bound is None and a.flagged is None
    r = pins.evaluate(model, test_file, solve_samples=1, threads=1)
    assert float(a.certificate.mean()) == pytest.approx(
        r["relative_residual_prediction"]["mean"], rel=1e-12)
    cal = work / "cal_evidence.h5"
    pins.generate(cal, grid=GRID, samples=10, seed=7)
    m, c = pins.calibrate(model, cal, level=0.8, threads=1)
    assert m is model and c["level"] == 0.8 and c["samples"] == 10
    assert model.manifest["metrics"]["calibration"]["quantile"] == c["quantile"]
    a = model.predict(k, f, evidence=True)
    # Darcy offers an error estimate, so the bound multiplies it (score "auto"); it matches
    # pins.evaluate's estimates of the same answers.
    assert c["score"] == "error_estimate" and a.error_estimate.shape == (4,)
    assert a.level == 0.8 and torch.allclose(a.bound, c["quantile"] * a.error_estimate)
    assert float(a.error_estimate.mean()) == pytest.approx(
        r["error_estimate"]["estimate"]["mean"], rel=1e-9)
    _, c2 = pins.calibrate(model, cal, level=0.8, score="residual", threads=1)
    b = model.predict(k, f, evidence=True)
    assert c2["score"] == "residual" and torch.allclose(b.bound, c2["quantile"] * b.certificate)
    with pytest.raises(ValueError, match="score must be"):
        pins.calibrate(model, cal, score="learned")
    m, c = pins.calibrate(model, cal, level=0.8, threads=1)
    assert a.flagged.dtype == torch.bool and a.ood_score.shape == (4,)
    contrast = torch.where(k > k.mean(), torch.full_like(k, 1e4), torch.ones_like(k))
    assert bool(model.predict(contrast, f, evidence=True).flagged.all())
    model.save(work / "calibrated.pins")
    again = pins.load_model(work / "calibrated.pins")
    assert torch.equal(again.predict(k, f, evidence=True).bound, a.bound)
    with pytest.raises(ValueError, match="level"):
        pins.calibrate(model, cal, level=1.5)
    with pytest.raises(ValueError, match="needs at least 19 samples"):
        pins.calibrate(model, cal, level=0.95)
