#!/usr/bin/env python3
"""The learned sparse smoother (-pc_type surrogate_smoother) in plain PETSc programs
(examples/plain_petsc_diffusion.c in 2-D, plain_petsc_diffusion3d.c in 3-D, plain_petsc_plex.c
with DMPlex finite elements on an unstructured mesh), loaded with -dll_append as a user who has
never linked pins would: inside GAMG on every level (and PCMG's on a 3-D DMDA), alone as CG's
preconditioner, on 1 and 2 processes (the same M whatever the split, so the same iterations),
with its -log_view events, on a two-field operator (Gray-Scott in pins generate, a multi-field
model), with a model trained on the two-grid loss, and refusing bad input with a clear error on
every process (never a hang).

Usage: smoother_pc_test.py --example EXE --example3d EXE [--example-plex EXE] --library LIB
                           [--pins PINS] --model SM.PINS --workdir DIR
                           [--mpiexec MPIEXEC --mpiexec-flag F ...] CASE
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_support import fail  # noqa: E402
from surrogate_pc_test import expect_error, rewrite_model, run, solve  # noqa: E402

# Convergence on the true residual, so that GAMG with and without the learned smoother stop at
# the same accuracy (CG's default preconditioned norm differs between the two).
GAMG = ["-ksp_type", "cg", "-ksp_norm_type", "unpreconditioned", "-pc_type", "gamg"]


def smoother(args):
    return ["-mg_levels_pc_type", "surrogate_smoother",
            "-mg_levels_pc_surrogate_smoother_model", args.model]


def in_3d(args):
    return argparse.Namespace(**dict(vars(args), example=args.example3d))


def in_plex(args):
    return argparse.Namespace(**dict(vars(args), example=args.example_plex))


def case_gamg(args):
    """GAMG with the learned smoother on every level converges in 2-D and 3-D, close to GAMG's
    own Chebyshev/Jacobi levels (a wrong M diverges or needs many more iterations)."""
    for name, a, grid in (("2-D", args, ["-da_grid_x", "65", "-da_grid_y", "65"]),
                          ("3-D", in_3d(args), ["-da_grid_x", "25", "-da_grid_y", "25",
                                                "-da_grid_z", "25"])):
        base, _, _ = solve(a, *GAMG, *grid)
        its, res, out = solve(a, *GAMG, *grid, *smoother(args), "-ksp_view")
        print("%s: CG + GAMG %d iterations, CG + GAMG with the learned smoother %d" %
              (name, base, its))
        if "pins learned sparse smoother" not in out:
            fail("%s: -ksp_view does not show the learned smoother on the levels:\n%s" % (name, out))
        if res > 1.01e-8:
            fail("%s: true relative residual %g" % (name, res))
        if its > 1.5 * base + 1:
            fail("%s: the learned smoother took %d iterations, GAMG's own levels %d" %
                 (name, its, base))


def case_alone(args):
    """CG with M alone: fewer iterations than CG + Jacobi, and the same on 1, 2 and 4 processes
    (each process computes its rows of the same M; 4 are oversubscribed on a 2-core machine,
    which counts iterations, not time)."""
    a = in_3d(args)
    sm = ["-ksp_type", "cg", "-pc_type", "surrogate_smoother", "-pc_surrogate_smoother_model",
          args.model]
    jac, _, _ = solve(a, "-ksp_type", "cg", "-pc_type", "jacobi")
    its = {p: solve(a, *sm, ranks=p)[0] for p in (1, 2, 4)}
    print("3-D CG + Jacobi %d, CG + M on 1, 2, 4 processes: %d, %d, %d" %
          (jac, its[1], its[2], its[4]))
    if max(its.values()) - min(its.values()) > 1:
        fail("CG + M took %d, %d and %d iterations on 1, 2 and 4 processes" %
             (its[1], its[2], its[4]))
    if not its[1] < jac:
        fail("the trained M (%d iterations) does not beat Jacobi (%d)" % (its[1], jac))
    # M's values go straight into AIJ arrays; another row-readable type (BAIJ) takes
    # MatSetValues instead: the same M, so the same iterations, on 1 and 2 processes.
    for p in (1, 2):
        baij = solve(a, *sm, "-dm_mat_type", "baij", ranks=p)[0]
        if baij != its[p]:
            fail("CG + M took %d iterations with a BAIJ matrix and %d with AIJ (%d process(es))"
                 % (baij, its[p], p))


def case_mpi(args):
    """GAMG + the smoother on 2 processes, and its -log_view events; on 4 processes with an
    uneven decomposition."""
    for a in (args, in_3d(args)):
        its, res, out = solve(a, *GAMG, *smoother(args), "-log_view", ranks=2)
        if "PinsSmootherSetUp" not in out or "PinsSmootherNet" not in out:
            fail("-log_view does not show the smoother's events:\n" + out)
        print("2 processes: %d iterations, true relative residual %.2e" % (its, res))
    # 4 processes (oversubscribed: correctness only) on a grid that does not split evenly.
    uneven = ["-da_grid_x", "67", "-da_grid_y", "61"]
    base, _, _ = solve(args, *GAMG, *uneven, ranks=4)
    its, res, _ = solve(args, *GAMG, *uneven, *smoother(args), ranks=4)
    print("67 x 61 on 4 processes: CG + GAMG %d iterations, with the learned smoother %d "
          "(true relative residual %.2e)" % (base, its, res))
    if its > 1.5 * base + 1:
        fail("4 processes: the learned smoother took %d iterations, GAMG's own %d" % (its, base))


# PETSc's geometric multigrid, 4 levels, coarse operators PᵀAP; CG on the true residual.
PCMG = ["-ksp_type", "cg", "-ksp_norm_type", "unpreconditioned", "-pc_type", "mg",
        "-pc_mg_levels", "4", "-pc_mg_galerkin", "both"]


def learned_on_pcmg(args, a, size, ranks, name):
    """CG + PCMG with the learned smoother on every level: its iterations, once -ksp_view shows
    the smoother on the levels and the true residual meets the tolerance."""
    its, res, out = solve(a, *PCMG, *size, *smoother(args), "-ksp_view", ranks=ranks)
    if out.count("pins learned sparse smoother") < 3:
        fail("%s: -ksp_view does not show the learned smoother on PCMG's levels:\n%s" %
             (name, out))
    if res > 1.01e-8:
        fail("%s, learned smoother, %d process(es): true relative residual %g" %
             (name, ranks, res))
    return its


def case_pcmg(args):
    """PETSc's geometric multigrid (PCMG on the example's DMDA, coarse operators PᵀAP: 7-point
    on the finest level, 27-point below) with the learned smoother on every level: converges on
    the true residual, close to PCMG's own Chebyshev/Jacobi levels, the same on 1 and 2
    processes (M is the same whatever the split; the DMDA's coarsening too)."""
    a = in_3d(args)
    grid = ["-da_grid_x", "33", "-da_grid_y", "33", "-da_grid_z", "33"]
    base, _, _ = solve(a, *PCMG, *grid)
    its = {p: learned_on_pcmg(args, a, grid, p, "pcmg") for p in (1, 2)}
    print("3-D 33^3, PCMG 4 levels: Chebyshev/Jacobi levels %d iterations, learned smoother "
          "%d (1 process) and %d (2 processes)" % (base, its[1], its[2]))
    if abs(its[1] - its[2]) > 1:
        fail("the learned smoother in PCMG took %d and %d iterations on 1 and 2 processes" %
             (its[1], its[2]))
    if its[1] > 1.5 * base + 1:
        fail("the learned smoother in PCMG took %d iterations, PCMG's own levels %d" %
             (its[1], base))


def case_plex(args):
    """A matrix unlike the DMDA stencils: P1 finite elements on an irregular (jittered)
    triangle mesh (DMPlex, Dirichlet dofs constrained out, no identity rows).
    GAMG with the learned smoother converges on 1 and 2 processes, close to GAMG's own levels,
    and the split changes the count by at most one more than it changes plain GAMG's."""
    if not args.example_plex:
        fail("the plex case needs --example-plex")
    a = in_plex(args)
    mesh = ["-dm_plex_box_faces", "160,160"]  # 51,200 triangles, 25,281 unknowns
    counts = {}
    for ranks in (1, 2):
        base, _, _ = solve(a, *GAMG, *mesh, ranks=ranks)
        its, res, out = solve(a, *GAMG, *mesh, *smoother(args), "-ksp_view", ranks=ranks)
        counts[ranks] = (base, its)
        if "pins learned sparse smoother" not in out:
            fail("plex: -ksp_view does not show the learned smoother on the levels:\n" + out)
        print("plex, %d process(es): CG + GAMG %d iterations, CG + GAMG with the learned "
              "smoother %d (true relative residual %.2e)" % (ranks, base, its, res))
        if res > 1.01e-8:
            fail("plex, %d process(es): true relative residual %g" % (ranks, res))
        if its > 1.5 * base + 1:
            fail("plex, %d process(es): the learned smoother took %d iterations, GAMG's own "
                 "levels %d" % (ranks, its, base))
    # M is the same whatever the split, but GAMG's aggregates (and so its coarse levels) are
    # not, and plain GAMG's own count on 2 processes varies by one from run to run: allow the
    # smoother's 1-vs-2 difference plain GAMG's own, plus the ±1 any split is allowed. (CI saw
    # GAMG 13 vs 14 and the smoother 14 vs 16.)
    allowed = abs(counts[1][0] - counts[2][0]) + 1
    if abs(counts[1][1] - counts[2][1]) > allowed:
        fail("plex: the learned smoother took %d iterations on 1 process and %d on 2 (plain "
             "GAMG %d and %d)" % (counts[1][1], counts[2][1], counts[1][0], counts[2][0]))


def case_plex_pcmg(args):
    """PETSc's geometric multigrid on DMPlex finite elements: the example refines a 20² box
    mesh three times (-dm_refine_hierarchy, 160² boxes, 25,281 unknowns) and hands the mesh
    to the KSP, so PCMG coarsens along the meshes with DMPlex's nested P1 interpolation
    (coarse operators PᵀAP). PCMG's own levels and the learned smoother on every level
    converge on the true residual, on 1 and 2 processes with the same iterations (±1: the
    hierarchy and M do not depend on the split)."""
    if not args.example_plex:
        fail("the plex_pcmg case needs --example-plex")
    a = in_plex(args)
    mesh = ["-dm_plex_box_faces", "20,20", "-dm_refine_hierarchy", "3", "-kappa_contrast", "1e4"]
    its = {}
    for p in (1, 2):
        base, res, out = solve(a, *PCMG, *mesh, "-ksp_view", ranks=p)
        if "25281 unknowns" not in out or "rows=361," not in out:
            fail("plex_pcmg: expected 25281 fine and 361 coarsest unknowns (the wall left out "
                 "on every level):\n" + out)
        if res > 1.01e-8:
            fail("plex_pcmg, PCMG's own levels, %d process(es): true relative residual %g" %
                 (p, res))
        its[p] = learned_on_pcmg(args, a, mesh, p, "plex_pcmg")
        print("plex 160^2 boxes as 20^2 refined 3 times, PCMG 4 levels, %d process(es): "
              "Chebyshev/SOR levels %d iterations, learned smoother %d" % (p, base, its[p]))
        if its[p] > 1.5 * base + 1:
            fail("plex_pcmg: the learned smoother took %d iterations, PCMG's own levels %d" %
                 (its[p], base))
    if abs(its[1] - its[2]) > 1:
        fail("plex_pcmg: the learned smoother took %d and %d iterations on 1 and 2 processes" %
             (its[1], its[2]))


def run_pins(args, *options, ranks=1):
    """The pins CLI itself (no -dll_append: it registers the PCs): (exit code, stdout, stderr)."""
    cmd = [args.pins] + list(options)
    if ranks > 1:
        cmd = [args.mpiexec, "-n", str(ranks)] + args.mpiexec_flag + cmd
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    return p.returncode, p.stdout, p.stderr


def gray_scott_iterations(args, *options, ranks=1):
    """Runs pins generate -pde gray_scott (TS beuler + Newton; GMRES with the options' PC on a
    2-D DMDA with dof 2) for one 20-step trajectory; returns (linear solves, total linear
    iterations, output). Fails unless the trajectory was written (every step converged)."""
    out_file = os.path.join(args.workdir, "gs_%d.h5" % ranks)
    rc, out, err = run_pins(args, "generate", "-pde", "gray_scott", "-grid", "32",
                       "-samples", "1", "-o", out_file, "-force", "-ksp_converged_reason",
                       *options, ranks=ranks)
    if rc != 0:
        fail("gray_scott with %s failed (exit %d):\n%s%s" % (" ".join(options), rc, out, err))
    its = [int(m) for m in re.findall(r"Linear solve converged due to \w+ iterations (\d+)", out)]
    if not its:
        fail("gray_scott with %s: no converged linear solve:\n%s" % (" ".join(options), out))
    return len(its), sum(its), out


def case_multifield(args):
    """Two fields per point (Gray-Scott's Newton systems, a DMDA with dof 2, not symmetric): a
    model trained with -smoother_dof 2 reads each entry's fields from the block size, as the
    PC's view says; GMRES with it alone takes fewer iterations than point-block Jacobi and the
    same on 1 and 2 processes; inside GAMG every step converges; a scalar model runs there too."""
    if not args.pins:
        fail("the multifield case needs --pins")
    model = os.path.join(args.workdir, "sm2.pins")
    rc, out, err = run_pins(args, "train", "-task", "smoother", "-smoother_dof", "2",
                       "-smoother_dims", "2", "-grid", "12", "-train_steps", "150",
                       "-train_batch_size", "4", "-train_lr", "3e-3", "-train_threads", "1",
                       "-train_monitor_every", "50", "-force", "-o", model)
    if rc != 0:
        fail("pins train -smoother_dof 2 failed (exit %d):\n%s%s" % (rc, out, err))
    alone = ["-pc_type", "surrogate_smoother", "-pc_surrogate_smoother_model", model]
    _, pbj, _ = gray_scott_iterations(args, "-pc_type", "pbjacobi")
    solves, its1, out = gray_scott_iterations(args, *alone, "-ksp_view")
    if "(multi-field)" not in out or "fields per point (block size of P): 2" not in out:
        fail("-ksp_view does not show a multi-field smoother reading 2 fields:\n" + out[:3000])
    _, its2, out2 = gray_scott_iterations(args, *alone, "-info", ":pc", ranks=2)
    # Newton's Jacobian is one matrix whose pattern never changes: after the first set-up
    # only its values are read (-info says so, from the first process, at each of the others).
    reread = out2.count("P has the pattern read last time")
    if reread != solves - 1:
        fail("2 processes: P's values alone were read at %d of %d set-ups (expected %d)" %
             (reread, solves, solves - 1))
    print("gray_scott 32^2, 20 steps (%d linear solves): GMRES + point-block Jacobi %d "
          "iterations, GMRES + M %d (1 process), %d (2 processes)" % (solves, pbj, its1, its2))
    if abs(its1 - its2) > solves:  # at most one per solve
        fail("GMRES + M took %d iterations on 1 process and %d on 2" % (its1, its2))
    if not its1 < pbj:
        fail("the multi-field M (%d iterations) does not beat point-block Jacobi (%d)" %
             (its1, pbj))
    for name, m in (("multi-field", model), ("scalar", args.model)):
        _, its, _ = gray_scott_iterations(args, "-mg_levels_pc_type", "surrogate_smoother",
                                          "-mg_levels_pc_surrogate_smoother_model", m)
        print("gray_scott inside GAMG with the %s model: %d iterations" % (name, its))
    # -pc_surrogate_smoother_lag 3: the Jacobian's pattern never changes, so the network runs
    # (and P's rows are read) at every third set-up only (PETSc's event counts say so) and M is
    # formed from its outputs and the new diagonal in between; every step still converges, on
    # 1 and 2 processes.
    for ranks in (1, 2):
        solves, lagged, out = gray_scott_iterations(args, *alone, "-pc_surrogate_smoother_lag",
                                                    "3", "-log_view", ranks=ranks)
        counts = {e: int(re.search(r"^%s\s+(\d+)" % e, out, re.M).group(1))
                  for e in ("PinsSmootherSetUp", "PinsSmootherNet", "PinsSmootherRead")}
        print("lag 3 on %d process(es): %d set-ups, the network at %d; %d iterations (lag 1: %d)"
              % (ranks, counts["PinsSmootherSetUp"], counts["PinsSmootherNet"], lagged, its1))
        if counts["PinsSmootherNet"] != (counts["PinsSmootherSetUp"] + 2) // 3:
            fail("lag 3: the network ran at %d of %d set-ups" %
                 (counts["PinsSmootherNet"], counts["PinsSmootherSetUp"]))
        # A lagged set-up reads only P's diagonal: P's rows are read when the network runs.
        if counts["PinsSmootherRead"] != counts["PinsSmootherNet"]:
            fail("lag 3: P's rows were read at %d set-ups, the network ran at %d" %
                 (counts["PinsSmootherRead"], counts["PinsSmootherNet"]))
        if lagged > 1.5 * its1:
            fail("lag 3 took %d iterations against %d at lag 1" % (lagged, its1))


def case_two_grid(args):
    """A model trained on the two-grid loss (-smoother_loss two_grid): the training says what
    it compares with (Chebyshev/Jacobi, GAMG's own levels) and beats it, the manifest records
    the loss, and the model serves GAMG's levels and CG alone in 3-D like a one-step model; a
    loss name it does not know is refused in one line."""
    if not args.pins:
        fail("the two_grid case needs --pins")
    model = os.path.join(args.workdir, "sm_two_grid.pins")
    rc, out, err = run_pins(args, "train", "-task", "smoother", "-smoother_loss", "two_grid",
                            "-grid", "12", "-smoother_grid3d", "6", "-train_steps", "150",
                            "-train_batch_size", "4", "-train_lr", "3e-3", "-train_threads",
                            "1", "-train_monitor_every", "50", "-force", "-o", model)
    if rc != 0:
        fail("pins train -smoother_loss two_grid failed (exit %d):\n%s%s" % (rc, out, err))
    m = re.search(r"validation energy error ([0-9.e+-]+); Chebyshev/Jacobi ([0-9.e+-]+)", out)
    if not m or "one two-grid cycle" not in out:
        fail("pins train -smoother_loss two_grid does not report the two-grid loss:\n" + out)
    if not float(m.group(1)) < float(m.group(2)):
        fail("the two-grid model (%s) does not beat Chebyshev/Jacobi (%s)" % m.groups())
    data = open(model, "rb").read()
    manifest = json.loads(data[32:32 + struct.unpack_from("<Q", data, 16)[0]])
    if manifest["metrics"].get("loss") != "two_grid":
        fail("the manifest does not record the loss two_grid: %s" % manifest["metrics"])
    a = in_3d(args)
    grid = ["-da_grid_x", "25", "-da_grid_y", "25", "-da_grid_z", "25"]
    levels = ["-mg_levels_pc_type", "surrogate_smoother",
              "-mg_levels_pc_surrogate_smoother_model", model]
    base, _, _ = solve(a, *GAMG, *grid)
    its, res, _ = solve(a, *GAMG, *grid, *levels)
    jac, _, _ = solve(a, "-ksp_type", "cg", "-pc_type", "jacobi", *grid)
    alone, _, _ = solve(a, "-ksp_type", "cg", "-pc_type", "surrogate_smoother",
                        "-pc_surrogate_smoother_model", model, *grid)
    print("3-D 25^3: CG + GAMG %d iterations, with the two-grid model on its levels %d; "
          "CG + Jacobi %d, CG + M alone %d" % (base, its, jac, alone))
    if res > 1.01e-8 or its > 1.5 * base + 1:
        fail("the two-grid model inside GAMG: %d iterations (GAMG's own %d), residual %g" %
             (its, base, res))
    if not alone < jac:
        fail("the two-grid model alone (%d iterations) does not beat Jacobi (%d)" % (alone, jac))
    rc, out, err = run_pins(args, "train", "-task", "smoother", "-smoother_loss", "v_cycle",
                            "-o", os.path.join(args.workdir, "never.pins"))
    if rc == 0 or "-smoother_loss must be one_step or two_grid, got 'v_cycle'" not in err:
        fail("a bad -smoother_loss was not refused clearly (exit %d):\n%s%s" % (rc, out, err))
    if os.path.exists(os.path.join(args.workdir, "never.pins")):
        fail("a refused training wrote its output")


def case_bad_input(args):
    sm = ["-ksp_type", "cg", "-pc_type", "surrogate_smoother"]
    expect_error(args, "needs a model: -pc_surrogate_smoother_model", *sm)
    expect_error(args, "/nonexistent/sm.pins", *sm, "-pc_surrogate_smoother_model",
                 "/nonexistent/sm.pins")
    truncated = os.path.join(args.workdir, "truncated.pins")
    open(truncated, "wb").write(open(args.model, "rb").read()[:1000])
    expect_error(args, "truncated.pins", *sm, "-pc_surrogate_smoother_model", truncated)
    # A model of the other PETSc-facing task is refused with the options it belongs to, both
    # ways round; and the surrogate PC refuses grids it does not serve (3-D, DMPlex) pointing
    # at the learned smoother.
    other = os.path.join(args.workdir, "other_task.pins")
    rewrite_model(args.model, other, manifest_edit=lambda m: m.update(task="precondition"))
    expect_error(args, "runs as -pc_type surrogate -pc_surrogate_model", *sm,
                 "-pc_surrogate_smoother_model", other)
    sur = ["-ksp_type", "fgmres", "-pc_type", "surrogate"]
    expect_error(args, "-mg_levels_pc_type surrogate_smoother -mg_levels_pc_surrogate_smoother_"
                 "model " + args.model, *sur, "-pc_surrogate_model", args.model)
    if args.pins:
        pc = os.path.join(args.workdir, "pc16.pins")
        p = subprocess.run([args.pins, "train", "-task", "precondition", "-grid", "16",
                            "-train_steps", "2", "-train_batch_size", "2", "-train_threads", "1",
                            "-force", "-o", pc], capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            fail("training a small preconditioner model failed:\n" + p.stdout + p.stderr)
        for a, what in ((in_3d(args), "this DMDA is 3-D"),
                        (in_plex(args), "the matrix's DM is of type plex")):
            if a.example:
                expect_error(a, what + "; for any AIJ operator use pins' learned smoother", *sur,
                             "-pc_surrogate_model", pc)
    expect_error(args, "-pc_surrogate_smoother_lag must be >= 1", *sm,
                 "-pc_surrogate_smoother_model", args.model, "-pc_surrogate_smoother_lag", "0")
    expect_error(args, "-pc_surrogate_smoother_threads must be >= 0", *sm,
                 "-pc_surrogate_smoother_model", args.model, "-pc_surrogate_smoother_threads",
                 "-1")
    # SBAIJ keeps only the upper triangle: refused in pins' words, not PETSc's deep inside.
    expect_error(args, "stores only the upper triangle", *sm, "-pc_surrogate_smoother_model",
                 args.model, "-dm_mat_type", "sbaij")
    # A negative conductivity gives rows with a negative diagonal: refused on every process
    # (2 ranks; run() has a timeout, so a hang fails the test).
    for ranks in (1, 2):
        rc, out, err = run(args, args.example, *sm, "-pc_surrogate_smoother_model", args.model,
                           "-kappa_contrast", "-3", ranks=ranks)
        if rc == 0 or "needs a positive diagonal" not in err:
            fail("a negative diagonal on %d process(es) was not refused clearly (exit %d):\n%s%s"
                 % (ranks, rc, out, err))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--example", required=True)
    p.add_argument("--example3d", required=True)
    p.add_argument("--example-plex", required=False, default="")
    p.add_argument("--library", required=True)
    p.add_argument("--pins", required=False, default="")
    p.add_argument("--model", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--mpiexec", default="mpiexec")
    p.add_argument("--mpiexec-flag", action="append", default=[])
    p.add_argument("case")
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    globals()["case_" + args.case](args)
    print("PASS " + args.case)


if __name__ == "__main__":
    main()
