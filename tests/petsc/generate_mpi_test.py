#!/usr/bin/env python3
"""`pins generate` on several processes: every process writes its own samples into the one
file with parallel HDF5, and groups of -generate_procs_per_sample k processes solve one
sample together. Checks the files with h5py alone (h5compare.py) and the errors as users
see them (one line, on every process, no file, no hang).

Usage: generate_mpi_test.py --pins PATH --mpiexec PATH [--mpiexec-flag FLAG ...] --workdir DIR CASE
"""

import argparse
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import cli_test as cli  # noqa: E402  (run, expect_ok, expect_error and ARGS)
import h5compare  # noqa: E402
from cli_support import fail  # noqa: E402


def path(name):
    return os.path.join(cli.ARGS.workdir, name)


def expect_same(a, b, what, **kw):
    diff = h5compare.differences(path(a), path(b), **kw)
    if diff:
        fail("%s: %s and %s differ:\n  %s" % (what, a, b, "\n  ".join(diff)))
    print("ok: %s: %s == %s (every array bit for bit, every attribute but %s)"
          % (what, a, b, "/".join(kw.get("skip_attributes", h5compare.PROVENANCE))))


def with_option(options, name, value):
    """`options` with option `name` set to `value` (replaced where present)."""
    out = list(options)
    if name in out:
        out[out.index(name) + 1] = value
    else:
        out += [name, value]
    return out


def generate(options, out, ranks, k=None):
    extra = ["-generate_procs_per_sample", str(k)] if k else []
    cli.expect_ok(["generate", "-progress", "0"] + options + extra + ["-o", out], ranks=ranks)


def case_identical_files():
    """1, 2 and 4 processes (4 oversubscribed on a 2-core machine) write identical files:
    labelled and inputs-only Darcy, 3-D Darcy, trajectories, and a mesh family."""
    cli.need_h5py()
    # 9 samples: uneven over 2 and 4 processes; lognormal κ and a random f.
    darcy = ["-pde", "darcy", "-grid", "24,16", "-samples", "9", "-seed", "5",
             "-kappa_type", "lognormal", "-kappa_sigma", "1.5", "-f_type", "grf"]
    for ranks in (1, 2, 4):
        generate(darcy, "darcy%d.h5" % ranks, ranks)
    expect_same("darcy1.h5", "darcy2.h5", "darcy")
    expect_same("darcy1.h5", "darcy4.h5", "darcy")
    for ranks in (1, 4):
        generate(darcy + ["-inputs_only"], "inputs%d.h5" % ranks, ranks)
    expect_same("inputs1.h5", "inputs4.h5", "darcy -inputs_only")
    d3 = ["-pde", "darcy3d", "-grid", "9,7,6", "-samples", "7", "-seed", "3", "-f_type", "grf"]
    for ranks in (1, 4):
        generate(d3, "d3_%d.h5" % ranks, ranks)
    expect_same("d3_1.h5", "d3_4.h5", "darcy3d")
    gs = ["-pde", "gray_scott", "-grid", "12", "-samples", "3", "-steps", "3", "-seed", "3"]
    for ranks in (1, 2):
        generate(gs, "gs%d.h5" % ranks, ranks)
    expect_same("gs1.h5", "gs2.h5", "gray_scott trajectories")
    fem = ["-pde", "darcy_fem", "-grid", "12,10", "-samples", "5", "-seed", "2",
           "-mesh_perturb", "0.25"]
    for ranks in (1, 2):
        generate(fem, "fem%d.h5" % ranks, ranks)
    expect_same("fem1.h5", "fem2.h5", "darcy_fem (mesh written by rank 0)")
    cli.expect_ok(["verify", "-data", "darcy4.h5"])
    cli.expect_ok(["verify", "-data", "d3_4.h5"])
    # Fewer samples than processes: the processes without one write nothing.
    for ranks in (1, 4):
        generate(with_option(darcy, "-samples", "2"), "few%d.h5" % ranks, ranks)
    expect_same("few1.h5", "few4.h5", "2 samples on 4 processes")


def relative_difference(x, y):
    import numpy as np
    return float(np.abs(x - y).max() / max(np.abs(x).max(), 1e-300))


def expect_close_solutions(ref, other, what, bound):
    """Inputs and seeds bit for bit; u within `bound` (relative, max norm); every residual
    below the solver's rtol; attributes equal but k and provenance."""
    import h5py
    import numpy as np
    skip = h5compare.PROVENANCE + ("solver.processes_per_sample",)
    diff = h5compare.differences(path(ref), path(other),
                                 skip_arrays=("u", "iterations", "residual"),
                                 skip_attributes=skip)
    if diff:
        fail("%s: %s and %s differ beyond u:\n  %s" % (what, ref, other, "\n  ".join(diff)))
    with h5py.File(path(ref), "r") as a, h5py.File(path(other), "r") as b:
        rtol = a.attrs["solver.rtol"]
        if not (b["residual"][()] <= rtol).all():
            fail("%s: residuals %s above rtol %g" % (what, b["residual"][()], rtol))
        d = relative_difference(a["u"][()], b["u"][()])
        if d > bound:
            fail("%s: u differs by %.3g (relative, max norm), above %.3g" % (what, d, bound))
        if b.attrs["solver.processes_per_sample"] != 2 or a.attrs["solver.processes_per_sample"] != 1:
            fail("%s: solver.processes_per_sample %s / %s" % (
                what, a.attrs["solver.processes_per_sample"], b.attrs["solver.processes_per_sample"]))
        if not np.any(b["u"][()] != 0):
            fail("%s: u is all zero" % what)
    print("ok: %s: k=2 inputs identical to k=1, u within %.3g of it (bound %.3g)" % (what, d, bound))


def case_groups():
    """-generate_procs_per_sample 2: one group of 2 and two groups of 2 write the same file
    bit for bit; against k = 1 the inputs are bit for bit the same and u agrees to the
    solver's tolerance (a parallel solve rounds differently: not bitwise)."""
    cli.need_h5py()
    d3 = ["-pde", "darcy3d", "-grid", "8", "-samples", "5", "-seed", "4", "-f_type", "grf"]
    generate(d3, "d3_k1.h5", 1)
    generate(d3, "d3_p2k2.h5", 2, k=2)
    generate(d3, "d3_p4k2.h5", 4, k=2)
    expect_same("d3_p2k2.h5", "d3_p4k2.h5", "darcy3d k=2 on 2 and 4 processes")
    # ‖u₁ − u₂‖ ≤ cond(A) · 2 rtol ‖u‖ (both residuals ≤ rtol); cond(A) ≤ 4 (n+1)² · κ contrast
    # (12/3) for the 7-point Laplacian with κ in [3, 12] at n = 8 — the max norm adds √N.
    n, rtol, contrast = 8, 1e-10, 4.0
    bound = 2 * rtol * 4 * (n + 1) ** 2 * contrast * (n ** 3) ** 0.5
    expect_close_solutions("d3_k1.h5", "d3_p2k2.h5", "darcy3d", bound)
    cli.expect_ok(["verify", "-data", "d3_p4k2.h5"])
    # Trajectories of a two-field family (dof 2, interlaced in the DMDA): the initial state
    # goes into every process's box, every state comes back to the group's first process.
    gs = ["-pde", "gray_scott", "-grid", "12", "-samples", "3", "-steps", "3", "-seed", "3"]
    generate(gs, "gs_k1.h5", 1)
    generate(gs, "gs_p2k2.h5", 2, k=2)
    generate(gs, "gs_p4k2.h5", 4, k=2)
    expect_same("gs_p2k2.h5", "gs_p4k2.h5", "gray_scott k=2 on 2 and 4 processes")
    # Each step's SNES stops at ‖G‖ ≤ rtol ‖u^t‖; over 3 steps of a well-conditioned implicit
    # step (dt D / h² ~ 1) the two runs stay within a few rtol of each other, times √N.
    expect_close_solutions("gs_k1.h5", "gs_p2k2.h5", "gray_scott", 100 * 1e-10 * 3 * 24)
    cli.expect_ok(["verify", "-data", "gs_p2k2.h5"])
    # Nothing is solved with -inputs_only: k changes nothing at all.
    generate(d3 + ["-inputs_only"], "in_k1.h5", 1)
    generate(d3 + ["-inputs_only"], "in_p4k2.h5", 4, k=2)
    expect_same("in_k1.h5", "in_p4k2.h5", "darcy3d -inputs_only k=2 vs k=1")
    # Fewer samples than groups: the groups without a sample only take part in the writes.
    generate(with_option(d3, "-samples", "1"), "one_p4k2.h5", 4, k=2)
    generate(with_option(d3, "-samples", "1"), "one_p2k2.h5", 2, k=2)
    expect_same("one_p2k2.h5", "one_p4k2.h5", "1 sample on 2 groups of 2")


def case_groups_bad_input():
    """Bad -generate_procs_per_sample values: one line on stderr (from rank 0), every
    process exits non-zero, no file."""
    base = ["generate", "-progress", "0", "-pde", "darcy3d", "-grid", "6", "-samples", "3"]
    cli.expect_error(base + ["-generate_procs_per_sample", "2", "-o", "x.h5"], "generate",
                     "-generate_procs_per_sample 2 does not divide the 3 MPI processes", ranks=3)
    cli.expect_error(base + ["-generate_procs_per_sample", "0", "-o", "x.h5"], "generate",
                     "-generate_procs_per_sample must be at least 1 (processes per sample), got 0",
                     ranks=2)
    cli.expect_error(["generate", "-progress", "0", "-pde", "darcy_fem", "-grid", "8",
                      "-samples", "2", "-generate_procs_per_sample", "2", "-o", "x.h5"],
                     "generate", "-pde darcy_fem is on an unstructured mesh (DMPlex); only families on "
                     "a DMDA solve one sample on several processes",
                     ranks=2)


def iterations(name):
    import h5py
    with h5py.File(path(name), "r") as f:
        return [int(i) for i in f["iterations"][()]]


def odd_first_failure(its):
    """An iteration limit whose first failing sample (the first above it) has an odd index,
    i.e. belongs to rank 1 of 2 (or group 1 of 2), and that index; None if there is none."""
    for limit in sorted(set(its), reverse=True)[1:]:
        first = next(i for i, n in enumerate(its) if n > limit)
        if first % 2 == 1:
            return limit, first
    return None


def case_one_rank_failure():
    """A sample that fails on one process only (its solver hits -ksp_max_it, the others'
    do not) ends the run on every process: one message, no file, nothing overwritten."""
    cli.need_h5py()
    # A κ contrast of 1e4 spreads the CG iteration counts over the samples (15 to 27 here);
    # a limit below an odd sample's count and above every earlier one fails that sample
    # first, on rank 1 (or in group 1: ranks 2 and 3), while rank 0's samples converge.
    opts = ["-pde", "darcy", "-grid", "32", "-samples", "6", "-seed", "1",
            "-kappa_contrast", "1e4"]
    keep = ["precious.h5"]
    with open(path("precious.h5"), "w") as f:
        f.write("precious\n")
    for ranks, k in ((2, 1), (4, 2)):
        generate(opts, "its.h5", k, k=k)
        its = iterations("its.h5")
        os.remove(path("its.h5"))
        found = odd_first_failure(its)
        if not found:
            fail("no iteration limit fails an odd sample first: iterations %s" % its)
        limit, first = found
        gen = ["generate", "-progress", "0"] + opts + ["-ksp_max_it", str(limit),
                                                       "-generate_procs_per_sample", str(k)]
        expected = "sample %d: the solver did not converge: DIVERGED_ITS after %d" % (first, limit)
        cli.expect_error(gen + ["-o", "x.h5"], "generate", expected, ranks=ranks, keep=keep)
        # Over an existing file with -force: it stays as it was.
        cli.expect_error(gen + ["-force", "-o", "precious.h5"], "generate", expected,
                         ranks=ranks, keep=keep)
        with open(path("precious.h5")) as f:
            if f.read() != "precious\n":
                fail("a failed run overwrote the existing file")
        print("ok: k=%d iterations %s, -ksp_max_it %d: sample %d failed on one group and ended "
              "all %d processes with one message" % (k, its, limit, first, ranks))


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pins", required=True)
    parser.add_argument("--mpiexec", required=True)
    parser.add_argument("--mpiexec-flag", action="append", default=[])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("case", choices=sorted(CASES))
    cli.ARGS = parser.parse_args()
    # A clean folder per case, so "no files left behind" is checkable.
    shutil.rmtree(cli.ARGS.workdir, ignore_errors=True)
    os.makedirs(cli.ARGS.workdir)
    CASES[cli.ARGS.case]()
    print("PASS: " + cli.ARGS.case)


if __name__ == "__main__":
    main()
