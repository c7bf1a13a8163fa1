#!/usr/bin/env bash
# Physics-informed data efficiency: the same FNO trained on the same few samples with the
# data loss alone and with data + physics loss (the PDE's own residual through the Kokkos
# operator), same epochs, seed and optimiser; both evaluated on the same unseen test set.
#   bench/bench_data_efficiency.sh [build dir] [grid] [train samples] [epochs] [physics weights]
# physics weights: one or a comma-separated list (e.g. 0.01,0.1); each is run after the
# data-only baseline.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
GRID=${2:-32}
N=${3:-250}
EPOCHS=${4:-60}
WEIGHTS=${5:-0.1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PINS=$BUILD/bin/pins
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
"$PINS" generate -grid "$GRID" -samples "$N" -seed 11 -o "$WORK/train.h5" -progress 0 >/dev/null
"$PINS" generate -grid "$GRID" -samples 100 -seed 12 -o "$WORK/test.h5" -progress 0 >/dev/null
echo "$N training samples, 100 test samples, ${GRID}x${GRID}; FNO modes 8 width 24 padding 4 hidden 64;"
echo "$EPOCHS epochs, batch 16, Adam lr 3e-3 cosine, seed 0, validation split 0.1"
echo
echo "| loss | best val rel L2 | test rel L2 mean | median | p95 | test residual ||f-Au||/||f|| | training time (s) |"
echo "|---|---|---|---|---|---|---|"
for weight in 0 ${WEIGHTS//,/ }; do
  "$PINS" train -data "$WORK/train.h5" -surrogate_type fno -fno_modes 8 -fno_width 24 \
    -fno_padding 4 -fno_hidden 64 -train_epochs "$EPOCHS" -train_batch_size 16 -train_lr 3e-3 \
    -train_val_fraction 0.1 -train_physics_weight "$weight" -train_monitor 0 \
    -train_log "$WORK/history$weight.csv" \
    -o "$WORK/m$weight.pins" >"$WORK/train$weight.out"
  "$PINS" evaluate -model "$WORK/m$weight.pins" -data "$WORK/test.h5" -o "$WORK/eval$weight" \
    -evaluate_plot 0 >/dev/null
  /usr/bin/python3 - "$WORK/eval$weight/report.json" "$WORK/history$weight.csv" "$weight" <<'PY'
import csv, json, sys
r = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
val = min(float(row["val_rel_l2"]) for row in rows)
seconds = sum(float(row["seconds"]) for row in rows)
e = r["relative_l2"]
res = r["relative_residual_prediction"]["mean"]
label = "data only" if float(sys.argv[3]) == 0 else f"data + {sys.argv[3]} x physics"
print(f"| {label} | {float(val):.4f} | {e['mean']:.4f} | {e['median']:.4f} | {e['p95']:.4f} | {res:.3g} | {seconds:.0f} |")
PY
done
