#!/usr/bin/env python3
"""Runs the `pins` CLI the way users do and checks what they would see.

Usage: cli_test.py --pins PATH --mpiexec PATH [--mpiexec-flag FLAG ...] --workdir DIR CASE

Each CASE is one CTest test. Every error case checks: a non-zero exit status, exactly one
line on stderr of the form "pins <subcommand>: error: ...", naming what was wrong, and no
output file or temporary file left behind. Exit status 77 means "skipped" (h5py missing).
"""

import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_support import check_one_line_error, fail, strip_mpiexec_notices  # noqa: E402

ARGS = None


def run(cmd, ranks=None, cwd=None):
    """Runs pins (under mpiexec with `ranks` processes if given); returns (rc, out, err)."""
    full = [ARGS.pins] + cmd
    if ranks is not None:
        full = [ARGS.mpiexec, "-n", str(ranks)] + ARGS.mpiexec_flag + full
    p = subprocess.run(full, cwd=cwd or ARGS.workdir, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def expect_ok(cmd, ranks=None):
    rc, out, err = run(cmd, ranks)
    if rc != 0:
        fail("expected success: %s\nrc=%d\nstdout:\n%s\nstderr:\n%s" % (" ".join(cmd), rc, out, err))
    return out, err


def workdir_files():
    return sorted(os.listdir(ARGS.workdir))


def expect_error(cmd, subcommand, expected, ranks=None, keep=()):
    """The command must fail with one line naming `expected`, leaving only `keep` files."""
    rc, out, err = run(cmd, ranks)
    lines = [l for l in strip_mpiexec_notices(err).splitlines() if l.strip()]
    where = "%s (ranks=%s)" % (" ".join(cmd), ranks)
    check_one_line_error(rc, lines, where, subcommand, expected)
    left = [f for f in workdir_files() if f not in keep]
    if left:
        fail("files left behind by %s: %s" % (where, left))
    print("ok: %s -> %s" % (where, lines[0]))


def need_h5py():
    try:
        import h5py  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        print("SKIP: h5py/numpy not available to %s" % sys.executable)
        sys.exit(77)


GEN = ["generate", "-pde", "darcy", "-progress", "0"]


def case_help():
    out, _ = expect_ok(["help"])
    for word in ("generate", "verify", "info", "darcy"):
        if word not in out:
            fail("'pins help' does not list %s:\n%s" % (word, out))
    expect_ok(["-help"])
    rc, _, err = run([])
    if rc == 0 or "no subcommand" not in err:
        fail("'pins' without a subcommand must fail and say so: rc=%d %s" % (rc, err))
    rc, _, err = run(["frobnicate"])
    if rc == 0 or "pins: error: unknown subcommand 'frobnicate'" not in err:
        fail("unknown subcommand: rc=%d %s" % (rc, err))
    out, _ = expect_ok(["generate", "-help"])
    for option in ("-grid", "-samples", "-seed", "-force", "-kappa_contrast", "-kappa_type",
                   "-grf_alpha", "-f_type", "-ksp_type", "-pc_type", "-ksp_rtol"):
        if option not in out:
            fail("'pins generate -help' does not list %s" % option)
    for sub in ("verify", "info"):
        out, _ = expect_ok([sub, "-help"])
        if "-data" not in out:
            fail("'pins %s -help' does not list -data" % sub)
    if workdir_files():
        fail("-help wrote files: %s" % workdir_files())


def case_generate_verify_info():
    out, err = expect_ok(["generate", "-pde", "darcy", "-grid", "32", "-samples", "12", "-seed",
                          "3", "-o", "d.h5"])
    if "wrote d.h5" not in out or "iterations" not in out or "samples/s" not in out:
        fail("summary incomplete:\n" + out)
    # stderr is not a terminal here: progress comes as lines, ending at 100 %.
    if "12/12 samples (100%)" not in err:
        fail("no progress lines on stderr:\n" + err)
    if workdir_files() != ["d.h5"]:
        fail("unexpected files: %s" % workdir_files())
    out, _ = expect_ok(["verify", "-data", "d.h5"])
    if "OK" not in out or "Kokkos" not in out:
        fail("verify output:\n" + out)
    # An impossible tolerance must fail: verify really recomputes the residuals.
    expect_error(["verify", "-data", "d.h5", "-rtol", "1e-30"], "verify",
                 "samples exceed the tolerance 1e-30", keep=("d.h5",))
    out, _ = expect_ok(["info", "-data", "d.h5"])
    for text in ("samples     12", "pins-dataset", "sampler.kappa_type", "solver.ksp_type",
                 "version.petsc", "cg", "gamg"):
        if text not in out:
            fail("'pins info' does not show %r:\n%s" % (text, out))


def case_h5py_attributes():
    need_h5py()
    import h5py
    import numpy as np
    expect_ok(GEN + ["-grid", "20,12", "-samples", "5", "-seed", "11", "-kappa_type", "lognormal",
                     "-o", "d.h5"])
    with h5py.File(os.path.join(ARGS.workdir, "d.h5"), "r") as f:
        for name in ("kappa", "f", "u"):
            d = f[name]
            if d.shape != (5, 12, 20) or d.dtype != np.float64:
                fail("%s: shape %s dtype %s" % (name, d.shape, d.dtype))
            if not d.fletcher32 or d.chunks != (1, 12, 20):
                fail("%s: fletcher32=%s chunks=%s" % (name, d.fletcher32, d.chunks))
            if not np.all(np.isfinite(d[()])):
                fail(name + " holds non-finite values")
        if f["iterations"].shape != (5,) or f["iterations"].dtype != np.int32:
            fail("iterations: %s %s" % (f["iterations"].shape, f["iterations"].dtype))
        if f["residual"].shape != (5,) or not np.all(f["residual"][()] <= 1e-10):
            fail("residual: %s" % f["residual"][()])
        if f["seeds"].shape != (5, 2) or f["seeds"].dtype != np.uint64:
            fail("seeds: %s %s" % (f["seeds"].shape, f["seeds"].dtype))
        if not np.all(f["kappa"][()] > 0):
            fail("kappa must be positive")
        attrs = dict(f.attrs)
        expected = {
            "format": "pins-dataset", "format_version": 2, "pde": "darcy",
            "discretisation": "cell-centred finite volumes, 5-point, harmonic face averages",
            "domain": "(0,1)x(0,1)", "dim": 2, "nx": 20, "ny": 12, "dof": 1,
            "inputs": "kappa,f", "operator": "stencil: dim=2 star width=1 dof=1", "seed": 11,
            "sampler.kappa_type": "lognormal", "sampler.alpha": 2.0, "sampler.tau": 3.0,
            "sampler.kappa_high": 12.0, "sampler.kappa_low": 3.0, "sampler.sigma": 1.0,
            "sampler.f_type": "constant", "sampler.f_value": 1.0, "sampler.modes": 0,
            "solver.ksp_type": "cg", "solver.pc_type": "gamg", "solver.rtol": 1e-10,
            "solver.norm_type": "UNPRECONDITIONED",
        }
        for key, value in expected.items():
            if key not in attrs:
                fail("attribute %s missing; have %s" % (key, sorted(attrs)))
            if attrs[key] != value:
                fail("attribute %s = %r, expected %r" % (key, attrs[key], value))
        for key in ("boundary_condition", "equation", "command", "created", "version.pins",
                    "version.petsc", "version.hdf5", "version.mpi", "version.kokkos"):
            if not isinstance(attrs.get(key), str) or not attrs[key]:
                fail("attribute %s missing or not a non-empty string: %r" % (key, attrs.get(key)))
        if list(f.attrs)[:3] != ["format", "format_version", "pde"]:
            fail("attributes not in creation order: %s" % list(f.attrs)[:5])
    print("ok: h5py sees %d attributes" % len(attrs))


def case_mpi_identical():
    need_h5py()
    import h5py
    import numpy as np
    # 9 samples over 2 processes: an uneven split; lognormal κ and a random f.
    common = GEN + ["-grid", "24,16", "-samples", "9", "-seed", "5", "-kappa_type", "lognormal",
                    "-kappa_sigma", "1.5", "-f_type", "grf"]
    expect_ok(common + ["-o", "one.h5"], ranks=1)
    expect_ok(common + ["-o", "two.h5"], ranks=2)
    with h5py.File(os.path.join(ARGS.workdir, "one.h5"), "r") as a, \
            h5py.File(os.path.join(ARGS.workdir, "two.h5"), "r") as b:
        if a.attrs["mpi_processes"] != 1 or b.attrs["mpi_processes"] != 2:
            fail("mpi_processes attributes: %s %s" % (a.attrs["mpi_processes"], b.attrs["mpi_processes"]))
        for name in ("kappa", "f", "u", "iterations", "residual", "seeds"):
            x, y = a[name][()], b[name][()]
            # Bitwise: compare the raw bytes, not the values.
            if x.shape != y.shape or x.tobytes() != y.tobytes():
                fail("array %s differs between 1 and 2 processes" % name)
        if not np.any(a["u"][()] != 0):
            fail("solutions are all zero")
    # Above 10000 cells OpenBLAS threads its dot products; generate() must keep BLAS on one
    # thread, or a plain run and an mpiexec run (which binds each process to a core) round
    # differently. 104 x 104 = 10816 cells, two samples: still quick.
    common = GEN + ["-grid", "104", "-samples", "2", "-seed", "2"]
    expect_ok(common + ["-o", "plain.h5"])
    expect_ok(common + ["-o", "mpi.h5"], ranks=2)
    with h5py.File(os.path.join(ARGS.workdir, "plain.h5"), "r") as a, \
            h5py.File(os.path.join(ARGS.workdir, "mpi.h5"), "r") as b:
        for name in ("u", "residual"):
            if a[name][()].tobytes() != b[name][()].tobytes():
                fail("array %s differs between a plain run and mpiexec -n 2 at 104x104" % name)
    # darcy3d: the 3-D DMDA splits over z too; 7 samples, a non-cubic grid, random f.
    common = GEN + ["-pde", "darcy3d", "-grid", "9,7,6", "-samples", "7", "-seed", "3",
                    "-f_type", "grf"]
    expect_ok(common + ["-o", "one3d.h5"], ranks=1)
    expect_ok(common + ["-o", "two3d.h5"], ranks=2)
    with h5py.File(os.path.join(ARGS.workdir, "one3d.h5"), "r") as a, \
            h5py.File(os.path.join(ARGS.workdir, "two3d.h5"), "r") as b:
        if a["u"].shape != (7, 6, 7, 9):
            fail("darcy3d u shape %s, expected (7, 6, 7, 9) = [N, nz, ny, nx]" % (a["u"].shape,))
        for name in ("kappa", "f", "u", "iterations", "residual", "seeds"):
            if a[name][()].tobytes() != b[name][()].tobytes():
                fail("darcy3d array %s differs between 1 and 2 processes" % name)
    expect_ok(["verify", "-data", "two3d.h5"])
    print("ok: 1 and 2 processes give bitwise identical arrays (darcy, darcy3d)")


def case_bad_input():
    base = GEN + ["-grid", "16", "-samples", "4"]
    cases = [
        (["-grid", "2", "-o", "x.h5"], "-grid must be at least 3"),
        (["-samples", "0", "-o", "x.h5"], "-samples must be at least 1, got 0"),
        (["-samples", "-4", "-o", "x.h5"], "-samples must be at least 1, got -4"),
        (["-pde", "heat", "-o", "x.h5"],
         "-pde 'heat' is not a known problem family (known: darcy, darcy3d, nonlinear_darcy, darcy_fem, allen_cahn, gray_scott)"),
        # darcy3d: a 2-D grid, a grid too small for the stencil, a field that is not
        # continuous in 3-D, a non-positive conductivity.
        (["-pde", "darcy3d", "-grid", "8,8", "-o", "x.h5"], "has 2 directions, but -pde darcy3d is 3-D"),
        (["-pde", "darcy3d", "-grid", "8,8,2", "-o", "x.h5"], "-grid must be at least 3"),
        (["-pde", "darcy3d", "-grid", "6", "-grf_alpha", "1.4", "-o", "x.h5"],
         "-grf_alpha must be > 1.5 for a continuous 3-D random field, got 1.4"),
        (["-pde", "darcy3d", "-grid", "6", "-kappa_high", "-1", "-o", "x.h5"],
         "-kappa_high must be a positive conductivity, got -1"),
        (["-kappa_low", "0", "-o", "x.h5"], "-kappa_low must be a positive conductivity, got 0"),
        (["-kappa_contrast", "-5", "-o", "x.h5"], "-kappa_contrast must be >= 1"),
        (["-kappa_type", "uniform", "-o", "x.h5"], "-kappa_type must be 'threshold' or 'lognormal'"),
        (["-seed", "abc", "-o", "x.h5"], "-seed must be an integer"),
        ([], "-o <file.h5> is required"),
        (["-o", "/nonexistent/dir/x.h5"], "folder '/nonexistent/dir' does not exist"),
        (["-ksp_max_it", "2", "-o", "x.h5"],
         "sample 0: the solver did not converge: DIVERGED_ITS after 2 iterations"),
        # The KSP "converges" on a huge absolute tolerance at once; the true-residual check
        # must still refuse the sample.
        (["-ksp_atol", "1e3", "-o", "x.h5"],
         "sample 0: true relative residual 1 exceeds -ksp_rtol 1e-10"),
    ]
    for extra, expected in cases:
        expect_error(base + extra, "generate", expected)
    # An existing output is refused, and left as it was.
    path = os.path.join(ARGS.workdir, "exists.h5")
    with open(path, "w") as f:
        f.write("precious\n")
    expect_error(base + ["-o", "exists.h5"], "generate",
                 "-o exists.h5 already exists; pass -force to overwrite it", keep=("exists.h5",))
    with open(path) as f:
        if f.read() != "precious\n":
            fail("existing output was modified")
    # The same failures under MPI: agreed by both processes, reported once, no hang.
    expect_error(base + ["-ksp_max_it", "2", "-o", "x.h5"], "generate",
                 "the solver did not converge: DIVERGED_ITS", ranks=2, keep=("exists.h5",))
    expect_error(base + ["-o", "exists.h5"], "generate", "already exists", ranks=2,
                 keep=("exists.h5",))
    # With -force the file is replaced by a dataset.
    expect_ok(base + ["-o", "exists.h5", "-force"])
    expect_ok(["verify", "-data", "exists.h5"])


def case_interrupted():
    """SIGTERM during a run removes the temporary file: nothing is left."""
    import signal
    import time
    cmd = [ARGS.pins] + GEN + ["-grid", "64", "-samples", "100000", "-o", "x.h5"]
    p = subprocess.Popen(cmd, cwd=ARGS.workdir, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not any(f.startswith(".x.h5.tmp.") for f in workdir_files()):
        if p.poll() is not None or time.time() > deadline:
            p.kill()
            fail("no temporary file appeared (rc=%s, files %s)" % (p.poll(), workdir_files()))
        time.sleep(0.05)
    time.sleep(0.3)  # let it write a few samples
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=60)
    if rc != -signal.SIGTERM:
        fail("expected death by SIGTERM, rc=%d" % rc)
    if workdir_files():
        fail("files left after SIGTERM: %s" % workdir_files())
    print("ok: SIGTERM left no files")


def case_reader_errors():
    with open(os.path.join(ARGS.workdir, "notes.h5"), "w") as f:
        f.write("not hdf5\n")
    keep = ("notes.h5",)
    for sub in ("verify", "info"):
        expect_error([sub, "-data", "missing.h5"], sub, "missing.h5: no such file", keep=keep)
        expect_error([sub, "-data", "notes.h5"], sub, "notes.h5: not an HDF5 file", keep=keep)
        expect_error([sub], sub, "-data <file.h5> is required", keep=keep)
    need_h5py()
    import h5py
    expect_ok(GEN + ["-grid", "16", "-samples", "3", "-o", "broken.h5"])
    with h5py.File(os.path.join(ARGS.workdir, "broken.h5"), "a") as f:
        del f["u"]
    keep = ("notes.h5", "broken.h5")
    expect_error(["verify", "-data", "broken.h5"], "verify", "broken.h5: array 'u' is missing",
                 keep=keep)


def case_inputs_only():
    """-inputs_only: the labelled run's inputs bit for bit, on 1 and 2 processes, without a
    solver (an impossible -ksp_type does not matter); verify and evaluate refuse the file."""
    need_h5py()
    import h5py
    common = GEN + ["-grid", "24,16", "-samples", "9", "-seed", "5", "-kappa_type", "lognormal",
                    "-f_type", "grf"]
    expect_ok(common + ["-o", "labelled.h5"])
    # Any solver would be configured from -ksp_type and fail: a labelled run does.
    expect_error(common + ["-ksp_type", "nonexistent", "-o", "x.h5"], "generate", "nonexistent",
                 keep=("labelled.h5",))
    out, err = expect_ok(common + ["-inputs_only", "-ksp_type", "nonexistent", "-o", "one.h5"],
                         ranks=1)
    if "inputs only" not in out or "iterations" in out:
        fail("inputs-only summary:\n" + out)
    if "-ksp_type was not used (-inputs_only runs no solver)" not in err:
        fail("no warning that -inputs_only ignores the solver options:\n" + err)
    expect_ok(common + ["-inputs_only", "-o", "two.h5"], ranks=2)
    with h5py.File(os.path.join(ARGS.workdir, "labelled.h5"), "r") as lab, \
            h5py.File(os.path.join(ARGS.workdir, "one.h5"), "r") as one, \
            h5py.File(os.path.join(ARGS.workdir, "two.h5"), "r") as two:
        if lab.attrs["labelled"] != 1 or one.attrs["labelled"] != 0 or two.attrs["labelled"] != 0:
            fail("labelled attributes: %s %s %s" % (lab.attrs["labelled"], one.attrs["labelled"],
                                                    two.attrs["labelled"]))
        for f in (one, two):
            present = sorted(f.keys())
            if present != ["f", "kappa", "seeds"]:
                fail("inputs-only file holds %s, expected f, kappa, seeds" % present)
            solver = [k for k in f.attrs if k.startswith("solver.")]
            if solver:
                fail("inputs-only file records a solver: %s" % solver)
        for name in ("kappa", "f", "seeds"):
            x, y, z = lab[name][()], one[name][()], two[name][()]
            if not (x.tobytes() == y.tobytes() == z.tobytes() and x.shape == y.shape == z.shape):
                fail("array %s differs between the labelled and the inputs-only files "
                     "(1 or 2 processes)" % name)
    out, _ = expect_ok(["info", "-data", "one.h5"])
    for text in ("inputs only", "labelled", "seeds [9, 2]"):
        if text not in out:
            fail("'pins info' does not show %r:\n%s" % (text, out))
    if "residual [" in out or "solver.ksp_type" in out:
        fail("'pins info' lists solutions or a solver for an inputs-only file:\n" + out)
    keep = ("labelled.h5", "one.h5", "two.h5")
    expect_error(["verify", "-data", "one.h5"], "verify",
                 "one.h5: the dataset holds no solutions (inputs only, written with -inputs_only)",
                 keep=keep)
    # A real model, so evaluate fails on the dataset and not on the model.
    expect_ok(["train", "-data", "labelled.h5", "-o", "m.pins", "-train_epochs", "1",
               "-train_monitor", "0", "-fno_modes", "2", "-fno_width", "4", "-fno_layers", "1",
               "-fno_hidden", "4"])
    keep = tuple(workdir_files())  # the model and its checkpoint too
    expect_error(["evaluate", "-model", "m.pins", "-data", "two.h5", "-o", "report"], "evaluate",
                 "two.h5: the dataset holds no solutions (inputs only, written with -inputs_only)",
                 keep=keep)
    print("ok: inputs-only files match the labelled inputs and are refused where solutions are needed")


def case_nonlinear():
    """nonlinear_darcy: SNES data, 1 vs 2 processes bit for bit, pins verify, bad input."""
    need_h5py()
    import h5py
    import numpy as np
    common = ["generate", "-pde", "nonlinear_darcy", "-progress", "0", "-grid", "24,16",
              "-samples", "5", "-seed", "3"]
    out, _ = expect_ok(["generate", "-pde", "nonlinear_darcy", "-help"])
    for option in ("-nonlinearity", "-nonlinearity_beta", "-f_value", "-snes_rtol", "-snes_type",
                   "-ksp_type"):
        if option not in out:
            fail("'pins generate -pde nonlinear_darcy -help' does not list %s" % option)
    out, _ = expect_ok(common + ["-o", "one.h5"], ranks=1)
    if "SNES newtonls" not in out or "Newton" not in out:
        fail("pins generate does not report the SNES solve:\n" + out)
    expect_ok(common + ["-o", "two.h5"], ranks=2)
    with h5py.File(os.path.join(ARGS.workdir, "one.h5"), "r") as a, \
            h5py.File(os.path.join(ARGS.workdir, "two.h5"), "r") as b:
        for name in ("kappa", "f", "u", "iterations", "residual", "seeds"):
            if a[name][()].tobytes() != b[name][()].tobytes():
                fail("nonlinear_darcy array %s differs between 1 and 2 processes" % name)
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in a.attrs.items()}
        for key, value in (("pde", "nonlinear_darcy"), ("sampler.nonlinearity", "quadratic"),
                           ("solver.snes_type", "newtonls"), ("solver.linesearch_type", "bt"),
                           ("solver.ksp_type", "gmres")):
            if str(attrs.get(key)) != value:
                fail("attribute %s = %r, expected %r" % (key, attrs.get(key), value))
        if not (a["iterations"][()] >= 2).all() or not (a["residual"][()] <= 1e-10).all():
            fail("Newton iterations %s / residuals %s" % (a["iterations"][()], a["residual"][()]))
        if np.abs(a["u"][()]).max() < 0.3:
            fail("u is small (max %g): the default f should make k(u) matter"
                 % np.abs(a["u"][()]).max())
    out, _ = expect_ok(["verify", "-data", "two.h5"])
    if "||F(u)||/||F(0)||" not in out:
        fail("pins verify does not report F:\n" + out)
    # An exp nonlinearity is verified with its own k(u), read from the file.
    expect_ok(common + ["-nonlinearity", "exp", "-nonlinearity_beta", "1.5", "-o", "exp.h5"])
    expect_ok(["verify", "-data", "exp.h5"])
    keep = ("one.h5", "two.h5", "exp.h5")
    expect_error(common + ["-nonlinearity", "cubic", "-o", "x.h5"], "generate",
                 "-nonlinearity must be quadratic", keep=keep)
    for ranks in (None, 2):
        expect_error(common + ["-snes_max_it", "1", "-o", "x.h5"], "generate",
                     "sample 0: SNES did not converge: DIVERGED_MAX_IT", ranks=ranks, keep=keep)
    print("ok: nonlinear_darcy generate (1 and 2 processes identical), verify, errors")


def case_fem():
    """darcy_fem: DMPlex + PetscFE data with the mesh in the file, 1 vs 2 processes bit for bit,
    pins verify (pins' own mesh assembly), pins info, bad input."""
    need_h5py()
    import h5py
    import numpy as np
    common = ["generate", "-pde", "darcy_fem", "-progress", "0", "-grid", "12,10",
              "-samples", "5", "-seed", "2"]
    out, _ = expect_ok(["generate", "-pde", "darcy_fem", "-help"])
    for option in ("-dm_plex_filename", "-dm_plex_simplex", "-dm_refine", "-mesh_perturb",
                   "-kappa_high", "-grf_alpha"):
        if option not in out:
            fail("'pins generate -pde darcy_fem -help' does not list %s" % option)
    expect_ok(common + ["-mesh_perturb", "0.25", "-o", "one.h5"], ranks=1)
    expect_ok(common + ["-mesh_perturb", "0.25", "-o", "two.h5"], ranks=2)
    with h5py.File(os.path.join(ARGS.workdir, "one.h5"), "r") as a, \
            h5py.File(os.path.join(ARGS.workdir, "two.h5"), "r") as b:
        for name in ("kappa", "f", "u", "iterations", "residual", "seeds", "mesh/coordinates",
                     "mesh/cells", "mesh/points"):
            if a[name][()].tobytes() != b[name][()].tobytes():
                fail("darcy_fem array %s differs between 1 and 2 processes" % name)
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in a.attrs.items()}
        for key, value in (("pde", "darcy_fem"), ("mesh", "triangle"), ("dim", "1"),
                           ("inputs", "kappa@cells,f@cells"), ("sampler.mesh_perturb", "0.25")):
            if str(attrs.get(key)) != value:
                fail("attribute %s = %r, expected %r" % (key, attrs.get(key), value))
        cells = a["mesh/cells"].shape[0]
        points = a["mesh/points"].shape[0]
        if cells != 2 * 12 * 10 or points != 11 * 9:
            fail("mesh of %d cells and %d points, expected 240 and 99" % (cells, points))
        if a["kappa"].shape != (5, cells) or a["u"].shape != (5, points):
            fail("kappa %s and u %s are not [N, cells] and [N, points]" % (a["kappa"].shape,
                                                                         a["u"].shape))
        if not (a["residual"][()] <= 1e-10).all() or np.abs(a["u"][()]).max() <= 0:
            fail("residuals %s, max |u| %g" % (a["residual"][()], np.abs(a["u"][()]).max()))
    out, _ = expect_ok(["verify", "-data", "two.h5"])
    if "OK" not in out:
        fail("pins verify output:\n" + out)
    # An impossible tolerance must fail: verify really recomputes the residuals on the mesh.
    expect_error(["verify", "-data", "two.h5", "-rtol", "1e-30"], "verify",
                 "samples exceed the tolerance 1e-30", keep=("one.h5", "two.h5"))
    out, _ = expect_ok(["info", "-data", "one.h5"])
    if "kappa [5, 240]" not in out or "mesh" not in out:
        fail("pins info does not show per-cell arrays and the mesh:\n" + out)
    # Quadrilaterals, refined.
    expect_ok(common + ["-dm_plex_simplex", "0", "-dm_refine", "1", "-o", "quads.h5"])
    expect_ok(["verify", "-data", "quads.h5"])
    keep = ("one.h5", "two.h5", "quads.h5")
    expect_error(common + ["-dm_plex_filename", "nowhere.msh", "-o", "x.h5"], "generate",
                 "-dm_plex_filename nowhere.msh: no such file", keep=keep)
    with open(os.path.join(ARGS.workdir, "junk.msh"), "w") as f:
        f.write("not a mesh\n")
    expect_error(common + ["-dm_plex_filename", "junk.msh", "-o", "x.h5"], "generate",
                 "junk.msh", keep=keep + ("junk.msh",))
    expect_error(common + ["-mesh_perturb", "0.6", "-o", "x.h5"], "generate",
                 "-mesh_perturb must be in [0, 0.5)", keep=keep + ("junk.msh",))
    expect_error(["train", "-data", "one.h5", "-o", "m.pins", "-train_epochs", "1"], "train",
                 "runs on 2-D grids, the data is on an unstructured mesh (mesh architectures "
                 "for solution: gnn)", keep=keep + ("junk.msh",))
    print("ok: darcy_fem generate (1 and 2 processes identical, mesh in the file), verify, info, "
          "errors")


def case_allen_cahn():
    """allen_cahn: trajectories [N, steps + 1, ny, nx] from TS (backward Euler), 1 vs 2
    processes bit for bit, pins verify on every step (and on a tampered file), bad input."""
    need_h5py()
    import h5py
    import numpy as np
    common = ["generate", "-pde", "allen_cahn", "-progress", "0", "-grid", "16", "-samples", "4",
              "-steps", "5", "-seed", "3"]
    out, _ = expect_ok(["generate", "-pde", "allen_cahn", "-help"])
    for option in ("-epsilon", "-dt", "-steps", "-u0_amplitude", "-u0_tau", "-kappa_type",
                   "-ts_type", "-snes_rtol", "-ksp_type"):
        if option not in out:
            fail("'pins generate -pde allen_cahn -help' does not list %s" % option)
    expect_ok(common + ["-o", "one.h5"], ranks=1)
    expect_ok(common + ["-o", "two.h5"], ranks=2)
    with h5py.File(os.path.join(ARGS.workdir, "one.h5"), "r") as a, \
            h5py.File(os.path.join(ARGS.workdir, "two.h5"), "r") as b:
        if a["u"].shape != (4, 6, 16, 16):
            fail("allen_cahn u shape %s, expected (4, 6, 16, 16) = [N, T, ny, nx]" % (a["u"].shape,))
        if "f" in a or "u_prev" in a:
            fail("allen_cahn stores an f or a u_prev array: %s" % list(a.keys()))
        for name in ("kappa", "u", "iterations", "residual", "seeds"):
            if a[name][()].tobytes() != b[name][()].tobytes():
                fail("allen_cahn array %s differs between 1 and 2 processes" % name)
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in a.attrs.items()}
        for key, value in (("pde", "allen_cahn"), ("inputs", "kappa"), ("times", "6"),
                           ("sampler.scheme", "beuler"), ("sampler.steps", "5"),
                           ("sampler.dt", "0.05"), ("sampler.epsilon", "0.02"),
                           ("solver.ts_type", "beuler"), ("solver.snes_type", "newtonls")):
            if str(attrs.get(key)) != value:
                fail("attribute %s = %r, expected %r" % (key, attrs.get(key), value))
        u = a["u"][()]
        if abs(np.abs(u[:, 0]).max() - 0.5) > 1e-15:
            fail("max |u(0)| = %g, expected the default -u0_amplitude 0.5" % np.abs(u[:, 0]).max())
        if not (a["iterations"][()] >= 2 * 5).all() or not (a["residual"][()] <= 1e-10).all():
            fail("Newton iterations %s / residuals %s" % (a["iterations"][()], a["residual"][()]))
    out, _ = expect_ok(["verify", "-data", "two.h5"])
    if "OK" not in out or "over steps" not in out:
        fail("pins verify output:\n" + out)
    # One state of one trajectory changed by 1e-4: the steps into and out of it fail.
    shutil.copy(os.path.join(ARGS.workdir, "two.h5"), os.path.join(ARGS.workdir, "tampered.h5"))
    with h5py.File(os.path.join(ARGS.workdir, "tampered.h5"), "r+") as f:
        u = f["u"][()]
        u[2, 3] *= 1.0001
        f["u"][...] = u
    keep = ("one.h5", "two.h5", "tampered.h5")
    expect_error(["verify", "-data", "tampered.h5"], "verify",
                 "1 of 4 samples exceed the tolerance 1e-10; the first is sample 2", keep=keep)
    cases = [
        (["-dt", "0"], "-dt (the time step) must be positive, got 0"),
        (["-dt", "-1"], "-dt (the time step) must be positive, got -1"),
        (["-steps", "0"], "-steps must be at least 1 (time steps per trajectory), got 0"),
        (["-epsilon", "-1"], "-epsilon must be a positive number, got -1"),
        (["-u0_amplitude", "0"], "-u0_amplitude must be a positive number"),
        (["-ts_type", "rk"], "-ts_type rk: trajectories are made with backward Euler"),
        (["-ts_dt", "0.1"], "-ts_dt 0.1 differs from the family's step 0.05: set the step with -dt"),
        (["-f_value", "3"], "-pde allen_cahn has no right-hand side f"),
        (["-inputs_only"], "-inputs_only: -pde allen_cahn is time-dependent"),
        (["-grid", "2"], "-grid must be at least 3"),
    ]
    for extra, expected in cases:
        expect_error(common + extra + ["-o", "x.h5"], "generate", expected, keep=keep)
    for ranks in (None, 2):
        expect_error(common + ["-snes_max_it", "1", "-o", "x.h5"], "generate",
                     "sample 0: step 1 of 5 (t = 0.05): SNES did not converge: DIVERGED_MAX_IT",
                     ranks=ranks, keep=keep)
    print("ok: allen_cahn trajectories (1 and 2 processes identical), verify, errors")


def case_gray_scott():
    """gray_scott: two-field trajectories [N, steps + 1, 2, ny, nx] from TS (backward Euler),
    1 vs 2 processes bit for bit, pins verify, bad options refused with one line."""
    need_h5py()
    import h5py
    import numpy as np
    common = ["generate", "-pde", "gray_scott", "-progress", "0", "-grid", "12", "-samples", "4",
              "-steps", "4", "-seed", "3"]
    out, _ = expect_ok(["generate", "-pde", "gray_scott", "-help"])
    for option in ("-gs_du", "-gs_dv", "-gs_kill", "-gs_feed_min", "-gs_feed_max", "-dt",
                   "-steps", "-grf_tau"):
        if option not in out:
            fail("'pins generate -pde gray_scott -help' does not list %s" % option)
    expect_ok(common + ["-o", "one.h5"], ranks=1)
    expect_ok(common + ["-o", "two.h5"], ranks=2)
    with h5py.File(os.path.join(ARGS.workdir, "one.h5"), "r") as a, \
            h5py.File(os.path.join(ARGS.workdir, "two.h5"), "r") as b:
        if a["u"].shape != (4, 5, 2, 12, 12):
            fail("gray_scott u shape %s, expected (4, 5, 2, 12, 12) = [N, T, dof, ny, nx]"
                 % (a["u"].shape,))
        for name in ("feed", "u", "iterations", "residual", "seeds"):
            if a[name][()].tobytes() != b[name][()].tobytes():
                fail("gray_scott array %s differs between 1 and 2 processes" % name)
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in a.attrs.items()}
        for key, value in (("pde", "gray_scott"), ("inputs", "feed"), ("times", "5"),
                           ("sampler.scheme", "beuler"), ("sampler.steps", "4"),
                           ("sampler.dt", "1.0"), ("sampler.kill", "0.06"),
                           ("sampler.feed_min", "0.02"), ("sampler.feed_max", "0.05"),
                           ("solver.ts_type", "beuler")):
            if str(attrs.get(key)) != value:
                fail("attribute %s = %r, expected %r" % (key, attrs.get(key), value))
        u = a["u"][()]
        feed = a["feed"][()]
        if abs(feed.min() - 0.02) > 1e-12 or abs(feed.max() - 0.05) > 1e-12:
            fail("feed range [%g, %g], expected [0.02, 0.05]" % (feed.min(), feed.max()))
        if np.abs(u[:, 0].sum(axis=1) - 1).max() > 1e-14:
            fail("the initial state is not u = 1 - v")
        if np.abs(u[:, -1] - u[:, 0]).max() < 1e-2:
            fail("gray_scott: the state hardly moves in 4 steps")
    out, _ = expect_ok(["verify", "-data", "two.h5"])
    if "OK" not in out:
        fail("pins verify output:\n" + out)
    keep = ("one.h5", "two.h5")
    cases = [
        (["-dt", "0"], "-dt (the time step) must be positive, got 0"),
        (["-steps", "0"], "-steps must be at least 1 (time steps per trajectory), got 0"),
        (["-gs_du", "0"], "-gs_du (the diffusivity of u) must be positive, got 0"),
        (["-gs_dv", "-1"], "-gs_dv (the diffusivity of v) must be positive, got -1"),
        (["-gs_kill", "0"], "-gs_kill (the kill rate k) must be positive, got 0"),
        (["-gs_feed_min", "0"], "-gs_feed_min must be a positive number"),
        (["-gs_feed_max", "0.01"], "-gs_feed_max must be a number >= -gs_feed_min"),
        (["-f_value", "3"], "-pde gray_scott has no right-hand side f"),
    ]
    for extra, expected in cases:
        expect_error(common + extra + ["-o", "x.h5"], "generate", expected, keep=keep)
    print("ok: gray_scott trajectories (1 and 2 processes identical), verify, errors")


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--pins", required=True)
    parser.add_argument("--mpiexec", required=True)
    parser.add_argument("--mpiexec-flag", action="append", default=[])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("case", choices=sorted(CASES))
    ARGS = parser.parse_args()
    # A clean folder per case, so "no files left behind" is checkable.
    shutil.rmtree(ARGS.workdir, ignore_errors=True)
    os.makedirs(ARGS.workdir)
    CASES[ARGS.case]()
    print("PASS: " + ARGS.case)


if __name__ == "__main__":
    main()
