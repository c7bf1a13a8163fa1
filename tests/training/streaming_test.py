#!/usr/bin/env python3
"""`pins train` on datasets streamed from their files (-train_memory), checked the way a user
with a dataset larger than memory would.

Usage: streaming_test.py --pins PATH [--mpiexec PATH [--mpiexec-flag FLAG ...]] --workdir DIR
       CASE   (CASE: same, memory, bad_input)

same: streamed training (every dataset larger than -train_memory) gives the in-memory run's
loss history and weights bit for bit — labelled data with a validation file, unlabelled
inputs and the physics loss; a validation split of one file; a time-dependent family
(trajectories: a row per step); and data parallel on 2 processes. memory: on a dataset whose
values are several times the -train_memory limit imposed on the process, the peak resident
memory of a streamed run grows by less than half the dataset's values over a run on a
dataset 30 times smaller, while the in-memory run grows by more than the dataset (so the
check can fail). bad_input: a negative -train_memory, a NaN and a non-positive coefficient
inside a streamed file, and a corrupted chunk: each one line on stderr naming the file, the
array and the sample, a non-zero exit, and no model file (the corrupted file also on 2
processes: one line, no hang). Exit status 77 means skipped
(h5py or numpy missing).
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
FNO = ["-surrogate_type", "fno", "-fno_modes", "4", "-fno_width", "8", "-fno_layers", "2",
       "-fno_padding", "2", "-fno_hidden", "16"]
# Far below any dataset here: every run with it streams.
STREAM = ["-train_memory", "0.01"]


def run(cmd, ranks=None):
    """Runs pins, under mpiexec when `ranks` is given; returns (rc, out, err)."""
    return run_pins(ARGS, cmd, ranks, timeout=600)


def expect_ok(cmd, ranks=None):
    return expect_pins_ok(ARGS, cmd, ranks, timeout=600)


def generate(name, samples, seed, extra=(), grid="16"):
    expect_ok(["generate", "-grid", grid, "-samples", str(samples), "-seed", str(seed),
               "-progress", "0", "-o", name] + list(extra))


def model_parts(model):
    """(manifest, weights bytes) of a model file: a 32-byte header (magic, version, manifest
    and weight sizes as little-endian integers), the JSON manifest, the weights."""
    with open(os.path.join(ARGS.workdir, model), "rb") as f:
        data = f.read()
    size = struct.unpack_from("<Q", data, 16)[0]
    return json.loads(data[32:32 + size].decode("utf-8")), data[32 + size:]


def history(path):
    with open(os.path.join(ARGS.workdir, path)) as f:
        return list(csv.DictReader(f))


def train_both(name, args, ranks=None, expect_stream_line=True):
    """Trains in memory and streamed; the histories and weights must be identical."""
    common = ["train", "-train_threads", "1", "-force"] + args
    expect_ok(common + ["-o", name + "_mem.pins", "-train_log", name + "_mem.csv",
                        "-train_monitor", "0"], ranks)
    out = expect_ok(common + STREAM + ["-o", name + "_stream.pins", "-train_log",
                                       name + "_stream.csv"], ranks)
    if expect_stream_line and "streamed    from the file" not in out:
        fail("%s: the streamed run does not say it streams:\n%s" % (name, out))
    columns = ["loss", "data_loss", "physics_loss", "val_rel_l2", "val_physics", "lr"]
    a, b = history(name + "_mem.csv"), history(name + "_stream.csv")
    if len(a) != len(b) or not a:
        fail("%s: %d epochs in memory, %d streamed" % (name, len(a), len(b)))
    for e, (x, y) in enumerate(zip(a, b), 1):
        for c in columns:
            if c in x and x[c] != y[c]:
                fail("%s: epoch %d %s is %s in memory, %s streamed" % (name, e, c, x[c], y[c]))
    (ma, wa), (mb, wb) = model_parts(name + "_mem.pins"), model_parts(name + "_stream.pins")
    if wa != wb:
        fail("%s: the weights differ between the in-memory and the streamed run" % name)
    for key in ("normalisation", "training_data_hash"):
        if ma.get(key) != mb.get(key):
            fail("%s: manifest %s differs: %s vs %s" % (name, key, ma.get(key), mb.get(key)))
    print("ok: %s: %d epochs, history, weights, normalisation and data hash identical "
          "in memory and streamed%s" % (name, len(a), "" if ranks is None else
                                        " (%d processes)" % ranks))


def evaluate_both(model, data):
    """pins evaluate in memory and streamed (two blocks of samples): the same report."""
    reports = []
    for name, memory in (("eval_mem", "0"), ("eval_stream", "0.01")):
        expect_ok(["evaluate", "-model", model, "-data", data, "-o", name, "-force",
                   "-evaluate_plot", "0", "-evaluate_solve_samples", "2", "-evaluate_threads",
                   "1", "-evaluate_memory", memory])
        with open(os.path.join(ARGS.workdir, name, "report.json")) as f:
            reports.append(json.load(f))
    held, streamed = reports
    if "streamed" in held or streamed.get("streamed", {}).get("block_samples") != 32:
        fail("evaluate: expected the second run alone to stream in blocks of 32 samples: %s"
             % streamed.get("streamed"))
    for key in ("samples", "relative_l2", "relative_residual_prediction",
                "relative_residual_petsc"):
        if held[key] != streamed[key]:
            fail("evaluate: %s is %s in memory, %s streamed" % (key, held[key], streamed[key]))
    rc, _, err = run(["evaluate", "-model", model, "-data", data, "-o", "eval_refine",
                      "-refine", "0,1", "-evaluate_plot", "0", "-evaluate_memory", "0.01"])
    if rc == 0 or "refining predictions needs the whole dataset in memory" not in err:
        fail("evaluate -refine on a streamed dataset: expected a clear refusal, got rc=%d: %s"
             % (rc, err))
    print("ok: evaluate: %d samples, errors and residuals identical in memory and streamed "
          "(2 blocks); -refine refused when streaming" % held["samples"])


def case_same():
    generate("train.h5", 40, 1, ["-f_type", "grf"])
    generate("val.h5", 9, 2, ["-f_type", "grf"])
    generate("unlabelled.h5", 21, 3, ["-f_type", "grf", "-inputs_only"])
    train_both("files", ["-data", "train.h5", "-train_val_data", "val.h5", "-train_unlabelled",
                         "unlabelled.h5", "-train_unlabelled_batch_size", "5",
                         "-train_physics_weight", "0.1", "-train_epochs", "3",
                         "-train_batch_size", "7", "-train_lr", "3e-3"] + FNO)
    train_both("split", ["-data", "train.h5", "-train_epochs", "2", "-train_batch_size", "8",
                         "-train_physics_loss", "energy", "-train_physics_weight", "0.05"] + FNO)
    evaluate_both("split_mem.pins", "train.h5")
    train_both("physics_only", ["-train_unlabelled", "unlabelled.h5", "-train_data_weight", "0",
                                "-train_physics_weight", "1", "-train_epochs", "2"] + FNO)
    # Trajectories: each row a step (state u[t] -> u[t + 1]) read out of its sample.
    expect_ok(["generate", "-pde", "allen_cahn", "-grid", "12", "-steps", "4", "-samples", "8",
               "-seed", "4", "-progress", "0", "-o", "ac.h5"])
    train_both("trajectories", ["-data", "ac.h5", "-train_epochs", "2", "-train_batch_size", "5",
                                "-train_physics_weight", "0.1"] + FNO)
    if ARGS.mpiexec:
        train_both("parallel", ["-data", "train.h5", "-train_epochs", "2",
                                "-train_batch_size", "7", "-train_unlabelled", "unlabelled.h5",
                                "-train_physics_weight", "0.1"] + FNO, ranks=2)


def peak_mb(out):
    for line in out.splitlines():
        if "peak memory" in line:
            return float(line.split("peak memory")[1].split()[0])
    fail("no peak memory in pins train's output:\n" + out)


def case_memory():
    # 32x32 inputs-only samples of kappa and f: 16 KiB of values each.
    samples = 6000
    generate("big.h5", samples, 5, ["-inputs_only"], grid="32")
    generate("small.h5", samples // 30, 6, ["-inputs_only"], grid="32")
    values_mb = samples * 2 * 32 * 32 * 8 / 2**20
    limit_mb = 16
    common = ["train", "-train_unlabelled", None, "-train_data_weight", "0",
              "-train_physics_weight", "1", "-train_epochs", "1", "-train_batch_size", "64",
              "-train_threads", "1", "-force", "-o", "m.pins"] + FNO

    def train(data, memory):
        cmd = list(common)
        cmd[2] = data
        return peak_mb(expect_ok(cmd + ["-train_memory", str(memory)]))

    base = train("small.h5", limit_mb)
    streamed = train("big.h5", limit_mb)
    held = train("big.h5", 10 * values_mb)
    print("dataset values %.0f MB, -train_memory %d MB; peak memory: small dataset %.0f MB, "
          "big streamed %.0f MB (+%.0f), big in memory %.0f MB (+%.0f)"
          % (values_mb, limit_mb, base, streamed, streamed - base, held, held - base))
    if held - base < values_mb:
        fail("the in-memory run grew by %.0f MB only, less than the dataset's %.0f MB: this "
             "check cannot tell streaming from holding" % (held - base, values_mb))
    if streamed - base > values_mb / 2:
        fail("streaming grew the peak memory by %.0f MB, more than half the dataset's %.0f MB"
             % (streamed - base, values_mb))
    print("ok: streamed training's memory does not follow the dataset's size")


def expect_error(cmd, expected, ranks=None):
    before = snapshot(ARGS.workdir)
    rc, _, err = run(cmd, ranks)
    lines = [l for l in strip_mpiexec_notices(err).splitlines() if l.strip()]
    check_one_line_error(rc, lines, " ".join(cmd), "train", expected)
    if snapshot(ARGS.workdir) != before:
        fail("%s created or changed files" % " ".join(cmd))
    print("ok: %s -> %s" % (" ".join(cmd), lines[0]))


def case_bad_input():
    try:
        import h5py
        import numpy as np
    except ImportError:
        print("SKIP: h5py or numpy missing")
        sys.exit(77)
    generate("train.h5", 12, 1)
    base = ["train", "-train_epochs", "1", "-o", "bad.pins"] + FNO
    expect_error(base + ["-data", "train.h5", "-train_memory", "-1"], "-train_memory")
    work = ARGS.workdir
    for name, array, sample, value, expected in [
            ("nan.h5", "kappa", 7, float("nan"), "'kappa' holds a non-finite value"),
            ("negative.h5", "kappa", 3, -1.0, "sample 3 is not"),
            ("nan_u.h5", "u", 10, float("inf"), "'u' holds a non-finite value")]:
        shutil.copy(os.path.join(work, "train.h5"), os.path.join(work, name))
        with h5py.File(os.path.join(work, name), "r+") as f:
            a = f[array][sample]
            a.flat[5] = value
            f[array][sample] = a
        expect_error(base + ["-data", name] + STREAM, expected)
        if "non-finite" in expected:
            # The message names the sample, as read_dataset does for the whole file.
            rc, _, err = run(base + ["-data", name] + STREAM)
            if "[%d, " % sample not in err or name not in err:
                fail("the error does not name %s and sample %d: %s" % (name, sample, err))
    # A flipped byte inside one sample's chunk: the Fletcher32 checksum catches it on read.
    shutil.copy(os.path.join(work, "train.h5"), os.path.join(work, "corrupt.h5"))
    with h5py.File(os.path.join(work, "corrupt.h5"), "r") as f:
        offset = f["kappa"].id.get_chunk_info(4).byte_offset
    with open(os.path.join(work, "corrupt.h5"), "r+b") as f:
        f.seek(offset + 100)
        b = f.read(1)
        f.seek(offset + 100)
        f.write(bytes([b[0] ^ 0xFF]))
    expect_error(base + ["-data", "corrupt.h5"] + STREAM, "'kappa' cannot be read at sample 4")
    if ARGS.mpiexec:
        # Data parallel: every process meets the damaged sample; one line, no hang, no file.
        expect_error(base + ["-data", "corrupt.h5"] + STREAM,
                     "'kappa' cannot be read at sample 4", ranks=2)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--pins", required=True)
    p.add_argument("--mpiexec", default="")
    p.add_argument("--mpiexec-flag", action="append", default=[])
    p.add_argument("--workdir", required=True)
    p.add_argument("case", choices=["same", "memory", "bad_input"])
    ARGS = p.parse_args()
    shutil.rmtree(ARGS.workdir, ignore_errors=True)
    os.makedirs(ARGS.workdir)
    {"same": case_same, "memory": case_memory, "bad_input": case_bad_input}[ARGS.case]()


if __name__ == "__main__":
    main()
