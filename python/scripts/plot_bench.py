#!/usr/bin/env python3
"""Figures for `pins bench`: plot_bench.py FOLDER

Reads FOLDER/report.json and FOLDER/plot_data/samples.json (per solution model and dataset:
each answer's relative L2 error and certificate, its relative residual) and writes
  FOLDER/time_per_query.png  time per query of every solver, every preconditioner model inside
                             a solver, and every solution model's answer (log scale);
  FOLDER/break_even.png      total time against queries: n x time per solve for every solver,
                             the model's cost + n x its time per query for every model way;
  FOLDER/answers.png         per solution model: its error against its certificate on the test
                             and out-of-distribution sets, with the calibrated bound and the
                             out-of-distribution threshold when the model has them.
Exit status 3: matplotlib (or numpy) is missing. Called by `pins bench` with Debian's
/usr/bin/python3; usable by hand as well.
"""

import json
import os
import sys


def answer_way(name, a):
    """A solution model's query: its answer, or (time-dependent families, whose solvers
    time whole trajectories) its rollout over the same steps."""
    ro = a.get("rollout")
    if isinstance(ro, dict):
        return ("%s rollout" % name, ro["seconds_per_rollout"]["surrogate_single"], "answer")
    return ("%s answer" % name, a["seconds_per_query_single"], "answer")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    try:
        import numpy as np
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print("plot_bench.py: %s" % e, file=sys.stderr)
        return 3
    folder = sys.argv[1]
    with open(os.path.join(folder, "report.json")) as f:
        report = json.load(f)
    samples_path = os.path.join(folder, "plot_data", "samples.json")
    samples = {}
    if os.path.exists(samples_path):
        with open(samples_path) as f:
            samples = json.load(f)
    solvers = report.get("solvers", {})
    models = report.get("models", {})

    # Time per query: (label, seconds, kind).
    bars = []
    for name, t in solvers.items():
        if t["converged"] > 0:
            bars.append((name, t["mean_seconds"], "solver"))
    for name, m in models.items():
        for use, t in m.get("uses", {}).items():
            if t["converged"] > 0:
                bars.append(("%s as %s" % (name, use), t["mean_seconds"], "inside"))
        a = m.get("answers")
        if a:
            bars.append(answer_way(name, a))
    if bars:
        colours = {"solver": "tab:gray", "inside": "tab:blue", "answer": "tab:orange"}
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(bars) + 1.2))
        y = np.arange(len(bars))
        ax.barh(y, [b[1] * 1e3 for b in bars], color=[colours[b[2]] for b in bars])
        ax.set_yticks(y)
        ax.set_yticklabels([b[0] for b in bars])
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("ms per query (best of %d, this machine)" % report.get("repeats", 1))
        ax.set_title("%s: time per query" % report.get("suite", ""))
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "time_per_query.png"), dpi=110)
        plt.close(fig)

    # Break-even: total time against the number of queries.
    lines = []
    for name, t in solvers.items():
        if t["converged"] > 0:
            lines.append((name, 0.0, t["mean_seconds"], "-"))
    for name, m in models.items():
        cost = m.get("cost", {}).get("seconds")
        if cost is None:
            continue
        a = m.get("answers")
        if a:
            label, per, _ = answer_way(name, a)
            lines.append((label, cost, per, "--"))
        for use, t in m.get("uses", {}).items():
            if t["converged"] == t["samples"] and t["samples"] > 0:
                lines.append(("%s as %s" % (name, use), cost, t["mean_seconds"], ":"))
    if lines and any(l[1] > 0 for l in lines):
        n = np.logspace(0, 7, 200)
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for label, cost, per, style in lines:
            ax.loglog(n, cost + n * per, style, label=label)
        ax.set_xlabel("queries")
        ax.set_ylabel("total seconds (making the model + the queries)")
        ax.set_title("%s: break-even" % report.get("suite", ""))
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "break_even.png"), dpi=110)
        plt.close(fig)

    # Answers: error against certificate, per solution model.
    answered = [name for name in models if name in samples]
    if answered:
        fig, axes = plt.subplots(1, len(answered), figsize=(5.5 * len(answered), 4.5), squeeze=False)
        for ax, name in zip(axes[0], answered):
            a = models[name].get("answers", {})
            for set_name, s in samples[name].items():
                r = np.asarray(s["relative_residual"])
                e = np.asarray(s["relative_l2"])
                ax.loglog(r, e, ".", alpha=0.6, label=set_name)
            bound = a.get("error_bound")
            if bound:
                lo, hi = ax.get_xlim()
                x = np.array([lo, hi])
                ax.loglog(x, bound["quantile"] * x, "k--", lw=1,
                          label="bound (level %g)" % bound["level"])
            ood = a.get("out_of_distribution")
            if ood:
                ax.axvline(ood["residual_threshold"], color="tab:red", lw=1,
                           label="OOD threshold")
            ax.set_xlabel("certificate: relative residual")
            ax.set_ylabel("relative L2 error")
            ax.set_title(name)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "answers.png"), dpi=110)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
