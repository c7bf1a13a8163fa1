#!/usr/bin/env bash
# The cost side of unlabelled physics training (issue 12): seconds per optimiser step of the
# same FNO with the data loss alone and with each physics loss on labelled + unlabelled
# mini-batches, run one after the other on the same machine (ratios, not absolute times),
# and PETSc's solve time per sample on the same grid, to express the extra training time in
# PETSc solves.
#   bench/physics_cost.sh [build dir] [folder with labelled100.h5, unlabelled1000.h5, test.h5]
#                         [threads] [epochs]
# (the folder of bench/physics_pays.py).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
DATA=${2:?the folder of bench/physics_pays.py (labelled100.h5, unlabelled1000.h5, test.h5)}
THREADS=${3:-2}
EPOCHS=${4:-8}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PINS=$BUILD/bin/pins
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u '+%F %H:%M') UTC"
echo "FNO modes 8 width 24 padding 4 hidden 64; batch 16 (+16 unlabelled); $EPOCHS epochs of N=100; $THREADS threads"
echo
echo "| setting | seconds per step (epochs 2..$EPOCHS) | ratio to data only |"
echo "|---|---|---|"
base=""
for setting in "data:0:residual" "residual:0.1:residual" "energy:100:energy" "preconditioned:100:preconditioned"; do
  IFS=: read -r label weight loss <<<"$setting"
  extra=()
  [ "$weight" != 0 ] && extra=(-train_unlabelled "$DATA/unlabelled1000.h5" -train_unlabelled_batch_size 16)
  "$PINS" train -data "$DATA/labelled100.h5" -o "$WORK/$label.pins" -surrogate_type fno \
    -fno_modes 8 -fno_width 24 -fno_padding 4 -fno_hidden 64 -train_epochs "$EPOCHS" \
    -train_batch_size 16 -train_lr 3e-3 -train_threads "$THREADS" -train_monitor 0 \
    -train_physics_weight "$weight" -train_physics_loss "$loss" "${extra[@]}" \
    -train_log "$WORK/$label.csv" >/dev/null
  per_step=$(/usr/bin/python3 - "$WORK/$label.csv" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))[1:]
steps = math.ceil((100 - round(100 * 0.125)) / 16)
print("%.4f" % (sum(float(r["seconds"]) for r in rows) / (len(rows) * steps)))
PY
)
  [ -z "$base" ] && base=$per_step
  name=$([ "$label" = data ] && echo "data only" || echo "data + $weight x $label, unlabelled")
  echo "| $name | $per_step | $(/usr/bin/python3 -c "print('%.2f' % ($per_step / $base))") |"
done
"$PINS" evaluate -model "$WORK/data.pins" -data "$DATA/test.h5" -o "$WORK/eval" \
  -evaluate_plot 0 -evaluate_solve_samples 20 -evaluate_threads "$THREADS" >/dev/null
/usr/bin/python3 - "$WORK/eval/report.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["seconds_per_sample"]
print()
print("PETSc solve per sample (%s, assembly included, %d samples): %.4f s"
      % (s["petsc_solver"], s["petsc_samples_timed"], s["petsc_solve"]))
PY
