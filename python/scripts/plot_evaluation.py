#!/usr/bin/env python3
"""Figures for `pins evaluate`: plot_evaluation.py FOLDER

Reads FOLDER/plot_data/{input,u_true,u_pred}.npy ([k, ny, nx]: the first input field, e.g.
kappa, and the solutions; a 2-D picture of each — or, with mesh_{coordinates,cells,points}.npy,
[k, points] or [k, cells] fields on that unstructured mesh), input_name.txt (the input's name) and
relative_l2.npy ([N]), writes FOLDER/samples.png (one row per sample: the input, true u,
predicted u, error) and
FOLDER/error_histogram.png; with plot_data/refine.json (`pins evaluate -refine`) also
FOLDER/refine.png: error against time per sample, the surrogate + k cycles as points and
PETSc's iterates on each re-solved sample as curves; with plot_data/rollout.json and
rollout_{true,pred}.npy ([T, ny, nx], time-dependent families) also FOLDER/rollout.png: the
rollout's error against time and one trajectory. Exit status 3: matplotlib (or numpy) is
missing.
Called by the pins CLI with Debian's /usr/bin/python3; usable by hand as well.
"""

import os
import sys


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
        print("plot_evaluation.py: %s" % e, file=sys.stderr)
        return 3
    folder = sys.argv[1]
    data = os.path.join(folder, "plot_data")
    if os.path.exists(os.path.join(data, "input.npy")):
        kappa = np.load(os.path.join(data, "input.npy"))
        with open(os.path.join(data, "input_name.txt")) as f:
            input_name = f.read().strip()
    else:  # written by an earlier pins
        kappa = np.load(os.path.join(data, "kappa.npy"))
        input_name = "κ"
    u_true = np.load(os.path.join(data, "u_true.npy"))
    u_pred = np.load(os.path.join(data, "u_pred.npy"))
    rel = np.load(os.path.join(data, "relative_l2.npy"))

    mesh = None
    if os.path.exists(os.path.join(data, "mesh_cells.npy")):
        from matplotlib.tri import Triangulation

        xy = np.load(os.path.join(data, "mesh_coordinates.npy"))
        cells = np.load(os.path.join(data, "mesh_cells.npy")).astype(np.int64)
        points = np.load(os.path.join(data, "mesh_points.npy")).astype(np.int64)
        # Quadrilaterals drawn as two triangles each; cell_of maps triangles to cells.
        tris = cells if cells.shape[1] == 3 else np.concatenate([cells[:, [0, 1, 2]],
                                                                 cells[:, [0, 2, 3]]])
        cell_of = np.arange(len(tris)) % len(cells)
        mesh = (Triangulation(xy[:, 0], xy[:, 1], tris), xy, points, cell_of, len(cells))

    def draw(ax, img, cmap, vmin, vmax):
        if mesh is None:
            return ax.imshow(img, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax,
                             extent=(0, 1, 0, 1))
        tri, xy, points, cell_of, n_cells = mesh
        ax.set_aspect("equal")
        if img.shape[0] == n_cells and img.shape[0] != len(points):
            return ax.tripcolor(tri, facecolors=img[cell_of], cmap=cmap, vmin=vmin, vmax=vmax)
        vertex = np.zeros(len(xy))  # u = 0 on the boundary vertices
        vertex[points] = img
        return ax.tripcolor(tri, vertex, shading="gouraud", cmap=cmap, vmin=vmin, vmax=vmax)

    k = kappa.shape[0]
    if k > 0:
        fig, axes = plt.subplots(k, 4, figsize=(13, 3.1 * k), squeeze=False)
        for i in range(k):
            lo, hi = min(u_true[i].min(), u_pred[i].min()), max(u_true[i].max(), u_pred[i].max())
            panels = [
                (kappa[i], "%s (sample %d)" % (input_name.replace("kappa", "κ"), i), "viridis",
                 None, None),
                (u_true[i], "u (PETSc)", "magma", lo, hi),
                (u_pred[i], "û (surrogate), rel. L2 %.3g" % rel[i], "magma", lo, hi),
                (u_pred[i] - u_true[i], "û − u", "RdBu_r", None, None),
            ]
            for ax, (img, title, cmap, vmin, vmax) in zip(axes[i], panels):
                if cmap == "RdBu_r":
                    m = float(np.abs(img).max()) or 1.0
                    vmin, vmax = -m, m
                im = draw(ax, img, cmap, vmin, vmax)
                ax.set_title(title, fontsize=10)
                ax.set_xticks([])
                ax.set_yticks([])
                fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "samples.png"), dpi=110)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(rel, bins=min(30, max(5, len(rel) // 3)), color="tab:blue", edgecolor="white")
    ax.axvline(np.mean(rel), color="k", linestyle="--", label="mean %.3g" % np.mean(rel))
    ax.axvline(np.percentile(rel, 95), color="tab:red", linestyle=":",
               label="95th pct %.3g" % np.percentile(rel, 95))
    ax.set_xlabel("relative L2 error per sample")
    ax.set_ylabel("samples")
    ax.set_title("Test error (%d samples)" % len(rel))
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "error_histogram.png"), dpi=110)
    plt.close(fig)

    refine = os.path.join(data, "refine.json")
    if os.path.exists(refine):
        plot_refine(plt, refine, os.path.join(folder, "refine.png"))
    rollout = os.path.join(data, "rollout.json")
    if os.path.exists(rollout):
        plot_rollout(plt, np, data, os.path.join(folder, "rollout.png"))
    return 0


def plot_rollout(plt, np, data, out):
    """A time-dependent family's rollout: the relative L2 error against time (mean and 95th
    percentile over the samples), and the first sample's trajectory, PETSc above, surrogate
    below, at four times."""
    import json

    with open(os.path.join(data, "rollout.json")) as f:
        d = json.load(f)
    truth = np.load(os.path.join(data, "rollout_true.npy"))
    pred = np.load(os.path.join(data, "rollout_pred.npy"))
    dt = d["dt"] or 1.0
    t = [dt * (s + 1) for s in range(len(d["relative_l2_mean"]))]
    shown = sorted(set([0, len(truth) // 3, 2 * len(truth) // 3, len(truth) - 1]))
    fig = plt.figure(figsize=(3.0 * (len(shown) + 1.4), 6.2))
    grid = fig.add_gridspec(2, len(shown) + 1, width_ratios=[1.4] + [1] * len(shown))
    ax = fig.add_subplot(grid[:, 0])
    ax.plot(t, d["relative_l2_mean"], color="tab:red", marker="o", ms=3, label="mean")
    ax.plot(t, d["relative_l2_p95"], color="tab:red", ls="--", lw=0.9, label="95th pct")
    ax.set_xlabel("t")
    ax.set_ylabel("relative L2 error of the rollout")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=9)
    vmin, vmax = float(min(truth.min(), pred.min())), float(max(truth.max(), pred.max()))
    for col, s in enumerate(shown):
        for row, (field, name) in enumerate(((truth, "PETSc TS"), (pred, "surrogate"))):
            a = fig.add_subplot(grid[row, col + 1])
            a.imshow(field[s], origin="lower", cmap="RdBu_r", vmin=vmin, vmax=vmax)
            a.set_xticks([])
            a.set_yticks([])
            a.set_title("%s, t = %.3g" % (name, dt * s), fontsize=9)
    fig.suptitle("Rollout of the one-step surrogate (sample 0)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_refine(plt, path, out):
    """Error against wall time per sample: PETSc's iterates (one thin line per re-solved
    sample, assembly and set-up included) and the surrogate refined by k cycles (points,
    mean over the same samples)."""
    import json

    with open(path) as f:
        d = json.load(f)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, c in enumerate(d["petsc"]):
        # An iterate equal to the stored solution (error 0, PETSc's last) has no place on a
        # log scale.
        kept = [(1e3 * s, v) for s, v in zip(c["seconds"], c["relative_l2"]) if v > 0]
        t, e = [p[0] for p in kept], [p[1] for p in kept]
        ax.plot(t, e, color="tab:gray", lw=0.8, alpha=0.7, marker=".", ms=3,
                label="PETSc %s, per sample" % d["petsc_solver"] if i == 0 else None)
    pts = d["surrogate"]
    ax.plot([1e3 * p["seconds_per_sample"] for p in pts],
            [p["relative_l2_mean_resolved"] for p in pts], color="tab:red", marker="o",
            label="surrogate + k V-cycles")
    for p in pts:
        ax.annotate("k=%d" % p["k"], (1e3 * p["seconds_per_sample"],
                                      p["relative_l2_mean_resolved"]),
                    textcoords="offset points", xytext=(5, 4), fontsize=9)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("wall time per sample (ms)")
    ax.set_ylabel("relative L2 error")
    ax.set_title("Test-time refinement against PETSc (%d samples)" % len(d["petsc"]))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
