#!/usr/bin/env bash
# Out-of-distribution flags (issue 16 §1): the calibrated model of bench_calibration.sh (same
# WORK folder) answers inputs unlike its training data — another conductivity sampler, a
# 1:10^4 contrast, another grid — and its certificate (the answer's relative residual, the
# OOD score) is compared with the in-distribution test answers': AUROC (the probability that
# an OOD answer scores above an in-distribution one) and the fraction flagged by the
# calibrated threshold.
#   WORK=/tmp/bcal bench/bench_ood.sh [build dir] [grid] [samples]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
GRID=${2:-32}
N=${3:-200}
PINS=$BUILD/bin/pins
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
: "${WORK:?set WORK to the folder of bench_calibration.sh}"
PY=${PINS_PYTHON:-/usr/bin/python3}
MODEL=$WORK/m0.9.pins
gen() {  # file grid seed sampler options...
  local f=$1 g=$2 s=$3; shift 3
  [[ -f "$WORK/$f" ]] || mpiexec -n 2 "$PINS" generate -grid "$g" -samples "$N" -seed "$s" "$@" \
    -o "$WORK/$f" -progress 0 >/dev/null
}
gen ood_lognormal.h5 "$GRID" 21 -kappa_type lognormal -kappa_sigma 1.5
gen ood_contrast.h5 "$GRID" 22 -kappa_contrast 10000
gen ood_grid.h5 $((GRID * 2)) 23
for s in lognormal contrast grid; do
  "$PINS" evaluate -model "$MODEL" -data "$WORK/ood_$s.h5" -o "$WORK/ood_$s" -force \
    -evaluate_plot 0 -evaluate_solve_samples 2 -evaluate_threads 1 >/dev/null
done
"$PY" - "$WORK" <<'PYEOF'
import json, sys
import numpy as np
w = sys.argv[1]
def load(folder):
    r = json.load(open(f"{w}/{folder}/report.json"))
    return np.load(f"{w}/{folder}/plot_data/relative_residual.npy"), r
inside, rin = load("ev0.9")
thr = rin["out_of_distribution"]["residual_threshold"]
def auroc_plain(inside, out):
    allv = np.concatenate([inside, out])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(allv.size)
    i = 0
    while i < allv.size:  # mean ranks of ties
        j = i
        while j + 1 < allv.size and allv[order[j + 1]] == allv[order[i]]:
            j += 1
        ranks[order[i:j + 1]] = 0.5 * (i + j) + 1
        i = j + 1
    return (ranks[inside.size:].sum() - out.size * (out.size + 1) / 2) / (out.size * inside.size)
score_in = np.load(f"{w}/ev0.9/plot_data/ood_score.npy")
o = rin["out_of_distribution"]
print(f"in distribution: {inside.size} answers, flagged {o['flagged_fraction']:.3f} "
      f"({o['flagged_by_certificate']:.0f} by the certificate above {thr:.4g}, "
      f"{o.get('flagged_by_inputs', 0):.0f} by the inputs), test error mean "
      f"{rin['relative_l2']['mean']:.4g}")
print()
print("| out-of-distribution set | answers | AUROC certificate | AUROC OOD score | flagged | error mean | bound coverage |")
print("|---|---|---|---|---|---|---|")
for name, label in (("ood_lognormal", "lognormal kappa, sigma 1.5"),
                    ("ood_contrast", "threshold kappa 1:10^4"),
                    ("ood_grid", "twice the grid")):
    out, r = load(name)
    score = np.load(f"{w}/{name}/plot_data/ood_score.npy")
    print(f"| {label} | {out.size} | {auroc_plain(inside, out):.3f} | "
          f"{auroc_plain(score_in, score):.3f} | {r['out_of_distribution']['flagged_fraction']:.3f} | "
          f"{r['relative_l2']['mean']:.4g} | {r['error_bound']['coverage']:.3f} |")
PYEOF
