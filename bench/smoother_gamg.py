#!/usr/bin/env python3
"""The learned sparse smoother (-pc_type surrogate_smoother) against PETSc's own
preconditioners, side by side in one run (issue 14, item 5).

2-D: bench_precondition on unseen Darcy 12/3 and 1:1e4 samples (pins' Darcy assembly).
3-D: the plain-PETSc example examples/plain_petsc_diffusion3d.c (7-point, a blob conductivity
the smoother never saw in training, contrast 4 and 1e4); DMPlex: examples/plain_petsc_plex.c
(P1 on a perturbed triangle mesh of the square, the same kind of conductivity). Both are timed
by PETSc's own -log_view: PCSetUp (all of set-up) and KSPSolve (the iterations; KSPSolve does
its set-up before its own event starts).
Every row stops on the true residual at rtol 1e-8. Runs on 1 and 2 processes. The geometric
rows (pcmg, learned_pcmg: PCMG with Galerkin coarse operators) run on the 3-D grids (the DMDA's
coarsening) and on DMPlex meshes given as C/L: C² boxes refined L times (-dm_refine_hierarchy,
DMPlex's nested P1 interpolation between the meshes); a plain -plex B (B² boxes) has no
hierarchy and runs the other rows only.

  bench/smoother_gamg.py -build BUILD [-model sm.pins[,sm2.pins]] [-grids2d 256,1024]
                         [-grids3d 33,65] [-plex 316[,20/4]] [-procs 1,2] [-samples 2]
                         [-rows jacobi,gamg,boomeramg,learned_gamg,learned_alone,pcmg,learned_pcmg]

Without -model, a smoother is trained first with `pins train -task smoother` and its defaults
(no data, no solves). Several models (comma-separated) get a learned row each, named by the
model's file, so models trained differently compare in one run. Prints markdown tables for
bench/RESULTS.md.
"""
import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def env_for(procs):
    """OpenMP threads per process: the cores divided among the processes. Debian's PETSc calls
    the system BLAS, here OpenBLAS built with OpenMP; unset, every process starts a thread per
    core, and two processes on two cores spin against each other in every vector operation
    (measured: CG + Jacobi at 33^3 on 2 processes took 7.1 s against 0.07 s on one)."""
    return dict(ENV, OMP_NUM_THREADS=str(max(1, (os.cpu_count() or 1) // procs)))


def mpirun(procs, *cmd):
    return ["mpiexec", "--oversubscribe", "--bind-to", "none", "-n", str(procs), *cmd]


def machine_line():
    cpu = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return "machine: %d cores, %s, %s, %s UTC" % (os.cpu_count(), cpu, platform.node(),
                                                time.strftime("%Y-%m-%d %H:%M", time.gmtime()))


def log_time(out, event):
    m = re.search(r"^%s\s+\d+\s+\S+\s+(\S+)" % event, out, re.M)
    return float(m.group(1)) if m else float("nan")


def run_example(build, library, model, example, size, contrast, procs, options):
    cmd = mpirun(procs, os.path.join(build, "bin", example), "-dll_append", library, *size,
                 "-kappa_contrast", str(contrast), "-ksp_rtol", "1e-8",
                 "-ksp_max_it", "3000", "-ksp_norm_type", "unpreconditioned",
                 "-ksp_converged_reason", "-log_view", *options.split())
    cmd = [c.replace("MODEL", model) for c in cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env_for(procs), timeout=1800)
    if p.returncode != 0:
        sys.exit("run failed (%s):\n%s%s" % (" ".join(cmd), p.stdout[-3000:], p.stderr[-3000:]))
    m = re.search(r"(\d+) iterations, true relative residual ([0-9.e+-]+)", p.stdout)
    converged = "CONVERGED" in p.stdout
    return (int(m.group(1)), float(m.group(2)), log_time(p.stdout, "KSPSolve"),
            log_time(p.stdout, "PCSetUp"), converged)


CG = "-ksp_type cg"
PCMG = " -pc_type mg -pc_mg_levels LEVELS -pc_mg_galerkin both"
# (key for -rows, name, options, uses a model)
ROWS = [
    ("jacobi", "CG + Jacobi", CG + " -pc_type jacobi", False),
    ("gamg", "CG + GAMG", CG + " -pc_type gamg", False),
    ("boomeramg", "CG + BoomerAMG", CG + " -pc_type hypre -pc_hypre_type boomeramg", False),
    ("learned_gamg", "CG + GAMG, learned smoother",
     CG + " -pc_type gamg -mg_levels_pc_type surrogate_smoother"
     " -mg_levels_pc_surrogate_smoother_model MODEL", True),
    ("learned_alone", "CG + learned smoother alone", CG + " -pc_type surrogate_smoother"
     " -pc_surrogate_smoother_model MODEL", True),
    # PETSc's geometric multigrid on the DMDA's own coarsening (the example hands its DMDA to
    # the KSP): LEVELS halvings to a 5³ coarsest grid, coarse operators PᵀAP.
    ("pcmg", "CG + geometric MG", CG + PCMG, False),
    ("learned_pcmg", "CG + geometric MG, learned smoother", CG + PCMG +
     " -mg_levels_pc_type surrogate_smoother -mg_levels_pc_surrogate_smoother_model MODEL", True),
]
# Rows that need a hierarchy to coarsen along: a DMDA, or a DMPlex refinement hierarchy (C/L).
NEEDS_HIERARCHY = ("pcmg", "learned_pcmg")


def table_rows(keys, models):
    """(key, name, options, model) for every chosen row; learned rows once per model."""
    known = [r[0] for r in ROWS]
    bad = [k for k in keys if k not in known]
    if bad:
        sys.exit("-rows: unknown row '%s' (expected some of %s)" % (bad[0], ",".join(known)))
    out = []
    for key, name, options, learned in ROWS:
        if key not in keys:
            continue
        if not learned:
            out.append((key, name, options, ""))
        for m in models if learned else []:
            label = name if len(models) == 1 else "%s (%s)" % (name, os.path.basename(m))
            out.append((key, label, options, m))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-build", required=True)
    p.add_argument("-model", default="")
    p.add_argument("-grids2d", default="256,1024")
    p.add_argument("-grids3d", default="33,65")
    p.add_argument("-plex", default="316",
                   help="DMPlex: boxes per side (2 triangles each), or C/L: C boxes refined L "
                        "times (a hierarchy for the pcmg rows)")
    p.add_argument("-procs", default="1,2")
    p.add_argument("-samples", type=int, default=2)
    p.add_argument("-rows", default=",".join(r[0] for r in ROWS),
                   help="which rows of the 3-D and DMPlex tables to run")
    a = p.parse_args()
    build = os.path.abspath(a.build)
    library = os.path.join(build, "src", "petsc", "libpins_petsc.so")
    if not os.path.exists(library):
        sys.exit("-build %s: no src/petsc/libpins_petsc.so there (build pins first)" % build)
    print(machine_line(), flush=True)
    models = [m for m in a.model.split(",") if m]
    for m in models:
        if not os.path.exists(m):
            sys.exit("-model: no file %s" % m)
    if not models:
        models = [os.path.join(tempfile.mkdtemp(), "sm.pins")]
        t0 = time.time()
        subprocess.run([os.path.join(build, "bin", "pins"), "train", "-task", "smoother",
                        "-train_monitor_every", "200", "-o", models[0]], check=True, env=ENV)
        print("trained the smoother with the defaults in %.0f s: %s" % (time.time() - t0,
                                                                        models[0]))
    rows = table_rows(a.rows.split(","), models)
    procs = ints(a.procs)
    for n in procs:
        for model in models if a.grids2d else []:
            print("\n## 2-D, %d process(es), %s\n" % (n, model), flush=True)
            cmd = mpirun(n, os.path.join(build, "bin", "bench_precondition"), "-smoother", model,
                         "-grids", a.grids2d, "-samples", str(a.samples))
            subprocess.run(cmd, check=True, env=env_for(n))
    # (title, example, its size options, PCMG's levels or 0 where there is no hierarchy)
    cases = [("3-D DMDA %d³ points" % g, "example_plain_petsc_diffusion3d",
              sum((["-da_grid_%s" % d, str(g)] for d in "xyz"), []), geometric_levels(g))
             for g in ints(a.grids3d)]
    cases += [plex_case(spec) for spec in a.plex.split(",") if spec]
    for title, example, size_args, levels in cases:
        for contrast in (4, 1e4):
            print("\n### %s, blob conductivity 1:%g\n" % (title, contrast))
            print("| solver | " + " | ".join("P=%d its | P=%d PCSetUp + KSPSolve s" % (n, n)
                                             for n in procs) + " | worst true rel. residual |")
            print("|---|" + "---|---|" * len(procs) + "---|")
            for key, name, options, model in rows:
                if key in NEEDS_HIERARCHY and not levels:
                    continue
                options = options.replace("LEVELS", str(levels))
                cells, worst = [], 0.0
                for n in procs:
                    its, res, solve, setup, ok = run_example(build, library, model, example,
                                                             size_args, contrast, n, options)
                    worst = max(worst, res)
                    cells += ["%d%s" % (its, "" if ok else " DIVERGED"),
                              "%.3f + %.3f" % (setup, solve)]
                print("| %s | %s | %.1e |" % (name, " | ".join(cells), worst), flush=True)


def plex_case(spec):
    """-plex's B (B² boxes, no hierarchy) or C/L (C² boxes refined L times: PCMG's L+1
    levels) as a case."""
    try:
        coarse, _, refine = spec.partition("/")
        boxes, refine = int(coarse), int(refine or 0)
    except ValueError:
        sys.exit("-plex: '%s' is not B or C/L (boxes per side, refinements)" % spec)
    faces = ["-dm_plex_box_faces", "%d,%d" % (boxes, boxes)]
    if not refine:
        return ("DMPlex P1, %d² boxes of 2 triangles" % boxes, "example_plain_petsc_plex",
                faces, 0)
    fine = boxes * 2 ** refine
    return ("DMPlex P1, %d² boxes of 2 triangles (%d² refined %d times)" % (fine, boxes, refine),
            "example_plain_petsc_plex", faces + ["-dm_refine_hierarchy", str(refine)],
            refine + 1)


def geometric_levels(points):
    """Levels of a DMDA of `points` per side halved down to 5 points per side (65 -> 5)."""
    levels, n = 1, points
    while n > 5 and (n - 1) % 2 == 0:
        n, levels = (n - 1) // 2 + 1, levels + 1
    return levels


def ints(text):
    return [int(x) for x in text.split(",") if x]


if __name__ == "__main__":
    main()
