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
weights would mix two experiments. LOSS@N=W picks the weight at one N only (where validation
chose another weight there, e.g. energy=100,energy@1000=10); the panel's title says so.
"""
import argparse
import collections
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FormatStrFormatter

from physics_pays import M_STYLE, mean_spread, parse_weights

LOSSES = ("energy", "preconditioned", "residual")
# One colour per M in every panel, so that a panel missing a cell does not shift the colours.
# (The line and marker per M are physics_pays.py's, so both figures draw an M alike.)
STYLE = {m: dict(ls=ls, marker=marker, color=f"C{i}")
         for i, (m, (ls, marker)) in enumerate(M_STYLE.items())}


def parse_choice(text):
    """'energy=100,energy@1000=10' -> {'energy': 100.0, ('energy', 1000): 10.0}: a weight per
    loss, and per loss and N where LOSS@N=W; a bad entry exits with one line naming it."""
    per_loss = ",".join(x for x in text.split(",") if "@" not in x)
    chosen = parse_weights(per_loss, "plot_physics_grid: -weights")
    for item in (x for x in text.split(",") if "@" in x):
        loss, _, rest = item.partition("@")
        n, eq, w = rest.partition("=")
        try:
            if not eq or loss not in LOSSES:
                raise ValueError
            chosen[(loss, int(n))] = float(w)
        except ValueError:
            sys.exit(f"plot_physics_grid: -weights {item!r}: expected LOSS@N=W with LOSS one of "
                     f"{', '.join(LOSSES)}, N a whole number and W a number")
    return chosen


def wanted(chosen, loss, n):
    """The weight drawn for loss at N: LOSS@N=W, else LOSS=W, else None (any)."""
    return chosen.get((loss, n), chosen.get(loss))


def cells(records, summaries, chosen):
    """(loss or 'data', M, N) -> (mean %, half range %, weight, seeds), one weight per loss:
    chosen[(loss, N)] or chosen[loss] where given, else the only weight the loss has over the N
    not chosen one by one (several is an error)."""
    runs = collections.defaultdict(list)
    skipped = collections.Counter()
    for r in records:
        w = wanted(chosen, r["loss"], r["N"])
        if r["weight"] == 0:
            runs[("data", 0, r["N"])].append(r)
        elif w is None or w == r["weight"]:
            runs[(r["loss"], r["M"], r["N"], r["weight"])].append(r)
        else:
            skipped[(r["loss"], r["weight"], r["M"], r["N"])] += 1
    for (loss, w, m, n), count in sorted(skipped.items()):  # say what -weights hid
        at = f"{loss}@{n}" if (loss, n) in chosen else loss
        print(f"plot_physics_grid: left out {loss} weight {w:g} M = {m} N = {n} ({count} runs): "
              f"-weights {at}={wanted(chosen, loss, n):g}")
    out = {}
    for key, rs in runs.items():
        m, s = mean_spread([100 * r["test_rel_l2"] for r in rs])
        out[key] = (m, s, rs[0]["weight"], len(rs))
    for s in summaries:
        if wanted(chosen, s["loss"], s["N"]) in (None, s["weight"]):
            out.setdefault((s["loss"], s["M"], s["N"], s["weight"]),
                           (s["mean"], s["half_range"], s["weight"], s["seeds"]))
    weights = collections.defaultdict(set)  # over the N whose weight was not chosen one by one
    for key in out:
        if key[0] != "data" and (key[0], key[2]) not in chosen:
            weights[key[0]].add(key[3])
    for loss, ws in weights.items():
        if len(ws) > 1:
            raise ValueError(f"the {loss} loss has runs at weights "
                             f"{', '.join(f'{w:g}' for w in sorted(ws))}; pick one with "
                             f"-weights {loss}=W")
    return {key[:3]: v for key, v in out.items()}


def panel_title(loss, c):
    """'energy loss (weight 100; 10 at N = 1000)': the weight most of the panel's N use first,
    then each other weight with the N it was drawn at."""
    at = collections.defaultdict(set)
    for k, v in c.items():
        if k[0] == loss and k[2] > 0:
            at[v[2]].add(k[2])
    if not at:
        return loss
    order = sorted(at, key=lambda w: (-len(at[w]), w))
    rest = "".join(f"; {w:g} at N = {', '.join(str(n) for n in sorted(at[w]))}" for w in order[1:])
    return f"{loss} loss (weight {order[0]:g}{rest})"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-records", required=True)
    p.add_argument("-summaries")
    p.add_argument("-weights", default="", metavar="LOSS=W,...",
                   help="the weight to draw for each loss run at several weights")
    p.add_argument("-out", required=True)
    p.add_argument("-title", default="Darcy 32², FNO, 3000 steps")
    a = p.parse_args()
    chosen = parse_choice(a.weights)
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
    # No PETSc solve (physics only): no place on the log N axis, so a level across the panel.
    levels = {k: c.pop(k) for k in sorted(k for k in c if k[2] <= 0)}
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
            if (loss, m, 0) in levels:
                ax.axhline(levels[(loss, m, 0)][0], color=style["color"], ls="-.", lw=1,
                           label=f"M = {m}, no labels (N = 0)")
        ax.set_title(panel_title(loss, c))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("PETSc solves used (labelled samples N)")
        ax.grid(True, which="both", alpha=0.3)
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax.legend(fontsize=8)
    axes[0].set_ylabel("test relative L2 error (%)")
    # Below 2 % a log axis has no labelled tick of its own; the gains there are the point.
    low, high = axes[0].get_ylim()
    ticks = [t for t in (1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30) if low <= t <= high]
    axes[0].set_yticks(ticks, [f"{t:g}" for t in ticks])
    axes[0].set_yticks([], minor=True)
    fig.suptitle(f"{a.title}: mean ± half-range over seeds")
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print("figure:", a.out)


if __name__ == "__main__":
    main()
