#!/usr/bin/env python3
"""`pins train` killed with SIGKILL in the middle of its checkpoint and model-file writes,
again and again, then resumed: checked the way a cluster job that the scheduler kills would
use it.

Usage: kill_test.py --pins PATH --workdir DIR [--kills N] [--seed S]

An uninterrupted run gives the reference. Then, episode after episode, the same run is started
(resuming from its checkpoint when one exists), watched for the temporary file of a
checkpoint, model or log write (AtomicFile: ".<name>.tmp.<host>.<pid>.<random>") and killed with
SIGKILL at a random moment after the j-th write began (j random), until N kills have hit a
write in progress (the temporary still there when the signal is sent). After every kill the
latest checkpoint must load (the resumed run uses it; a damaged one would fail), the model
file must be absent or complete, and the temporaries the killed processes left must not pile
up (at most one per file: the next write of the same file removes them). Every episode, run to its end, must give
the reference's loss history and weights bit for bit.
"""

import argparse
import csv
import os
import random
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_support import fail  # noqa: E402

ARGS = None
FNO = ["-surrogate_type", "fno", "-fno_modes", "4", "-fno_width", "8", "-fno_layers", "2",
       "-fno_padding", "2", "-fno_hidden", "16"]
EPOCHS = 5
COLUMNS = ["epoch", "loss", "data_loss", "physics_loss", "val_rel_l2", "val_physics", "lr"]


def env():
    return dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
                OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def path(name):
    return os.path.join(ARGS.workdir, name)


def train_command(name, resume):
    cmd = [ARGS.pins, "train", "-data", "train.h5", "-o", name + ".pins", "-train_epochs",
           str(EPOCHS), "-train_batch_size", "4", "-train_checkpoint_every", "1",
           "-train_checkpoint", name + ".ckpt", "-train_log", name + ".csv", "-train_threads",
           "1", "-train_monitor", "0", "-train_physics_weight", "0.1"] + FNO
    return cmd + (["-train_resume"] if resume else [])


def weights(model):
    """The weights of a model file: after a 32-byte header (magic, version, manifest and weight
    sizes as little-endian integers) and the JSON manifest."""
    with open(path(model), "rb") as f:
        data = f.read()
    size = struct.unpack_from("<Q", data, 16)[0]
    return data[32 + size:]


def history(log):
    with open(path(log)) as f:
        return [[row[c] for c in COLUMNS] for row in csv.DictReader(f)]


def temporaries():
    return [e for e in os.listdir(ARGS.workdir) if ".tmp." in e and e.startswith(".k.")]


def run_until_write(resume, nth_write, delay):
    """Starts the run; SIGKILLs it `delay` seconds after its nth_write-th write began. Returns
    (finished, the file being written when killed: "checkpoint", "model" or "", error)."""
    p = subprocess.Popen(train_command("k", resume), cwd=ARGS.workdir, env=env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = set(temporaries())  # stale ones from earlier kills do not count
    writes = 0
    while p.poll() is None:
        new = [t for t in temporaries() if t not in seen]
        if not new:
            continue
        seen.update(new)
        writes += len(new)
        if writes < nth_write:
            continue
        end = time.perf_counter() + delay
        while time.perf_counter() < end:
            pass
        hit = [t for t in new if t in temporaries()]
        during = next((kind for prefix, kind in ((".k.pins.", "model"), (".k.ckpt.", "checkpoint"),
                                                  (".k.csv.", "log")) if any(t.startswith(prefix) for t in hit)), "")
        try:
            p.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        if p.returncode == -signal.SIGKILL:
            return False, during, ""
        break
    _, err = p.communicate()
    if p.returncode != 0:
        return False, "", err
    return True, "", ""


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--pins", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--kills", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    ARGS = p.parse_args()
    os.makedirs(ARGS.workdir, exist_ok=True)
    for e in os.listdir(ARGS.workdir):
        os.remove(path(e))
    rng = random.Random(ARGS.seed)
    subprocess.run([ARGS.pins, "generate", "-grid", "16", "-samples", "16", "-seed", "1",
                    "-progress", "0", "-o", "train.h5"], cwd=ARGS.workdir, env=env(),
                   check=True, capture_output=True)
    subprocess.run(train_command("ref", False), cwd=ARGS.workdir, env=env(), check=True,
                   capture_output=True)
    ref_weights, ref_history = weights("ref.pins"), history("ref.csv")

    kills = during = episodes = runs = 0
    hits = {"checkpoint": 0, "model": 0, "log": 0}
    most_temporaries = 0
    started = time.time()
    while during < ARGS.kills:
        if runs > 8 * ARGS.kills:
            fail("only %d of %d kills hit a write in %d runs" % (during, ARGS.kills, runs))
        episodes += 1
        for name in ("k.pins", "k.ckpt", "k.csv"):
            if os.path.exists(path(name)):
                os.remove(path(name))
        finished = False
        while not finished:
            runs += 1
            resume = os.path.exists(path("k.ckpt"))
            if os.path.exists(path("k.pins")):
                finished = True  # killed after the model file was in place: the run is done
                break
            # Kill during this run's 1st to 3rd write, 0 to 3 ms after it began.
            finished, hit, error = run_until_write(resume, rng.choice([1, 1, 2, 3]),
                                                   rng.uniform(0, 0.003))
            if error:
                fail("episode %d: the run %s failed after %d kills:\n%s"
                     % (episodes, "resuming from the checkpoint" if resume else "from scratch",
                        kills, error))
            if not finished:
                kills += 1
                if hit:
                    during += 1
                    hits[hit] += 1
            most_temporaries = max(most_temporaries, len(temporaries()))
            # At most one per file written atomically (checkpoint, model, log): the next
            # write of each removes what killed processes left.
            if most_temporaries > 3:
                fail("temporaries pile up after kills: %s" % temporaries())
        if weights("k.pins") != ref_weights:
            fail("episode %d: the model after %d kills differs from the uninterrupted run's"
                 % (episodes, kills))
        if history("k.csv") != ref_history:
            fail("episode %d: the history after kills differs from the uninterrupted run's:\n"
                 "%s\n%s" % (episodes, history("k.csv"), ref_history))
    print("ok: %d SIGKILLs (%d during a write: %d checkpoint, %d model file, %d log) in %d "
          "episodes of %d runs, %.0f s: every checkpoint loaded, every episode ended with the "
          "uninterrupted run's weights and history bit for bit; at most %d temporaries left at a "
          "time" % (kills, during, hits["checkpoint"], hits["model"], hits["log"], episodes, runs,
                    time.time() - started, most_temporaries))


if __name__ == "__main__":
    main()
