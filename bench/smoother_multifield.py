#!/usr/bin/env python3
"""The learned sparse smoother on a two-field operator (issue 14, item 5: "the dof = 2 family"),
side by side in one run.

The operator: Gray-Scott's Newton systems (pde/gray_scott: backward Euler, dt 1, 20 steps per
trajectory, Newton + GMRES on a 2-D DMDA with dof 2; the Jacobian changes at every Newton step,
so every preconditioner is set up again for every linear solve, and it is not symmetric). Each
row runs `pins generate -pde gray_scott -samples 1` (one unseen trajectory, seed 0) with one
preconditioner, and reads the linear iterations of every solve (-ksp_converged_reason) and
PETSc's own -log_view times: PCSetUp (every set-up) and KSPSolve (the iterations; set-up
excluded) summed over the trajectory, and TSStep (everything).

Rows: GMRES with point-block Jacobi, block Jacobi with ILU(0) blocks, GAMG's defaults, BoomerAMG, GAMG with a learned
smoother on every level (a scalar model and a multi-field one, -smoother_dof 2), and each model
alone as GMRES's preconditioner.

  bench/smoother_multifield.py -build BUILD -scalar sm.pins -multifield sm2.pins
                               [-grids 64,128] [-procs 1,2] [-lags 3] [-only TEXT,...]

-lags adds, per lag L, GAMG with the multi-field model run at every L-th set-up
(-mg_levels_pc_surrogate_smoother_lag L), alone and with GAMG's
-pc_gamg_reuse_interpolation (then the coarse levels keep their pattern and reuse too), and
GAMG's defaults with that option. -only keeps the rows whose name contains one of the texts.

Prints markdown tables for bench/RESULTS.md.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smoother_gamg import env_for, log_time, machine_line  # noqa: E402  (the same helpers)


def run_row(build, grid, procs, options, work):
    # The one trajectory on all `procs` processes together (its DMDA split over them); the
    # smoother's LibTorch threads as by default.
    cmd = ["mpiexec", "--oversubscribe", "--bind-to", "none", "-n", str(procs),
           os.path.join(build, "bin", "pins"), "generate", "-pde", "gray_scott", "-grid",
           str(grid), "-samples", "1", "-generate_procs_per_sample", str(procs),
           "-o", os.path.join(work, "gs.h5"), "-force", "-ksp_converged_reason", "-log_view",
           *options]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env_for(procs), timeout=3600)
    if p.returncode != 0:
        return None, "failed (exit %d): %s" % (p.returncode,
                                               (p.stderr.strip().splitlines() or ["?"])[-1])
    its = [int(m) for m in
           re.findall(r"Linear solve converged due to \w+ iterations (\d+)", p.stdout)]
    diverged = len(re.findall(r"Linear solve did not converge", p.stdout))
    return {"solves": len(its) + diverged, "its": sum(its), "diverged": diverged,
            "setup": log_time(p.stdout, "PCSetUp"), "solve": log_time(p.stdout, "KSPSolve"),
            "step": log_time(p.stdout, "TSStep")}, ""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-build", required=True)
    p.add_argument("-scalar", required=True, help="a smoother model (pins train -task smoother)")
    p.add_argument("-multifield", required=True,
                   help="a multi-field smoother model (pins train -task smoother -smoother_dof 2)")
    p.add_argument("-grids", default="64,128")
    p.add_argument("-procs", default="1,2")
    p.add_argument("-lags", default="", help="comma-separated lags (see above)")
    p.add_argument("-only", default="", help="comma-separated texts of row names to keep")
    a = p.parse_args()
    rows = [
        ("GMRES + point-block Jacobi", ["-pc_type", "pbjacobi"]),
        # ILU(0) on each process's block (PETSc's ILU is sequential): ILU(0) itself on one.
        ("GMRES + block Jacobi / ILU(0)", ["-pc_type", "bjacobi", "-sub_pc_type", "ilu"]),
        ("GMRES + GAMG", ["-pc_type", "gamg"]),
        ("GMRES + BoomerAMG", ["-pc_type", "hypre", "-pc_hypre_type", "boomeramg"]),
        ("GMRES + GAMG, learned smoother (scalar model)",
         ["-pc_type", "gamg", "-mg_levels_pc_type", "surrogate_smoother",
          "-mg_levels_pc_surrogate_smoother_model", a.scalar]),
        ("GMRES + GAMG, learned smoother (multi-field model)",
         ["-pc_type", "gamg", "-mg_levels_pc_type", "surrogate_smoother",
          "-mg_levels_pc_surrogate_smoother_model", a.multifield]),
        ("GMRES + learned smoother alone (scalar model)",
         ["-pc_type", "surrogate_smoother", "-pc_surrogate_smoother_model", a.scalar]),
        ("GMRES + learned smoother alone (multi-field model)",
         ["-pc_type", "surrogate_smoother", "-pc_surrogate_smoother_model", a.multifield]),
    ]
    reuse = ["-pc_gamg_reuse_interpolation", "true"]
    lags = [int(x) for x in a.lags.split(",") if x]
    if lags:
        rows.append(("GMRES + GAMG, reuse interpolation", ["-pc_type", "gamg"] + reuse))
    for lag in lags:
        if lag < 1:
            sys.exit("-lags: each lag must be >= 1, got %d" % lag)
        learned = ["-pc_type", "gamg", "-mg_levels_pc_type", "surrogate_smoother",
                   "-mg_levels_pc_surrogate_smoother_model", a.multifield,
                   "-mg_levels_pc_surrogate_smoother_lag", str(lag)]
        rows.append(("GMRES + GAMG, learned smoother (multi-field model), lag %d" % lag, learned))
        rows.append(("GMRES + GAMG, reuse interpolation, learned smoother (multi-field model), "
                     "lag %d" % lag, learned + reuse))
    only = [t for t in a.only.split(",") if t]
    if only:
        rows = [r for r in rows if any(t in r[0] for t in only)]
    procs = [int(x) for x in a.procs.split(",")]
    print(machine_line())
    with tempfile.TemporaryDirectory() as work:
        for grid in [int(x) for x in a.grids.split(",")]:
            print("\n### Gray-Scott %d² (2 fields, %d unknowns), one 20-step trajectory\n" %
                  (grid, 2 * grid * grid))
            head = "| preconditioner |"
            for P in procs:
                head += " P=%d linear its (per solve) | P=%d PCSetUp + KSPSolve s | P=%d TSStep s |" % (P, P, P)
            print(head)
            print("|---|" + "---|---|---|" * len(procs))
            for name, options in rows:
                line = "| %s |" % name
                for P in procs:
                    r, why = run_row(a.build, grid, P, options, work)
                    if r is None:
                        line += " %s | | |" % why
                        continue
                    per = r["its"] / max(1, r["solves"])
                    note = " (%d diverged)" % r["diverged"] if r["diverged"] else ""
                    line += " %d (%.1f)%s | %.3f + %.3f | %.3f |" % (
                        r["its"], per, note, r["setup"], r["solve"], r["step"])
                print(line)
                sys.stdout.flush()


if __name__ == "__main__":
    main()
