#!/usr/bin/python3
"""Plots a `pins train -train_log history.csv` run: validation relative L2 against epochs and
against cumulative wall time, and prints the curve as a Markdown table.

    /usr/bin/python3 bench/plot_training_curve.py history.csv curve.png [every]
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: plot_training_curve.py history.csv curve.png [table every N epochs]")
    rows = list(csv.DictReader(open(sys.argv[1])))
    if not rows:
        sys.exit("plot_training_curve.py: %s has no epochs" % sys.argv[1])
    every = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    epochs = [int(r["epoch"]) for r in rows]
    val = [100 * float(r["val_rel_l2"]) for r in rows]
    minutes, t = [], 0.0
    for r in rows:
        t += float(r["seconds"]) / 60
        minutes.append(t)

    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    ax[0].semilogy(epochs, val, "o-", ms=3)
    ax[0].set_xlabel("epoch")
    ax[1].semilogy(minutes, val, "o-", ms=3)
    ax[1].set_xlabel("wall time (min)")
    for a in ax:
        a.set_ylabel("validation relative L2 (%)")
        a.grid(True, which="both", alpha=0.3)
    fig.suptitle(sys.argv[1])
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)

    print("| epoch | wall time (min) | validation relative L2 | learning rate |")
    print("|---|---|---|---|")
    for i, r in enumerate(rows):
        if epochs[i] % every == 0 or i in (0, len(rows) - 1):
            print("| %d | %.1f | %.2f %% | %.2e |" % (epochs[i], minutes[i], val[i], float(r["lr"])))


if __name__ == "__main__":
    main()
