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
print(f"in distribution: {inside.size} answers, flagged {np.mean(inside > thr):.3f} "
      f"(threshold {thr:.4g}), test error mean {rin['relative_l2']['mean']:.4g}")
print()
print("| out-of-distribution set | answers | AUROC (certificate) | flagged | error mean | bound coverage |")
print("|---|---|---|---|---|---|")
for name, label in (("ood_lognormal", "lognormal kappa, sigma 1.5"),
                    ("ood_contrast", "threshold kappa 1:10^4"),
                    ("ood_grid", "twice the grid")):
    out, r = load(name)
    # AUROC: P(score_ood > score_in) + P(equal) / 2, by ranks.
    allv = np.concatenate([inside, out])
    ranks = allv.argsort().argsort() + 1.0
    auc = (ranks[inside.size:].sum() - out.size * (out.size + 1) / 2) / (out.size * inside.size)
    print(f"| {label} | {out.size} | {auc:.3f} | {np.mean(out > thr):.3f} | "
          f"{r['relative_l2']['mean']:.4g} | {r['error_bound']['coverage']:.3f} |")
PYEOF
