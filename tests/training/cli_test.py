#!/usr/bin/env python3
"""Runs `pins train` and `pins evaluate` the way users do and checks what they would see.

Usage: cli_test.py --pins PATH --workdir DIR CASE  (CASE: learn, bad_input, option_spaces,
precondition_checkpoint, refine, refine_3d, nonlinear, fem, allen_cahn)

learn: on a 32x32 grid with 64 training samples a small FNO must actually learn: its test
relative L2 error falls below BOUND, which the untrained model (same normalisation, weights
as initialised) does not meet. bad_input: every bad input fails with one line
"pins <subcommand>: error: ..." naming the problem, a non-zero exit, and no file created or
changed. precondition_checkpoint: `pins train -task precondition` writes its checkpoint and a
complete log, refuses to overwrite the checkpoint, and resumes from it. refine: `pins evaluate
-refine 0,1,5,20` on a poorly trained model: k = 0 is the unrefined prediction exactly, the
error falls with k, PETSc's error-against-time curves run forward in time and end at the
dataset's tolerance, and bad counts are refused with nothing written. Exit status 77 means
skipped (h5py/numpy missing).
"""

import argparse
import json
import math
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_support import check_one_line_error, fail, snapshot  # noqa: E402

ARGS = None
# Measured on this setup (2 cores, LibTorch 1.13): untrained 1.02, trained 0.218 (test mean
# relative L2); the bound sits about a factor 2 from both.
BOUND = 0.5


def run(cmd, timeout=300):
    p = subprocess.run([ARGS.pins] + cmd, cwd=ARGS.workdir, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def expect_ok(cmd, timeout=300):
    rc, out, err = run(cmd, timeout)
    if rc != 0:
        fail("expected success: %s\nrc=%d\nstdout:\n%s\nstderr:\n%s" % (" ".join(cmd), rc, out, err))
    return out, err


def expect_error(cmd, subcommand, expected):
    """Fails with one line naming `expected`; no file in the workdir created or changed."""
    before = snapshot(ARGS.workdir)
    rc, out, err = run(cmd)
    lines = [l for l in err.splitlines() if l.strip()]
    where = " ".join(cmd)
    check_one_line_error(rc, lines, where, subcommand, expected)
    after = snapshot(ARGS.workdir)
    if after != before:
        changed = sorted(set(after.items()) ^ set(before.items()))
        fail("%s created or changed files: %s" % (where, changed))
    print("ok: %s -> %s" % (where, lines[0]))


def need_h5py():
    try:
        import h5py  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        print("SKIP: h5py/numpy not available to %s" % sys.executable)
        sys.exit(77)


FNO = ["-surrogate_type", "fno", "-fno_modes", "8", "-fno_width", "16", "-fno_layers", "3",
       "-fno_padding", "4", "-fno_hidden", "32"]


def generate(name, samples, seed):
    expect_ok(["generate", "-grid", "32", "-samples", str(samples), "-seed", str(seed),
               "-f_type", "grf", "-progress", "0", "-o", name])


def evaluate(model, data, out):
    expect_ok(["evaluate", "-model", model, "-data", data, "-o", out, "-evaluate_solve_samples",
               "4"])
    with open(os.path.join(ARGS.workdir, out, "report.json")) as f:
        return json.load(f)


def case_learn():
    need_h5py()
    generate("train.h5", 64, 1)
    generate("test.h5", 16, 2)
    # Untrained: one epoch at a vanishing learning rate fits the normalisation only.
    expect_ok(["train", "-data", "train.h5", "-o", "untrained.pins", "-train_epochs", "1",
               "-train_lr", "1e-30", "-train_monitor", "0"] + FNO)
    out, _ = expect_ok(["train", "-data", "train.h5", "-o", "trained.pins", "-train_epochs",
                        "30", "-train_batch_size", "8", "-train_lr", "3e-3",
                        "-train_physics_weight", "0.1", "-train_log", "history.csv"] + FNO)
    print(out.strip().splitlines()[-2])
    untrained = evaluate("untrained.pins", "test.h5", "report_untrained")
    trained = evaluate("trained.pins", "test.h5", "report_trained")
    e0 = untrained["relative_l2"]["mean"]
    e1 = trained["relative_l2"]["mean"]
    print("test relative L2: untrained %.4f, trained %.4f, bound %.2f" % (e0, e1, BOUND))
    print("trained residual %.3g, inference %.3g ms/sample, PETSc %.3g ms/sample" % (
        trained["relative_residual_prediction"]["mean"],
        1e3 * trained["seconds_per_sample"]["surrogate_single"],
        1e3 * trained["seconds_per_sample"]["petsc_solve"]))
    if not e0 > BOUND:
        fail("the untrained model meets the bound: %.4f <= %.2f" % (e0, BOUND))
    if not e1 < BOUND:
        fail("training did not learn: test relative L2 %.4f >= %.2f" % (e1, BOUND))
    for key in ("mean", "median", "p95"):
        if key not in trained["relative_l2"]:
            fail("report.json lacks relative_l2." + key)
    md = open(os.path.join(ARGS.workdir, "report_trained", "report.md")).read()
    if "relative L2 error" not in md:
        fail("report.md lacks the error table")
    with open(os.path.join(ARGS.workdir, "history.csv")) as f:
        rows = f.read().splitlines()
    if len(rows) != 31:
        fail("history.csv has %d lines, expected a header and 30 epochs" % len(rows))


def case_refine_3d():
    """darcy3d end to end through the 3-D (aggregation) multigrid cycle: training with the
    preconditioned physics loss, then pins evaluate -refine on 7-point operators."""
    for name, samples, seed in (("train3d.h5", 24, 1), ("test3d.h5", 4, 2)):
        expect_ok(["generate", "-pde", "darcy3d", "-grid", "12", "-samples", str(samples),
                   "-seed", str(seed), "-progress", "0", "-o", name])
    expect_ok(["train", "-data", "train3d.h5", "-o", "m3.pins", "-train_epochs", "2",
               "-train_monitor", "0", "-surrogate_type", "fno3d", "-fno3d_modes", "4",
               "-fno3d_width", "8", "-fno3d_hidden", "16", "-fno3d_padding", "2",
               "-train_physics_loss", "preconditioned", "-train_physics_weight", "1"])
    expect_ok(["evaluate", "-model", "m3.pins", "-data", "test3d.h5", "-o", "rep3d",
               "-evaluate_solve_samples", "2", "-evaluate_plot", "0", "-refine", "0,3,10"])
    with open(os.path.join(ARGS.workdir, "rep3d", "report.json")) as f:
        refine = json.load(f)["refine"]
    e = [r["relative_l2_mean"] for r in refine]
    res = [r["relative_residual_mean"] for r in refine]
    if [r["k"] for r in refine] != [0, 3, 10]:
        fail("darcy3d refine entries are not k = 0, 3, 10: %s" % refine)
    if not (e[0] > 0.05 and e[2] < e[1] < e[0] and res[2] < res[1] < res[0]):
        fail("3-D cycles do not lower the error and residual: %s / %s" % (e, res))
    # Ten cycles at about 0.5 per cycle: the error falls by two orders of magnitude.
    if not e[2] < 0.02 * e[0]:
        fail("10 cycles reduce the 3-D error only from %g to %g" % (e[0], e[2]))
    print("ok: darcy3d preconditioned training and -refine: errors %s" % e)


def case_refine():
    need_h5py()
    import h5py
    generate("train.h5", 32, 1)
    generate("test.h5", 8, 2)
    # Poorly trained on purpose: two epochs leave errors of tens of percent to refine.
    expect_ok(["train", "-data", "train.h5", "-o", "m.pins", "-train_epochs", "2",
               "-train_monitor", "0"] + FNO)
    out, err = expect_ok(["evaluate", "-model", "m.pins", "-data", "test.h5", "-o", "rep",
                          "-evaluate_solve_samples", "3", "-refine", "20,0,5,1"])
    print(out.strip())
    with open(os.path.join(ARGS.workdir, "rep", "report.json")) as f:
        rep = json.load(f)
    refine = rep["refine"]
    if [r["k"] for r in refine] != [0, 1, 5, 20]:
        fail("refine entries are not k = 0, 1, 5, 20 in order: %s" % [r["k"] for r in refine])
    r0 = refine[0]
    # k = 0 is the surrogate's own answer, computed again in the same batches: bit for bit.
    if (r0["relative_l2_mean"] != rep["relative_l2"]["mean"] or
            r0["relative_l2_p95"] != rep["relative_l2"]["p95"] or
            r0["relative_residual_mean"] != rep["relative_residual_prediction"]["mean"]):
        fail("-refine 0 does not reproduce the unrefined error: %s vs %s / %s" % (
            r0, rep["relative_l2"], rep["relative_residual_prediction"]))
    e = [r["relative_l2_mean"] for r in refine]
    res = [r["relative_residual_mean"] for r in refine]
    if not e[0] > 0.05:
        fail("the model is not poorly trained enough to test refinement: error %g" % e[0])
    if not (e[2] < e[1] < e[0] and e[3] <= e[2]):
        fail("the error does not fall with the cycles: %s" % e)
    if not (res[2] < res[1] < res[0]):
        fail("the residual does not fall with the cycles: %s" % res)
    for r in refine:
        if not r["seconds_per_sample"] > 0:
            fail("refine k=%d has no time: %s" % (r["k"], r))
        if r["petsc_samples_reached"] != 3 or r["petsc_seconds_to_same_error"] is None:
            fail("PETSc does not reach the refined error on all 3 samples: %s" % r)
        if abs(r["ratio"] - r["petsc_seconds_to_same_error"] / r["seconds_per_sample"]) > \
                1e-12 * r["ratio"]:
            fail("ratio is not PETSc's time over the surrogate's: %s" % r)
    # A smaller error target is met by a later PETSc iterate on each sample.
    t = [r["petsc_seconds_to_same_error"] for r in refine]
    if t != sorted(t):
        fail("PETSc's time to the same error does not grow as the error falls: %s" % t)
    with h5py.File(os.path.join(ARGS.workdir, "test.h5"), "r") as f:
        rtol = float(f.attrs["solver.rtol"])
    with open(os.path.join(ARGS.workdir, "rep", "plot_data", "refine.json")) as f:
        curves = json.load(f)["petsc"]
    if len(curves) != 3:
        fail("refine.json holds %d PETSc curves, expected 3" % len(curves))
    for c in curves:
        s, err_, r = c["seconds"], c["relative_l2"], c["residual"]
        if not (len(s) == len(err_) == len(r) >= 2):
            fail("a PETSc curve is too short or ragged: %s" % c)
        if any(b <= a for a, b in zip(s, s[1:])) or not s[0] > 0:
            fail("a PETSc curve does not run forward in time: %s" % s)
        if abs(err_[0] - 1.0) > 1e-12:  # the zero initial guess
            fail("a PETSc curve does not start at error 1 (zero guess): %s" % err_[:3])
        if not (r[-1] <= rtol < r[0]):
            fail("a PETSc curve does not end at the tolerance %g: %s" % (rtol, r[-3:]))
        if not err_[-1] < 1e-6:
            fail("PETSc's last iterate is %g from the stored solution" % err_[-1])
    md = open(os.path.join(ARGS.workdir, "rep", "report.md")).read()
    if "## Test-time refinement" not in md or "| 20 |" not in md:
        fail("report.md lacks the refinement table")
    if "figures" in rep:  # plotting worked: the figure is there too
        if "refine.png" not in rep["figures"] or \
                not os.path.exists(os.path.join(ARGS.workdir, "rep", "refine.png")):
            fail("plotting worked but refine.png is missing: %s" % rep["figures"])
    # Bad counts: one line, nothing written.
    base = ["evaluate", "-model", "m.pins", "-data", "test.h5", "-o", "bad"]
    expect_error(base + ["-refine", "-1"], "evaluate", "must be 0 or more, got -1")
    expect_error(base + ["-refine", "abc"], "evaluate", "got 'abc'")
    expect_error(base + ["-refine", "1,,5"], "evaluate", "-refine takes a comma list")
    expect_error(base + ["-refine", "1,5,"], "evaluate", "-refine takes a comma list")


def case_nonlinear():
    """nonlinear_darcy end to end: the residual physics loss goes through the family's F(u)
    (its adjoint kernel gives the gradient), evaluate reports ||F(u)||/||F(0)||, and the
    losses and refinement that need a linear operator are refused."""
    need_h5py()
    import csv
    nl = ["generate", "-pde", "nonlinear_darcy", "-grid", "16", "-progress", "0"]
    expect_ok(nl + ["-samples", "32", "-seed", "1", "-o", "nl_train.h5"])
    expect_ok(nl + ["-samples", "8", "-seed", "2", "-o", "nl_test.h5"])
    expect_ok(nl + ["-samples", "32", "-seed", "3", "-inputs_only", "-o", "nl_inputs.h5"])
    small = FNO + ["-train_batch_size", "8", "-train_lr", "3e-3", "-train_monitor", "0"]
    # Physics only: the residual loss must fall (it can only through a correct gradient).
    expect_ok(["train", "-train_unlabelled", "nl_inputs.h5", "-train_data_weight", "0",
               "-train_physics_weight", "1", "-train_epochs", "15", "-train_log", "nl.csv",
               "-o", "nl_physics.pins"] + small)
    with open(os.path.join(ARGS.workdir, "nl.csv")) as f:
        rows = list(csv.DictReader(f))
    first, last = float(rows[0]["physics_loss"]), float(rows[-1]["physics_loss"])
    print("physics-only residual loss: epoch 1 %.4g, epoch %d %.4g" % (first, len(rows), last))
    if not last < 0.5 * first:
        fail("the residual physics loss did not fall: %g -> %g" % (first, last))
    # Data + residual physics loss, then evaluate: the prediction's ||F(u)||/||F(0)||.
    expect_ok(["train", "-data", "nl_train.h5", "-train_physics_weight", "0.1",
               "-train_epochs", "3", "-o", "nl.pins"] + small)
    report = evaluate("nl.pins", "nl_test.h5", "nl_report")
    r = report["relative_residual_prediction"]["mean"]
    if not (r > 0 and r < 1e3) or report["relative_residual_petsc"]["max"] > 1e-10:
        fail("residuals in the report: prediction %s, PETSc %s" % (
            report["relative_residual_prediction"], report["relative_residual_petsc"]))
    for loss in ("energy", "preconditioned"):
        expect_error(["train", "-data", "nl_train.h5", "-train_physics_loss", loss,
                      "-train_epochs", "1", "-o", "x.pins"] + small, "train",
                     "-train_physics_loss %s is not available for the nonlinear_darcy family: "
                     "its equation is nonlinear" % loss)
    expect_error(["evaluate", "-model", "nl.pins", "-data", "nl_test.h5", "-refine", "0,1",
                  "-o", "x"], "evaluate",
                 "cannot refine nonlinear_darcy predictions with multigrid cycles")


def case_fem():
    """darcy_fem end to end on meshes: the graph network trains with data + the sparse
    operator's residual, evaluates on its training mesh and on an unseen finer mesh (its graph
    comes from each dataset), PETSc re-solves rebuild the mesh from the file; grid surrogates
    are refused on mesh data and gnn on grid data."""
    need_h5py()
    import csv
    fem = ["generate", "-pde", "darcy_fem", "-progress", "0", "-mesh_perturb", "0.2"]
    expect_ok(fem + ["-grid", "10", "-samples", "48", "-seed", "1", "-o", "fem_train.h5"])
    expect_ok(fem + ["-grid", "10", "-samples", "8", "-seed", "2", "-o", "fem_test.h5"])
    expect_ok(fem + ["-grid", "20", "-samples", "8", "-seed", "2", "-o", "fem_fine.h5"])
    gnn = ["-surrogate_type", "gnn", "-gnn_width", "16", "-gnn_layers", "2", "-gnn_grid", "6",
           "-gnn_modes", "3", "-train_batch_size", "8", "-train_lr", "3e-3",
           "-train_monitor", "0", "-train_val_fraction", "0.125"]
    expect_ok(["train", "-data", "fem_train.h5", "-train_physics_weight", "0.1",
               "-train_epochs", "12", "-train_log", "fem.csv", "-o", "fem.pins"] + gnn)
    with open(os.path.join(ARGS.workdir, "fem.csv")) as f:
        rows = list(csv.DictReader(f))
    first, last = float(rows[0]["val_rel_l2"]), float(rows[-1]["val_rel_l2"])
    print("gnn on darcy_fem: validation relative L2 epoch 1 %.4g, epoch %d %.4g"
          % (first, len(rows), last))
    if not last < 0.7 * first:
        fail("the graph network did not learn: validation error %g -> %g" % (first, last))
    same = evaluate("fem.pins", "fem_test.h5", "fem_report")
    fine = evaluate("fem.pins", "fem_fine.h5", "fem_fine_report")
    for name, r in (("training mesh", same), ("finer mesh", fine)):
        print("%s: relative L2 %.4g, residual %.4g, PETSc %.3g s/sample" % (
            name, r["relative_l2"]["mean"], r["relative_residual_prediction"]["mean"],
            r["seconds_per_sample"]["petsc_solve"]))
        if not (0 < r["relative_l2"]["mean"] < 1) or r["relative_residual_petsc"]["max"] > 1e-10:
            fail("%s report: %s" % (name, r["relative_l2"]))
    expect_error(["train", "-data", "fem_train.h5", "-train_epochs", "1", "-o", "x.pins",
                  "-surrogate_type", "fno"], "train", "mesh")
    expect_ok(["generate", "-grid", "16", "-samples", "8", "-seed", "1", "-progress", "0",
               "-o", "grid.h5"])
    expect_error(["train", "-data", "grid.h5", "-train_epochs", "1", "-o", "x.pins"] + gnn,
                 "train", "runs on unstructured meshes")


def case_allen_cahn():
    """allen_cahn end to end: trajectories train a one-step model (data on the step's change +
    the implicit step's residual), evaluate rolls it out over whole trajectories against PETSc
    TS and measures it as the predictor of every implicit step; the losses a nonlinear family
    cannot take, and a single-state model on trajectories, are refused."""
    need_h5py()
    import csv
    ac = ["generate", "-pde", "allen_cahn", "-grid", "12", "-steps", "4", "-progress", "0"]
    expect_ok(ac + ["-samples", "24", "-seed", "1", "-o", "ac_train.h5"])
    expect_ok(ac + ["-samples", "4", "-seed", "2", "-o", "ac_test.h5"])
    small = ["-surrogate_type", "fno", "-fno_modes", "4", "-fno_width", "12", "-fno_layers", "2",
             "-fno_padding", "2", "-fno_hidden", "24", "-train_batch_size", "8",
             "-train_lr", "3e-3", "-train_monitor", "0", "-train_threads", "1"]
    expect_ok(["train", "-data", "ac_train.h5", "-train_physics_weight", "0.1",
               "-train_epochs", "10", "-train_log", "ac.csv", "-o", "ac.pins"] + small)
    with open(os.path.join(ARGS.workdir, "ac.csv")) as f:
        rows = list(csv.DictReader(f))
    first, last = float(rows[0]["val_rel_l2"]), float(rows[-1]["val_rel_l2"])
    print("one-step model: validation relative L2 of the change, epoch 1 %.4g, epoch %d %.4g"
          % (first, len(rows), last))
    if not last < 0.7 * first:
        fail("the one-step model did not learn: validation error %g -> %g" % (first, last))
    with open(os.path.join(ARGS.workdir, "ac.pins"), "rb") as f:
        manifest = f.read()
    if b'"state": "u_prev"' not in manifest and b'"state":"u_prev"' not in manifest:
        fail("the model file does not record that the network predicts the change of u_prev")
    r = evaluate("ac.pins", "ac_test.h5", "ac_report")
    ro, nw = r.get("rollout"), r.get("newton")
    if not ro or ro["steps"] != 4 or len(ro["relative_l2_mean"]) != 4:
        fail("the report has no 4-step rollout: %s" % ro)
    errors = ro["relative_l2_mean"]
    print("rollout error against step: %s; TS predictor %s -> %s Newton iterations per step"
          % (" ".join("%.3g" % e for e in errors), nw and nw["iterations_per_step_zero"],
             nw and nw["iterations_per_step_guess"]))
    # The error of step 1 is the one-step error of each trajectory's first row: it is no
    # larger than what the rollout accumulates by the last step.
    if not (0 < errors[0] <= errors[-1] < 1):
        fail("rollout errors %s" % errors)
    if not nw or nw["steps"] != 4 or not nw["iterations_per_step_zero"] > 0 or \
            not nw["iterations_per_step_guess"] > 0:
        fail("the report has no TS predictor comparison: %s" % nw)
    if not os.path.exists(os.path.join(ARGS.workdir, "ac_report", "plot_data", "rollout.json")):
        fail("no rollout plot data")
    for loss in ("energy", "preconditioned"):
        expect_error(["train", "-data", "ac_train.h5", "-train_physics_loss", loss,
                      "-train_epochs", "1", "-o", "x.pins"] + small, "train",
                     "-train_physics_loss %s is not available for the allen_cahn family" % loss)
    expect_ok(["generate", "-grid", "12", "-samples", "4", "-seed", "1", "-progress", "0",
               "-o", "ac_grid.h5"])
    expect_ok(["train", "-data", "ac_grid.h5", "-train_epochs", "1", "-o", "darcy12.pins"] + small)
    expect_error(["evaluate", "-model", "darcy12.pins", "-data", "ac_test.h5", "-o", "x"],
                 "evaluate", "darcy")


def case_gray_scott():
    """gray_scott end to end with two fields: trajectories train a one-step FNO with 2 output
    channels, evaluate rolls it out against PETSc TS; the SNES-guess comparison, which
    handles one field, is reported as not measured."""
    need_h5py()
    import csv
    gs = ["generate", "-pde", "gray_scott", "-grid", "12", "-steps", "4", "-progress", "0"]
    expect_ok(gs + ["-samples", "24", "-seed", "1", "-o", "gs_train.h5"])
    expect_ok(gs + ["-samples", "4", "-seed", "2", "-o", "gs_test.h5"])
    small = ["-surrogate_type", "fno", "-fno_modes", "4", "-fno_width", "12", "-fno_layers", "2",
             "-fno_padding", "2", "-fno_hidden", "24", "-train_batch_size", "8",
             "-train_lr", "3e-3", "-train_monitor", "0", "-train_threads", "1"]
    expect_ok(["train", "-data", "gs_train.h5", "-train_epochs", "20", "-train_log", "gs.csv",
               "-o", "gs.pins"] + small)
    with open(os.path.join(ARGS.workdir, "gs.csv")) as f:
        rows = list(csv.DictReader(f))
    first, last = float(rows[0]["val_rel_l2"]), float(rows[-1]["val_rel_l2"])
    print("one-step model: validation relative L2 of the change, epoch 1 %.4g, epoch %d %.4g"
          % (first, len(rows), last))
    if not last < first:
        fail("the one-step model did not learn: validation error %g -> %g" % (first, last))
    with open(os.path.join(ARGS.workdir, "gs.pins"), "rb") as f:
        manifest = f.read()
    if b'"state": "w_prev"' not in manifest and b'"state":"w_prev"' not in manifest:
        fail("the model file does not record that the network predicts the change of w_prev")
    r = evaluate("gs.pins", "gs_test.h5", "gs_report")
    ro = r.get("rollout")
    if not ro or ro["steps"] != 4 or len(ro["relative_l2_mean"]) != 4:
        fail("the report has no 4-step rollout: %s" % ro)
    errors = ro["relative_l2_mean"]
    print("rollout error against step: %s" % " ".join("%.3g" % e for e in errors))
    if not all(0 < e < 1 for e in errors):
        fail("rollout errors %s" % errors)
    if r.get("newton") != "not measured: the SNES guess handles one field":
        fail("report['newton'] = %r" % r.get("newton"))


def case_option_spaces():
    """Option values with spaces in them reach `pins train` whole: the data, model and log
    paths below live in a folder whose name has spaces and a word that looks like an option
    name (-train_bogus is no option; a split value would be refused as an unknown one)."""
    folder = "runs with space -train_bogus x"
    os.makedirs(os.path.join(ARGS.workdir, folder))
    data = os.path.join(folder, "train data.h5")
    expect_ok(["generate", "-grid", "32", "-samples", "8", "-seed", "1", "-progress", "0",
               "-o", data])
    model = os.path.join(folder, "my model.pins")
    log = os.path.join(folder, "train log.csv")
    expect_ok(["train", "-data", data, "-o", model, "-train_epochs", "2", "-train_batch_size",
               "4", "-train_log", log, "-train_monitor", "0", "-train_threads", "1"] + FNO)
    for path in (model, log, model + ".ckpt"):
        if not os.path.isfile(os.path.join(ARGS.workdir, path)):
            fail("pins train did not write '%s'; in the folder: %s" % (
                path, sorted(os.listdir(os.path.join(ARGS.workdir, folder)))))
    with open(os.path.join(ARGS.workdir, log)) as f:
        rows = f.read().splitlines()
    if len(rows) != 3:
        fail("'%s' has %d lines, expected a header and 2 epochs" % (log, len(rows)))
    print("ok: -train_log '%s' written whole" % log)


def rewrite_manifest(src, dst, change):
    """Copies a model file with its JSON manifest edited by `change` (lengths fixed up)."""
    with open(src, "rb") as f:
        b = f.read()
    m, w = struct.unpack("<QQ", b[16:32])
    manifest = json.loads(b[32:32 + m])
    change(manifest)
    text = (json.dumps(manifest, indent=2) + "\n").encode()
    with open(dst, "wb") as f:
        f.write(b[:16] + struct.pack("<QQ", len(text), w) + text + b[32 + m:])


def case_bad_input():
    need_h5py()
    import h5py
    import numpy as np
    wd = ARGS.workdir
    generate("d.h5", 16, 1)
    quick = ["-train_epochs", "2", "-train_monitor", "0", "-fno_modes", "4", "-fno_width", "8",
             "-fno_layers", "1", "-fno_hidden", "8"]
    expect_ok(["train", "-data", "d.h5", "-o", "m.pins", "-train_checkpoint", "m.ckpt",
               "-train_checkpoint_every", "1"] + quick)

    def variant(name, edit):
        shutil.copy(os.path.join(wd, "d.h5"), os.path.join(wd, name))
        with h5py.File(os.path.join(wd, name), "r+") as f:
            edit(f)

    variant("no_u.h5", lambda f: f.__delitem__("u"))
    expect_error(["train", "-data", "no_u.h5", "-o", "x.pins"] + quick, "train", "'u'")
    variant("no_nx.h5", lambda f: f.attrs.__delitem__("nx"))
    expect_error(["train", "-data", "no_nx.h5", "-o", "x.pins"] + quick, "train", "nx")

    def reshape_f(f):
        data = f["f"][:, :, :-1]
        del f["f"]
        f.create_dataset("f", data=data, chunks=(1,) + data.shape[1:], fletcher32=True)
    variant("shape.h5", reshape_f)
    expect_error(["train", "-data", "shape.h5", "-o", "x.pins"] + quick, "train", "'f'")

    def put_nan(f):
        k = f["kappa"][...]
        k[3, 5, 7] = np.nan
        f["kappa"][...] = k
    variant("nan.h5", put_nan)
    expect_error(["train", "-data", "nan.h5", "-o", "x.pins"] + quick, "train", "non-finite")
    expect_error(["evaluate", "-model", "m.pins", "-data", "nan.h5", "-o", "r"], "evaluate", "non-finite")

    def put_inf(f):
        u = f["u"][...]
        u[0, 1, 1] = np.inf
        f["u"][...] = u
    variant("inf.h5", put_inf)
    expect_error(["train", "-data", "inf.h5", "-o", "x.pins"] + quick, "train", "u")

    # Model files for another problem family or channel count, corrupt or truncated.
    rewrite_manifest(os.path.join(wd, "m.pins"), os.path.join(wd, "heat.pins"),
                     lambda m: m.__setitem__("problem_family", "heat"))
    expect_error(["evaluate", "-model", "heat.pins", "-data", "d.h5", "-o", "r"], "evaluate",
                 "problem_family mismatch")
    rewrite_manifest(os.path.join(wd, "m.pins"), os.path.join(wd, "channels.pins"),
                     lambda m: m["architecture"].__setitem__("in_channels", 3))
    expect_error(["evaluate", "-model", "channels.pins", "-data", "d.h5", "-o", "r"], "evaluate",
                 "in_channels mismatch")
    with open(os.path.join(wd, "m.pins"), "rb") as f:
        model = f.read()
    with open(os.path.join(wd, "truncated.pins"), "wb") as f:
        f.write(model[:len(model) - 100])
    expect_error(["evaluate", "-model", "truncated.pins", "-data", "d.h5", "-o", "r"], "evaluate",
                 "truncated")
    corrupt = bytearray(model)
    corrupt[-50] ^= 0x5A
    with open(os.path.join(wd, "corrupt.pins"), "wb") as f:
        f.write(bytes(corrupt))
    expect_error(["evaluate", "-model", "corrupt.pins", "-data", "d.h5", "-o", "r"], "evaluate",
                 "SHA-256")
    expect_error(["evaluate", "-model", "missing.pins", "-data", "d.h5", "-o", "r"], "evaluate",
                 "does not exist")

    # Resuming with incompatible options; checkpoint left as it was.
    expect_error(["train", "-data", "d.h5", "-o", "r.pins", "-train_checkpoint", "m.ckpt",
                  "-train_resume", "-train_batch_size", "3"] + quick, "train",
                 "-train_batch_size")
    expect_error(["train", "-data", "d.h5", "-o", "r.pins", "-train_checkpoint", "m.ckpt",
                  "-train_resume", "-fno_width", "4"] + quick[:-6] + ["-fno_layers", "1",
                  "-fno_hidden", "8", "-fno_modes", "4"], "train", "surrogate options")
    expect_error(["train", "-data", "d.h5", "-o", "r.pins", "-train_checkpoint", "m.ckpt"] + quick,
                 "train", "already exists")

    # Outputs: existing files are kept, unwritable places refused before any work.
    expect_error(["train", "-data", "d.h5", "-o", "m.pins"] + quick, "train", "already exists")
    expect_error(["train", "-data", "d.h5", "-o", "no/such/dir/m.pins"] + quick, "train",
                 "not writable")
    os.makedirs(os.path.join(wd, "rep"))
    with open(os.path.join(wd, "rep", "report.json"), "w") as f:
        f.write("{}\n")
    expect_error(["evaluate", "-model", "m.pins", "-data", "d.h5", "-o", "rep"], "evaluate",
                 "already holds a report")
    expect_error(["evaluate", "-model", "m.pins", "-data", "d.h5", "-o", "no/such/dir"],
                 "evaluate", "not writable")
    # Options.
    expect_error(["train", "-data", "d.h5", "-o", "x.pins", "-train_epoch", "3"], "train",
                 "unknown option -train_epoch")
    expect_error(["train", "-data", "d.h5", "-o", "x.pins", "-fno_mode", "3"], "train",
                 "-fno_mode")
    expect_error(["train", "-o", "x.pins"], "train", "-data")
    # -train_device: a bad name; cuda on this CPU build (a CPU-only LibTorch, a host Kokkos)
    # is refused by what is missing, before any data is read.
    expect_error(["train", "-data", "d.h5", "-o", "x.pins", "-train_device", "gpu"], "train",
                 "-train_device must be auto, cpu or cuda, got 'gpu'")
    expect_error(["train", "-data", "d.h5", "-o", "x.pins", "-train_device", "cuda"], "train",
                 "-train_device cuda: this LibTorch sees no CUDA device")
    # ... and for the solve-free tasks, before any problem is drawn.
    expect_error(["train", "-task", "precondition", "-o", "x.pins", "-train_device", "gpu"],
                 "train", "-train_device must be auto, cpu or cuda, got 'gpu'")
    expect_error(["train", "-task", "smoother", "-o", "x.pins", "-train_device", "cuda"],
                 "train", "-train_device cuda: this LibTorch sees no CUDA device")
    # MgNet is a preconditioner: refused for -task solution; its options checked up front.
    expect_error(["train", "-data", "d.h5", "-o", "x.pins", "-surrogate_type", "mgnet"], "train",
                 "surrogate type 'mgnet' does not serve -task solution (it serves: precondition")
    expect_error(["train", "-data", "d.h5", "-o", "x.pins", "-surrogate_type", "fno3d"], "train",
                 "surrogate type 'fno3d' runs on 3-D grids, the data is 2-D")
    expect_error(["train", "-task", "precondition", "-o", "x.pins", "-surrogate_type", "mlp"],
                 "train", "surrogate type 'mlp' does not serve -task precondition")
    expect_error(["train", "-task", "precondition", "-o", "x.pins", "-mgnet_smooth", "0"], "train",
                 "mgnet: smooth must be at least 1, got 0 (-mgnet_smooth)")
    expect_error(["train", "-task", "precondition", "-o", "x.pins", "-precondition_iterations",
                  "50"], "train", "-precondition_iterations must be in [1, 20], got 50")


def case_precondition_checkpoint():
    pc = ["train", "-task", "precondition", "-surrogate_type", "fno", "-fno_modes", "4",
          "-fno_width", "8", "-fno_layers", "2", "-fno_hidden", "16", "-grid", "8",
          "-train_steps", "6", "-train_batch_size", "2", "-train_monitor_every", "2",
          "-train_threads", "2", "-train_checkpoint", "pc.ckpt", "-train_log", "pc.csv"]
    expect_error(pc + ["-o", "pc.pins", "-train_checkpoint_every", "3"], "train",
                 "-train_checkpoint_every must be a multiple of the steps per interval (2")
    pc += ["-train_checkpoint_every", "4"]
    out, _ = expect_ok(pc + ["-o", "pc.pins"])
    with open(os.path.join(ARGS.workdir, "pc.csv")) as f:
        rows = f.read().splitlines()
    if rows[0] != "step,loss,val_loss,lr,seconds,skipped_steps" or \
            [r.split(",")[0] for r in rows[1:]] != ["2", "4", "6"]:
        fail("pc.csv is not a header and the intervals ending at steps 2, 4, 6:\n" +
             "\n".join(rows))
    for name in ("pc.ckpt", "pc.pins"):
        if not os.path.exists(os.path.join(ARGS.workdir, name)):
            fail("pins train -task precondition did not write " + name)
    expect_error(pc + ["-o", "pc2.pins"], "train",
                 "-train_checkpoint pc.ckpt already exists; pass -train_resume")
    out, _ = expect_ok(pc + ["-o", "pc2.pins", "-train_resume"])
    if "resumed from checkpoint 'pc.ckpt' after step 6" not in out:
        fail("the resumed run does not say where it resumed:\n" + out)
    # The resumed run had nothing left to do: the same weights in both model files.
    def weights(name):
        with open(os.path.join(ARGS.workdir, name), "rb") as f:
            b = f.read()
        m, w = struct.unpack("<QQ", b[16:32])
        return b[32 + m:32 + m + w]
    if weights("pc.pins") != weights("pc2.pins"):
        fail("the model resumed after the last step differs from the one trained")


def case_calibrate():
    """pins calibrate: a split conformal error bound fitted on held-out samples and stored in
    the model file (in place, weights unchanged); pins evaluate reports its coverage and its
    rank correlation with the errors; bad levels, too few samples, inputs-only data and a
    missing file are refused in one line with the model file untouched."""
    generate("c_train.h5", 48, 1)
    generate("c_cal.h5", 40, 2)
    generate("c_test.h5", 40, 3)
    expect_ok(["train", "-data", "c_train.h5", "-surrogate_type", "fno", "-fno_modes", "6",
               "-fno_width", "12", "-train_epochs", "15", "-train_lr", "3e-3",
               "-train_monitor", "0", "-train_threads", "1", "-o", "c.pins"])
    with open(os.path.join(ARGS.workdir, "c.pins"), "rb") as f:
        before = f.read()
    # Two threads where the training had one: the comparison with calibration at training
    # time below holds to float32 rounding (to the bit only where the BLAS sums a GEMM alike
    # on 1 and 2 threads: OpenBLAS's Zen kernels do, its Haswell kernels do not).
    out, _ = expect_ok(["calibrate", "-model", "c.pins", "-data", "c_cal.h5",
                        "-calibrate_level", "0.8", "-calibrate_threads", "2"])
    if "80 % error bound" not in out or "40 samples of c_cal.h5" not in out:
        fail("pins calibrate does not say what it fitted:\n" + out)
    with open(os.path.join(ARGS.workdir, "c.pins"), "rb") as f:
        after = f.read()
    weights = lambda b: b[32 + struct.unpack_from("<Q", b, 16)[0]:]
    if weights(before) != weights(after):
        fail("pins calibrate changed the model's weights")
    r = evaluate("c.pins", "c_test.h5", "c_report")
    b = r.get("error_bound")
    if not b or b["level"] != 0.8 or b["calibration_samples"] != 40:
        fail("report.json has no error_bound of the calibration: %s" % b)
    print("calibrated at 0.8 on 40 samples: quantile %.4g; on 40 test samples coverage %.3f, "
          "Spearman(bound, error) %s" % (b["quantile"], b["coverage"], b["spearman_bound_error"]))
    # 40 exchangeable test samples: the coverage is random around >= 0.8; far below means
    # the bound is not what it claims.
    if not 0.55 <= b["coverage"] <= 1.0:
        fail("coverage %.3f of the 80 %% bound on fresh samples" % b["coverage"])
    ood = r.get("out_of_distribution")
    if not ood or not ood["residual_threshold"] > 0 or not 0 <= ood["flagged_fraction"] <= 1:
        fail("report.json has no out_of_distribution flag of the calibration: %s" % ood)
    with open(os.path.join(ARGS.workdir, "c_report", "report.md")) as f:
        md = f.read()
        if "Calibrated error bound" not in md or "Out-of-distribution flag" not in md:
            fail("report.md does not show the calibrated bound and the OOD flag")
    if not os.path.exists(os.path.join(ARGS.workdir, "c_report", "plot_data",
                                       "relative_residual.npy")):
        fail("pins evaluate wrote no per-answer certificates (plot_data/relative_residual.npy)")
    expect_ok(["generate", "-grid", "32", "-samples", "12", "-seed", "4", "-inputs_only",
               "-progress", "0", "-o", "c_inputs.h5"])
    for args, expected in [
            (["-calibrate_level", "1.5"], "-calibrate_level must be in (0, 1)"),
            (["-calibrate_level", "0.99"], "needs at least 99 samples, got 40"),
            (["-calibrate_memory", "-2"], "-calibrate_memory must be >= 0")]:
        expect_error(["calibrate", "-model", "c.pins", "-data", "c_cal.h5"] + args,
                     "calibrate", expected)
    expect_error(["calibrate", "-model", "c.pins", "-data", "c_inputs.h5"], "calibrate",
                 "holds no solutions")
    expect_error(["calibrate", "-model", "c.pins", "-data", "missing.h5"], "calibrate",
                 "missing.h5")
    expect_error(["calibrate", "-model", "c.pins"], "calibrate", "-data <file.h5> is required")
    # The bound's score: the error estimate by default where Darcy offers it, the certificate
    # when asked; a bad score is refused.
    if r["error_bound"]["score"] != "error_estimate" or \
            not isinstance(r.get("error_estimate"), dict) or \
            not r["error_estimate"]["spearman_estimate_error"] > 0.9:
        fail("the default calibration is not on Darcy's error estimates: %s / %s"
             % (r["error_bound"], r.get("error_estimate")))
    print("Spearman with the error: estimate %.3f, certificate %.3f" % (
        r["error_estimate"]["spearman_estimate_error"],
        r["error_estimate"]["spearman_certificate_error"]))
    out, _ = expect_ok(["calibrate", "-model", "c.pins", "-data", "c_cal.h5", "-o", "c_res.pins",
                        "-calibrate_score", "residual"])
    if "x relative residual" not in out:
        fail("-calibrate_score residual did not calibrate on the certificate:\n" + out)
    expect_error(["calibrate", "-model", "c.pins", "-data", "c_cal.h5", "-calibrate_score",
                  "learned"], "calibrate", "-calibrate_score must be auto, residual or error_estimate")
    # Calibrated at training time: pins train -calibrate_data gives the model pins calibrate
    # gives (training is reproducible bit for bit on one thread; the calibration's evaluation,
    # there on one thread and here on two, agrees to float32 rounding, not to the bit: whether
    # a GEMM sums alike on 1 and 2 threads is the BLAS's choice); bad calibration options fail
    # before training, writing nothing.
    train_c = ["train", "-data", "c_train.h5", "-surrogate_type", "fno", "-fno_modes", "6",
               "-fno_width", "12", "-train_epochs", "15", "-train_lr", "3e-3",
               "-train_monitor", "0", "-train_threads", "1"]
    expect_ok(train_c + ["-o", "c_at_train.pins", "-calibrate_data", "c_cal.h5",
                         "-calibrate_level", "0.8"])
    def calibration_of(name):
        with open(os.path.join(ARGS.workdir, name), "rb") as f:
            b = f.read()
        return json.loads(b[32:32 + struct.unpack_from("<Q", b, 16)[0]])["metrics"]["calibration"]
    at_train, after = calibration_of("c_at_train.pins"), calibration_of("c.pins")
    if abs(at_train["quantile"] / after["quantile"] - 1) > 1e-6 or at_train["samples"] != 40 or \
            at_train["score"] != after["score"]:
        fail("calibrating at training time differs from pins calibrate: %s vs %s"
             % (at_train, after))
    for args, expected in [
            (["-calibrate_data", "c_inputs.h5"], "c_inputs.h5: the dataset holds no solutions"),
            (["-calibrate_data", "c_cal.h5", "-calibrate_level", "2"],
             "-calibrate_level must be in (0, 1)"),
            (["-calibrate_data", "c_cal.h5", "-calibrate_score", "x"],
             "-calibrate_score must be auto, residual or error_estimate")]:
        expect_error(train_c + ["-o", "c_bad.pins"] + args, "train", expected)
    # A preconditioner model: its operator flag (fitted at training time) refitted on the
    # user's operators, inputs-only data being enough; a 3-D family's operators are refused.
    expect_ok(["train", "-task", "precondition", "-surrogate_type", "mgnet", "-mgnet_width", "4",
               "-grid", "16", "-train_steps", "2", "-train_batch_size", "2", "-train_threads", "1",
               "-train_monitor_every", "0", "-o", "c_pc.pins"])
    def flag_of(name):
        with open(os.path.join(ARGS.workdir, name), "rb") as f:
            b = f.read()
        return json.loads(b[32:32 + struct.unpack_from("<Q", b, 16)[0]])["metrics"]["operator_flag"]
    trained = flag_of("c_pc.pins")
    if trained["samples"] != 256 or len(trained["centre"]) != 16:
        fail("pins train -task precondition stored no operator flag: %s" % trained)
    out, _ = expect_ok(["calibrate", "-model", "c_pc.pins", "-data", "c_inputs.h5"])
    refitted = flag_of("c_pc.pins")
    if "operator flag refitted on the 12 operators of c_inputs.h5" not in out or \
            refitted["samples"] != 12 or refitted["data"] != "c_inputs.h5" or \
            refitted["centre"] == trained["centre"]:
        fail("the operator flag was not refitted on the dataset's operators:\n%s\n%s"
             % (out, refitted))
    expect_ok(["generate", "-pde", "darcy3d", "-grid", "6", "-samples", "3", "-inputs_only",
               "-progress", "0", "-o", "c_3d.h5"])
    expect_error(["calibrate", "-model", "c_pc.pins", "-data", "c_3d.h5"], "calibrate",
                 "not a 2-D 5-point stencil")


def bench_suite(name, suite):
    with open(os.path.join(ARGS.workdir, name), "w") as f:
        json.dump(suite, f, indent=1)


def case_bench():
    """pins bench: a suite makes its datasets and models (generate on 2 processes, train,
    calibrate, a preconditioner), times the solvers alone and with the preconditioner inside,
    measures the solution model's answers (bound, OOD AUROC) and the break-even, writes
    report.json/report.md; a rerun reuses every step; a suite of existing files (a user's own
    model and data) runs without training; bad suites fail in one line touching nothing."""
    fno = "-surrogate_type fno -fno_modes 4 -fno_width 8 -train_epochs 3 -train_batch_size 8 " \
          "-train_threads 1"
    suite = {
        "name": "tiny",
        "datasets": {
            "train": {"generate": "-pde darcy -grid 16 -samples 48 -seed 1", "procs": 2},
            "cal": {"generate": "-pde darcy -grid 16 -samples 20 -seed 3"},
            "test": {"generate": "-pde darcy -grid 16 -samples 12 -seed 2"},
            "contrast": {"generate": "-pde darcy -grid 16 -samples 8 -seed 5 -kappa_contrast 1e4"}},
        "models": {
            "fno": {"train": fno, "data": "train", "calibrate": "cal"},
            "pc": {"train": "-task precondition -surrogate_type mgnet -grid 16 -train_steps 10 "
                            "-train_batch_size 4 -train_threads 1"}},
        "solvers": {"cg_gamg": "-ksp_type cg -pc_type gamg",
                    "cg_jacobi": "-ksp_type cg -pc_type jacobi"},
        "test": "test", "ood": ["contrast"], "solve_samples": 4, "repeats": 1,
        "tolerances": [0.5, 0.95]}
    bench_suite("tiny.json", suite)
    out, _ = expect_ok(["bench", "-suite", "tiny.json", "-o", "rep", "-bench_threads", "1"],
                       timeout=600)
    with open(os.path.join(ARGS.workdir, "rep", "report.json")) as f:
        r = json.load(f)
    for name in ("cg_gamg", "cg_jacobi"):
        t = r["solvers"][name]
        if t["converged"] != 4 or not t["mean_iterations"] > 0 or not t["mean_seconds"] > 0:
            fail("solver %s not timed on 4 samples: %s" % (name, t))
    if not r["solvers"]["cg_jacobi"]["mean_iterations"] > r["solvers"]["cg_gamg"]["mean_iterations"]:
        fail("CG + Jacobi took no more iterations than CG + GAMG: %s" % r["solvers"])
    m = r["models"]["fno"]
    a = m["answers"]
    if a["samples"] != 12 or not 0 < a["relative_l2"]["mean"] < 10:
        fail("the FNO's answers on the test set are not measured: %s" % a)
    if "error_bound" not in a or a["error_bound"]["calibration_samples"] != 20:
        fail("the calibrated bound is not reported: %s" % a.keys())
    o = a["out_of_distribution_sets"]["contrast"]
    # A 1:10^4 contrast multiplies the certificate by about 10^3 (measured 3.7e3 vs 3.9).
    if not o["auroc_certificate"] >= 0.9 or o["out_of_distribution"]["flagged_fraction"] < 0.9:
        fail("the contrast set is not told apart by the certificate: %s" % o)
    cost = m["cost"]
    if not cost["training_seconds"] > 0 or not cost["data_generation_seconds"] > 0 or \
            cost["data_generation_processes"] != 2 or \
            abs(cost["seconds"] - cost["training_seconds"] - cost["data_generation_seconds"]) > 1e-9:
        fail("the model's cost does not come from its manifest and its data: %s" % cost)
    for solver in ("cg_gamg", "cg_jacobi"):
        be = m["break_even_queries"][solver]
        saved = r["solvers"][solver]["mean_seconds"] - a["seconds_per_query_single"]
        expected = None if saved <= 0 else math.ceil(cost["seconds"] / saved)
        if be != expected:
            fail("break-even against %s: %s, expected %s" % (solver, be, expected))
    # Certified replacement: accepted answers are the unflagged ones within the tolerance;
    # a query costs the answer and its evidence (certificate, input statistics and, for a
    # bound on error estimates, the estimate) plus, when rejected, the solve.
    if a["error_bound"]["score"] != "error_estimate" or not a["seconds_per_query_estimate"] > 0:
        fail("the Darcy model is not calibrated on error estimates by default: %s" %
             a["error_bound"])
    evidence = a["seconds_per_query_certificate"] + a["seconds_per_query_estimate"]
    for rep in m["replace"]:
        if not 0 <= rep["accepted_above_tolerance"] <= rep["accepted"] <= rep["answers"] == 12:
            fail("replacement counts are inconsistent: %s" % rep)
        for solver in ("cg_gamg", "cg_jacobi"):
            t = a["seconds_per_query_single"] + evidence + (1 - rep["accepted_fraction"]) * \
                r["solvers"][solver]["mean_seconds"]
            if abs(rep["seconds_per_query"][solver] - t) > 1e-12:
                fail("replacement time per query against %s: %s" % (solver, rep))
    if [rep["tolerance"] for rep in m["replace"]] != [0.5, 0.95]:
        fail("not one replacement entry per tolerance: %s" % m["replace"])
    uses = r["models"]["pc"]["uses"]
    if sorted(uses) != ["guess+cg_gamg", "guess+cg_jacobi", "precondition"]:
        fail("the preconditioner model is not tried as guess and preconditioner: %s" % sorted(uses))
    for key, t in uses.items():
        if t["converged"] != 4:
            fail("%s did not converge on every sample: %s" % (key, t))
    with open(os.path.join(ARGS.workdir, "rep", "report.md")) as f:
        md = f.read()
    for heading in ("## Solvers", "## Answers", "## Certified replacement",
                    "## Preconditioner models", "## Operator flag", "## Break-even"):
        if heading not in md:
            fail("report.md has no %r" % heading)
    if any(s["reused"] for s in r["steps"]):
        fail("a first run reused steps: %s" % r["steps"])
    # A rerun reuses every dataset and model (their commands are unchanged).
    out, _ = expect_ok(["bench", "-suite", "tiny.json", "-o", "rep", "-force", "-bench_plot",
                        "0", "-bench_threads", "1"], timeout=600)
    with open(os.path.join(ARGS.workdir, "rep", "report.json")) as f:
        r2 = json.load(f)
    if not all(s["reused"] for s in r2["steps"]) or len(r2["steps"]) != 6:
        fail("a rerun did not reuse its steps: %s" % r2["steps"])
    # A user's own files: nothing to make. The preconditioner model, used in no solver, still
    # has its operator flag reported.
    mine = {"datasets": {"test": {"path": "rep/work/test.h5"}},
            "models": {"mine": {"path": "rep/work/fno.pins"}, "pc": {"path": "rep/work/pc.pins"}},
            "solvers": {"cg": "-ksp_type cg -pc_type jacobi"}, "test": "test",
            "solve_samples": 2, "repeats": 1, "uses": []}
    bench_suite("mine.json", mine)
    expect_ok(["bench", "-suite", "mine.json", "-o", "rep_mine", "-bench_plot", "0",
               "-bench_threads", "1"])
    with open(os.path.join(ARGS.workdir, "rep_mine", "report.json")) as f:
        r3 = json.load(f)
    if r3["steps"] or r3["models"]["mine"]["answers"]["relative_l2"] != a["relative_l2"]:
        fail("the user's own files were not measured as they are: %s" % r3["models"])
    with open(os.path.join(ARGS.workdir, "rep_mine", "report.md")) as f:
        md = f.read()
    if "## Operator flag" not in md or "## Preconditioner models" in md:
        fail("report.md of a suite without uses lacks the operator flag section:\n" + md)
    # A test set larger than -bench_memory is scored block by block from its file: the same.
    expect_ok(["bench", "-suite", "mine.json", "-o", "rep_streamed", "-bench_plot", "0",
               "-bench_threads", "1", "-bench_memory", "0.0001"])
    with open(os.path.join(ARGS.workdir, "rep_streamed", "report.json")) as f:
        r4 = json.load(f)
    for key in ("relative_l2", "relative_residual"):
        if r4["models"]["mine"]["answers"][key] != r3["models"]["mine"]["answers"][key]:
            fail("streamed answers differ (%s): %s vs %s" % (
                key, r4["models"]["mine"]["answers"][key], r3["models"]["mine"]["answers"][key]))
    if "streamed" not in r4["models"]["mine"]["answers"] or \
            "streamed" in r3["models"]["mine"]["answers"]:
        fail("-bench_memory 0.0001 did not stream the test set (or the default did)")
    if r4["solvers"]["cg"]["iterations"] != r3["solvers"]["cg"]["iterations"]:
        fail("the solvers saw other samples when the test set was streamed")
    # Bad suites and options: one line, nothing written.
    with open(os.path.join(ARGS.workdir, "broken.json"), "w") as f:
        f.write("{\"name\": ")
    bad = [
        ({"test": "test", "datasets": {"test": {"path": "x.h5"}}, "solverz": {}},
         "unknown key 'solverz'"),
        ({"test": "test", "datasets": {"test": {"path": "x.h5", "generate": "-grid 8"}},
          "solvers": {"cg": "-ksp_type cg"}}, "give exactly one of 'path'"),
        ({"test": "nope", "datasets": {"test": {"path": "x.h5"}}, "solvers": {"cg": "-ksp_type cg"}},
         "no dataset named 'nope'"),
        ({"test": "test", "datasets": {"test": {"generate": "-grid 8 -o x.h5"}},
          "solvers": {"cg": "-ksp_type cg"}}, "must not contain -o"),
        ({"test": "test", "datasets": {"test": {"path": "x.h5"}}, "models": {"m": {"train": "-train_epochs 1"}}},
         "'train' needs 'data'"),
        ({"test": "test", "datasets": {"te st": {"path": "x.h5"}}}, "must be 1-64 letters"),
        ({"test": "test", "datasets": {"test": {"path": "x.h5"}}, "solve_samples": 0,
          "solvers": {"cg": "-ksp_type cg"}}, "solve_samples: expected a positive integer"),
        ({"test": "test", "datasets": {"test": {"path": "x.h5"}}, "tolerances": [1.5],
          "solvers": {"cg": "-ksp_type cg"}}, "tolerances: expected a list of relative errors"),
    ]
    for i, (content, expected) in enumerate(bad):
        bench_suite("bad%d.json" % i, content)
    for i, (content, expected) in enumerate(bad):
        expect_error(["bench", "-suite", "bad%d.json" % i, "-o", "rep_bad"], "bench", expected)
    expect_error(["bench", "-suite", "broken.json", "-o", "rep_bad"], "bench", "not valid JSON")
    expect_error(["bench", "-suite", "missing.json", "-o", "rep_bad"], "bench", "missing.json")
    expect_error(["bench", "-o", "rep_bad"], "bench", "-suite <file.json> is required")
    expect_error(["bench", "-suite", "tiny.json", "-o", "rep"], "bench", "pass -force")
    expect_error(["bench", "-suite", "mine.json", "-o", "rep_x", "-bench_solve_samples", "-1"],
                 "bench", "-bench_solve_samples must be >= 0")
    expect_error(["bench", "-suite", "mine.json", "-o", "rep_x", "-bench_memory", "-1"],
                 "bench", "-bench_memory must be >= 0")
    # A step that fails names itself and its log, and leaves no output to be reused.
    bench_suite("fails.json", {"datasets": {"test": {"generate": "-pde darcy -grid 0 -samples 2"}},
                               "solvers": {"cg": "-ksp_type cg"}, "test": "test"})
    rc, _, err = run(["bench", "-suite", "fails.json", "-o", "rep_fails"])
    lines = [l for l in err.splitlines() if l.strip()]
    check_one_line_error(rc, lines, "bench fails.json", "bench", "bench step 'generate test' failed")
    if "generate_test.log" not in lines[0] or \
            os.path.exists(os.path.join(ARGS.workdir, "rep_fails", "work", "test.h5")) or \
            os.path.exists(os.path.join(ARGS.workdir, "rep_fails", "report.json")):
        fail("a failed step left output behind or did not name its log: %s" % lines[0])
    print("bench: FNO rel. L2 %.3g, AUROC %.3f, cost %.1f s; CG+GAMG %.3g ms, guess %s"
          % (a["relative_l2"]["mean"], o["auroc_certificate"], cost["seconds"],
             r["solvers"]["cg_gamg"]["mean_seconds"] * 1e3,
             {k: round(t["mean_iterations"], 2) for k, t in uses.items()}))


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--pins", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("case", choices=["learn", "bad_input", "option_spaces",
                                    "precondition_checkpoint", "refine", "refine_3d",
                                    "nonlinear", "fem", "allen_cahn", "gray_scott",
                                    "calibrate", "bench"])
    ARGS = p.parse_args()
    shutil.rmtree(ARGS.workdir, ignore_errors=True)
    os.makedirs(ARGS.workdir)
    {"learn": case_learn, "bad_input": case_bad_input, "fem": case_fem,
     "option_spaces": case_option_spaces,
     "precondition_checkpoint": case_precondition_checkpoint,
     "refine": case_refine, "refine_3d": case_refine_3d,
     "nonlinear": case_nonlinear, "allen_cahn": case_allen_cahn,
     "gray_scott": case_gray_scott, "calibrate": case_calibrate,
     "bench": case_bench}[ARGS.case]()
    print("PASS")


if __name__ == "__main__":
    main()
