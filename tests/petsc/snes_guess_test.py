#!/usr/bin/env python3
"""The surrogate as Newton's initial guess (-snes_surrogate_guess) in a plain PETSc SNES
program (examples/plain_petsc_nonlinear_darcy.c) loaded with -dll_append, and in
`pins evaluate` on nonlinear_darcy datasets: the guess must cut Newton iterations, work alike
on 1 and 2 processes, and bad input must be refused with one PETSc error line naming the
option (never a crash).

Usage: snes_guess_test.py --pins PINS --example EXE --library LIBPINS_PETSC --workdir DIR
                          [--mpiexec MPIEXEC --mpiexec-flag F ...] CASE
CASE setup trains the fixture model (tiny FNO, 32x32) the other cases use.
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_support import fail  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from surrogate_pc_test import rewrite_model  # noqa: E402

GRID = 32
RTOL = "1e-8"


def paths(args):
    root = args.fixture
    return {"model": os.path.join(root, "nl32.pins"), "test": os.path.join(root, "test32.h5"),
            "kappa": os.path.join(root, "kappa0.bin")}


def sh(cmd, timeout=600):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        fail("%s failed (exit %d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p.stdout


def case_setup(args):
    """96 training samples and 4 test samples at 32x32, a tiny FNO (about 30 s on one core),
    and the first test sample's kappa as a PETSc binary vector for the example."""
    p = paths(args)
    os.makedirs(args.fixture, exist_ok=True)
    gen = [args.pins, "generate", "-pde", "nonlinear_darcy", "-grid", str(GRID), "-progress", "0",
           "-force"]
    train = os.path.join(args.fixture, "train32.h5")
    sh(gen + ["-samples", "96", "-seed", "1", "-o", train])
    sh(gen + ["-samples", "4", "-seed", "2", "-o", p["test"]])
    sh([args.pins, "train", "-data", train, "-o", p["model"], "-surrogate_type", "fno",
        "-fno_modes", "8", "-fno_width", "16", "-fno_padding", "4", "-fno_hidden", "32",
        "-train_epochs", "15", "-train_batch_size", "8", "-train_lr", "3e-3", "-train_threads",
        "1", "-train_monitor", "0", "-force"])
    import h5py  # noqa: E402  (Debian's python3 has it; the CLI tests need it too)
    with h5py.File(p["test"], "r") as f:
        kappa = f["kappa"][0]
    with open(p["kappa"], "wb") as out:  # PETSc's binary Vec: classid, length, big-endian doubles
        out.write(struct.pack(">ii", 1211214, kappa.size))
        out.write(kappa.astype(">f8").tobytes())
    print("ok: fixture model %s" % p["model"])


def run(args, *options, ranks=1, guess=True):
    cmd = [args.example, "-dll_append", args.library, "-kappa_file", paths(args)["kappa"],
           "-snes_rtol", RTOL, "-snes_converged_reason"] + list(options)
    if ranks > 1:
        cmd = [args.mpiexec, "-n", str(ranks)] + args.mpiexec_flag + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def solve(args, *options, ranks=1):
    """Runs the example; returns (Newton iterations, ||F(u)||/||F(0)||, stdout)."""
    rc, out, err = run(args, *options, ranks=ranks)
    if rc != 0:
        fail("solve %s failed (exit %d):\n%s%s" % (" ".join(options), rc, out, err))
    m = re.search(r"(\d+) Newton iterations, \|\|F\(u\)\|\|/\|\|F\(0\)\|\| ([0-9.e+-]+)", out)
    if not m or "CONVERGED" not in out:
        fail("solve %s did not converge:\n%s" % (" ".join(options), out))
    return int(m.group(1)), float(m.group(2)), out


def guess_options(args):
    return ["-snes_surrogate_guess", paths(args)["model"], "-snes_surrogate_guess_view"]


def case_fewer_iterations(args):
    zero, res_zero, _ = solve(args)
    guessed, res_guess, out = solve(args, *guess_options(args))
    print("Newton iterations to %s: from zero %d, from the guess %d" % (RTOL, zero, guessed))
    if not guessed < zero:
        fail("the guess did not cut Newton iterations: %d from zero, %d from the guess"
             % (zero, guessed))
    # -snes_surrogate_guess_rtol_from_zero (default): the same tolerance as from zero.
    if not res_guess <= float(RTOL) or not res_zero <= float(RTOL):
        fail("residuals %g (zero), %g (guess) exceed %s" % (res_zero, res_guess, RTOL))
    if "pins: -snes_surrogate_guess:" not in out or "read from F(0)" not in out:
        fail("-snes_surrogate_guess_view printed nothing:\n" + out)
    # The guess must be what a network trained on this family gives: closer than zero.
    m = re.search(r"\|\|F\(u0\)\|\|/\|\|F\(0\)\|\| = ([0-9.e+-]+)", out)
    if not m:
        fail("no residual ratio in the view line:\n" + out)


def case_input_flag(args):
    """A calibrated model's input flag (pins calibrate): inputs it flags get no guess —
    Newton starts as it would without one, said once — and -snes_surrogate_guess_input_check 0
    uses the guess all the same. The flag's threshold is rewritten to force both outcomes on
    the example's input (how well it separates inputs is measured in bench/RESULTS.md)."""
    p = paths(args)
    os.makedirs(args.workdir, exist_ok=True)
    calibrated = os.path.join(args.workdir, "calibrated.pins")
    sh([args.pins, "calibrate", "-model", p["model"], "-data", p["test"], "-o", calibrated,
        "-calibrate_level", "0.5", "-force"])
    def with_threshold(t):
        def edit(m):
            m["metrics"]["calibration"]["input_statistics"]["threshold"] = t
        return edit
    strict = os.path.join(args.workdir, "strict.pins")
    rewrite_model(calibrated, strict, manifest_edit=with_threshold(1e-9))
    lax = os.path.join(args.workdir, "lax.pins")
    rewrite_model(calibrated, lax, manifest_edit=with_threshold(1e9))
    zero, _, _ = solve(args)
    flagged, _, out = solve(args, "-snes_surrogate_guess", strict)
    print("Newton iterations: from zero %d, flagged inputs %d" % (zero, flagged))
    if flagged != zero or out.count("unlike the model's calibration inputs") != 1:
        fail("flagged inputs did not start Newton without the guess, said once:\n" + out)
    forced, _, out = solve(args, "-snes_surrogate_guess", strict,
                           "-snes_surrogate_guess_input_check", "0")
    used, _, out2 = solve(args, "-snes_surrogate_guess", lax)
    print("with the check off %d, unflagged %d" % (forced, used))
    if not forced < zero or not used < zero or "unlike" in out + out2:
        fail("the guess was not used with the check off (%d) or unflagged (%d); from zero %d"
             % (forced, used, zero))


def case_mpi(args):
    one, _, out1 = solve(args, *guess_options(args))
    two, _, out2 = solve(args, *guess_options(args), ranks=2)
    zero2, _, _ = solve(args, ranks=2)
    print("2 processes: from zero %d, from the guess %d (1 process: %d)" % (zero2, two, one))
    if two != one:
        fail("the guess gives %d Newton iterations on 2 processes, %d on 1" % (two, one))
    if not two < zero2:
        fail("on 2 processes the guess did not cut iterations (%d vs %d)" % (two, zero2))
    r1 = re.search(r"= ([0-9.e+-]+) \(inputs", out1).group(1)
    r2 = re.search(r"= ([0-9.e+-]+) \(inputs", out2).group(1)
    if abs(float(r1) - float(r2)) > 1e-6 * abs(float(r1)):
        fail("the guess differs between 1 and 2 processes: ||F(u0)||/||F(0)|| %s vs %s" % (r1, r2))


def expect_error(args, expected, *options):
    rc, out, err = run(args, *options)
    if rc == 0:
        fail("expected an error for %s" % " ".join(options))
    if rc < 0 or rc in (134, 139):
        fail("crashed (signal) for %s:\n%s" % (" ".join(options), err))
    # PETSc prints its error block; the message itself is one line naming the option.
    lines = [l for l in err.splitlines() if expected in l]
    if not lines:
        fail("error output for %s does not mention %r:\n%s" % (" ".join(options), expected, err))
    if "-snes_surrogate_guess" not in lines[0]:
        fail("the error line does not name -snes_surrogate_guess: " + lines[0])


def case_bad_input(args):
    p = paths(args)
    expect_error(args, "does not exist", "-snes_surrogate_guess", "/nonexistent/nl.pins")
    expect_error(args, "needs a model file", "-snes_surrogate_guess", "")
    other = os.path.join(args.workdir, "darcy_model.pins")
    rewrite_model(p["model"], other, manifest_edit=lambda m: m.update(problem_family="darcy"))
    expect_error(args, "was trained for darcy", "-snes_surrogate_guess", other)
    pc = os.path.join(args.workdir, "pc_model.pins")
    rewrite_model(p["model"], pc, manifest_edit=lambda m: m.update(task="precondition"))
    expect_error(args, "needs a solution model", "-snes_surrogate_guess", pc)
    truncated = os.path.join(args.workdir, "truncated.pins")
    open(truncated, "wb").write(open(p["model"], "rb").read()[:1000])
    expect_error(args, "truncated.pins", "-snes_surrogate_guess", truncated)
    expect_error(args, "needs a SNES on a 2-D DMDA", "-no_dm", "-snes_mf",
                 "-snes_surrogate_guess", p["model"])
    # Another equation than the family's: kappa cannot be read from its Jacobian.
    expect_error(args, "is not nonlinear_darcy's", "-snes_surrogate_guess", p["model"],
                 "-arithmetic_faces")
    expect_error(args, "-snes_surrogate_guess_threads must be >= 0", "-snes_surrogate_guess",
                 p["model"], "-snes_surrogate_guess_threads", "-1")
    print("ok: bad input refused with one error line naming -snes_surrogate_guess")


def case_evaluate(args):
    """pins evaluate on nonlinear_darcy: Newton from the guess vs from zero in report.json;
    and a dataset with another k(u) is re-solved with its own k(u) (no refusal)."""
    p = paths(args)
    out_dir = os.path.join(args.workdir, "report")
    sh([args.pins, "evaluate", "-model", p["model"], "-data", p["test"], "-o", out_dir, "-force",
        "-evaluate_plot", "0", "-evaluate_threads", "1", "-evaluate_solve_samples", "4",
        "-evaluate_newton_rtol", RTOL])
    report = json.load(open(os.path.join(out_dir, "report.json")))
    n = report.get("newton")
    if not n:
        fail("report.json has no 'newton' section: %s" % sorted(report))
    for key in ("iterations_zero", "iterations_guess", "seconds_zero", "seconds_guess",
                "seconds_inference", "iterations_ratio", "time_ratio", "per_sample", "rtol"):
        if key not in n:
            fail("report.json's newton section lacks %r" % key)
    if len(n["per_sample"]) != 4 or n["rtol"] != float(RTOL):
        fail("newton section: %d samples, rtol %g" % (len(n["per_sample"]), n["rtol"]))
    if not n["iterations_guess"] < n["iterations_zero"]:
        fail("evaluate: the guess did not cut Newton iterations: %s" % json.dumps(n))
    md = open(os.path.join(out_dir, "report.md")).read()
    if "Newton from the surrogate's guess" not in md:
        fail("report.md has no Newton section")
    # Another k(u): re-solved with the dataset's own equation.
    exp = os.path.join(args.workdir, "exp.h5")
    sh([args.pins, "generate", "-pde", "nonlinear_darcy", "-grid", str(GRID), "-samples", "2",
        "-seed", "3", "-nonlinearity", "exp", "-nonlinearity_beta", "0.5", "-progress", "0",
        "-force", "-o", exp])
    out_exp = os.path.join(args.workdir, "report_exp")
    sh([args.pins, "evaluate", "-model", p["model"], "-data", exp, "-o", out_exp, "-force",
        "-evaluate_plot", "0", "-evaluate_threads", "1", "-evaluate_solve_samples", "2"])
    n = json.load(open(os.path.join(out_exp, "report.json")))["newton"]
    print("evaluate: %.2f -> %.2f Newton iterations; exp k(u): %.2f -> %.2f"
          % (report["newton"]["iterations_zero"], report["newton"]["iterations_guess"],
             n["iterations_zero"], n["iterations_guess"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pins", required=True)
    ap.add_argument("--example", required=True)
    ap.add_argument("--library", required=True)
    ap.add_argument("--fixture", required=True, help="folder of the fixture's model and data")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--mpiexec-flag", action="append", default=[])
    ap.add_argument("case")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    globals()["case_" + args.case](args)
    print("ok: " + args.case)


if __name__ == "__main__":
    main()
