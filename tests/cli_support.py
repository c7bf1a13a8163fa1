"""Shared checks of the CLI test drivers (tests/petsc/cli_test.py, tests/training/cli_test.py)."""

import hashlib
import os
import subprocess
import sys


def fail(message):
    """Reports a failed check and ends the test."""
    print("FAIL: " + message)
    sys.exit(1)


def check_one_line_error(rc, err_lines, where, subcommand, expected):
    """A failed command must exit non-zero with exactly one stderr line of the form
    'pins <subcommand>: error: ...' that mentions `expected`. Returns that line."""
    if rc == 0:
        fail("expected failure: " + where)
    if len(err_lines) != 1:
        fail("expected one line on stderr for %s, got %d:\n%s"
             % (where, len(err_lines), "\n".join(err_lines)))
    prefix = "pins %s: error: " % subcommand
    if not err_lines[0].startswith(prefix):
        fail("stderr of %s does not start with %r: %s" % (where, prefix, err_lines[0]))
    if expected not in err_lines[0]:
        fail("stderr of %s does not mention %r: %s" % (where, expected, err_lines[0]))
    return err_lines[0]


def snapshot(folder):
    """Every file under `folder` with the SHA-256 of its contents (to check that a failed
    command created or changed nothing)."""
    files = {}
    for root, _, names in os.walk(folder):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, folder)] = hashlib.sha256(f.read()).hexdigest()
    return files


def strip_mpiexec_notices(text):
    """Drops mpiexec's own boxed notices (between lines of dashes), e.g. the one Open MPI
    prints when a process exits with a non-zero status; they are not pins' output."""
    kept, inside = [], False
    for line in text.splitlines():
        if line.startswith("-----"):
            inside = not inside
            continue
        if not inside:
            kept.append(line)
    return "\n".join(kept)


def run_pins(args, cmd, ranks=None, timeout=600):
    """Runs `args.pins cmd` in args.workdir, under `args.mpiexec -n ranks` (with
    args.mpiexec_flag) when `ranks` is given, one LibTorch/OpenMP thread per process (P
    processes share this machine's cores) and Open MPI allowed to run as root; returns
    (rc, stdout, stderr)."""
    full = [args.pins] + list(cmd)
    if ranks is not None:
        full = [args.mpiexec, "-n", str(ranks)] + list(args.mpiexec_flag) + full
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    p = subprocess.run(full, cwd=args.workdir, capture_output=True, text=True, timeout=timeout,
                       env=env)
    return p.returncode, p.stdout, p.stderr


def expect_pins_ok(args, cmd, ranks=None, timeout=600):
    """run_pins, failing the test unless the command succeeds; returns its stdout."""
    rc, out, err = run_pins(args, cmd, ranks, timeout)
    if rc != 0:
        fail("expected success: %s (ranks=%s)\nrc=%d\nstdout:\n%s\nstderr:\n%s"
             % (" ".join(cmd), ranks, rc, out, err))
    return out
