#!/usr/bin/python3
"""Does the physics loss buy accuracy per PETSc solve? (issue 12)

Trains the same FNO on N labelled Darcy samples (N PETSc solves), with and without M
unlabelled samples (inputs only: no solve) that train through a physics loss, for each
physics loss (residual, energy, preconditioned), over several seeds, and scores every model
on the same unseen test set with `pins evaluate`. Every run takes the same number of
optimiser steps (-steps; an epoch is a pass over the labelled samples, so the epochs are
steps / batches per epoch): runs differ in what they see, not in how long they train.

    /usr/bin/python3 bench/physics_pays.py -build build -grid 32 -out /tmp/pp32 \\
        -N 50,100,250,1000 -M 0,1000,4000 -seeds 0,1,2 -jobs 2

Results go to <out>/results.json (one record per run; a re-run skips the records already
there, so an interrupted sweep resumes), <out>/table.md and <out>/physics_pays.png.
N = 0 in -N is physics-only training (no labelled sample, no solve: the M inputs alone,
`-train_data_weight 0`, model selection by the validation physics loss); the table shows it
in an "N = 0" column and the figure as a dashed level.
`-weights residual=W,energy=W,preconditioned=W` sets each loss's weight; `-sweep` instead
chooses each weight from -sweep_weights by the validation error (never the test set) at the
first N and the first non-zero M, seed 0, and writes <out>/weights.json. `-sweep_per_n` does
the same choice at every N (the weight that suits 50 labels need not suit 1000); the table
then has one row per loss, "(weight per N)", and weights.json lists the choice for each N.
"""
import argparse
import concurrent.futures as cf
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
LOSSES = ("residual", "energy", "preconditioned")


def run(cmd, log):
    with open(log, "w") as f:
        p = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=ENV)
    if p.returncode != 0:
        sys.exit("physics_pays: %s failed (exit %d), see %s" % (cmd[1], p.returncode, log))


def generate(a, path, samples, seed, inputs_only=False):
    if os.path.exists(path):
        return
    cmd = ["mpiexec", "-n", "2", a.pins, "generate", "-grid", str(a.grid), "-samples",
           str(samples), "-seed", str(seed), "-o", path, "-progress", "0"]
    if inputs_only:
        cmd.append("-inputs_only")
    t = time.time()
    run(cmd, path + ".log")
    print("generated %s (%d samples%s) in %.1f s" % (os.path.basename(path), samples,
          ", inputs only" if inputs_only else "", time.time() - t), flush=True)


def labelled(a, n):
    return os.path.join(a.out, "labelled%d.h5" % n)


def unlabelled(a, m):
    return os.path.join(a.out, "unlabelled%d.h5" % m)


def key(r):
    return "N%d_M%d_%s_w%g_s%d" % (r["N"], r["M"], r["loss"], r["weight"], r["seed"])


def train_and_evaluate(a, spec):
    """One run: pins train, then pins evaluate on the test set; returns its record."""
    name = key(spec)
    folder = os.path.join(a.out, "runs", name)
    os.makedirs(folder, exist_ok=True)
    # N = 0 is physics-only training: no labelled file, the data loss off, validation (and
    # an epoch) over the unlabelled inputs; its steps are counted the same way.
    physics_only = spec["N"] == 0
    pool = spec["M"] if physics_only else spec["N"]
    val = max(1, round(pool * a.val_fraction))
    batches = math.ceil((pool - val) / a.batch)
    epochs = max(1, round(a.steps / batches))
    model = os.path.join(folder, "model.pins")
    data = ["-train_data_weight", "0"] if physics_only else ["-data", labelled(a, spec["N"])]
    cmd = [a.pins, "train"] + data + ["-o", model, "-force",
           "-surrogate_type", "fno", "-fno_modes", str(a.modes), "-fno_width", str(a.width),
           "-fno_padding", "4", "-fno_hidden", "64", "-train_epochs", str(epochs),
           "-train_batch_size", str(a.batch), "-train_lr", str(a.lr), "-train_seed",
           str(spec["seed"]), "-train_val_fraction", str(a.val_fraction), "-train_threads",
           str(a.threads), "-train_monitor", "0", "-train_log", os.path.join(folder, "history.csv"),
           "-train_physics_weight", str(spec["weight"]), "-train_physics_loss", spec["loss"]]
    if spec["M"] > 0:
        cmd += ["-train_unlabelled", unlabelled(a, spec["M"]), "-train_unlabelled_batch_size",
                str(a.batch)]
    run(cmd, os.path.join(folder, "train.log"))
    report = os.path.join(folder, "eval")
    run([a.pins, "evaluate", "-model", model, "-data", a.test, "-o", report, "-force",
         "-evaluate_plot", "0", "-evaluate_solve_samples", "1", "-evaluate_threads",
         str(a.threads)], os.path.join(folder, "evaluate.log"))
    with open(os.path.join(report, "report.json")) as f:
        r = json.load(f)
    with open(os.path.join(folder, "history.csv")) as f:
        rows = list(csv.DictReader(f))
    rec = dict(spec)
    # Physics-only runs have no labelled validation samples: their model selection (and
    # best_val) is the validation physics loss.
    val_column = "val_physics" if physics_only else "val_rel_l2"
    rec.update(test_rel_l2=r["relative_l2"]["mean"], test_p95=r["relative_l2"]["p95"],
               test_residual=r["relative_residual_prediction"]["mean"],
               best_val=min(float(x[val_column]) for x in rows),
               train_seconds=sum(float(x["seconds"]) for x in rows), epochs=epochs,
               steps=epochs * batches)
    return rec


def load(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {key(r): r for r in json.load(f)}


def save(path, records):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(sorted(records.values(), key=key), f, indent=1)
    os.replace(tmp, path)


def sweep_all(a, specs, results_path):
    """Runs what is not in results_path yet, -jobs at a time; returns every record."""
    records = load(results_path)
    todo = [s for s in specs if key(s) not in records]
    lock = threading.Lock()
    print("%d runs, %d already done" % (len(specs), len(specs) - len(todo)), flush=True)
    with cf.ThreadPoolExecutor(a.jobs) as pool:
        futures = {pool.submit(train_and_evaluate, a, s): s for s in todo}
        for i, fut in enumerate(cf.as_completed(futures)):
            rec = fut.result()
            with lock:
                records[key(rec)] = rec
                save(results_path, records)
            print("[%d/%d] %s: test rel L2 %.4f, val %.4f, %.0f s" %
                  (i + 1, len(todo), key(rec), rec["test_rel_l2"], rec["best_val"],
                   rec["train_seconds"]), flush=True)
    return [records[key(s)] for s in specs]


def mean_spread(values):
    m = statistics.mean(values)
    return m, (max(values) - min(values)) / 2 if len(values) > 1 else 0.0


def label_of(r):
    if r["M"] == 0 and r["weight"] == 0:
        return "data only"
    if r.get("per_n"):
        return "%s (weight per N), M=%d" % (r["loss"], r["M"])
    return "%s %g, M=%d" % (r["loss"], r["weight"], r["M"])


def seconds_cell(records):
    """Mean training time of the records that kept one (records re-entered from RESULTS.md
    carry null where the run's time was not printed there)."""
    if not records:
        return ""
    times = [r["train_seconds"] for r in records if r.get("train_seconds") is not None]
    if not times:
        return "–"
    return "%.0f" % statistics.mean(times) + ("" if len(times) == len(records) else
                                                " (%d of %d)" % (len(times), len(records)))


def table(a, records, weights):
    groups = {}
    for r in records:
        label = label_of(r)
        groups.setdefault((label, r["N"]), []).append(r)
    labels = sorted({g[0] for g in groups}, key=lambda s: (s != "data only", s))
    ns = sorted({r["N"] for r in records})
    lines = ["Test relative L2 error, mean ± half the range over seeds (number of seeds):", "",
             "| setting | " + " | ".join("N = %d" % n for n in ns) + " |",
             "|---|" + "---|" * len(ns)]
    for label in labels:
        cells = []
        for n in ns:
            rs = groups.get((label, n))
            if not rs:
                cells.append("")
                continue
            m, s = mean_spread([r["test_rel_l2"] for r in rs])
            cells.append("%.2f ± %.2f %% (%d)" % (100 * m, 100 * s, len(rs)))
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    lines.append("")
    lines.append("Training time (mean seconds per run, %d thread(s) each, %d runs at once):" %
                 (a.threads, a.jobs))
    lines.append("")
    lines.append("| setting | " + " | ".join("N = %d" % n for n in ns) + " |")
    lines.append("|---|" + "---|" * len(ns))
    for label in labels:
        cells = [seconds_cell(groups.get((label, n), [])) for n in ns]
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    return "\n".join(lines) + "\n", groups, labels, ns


# One colour family per loss, a shade per weight (darker: larger) and a line and marker per M,
# so that the sixteen or so settings of a full sweep stay apart in one legend.
FAMILY = {"energy": "Greens", "preconditioned": "Oranges", "residual": "Blues"}
M_STYLE = {0: (":", "v"), 1000: ("--", "s"), 4000: ("-", "o")}


def line_style(label, groups):
    if label == "data only":
        return dict(lw=2.5, color="black", marker="o")
    import matplotlib
    r = next(rs[0] for (lab, _), rs in groups.items() if lab == label)
    weights = sorted({rs[0]["weight"] for (lab, _), rs in groups.items()
                      if lab != "data only" and rs[0]["loss"] == r["loss"]})
    shade = 0.45 + 0.45 * (weights.index(r["weight"]) / max(1, len(weights) - 1))
    colour = matplotlib.colormaps.get_cmap(FAMILY.get(r["loss"], "Greys"))(shade)
    ls, marker = M_STYLE.get(r["M"], ("-.", "d"))
    return dict(lw=1.3, color=colour, ls=ls, marker=marker)


def plot(a, groups, labels, ns):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    for label in labels:
        xs, ys, es = [], [], []
        for n in ns:
            rs = groups.get((label, n))
            if rs and n > 0:
                m, s = mean_spread([r["test_rel_l2"] for r in rs])
                xs.append(n), ys.append(100 * m), es.append(100 * s)
        line = ax.errorbar(xs, ys, yerr=es, capsize=3, label=label,
                           **line_style(label, groups))
        rs = groups.get((label, 0))
        if rs:  # physics only uses no solve: a level across the plot, in the row's colour
            m, _ = mean_spread([r["test_rel_l2"] for r in rs])
            ax.axhline(100 * m, ls="--", lw=1, color=line[0].get_color(),
                       label="%s, no labels (physics only)" % label)
    if any(n > 0 for n in ns):  # physics-only rows alone have no solve axis to log-scale
        ax.set_xscale("log")
    ax.set_yscale("log")
    # Plain percentages on the log axis (1.5, 2, 3 rather than 10^0 and mantissas).
    from matplotlib.ticker import FormatStrFormatter
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel("PETSc solves used (labelled samples N)")
    ax.set_ylabel("test relative L2 error (%)")
    ax.set_title("Darcy %d², FNO, %d steps; mean ± half-range over seeds" % (a.grid, a.steps))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    path = os.path.join(a.out, "physics_pays_%d.png" % a.grid)
    fig.savefig(path, dpi=120)
    return path


def parse_list(text, kind=int):
    return [kind(x) for x in text.split(",") if x != ""]


def parse_weights(text, option="-weights"):
    """'residual=0.01,energy=100' -> {'residual': 0.01, 'energy': 100.0}; a bad entry exits
    with one line naming it."""
    weights = {}
    for item in (x for x in text.split(",") if x != ""):
        loss, eq, w = item.partition("=")
        try:
            if not eq or loss not in LOSSES:
                raise ValueError
            weights[loss] = float(w)
        except ValueError:
            sys.exit(f"{option} {item!r}: expected LOSS=W with LOSS one of "
                     f"{', '.join(LOSSES)} and W a number")
    return weights


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-build", default="build")
    p.add_argument("-out", required=True)
    p.add_argument("-grid", type=int, default=32)
    p.add_argument("-N", default="50,100,250,1000")
    p.add_argument("-M", default="0,1000,4000")
    p.add_argument("-losses", default=",".join(LOSSES))
    p.add_argument("-seeds", default="0,1,2")
    p.add_argument("-weights", default="residual=0.1,energy=10,preconditioned=10")
    p.add_argument("-sweep", action="store_true")
    p.add_argument("-sweep_weights", default="1,10,100")
    p.add_argument("-sweep_per_n", action="store_true",
                   help="choose each loss's weight by validation error at every N")
    p.add_argument("-steps", type=int, default=1000)
    p.add_argument("-batch", type=int, default=16)
    p.add_argument("-lr", type=float, default=3e-3)
    p.add_argument("-modes", type=int, default=8)
    p.add_argument("-width", type=int, default=24)
    p.add_argument("-val_fraction", type=float, default=0.125)
    p.add_argument("-jobs", type=int, default=2)
    p.add_argument("-threads", type=int, default=1)
    p.add_argument("-test_samples", type=int, default=100)
    p.add_argument("-table_only", action="store_true",
                   help="tabulate and plot every record in <out>/results.json, run nothing")
    a = p.parse_args()
    a.pins = os.path.abspath(os.path.join(a.build, "bin", "pins"))
    os.makedirs(a.out, exist_ok=True)
    ns, ms, seeds = parse_list(a.N), parse_list(a.M), parse_list(a.seeds)
    if a.table_only:
        recs = list(load(os.path.join(a.out, "results.json")).values())
        chosen = {}
        if os.path.exists(os.path.join(a.out, "weights.json")):
            with open(os.path.join(a.out, "weights.json")) as f:
                chosen = {l: w for l, w in json.load(f).items() if isinstance(w, dict)}
        recs = [dict(r, per_n=r["weight"] > 0 and
                     chosen.get(r["loss"], {}).get(str(r["N"])) == r["weight"]) for r in recs]
        text, groups, labels, ns_ = table(a, recs, {})
        with open(os.path.join(a.out, "table.md"), "w") as f:
            f.write(text)
        print(text)
        print("figure:", plot(a, groups, labels, ns_))
        return
    losses = [l for l in a.losses.split(",") if l]  # "": data-only runs alone
    print("machine: %d cores, %s" % (os.cpu_count(), time.strftime("%Y-%m-%d %H:%M UTC",
                                                                   time.gmtime())), flush=True)
    # Same seeds for every size: labelled N is the first N samples of one stream, and the
    # unlabelled sets are prefixes of another, so larger sets contain the smaller ones.
    for n in ns:
        if n > 0:
            generate(a, labelled(a, n), n, 11)
    for m in ms:
        if m > 0:
            generate(a, unlabelled(a, m), m, 21, inputs_only=True)
    a.test = os.path.join(a.out, "test.h5")
    generate(a, a.test, a.test_samples, 12)

    weights = parse_weights(a.weights)
    results = os.path.join(a.out, "results.json")
    if a.sweep:
        m = next(m for m in ms if m > 0)
        specs = [dict(N=ns[0], M=m, loss=l, weight=w, seed=0) for l in losses
                 for w in parse_list(a.sweep_weights, float)]
        recs = sweep_all(a, specs, results)
        for l in losses:
            best = min((r for r in recs if r["loss"] == l), key=lambda r: r["best_val"])
            weights[l] = best["weight"]
        with open(os.path.join(a.out, "weights.json"), "w") as f:
            json.dump(weights, f)
        print("weights chosen by validation error:", weights, flush=True)

    # weight_for[(loss, N)]: one weight per loss, or one per loss and N with -sweep_per_n.
    weight_for = {(l, n): weights[l] for l in losses for n in ns}
    if a.sweep_per_n:
        m = next(m for m in ms if m > 0)
        specs = [dict(N=n, M=m, loss=l, weight=w, seed=0) for n in ns for l in losses
                 for w in parse_list(a.sweep_weights, float)]
        recs = sweep_all(a, specs, results)
        for n in ns:
            for l in losses:
                best = min((r for r in recs if r["loss"] == l and r["N"] == n),
                           key=lambda r: r["best_val"])
                weight_for[(l, n)] = best["weight"]
        chosen = {l: {str(n): weight_for[(l, n)] for n in ns} for l in losses}
        with open(os.path.join(a.out, "weights.json"), "w") as f:
            json.dump(chosen, f)
        print("weights chosen per N by validation error:", chosen, flush=True)

    specs = []
    for n in ns:
        for s in seeds:
            if n > 0:
                specs.append(dict(N=n, M=0, loss="residual", weight=0.0, seed=s))  # data only
            for m in ms:
                if n == 0 and m == 0:
                    continue  # neither labels nor inputs
                for l in losses:
                    specs.append(dict(N=n, M=m, loss=l, weight=weight_for[(l, n)], seed=s))
    recs = sweep_all(a, specs, results)
    if a.sweep_per_n:  # label the runs that use the chosen weights (keys ignore labels)
        recs = [dict(r, per_n=r["weight"] > 0) for r in recs]
    text, groups, labels, ns_ = table(a, recs, weights)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(text)
    print(text)
    print("figure:", plot(a, groups, labels, ns_))


if __name__ == "__main__":
    main()
