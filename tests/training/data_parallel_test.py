#!/usr/bin/env python3
"""Data-parallel `pins train` under mpiexec, checked the way a cluster user would.

Usage: data_parallel_test.py --pins PATH --mpiexec PATH [--mpiexec-flag FLAG ...]
       --workdir DIR --ranks P CASE   (CASE: history, sampled, resume, bad_input)

history: the same global mini-batches on 1 and P processes give the same loss history (every
column of -train_log) and the same final validation error, up to floating-point summation
order (relative difference <= 1e-5), with labelled and unlabelled data, a physics loss and a
batch size that does not divide evenly among the processes; Adam in float32 and L-BFGS in
float64. sampled: -task precondition and -task smoother (each process draws its share of
every step's problems) log the same losses on 1 and P processes. resume: a run stopped after 2 epochs on P processes and resumed on 1 ends where an
uninterrupted 1-process run ends. bad_input: fewer samples than processes, and resuming from
a checkpoint of another model or with another global batch, each fail with one line on stderr, a non-zero exit, and no
file created or changed. Exit status 77 means skipped (numpy missing).
"""

import argparse
import csv
import json
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_support import (check_one_line_error, expect_pins_ok, fail, run_pins,  # noqa: E402
                         snapshot, strip_mpiexec_notices)

ARGS = None
TOLERANCE = 1e-5

FNO = ["-surrogate_type", "fno", "-fno_modes", "4", "-fno_width", "8", "-fno_layers", "2",
       "-fno_padding", "2", "-fno_hidden", "16"]


def run(cmd, ranks=None):
    """Runs pins, under mpiexec when `ranks` is given; returns (rc, out, err)."""
    return run_pins(ARGS, cmd, ranks, timeout=300)


def expect_ok(cmd, ranks=None):
    return expect_pins_ok(ARGS, cmd, ranks, timeout=300)


def expect_error(cmd, expected, ranks):
    before = snapshot(ARGS.workdir)
    rc, _, err = run(cmd, ranks)
    lines = [l for l in strip_mpiexec_notices(err).splitlines() if l.strip()]
    where = "%s (ranks=%d)" % (" ".join(cmd), ranks)
    check_one_line_error(rc, lines, where, "train", expected)
    if snapshot(ARGS.workdir) != before:
        fail("%s created or changed files" % where)
    print("ok: %s -> %s" % (where, lines[0]))


def generate(name, samples, seed, extra=()):
    expect_ok(["generate", "-grid", "16", "-samples", str(samples), "-seed", str(seed),
               "-f_type", "grf", "-progress", "0", "-o", name] + list(extra))


def history(path):
    with open(os.path.join(ARGS.workdir, path)) as f:
        return list(csv.DictReader(f))


def best_validation(model):
    """The manifest's best validation error: a model file is a 32-byte header (magic,
    version, manifest and weight sizes as little-endian integers), the JSON manifest, the
    weights."""
    with open(os.path.join(ARGS.workdir, model), "rb") as f:
        data = f.read()
    size = struct.unpack_from("<Q", data, 16)[0]
    manifest = json.loads(data[32:32 + size].decode("utf-8"))
    return manifest["metrics"]["best_validation"]


def close(a, b):
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b), 1e-30)


def compare_histories(h1, hp, what):
    if len(h1) != len(hp):
        fail("%s: %d epochs on 1 process, %d on %d" % (what, len(h1), len(hp), ARGS.ranks))
    columns = ["loss", "data_loss", "physics_loss", "val_rel_l2", "val_physics", "lr"]
    worst = 0.0
    for e, (a, b) in enumerate(zip(h1, hp), 1):
        for c in columns:
            x, y = float(a[c]), float(b[c])
            if x != x and y != y:  # both NaN: the column is off
                continue
            if not close(x, y):
                fail("%s: epoch %d %s is %.10g on 1 process, %.10g on %d (relative difference "
                     "above %g)" % (what, e, c, x, y, ARGS.ranks, TOLERANCE))
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-30))
    print("%s: %d epochs, every column within %.2g relative (1 vs %d processes)"
          % (what, len(h1), worst, ARGS.ranks))


def train_pair(name, args):
    """Trains with `args` on 1 and on ARGS.ranks processes; compares history and result."""
    common = ["train", "-train_monitor", "0", "-train_threads", "1", "-force"] + args + FNO
    expect_ok(common + ["-o", name + "_1.pins", "-train_log", name + "_1.csv"])
    expect_ok(common + ["-o", name + "_p.pins", "-train_log", name + "_p.csv"], ARGS.ranks)
    compare_histories(history(name + "_1.csv"), history(name + "_p.csv"), name)
    v1, vp = best_validation(name + "_1.pins"), best_validation(name + "_p.pins")
    if not close(v1, vp):
        fail("%s: best validation error %.10g on 1 process, %.10g on %d" % (name, v1, vp,
                                                                          ARGS.ranks))


def case_history():
    generate("train.h5", 46, 1)
    generate("unlabelled.h5", 30, 2, ["-inputs_only"])
    # 40 training samples in mini-batches of 7 (the last one 5): shares differ by one.
    train_pair("adam", ["-data", "train.h5", "-train_epochs", "3", "-train_batch_size", "7",
                        "-train_lr", "3e-3", "-train_physics_weight", "0.1",
                        "-train_unlabelled", "unlabelled.h5",
                        "-train_unlabelled_batch_size", "5"])
    train_pair("lbfgs", ["-data", "train.h5", "-train_epochs", "2", "-train_batch_size", "20",
                         "-train_optimizer", "lbfgs", "-train_lr", "0.5", "-train_dtype",
                         "float64", "-train_physics_weight", "0.1"])


def compare_logs(a, b, what, columns=("loss", "val_loss")):
    h1, hp = history(a), history(b)
    if len(h1) != len(hp) or not h1:
        fail("%s: %d log rows on 1 process, %d on %d" % (what, len(h1), len(hp), ARGS.ranks))
    worst = 0.0
    for a_row, b_row in zip(h1, hp):
        for c in columns:
            x, y = float(a_row[c]), float(b_row[c])
            if not close(x, y):
                fail("%s: step %s %s is %.10g on 1 process, %.10g on %d" % (
                    what, a_row["step"], c, x, y, ARGS.ranks))
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-30))
    print("%s: %d intervals, loss and validation loss within %.2g relative (1 vs %d processes)"
          % (what, len(h1), worst, ARGS.ranks))


def case_sampled():
    """Solve-free tasks: each process draws and scores its share of every step's problems."""
    for name, args in (
            ("precondition", ["-task", "precondition", "-grid", "16", "-train_steps", "20",
                              "-train_batch_size", "5", "-train_monitor_every", "10",
                              "-mgnet_width", "8"]),
            ("smoother", ["-task", "smoother", "-grid", "12", "-smoother_grid3d", "6",
                          "-train_steps", "10", "-train_batch_size", "3",
                          "-train_monitor_every", "5"])):
        common = ["train", "-train_threads", "1", "-force"] + args
        expect_ok(common + ["-o", name + "_1.pins", "-train_log", name + "_1.csv"])
        expect_ok(common + ["-o", name + "_p.pins", "-train_log", name + "_p.csv"], ARGS.ranks)
        compare_logs(name + "_1.csv", name + "_p.csv", name)


def case_resume():
    generate("train.h5", 40, 1)
    args = ["-data", "train.h5", "-train_batch_size", "8", "-train_lr", "3e-3",
            "-train_schedule", "constant", "-train_monitor", "0", "-train_threads", "1"] + FNO
    # Stopped after 2 epochs on P processes, resumed to 4 on one ...
    expect_ok(["train"] + args + ["-train_epochs", "2", "-o", "first.pins",
                                  "-train_checkpoint", "run.ckpt", "-train_log", "resumed.csv"],
              ARGS.ranks)
    expect_ok(["train"] + args + ["-train_epochs", "4", "-o", "resumed.pins",
                                  "-train_checkpoint", "run.ckpt", "-train_resume",
                                  "-train_log", "resumed.csv"])
    # ... ends where 4 epochs on one process end.
    expect_ok(["train"] + args + ["-train_epochs", "4", "-o", "straight.pins",
                                  "-train_log", "straight.csv"])
    compare_histories(history("straight.csv"), history("resumed.csv"), "resume")


def case_bad_input():
    generate("three.h5", 3, 1)
    expect_error(["train", "-data", "three.h5", "-o", "m.pins", "-train_epochs", "1"] + FNO,
                 "fewer than the 4 processes", 4)
    generate("train.h5", 24, 1)
    expect_ok(["train", "-data", "train.h5", "-o", "a.pins", "-train_epochs", "1",
               "-train_monitor", "0", "-train_checkpoint", "a.ckpt"] + FNO, ARGS.ranks)
    other = FNO[:]
    other[other.index("-fno_width") + 1] = "12"
    expect_error(["train", "-data", "train.h5", "-o", "b.pins", "-train_epochs", "1",
                  "-train_checkpoint", "a.ckpt", "-train_resume"] + other,
                 "a.ckpt' was written with surrogate options", ARGS.ranks)
    # The global batch is -train_batch_size whatever the process count: a resume on other
    # processes keeps it, and a resume that changes it is refused.
    expect_error(["train", "-data", "train.h5", "-o", "b.pins", "-train_epochs", "1",
                  "-train_batch_size", "8", "-train_checkpoint", "a.ckpt", "-train_resume"]
                 + FNO, "a.ckpt' was written with -train_batch_size 16", ARGS.ranks)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--pins", required=True)
    p.add_argument("--mpiexec", required=True)
    p.add_argument("--mpiexec-flag", action="append", default=[])
    p.add_argument("--workdir", required=True)
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("case", choices=["history", "sampled", "resume", "bad_input"])
    ARGS = p.parse_args()
    shutil.rmtree(ARGS.workdir, ignore_errors=True)
    os.makedirs(ARGS.workdir)
    {"history": case_history, "sampled": case_sampled, "resume": case_resume, "bad_input": case_bad_input}[ARGS.case]()
    print("PASS")


if __name__ == "__main__":
    main()
