#!/usr/bin/env bash
# Calibrated error bounds (issue 16 §1): train a solution model, calibrate its bound on
# held-out samples with `pins calibrate` (split conformal on error / score, the score being
# the answer's error estimate or its relative residual: SCORE=auto|error_estimate|residual),
# and measure on fresh test samples of the same distribution the bound's empirical coverage
# and its Spearman correlation with the true error (`pins evaluate`'s report.json).
#   bench/bench_calibration.sh [build dir] [grid] [train] [calibration] [test] [epochs]
#   bench/bench_calibration.sh build 32 400 500 500 30
#   KEEP_MODEL=1 SCORE=residual WORK=/tmp/bcal bench/bench_calibration.sh build 32 400 500 500 30
# (KEEP_MODEL=1: reuse $WORK/m.pins from an earlier run instead of training again.)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
GRID=${2:-32}
NTRAIN=${3:-400}
NCAL=${4:-500}
NTEST=${5:-500}
EPOCHS=${6:-30}
PINS=$BUILD/bin/pins
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
PY=${PINS_PYTHON:-/usr/bin/python3}
echo "machine: $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
gen() { [[ -f "$WORK/$1" ]] || mpiexec -n 2 "$PINS" generate -grid "$GRID" -samples "$2" -seed "$3" -o "$WORK/$1" -progress 0 >/dev/null; }
gen train.h5 "$NTRAIN" 1
gen cal.h5 "$NCAL" 2
gen test.h5 "$NTEST" 3
SCORE=${SCORE:-auto}
[[ "${KEEP_MODEL:-0}" == 1 && -f "$WORK/m.pins" ]] ||
"$PINS" train -data "$WORK/train.h5" -surrogate_type fno -fno_modes 8 -fno_width 24 \
  -train_epochs "$EPOCHS" -train_lr 3e-3 -train_monitor 0 -train_threads 1 -o "$WORK/m.pins" -force
for level in 0.8 0.9 0.95; do
  cp "$WORK/m.pins" "$WORK/m$level.pins"
  "$PINS" calibrate -model "$WORK/m$level.pins" -data "$WORK/cal.h5" -calibrate_level "$level" -calibrate_threads 1 -calibrate_score "$SCORE"
  "$PINS" evaluate -model "$WORK/m$level.pins" -data "$WORK/test.h5" -o "$WORK/ev$level" -force \
    -evaluate_plot 0 -evaluate_solve_samples 2 -evaluate_threads 1 >/dev/null
done
echo
echo "| score | level | quantile q | test coverage | coverage - level | Spearman(bound, error) | test error mean | bound mean |"
echo "|---|---|---|---|---|---|---|---|"
for level in 0.8 0.9 0.95; do
  "$PY" - "$WORK/ev$level/report.json" "$level" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1])); b = r["error_bound"]; level = float(sys.argv[2])
print(f"| {b['score']} | {level} | {b['quantile']:.4g} | {b['coverage']:.3f} | {b['coverage'] - level:+.3f} | "
      f"{b['spearman_bound_error']:.3f} | {r['relative_l2']['mean']:.4g} | {b['bound']['mean']:.4g} |")
PYEOF
done
