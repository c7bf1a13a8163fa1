#!/usr/bin/python3
"""One panel per physics loss: test error against PETSc solves for each number of unlabelled
inputs M, with data alone in every panel (issue 12's grid: loss x N x M x seeds).

    /usr/bin/python3 bench/plot_physics_grid.py -records R.json [-summaries S.json]
        [-weights residual=0.01,energy=100] -out F.png

R.json: run records of bench/physics_pays.py (mean and half the range over seeds are taken
here). S.json: cells re-entered from bench/RESULTS.md whose run records were not kept, each
{"N", "M", "loss", "weight", "mean", "half_range", "seeds", "source"}; a cell present in
R.json wins over a summary. A panel draws one weight per loss: where the records hold a loss at
several weights, -weights (bench/physics_pays.py's form) picks one, since averaging across
weights would mix two experiments.
"""
import argparse
import collections
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FormatStrFormatter

from physics_pays import mean_spread, parse_weights

LOSSES = ("energy", "preconditioned", "residual")
# One colour per M in every panel, so that a panel missing a cell does not shift the colours.
STYLE = {0: dict(ls=":", marker="v", color="C0"), 1000: dict(ls="--", marker="s", color="C1"),
         4000: dict(ls="-", marker="o", color="C2")}


def cells(records, summaries, chosen):
    """(loss or 'data', M, N) -> (mean %, half range %, weight, seeds), one weight per loss:
    chosen[loss] where given, else the only weight the loss has (several is an error)."""
    runs = collections.defaultdict(list)
    skipped = collections.Counter()
    for r in records:
        if r["weight"] == 0:
            runs[("data", 0, r["N"])].append(r)
        elif chosen.get(r["loss"], r["weight"]) == r["weight"]:
            runs[(r["loss"], r["M"], r["N"], r["weight"])].append(r)
        else:
            skipped[(r["loss"], r["weight"], r["M"], r["N"])] += 1
    for (loss, w, m, n), count in sorted(skipped.items()):  # say what -weights hid
        print(f"plot_physics_grid: left out {loss} weight {w:g} M = {m} N = {n} ({count} runs): "
              f"-weights {loss}={chosen[loss]:g}")
    out = {}
    for key, rs in runs.items():
        m, s = mean_spread([100 * r["test_rel_l2"] for r in rs])
        out[key] = (m, s, rs[0]["weight"], len(rs))
    for s in summaries:
        if chosen.get(s["loss"], s["weight"]) == s["weight"]:
            out.setdefault((s["loss"], s["M"], s["N"], s["weight"]),
                           (s["mean"], s["half_range"], s["weight"], s["seeds"]))
    weights = collections.defaultdict(set)
    for key in out:
        if key[0] != "data":
            weights[key[0]].add(key[3])
    for loss, ws in weights.items():
        if len(ws) > 1:
            raise ValueError(f"the {loss} loss has runs at weights "
                             f"{', '.join(f'{w:g}' for w in sorted(ws))}; pick one with "
                             f"-weights {loss}=W")
    return {key[:3]: v for key, v in out.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-records", required=True)
    p.add_argument("-summaries")
    p.add_argument("-weights", default="", metavar="LOSS=W,...",
                   help="the weight to draw for each loss run at several weights")
    p.add_argument("-out", required=True)
    p.add_argument("-title", default="Darcy 32², FNO, 3000 steps")
    a = p.parse_args()
    chosen = parse_weights(a.weights, "plot_physics_grid: -weights")
    try:
        with open(a.records) as f:
            records = json.load(f)
        summaries = []
        if a.summaries:
            with open(a.summaries) as f:
                summaries = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"plot_physics_grid: cannot read the records ({e}); expected JSON lists")
    try:
        c = cells(records, summaries, chosen)
    except (KeyError, TypeError) as e:
        sys.exit(f"plot_physics_grid: a record lacks {e}; expected N, M, loss, weight and "
                 "test_rel_l2 (records) or mean, half_range, seeds (summaries)")
    except ValueError as e:
        sys.exit(f"plot_physics_grid: {e}")
    for k in sorted(k for k in c if k[2] <= 0):  # no PETSc solves: a log axis has no place
        print(f"plot_physics_grid: left out {k[0]} M = {k[1]} N = {k[2]} "
              f"({c.pop(k)[0]:.2f} %): N = 0 cannot sit on the log N axis")
    data = sorted((k[2], v) for k, v in c.items() if k[0] == "data")
    if not data:
        sys.exit(f"plot_physics_grid: no data-only runs (weight 0) in {a.records}")
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
    for ax, loss in zip(axes, LOSSES):
        ax.errorbar([n for n, _ in data], [v[0] for _, v in data], [v[1] for _, v in data],
                    color="black", lw=2.5, marker="o", capsize=3, label="data only")
        for m, style in STYLE.items():
            pts = sorted((k[2], v) for k, v in c.items() if k[0] == loss and k[1] == m)
            if pts:
                ax.errorbar([n for n, _ in pts], [v[0] for _, v in pts], [v[1] for _, v in pts],
                            capsize=3, lw=1.4, label=f"M = {m}", **style)
        w = next((v[2] for k, v in c.items() if k[0] == loss), None)
        ax.set_title(f"{loss} loss (weight {w:g})" if w is not None else loss)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("PETSc solves used (labelled samples N)")
        ax.grid(True, which="both", alpha=0.3)
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax.legend(fontsize=8)
    axes[0].set_ylabel("test relative L2 error (%)")
    fig.suptitle(f"{a.title}: mean ± half-range over seeds")
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print("figure:", a.out)


if __name__ == "__main__":
    main()
