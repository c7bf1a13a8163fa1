#!/usr/bin/env bash
# The darcy3d benchmark (issue 13): FNO-3D and U-Net-3D trained on the same 3-D Darcy data
# (κ thresholded 12/3, f = 1, CG + GAMG rtol 1e-10), evaluated on the same unseen test set
# against PETSc, one after the other on one machine, as a Markdown table.
#
#   bench/darcy3d.sh [build dir] [work folder]
#   GRID=32 TRAIN=1000 VAL=100 TEST=100 FNO_EPOCHS=4 UNET_EPOCHS=6 bench/darcy3d.sh build /work/d3
#
# Data files in the work folder are reused when present (train.h5, val.h5, test.h5; seeds
# 1, 3, 2), so a rerun trains and evaluates only. Each network trains on every training
# sample with val.h5 for model selection (-train_val_data); the test set is never used to
# choose anything. Models, logs and reports stay in the work folder.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/out/darcy3d_bench}
GRID=${GRID:-32}
TRAIN=${TRAIN:-1000}
VAL=${VAL:-100}
TEST=${TEST:-100}
FNO_EPOCHS=${FNO_EPOCHS:-4}
UNET_EPOCHS=${UNET_EPOCHS:-6}
THREADS=${THREADS:-$(nproc)}
SOLVE_SAMPLES=${SOLVE_SAMPLES:-20}
REFINE=${REFINE:-0,1,5,10}   # multigrid cycles after the prediction (pins evaluate -refine)
PINS=$BUILD/bin/pins
[[ -x "$PINS" ]] || { echo "darcy3d.sh: no pins executable at $PINS" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$WORK"
log() { echo "[$(date -u +%T)] $*" >&2; }

gen() {  # name samples seed
  [[ -f "$WORK/$1.h5" ]] && return
  log "generating $1.h5 ($2 samples of ${GRID}^3, 2 processes)"
  mpiexec -n 2 "$PINS" generate -pde darcy3d -grid "$GRID" -samples "$2" -seed "$3" \
    -progress 0 -o "$WORK/$1.h5" >"$WORK/generate_$1.log"
}
gen train "$TRAIN" 1
gen val "$VAL" 3
gen test "$TEST" 2

# name surrogate epochs options...
train_eval() {
  local name=$1 type=$2 epochs=$3
  shift 3
  if [[ ! -f "$WORK/$name.pins" ]]; then
    log "training $name ($type, $epochs epochs on $TRAIN samples, $THREADS threads)"
    "$PINS" train -data "$WORK/train.h5" -train_val_data "$WORK/val.h5" -surrogate_type "$type" \
      "$@" -train_epochs "$epochs" -train_batch_size 8 -train_lr 2e-3 -train_threads "$THREADS" \
      -train_log "$WORK/$name.csv" -o "$WORK/$name.pins" >"$WORK/train_$name.log" 2>&1
  fi
  log "evaluating $name on test.h5"
  "$PINS" evaluate -model "$WORK/$name.pins" -data "$WORK/test.h5" \
    -evaluate_solve_samples "$SOLVE_SAMPLES" -evaluate_threads "$THREADS" -refine "$REFINE" -force \
    -o "$WORK/report_$name" >"$WORK/evaluate_$name.log" 2>&1
}
train_eval unet3d unet3d "$UNET_EPOCHS" -unet3d_channels 16 -unet3d_levels 3
train_eval fno3d fno3d "$FNO_EPOCHS" -fno3d_modes 8 -fno3d_width 16 -fno3d_hidden 32 \
  -fno3d_padding 4

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u '+%F %H:%M') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "darcy3d ${GRID}^3: $TRAIN training, $VAL validation, $TEST test samples; batch 8, Adam lr 2e-3 cosine, $THREADS threads"
echo
/usr/bin/python3 - "$WORK" <<'PY'
import csv, json, os, sys
work = sys.argv[1]
print("| network | epochs | training time | best validation rel. L2 | test rel. L2 mean / median / p95 | "
      "residual of prediction | surrogate ms/sample (batched) | PETSc ms/sample | PETSc / surrogate |")
print("|---|---|---|---|---|---|---|---|---|")
for name in ("unet3d", "fno3d"):
    rep = json.load(open(os.path.join(work, "report_" + name, "report.json")))
    rows = list(csv.DictReader(open(os.path.join(work, name + ".csv"))))
    seconds = sum(float(r["seconds"]) for r in rows)
    best = min(float(r["val_rel_l2"]) for r in rows)
    l2, res, t = rep["relative_l2"], rep["relative_residual_prediction"], rep["seconds_per_sample"]
    print("| %s | %d | %.0f min | %.4f | %.2f %% / %.2f %% / %.2f %% | %.3g | %.1f | %.1f | %.2f |" % (
        name, len(rows), seconds / 60, best, 100 * l2["mean"], 100 * l2["median"], 100 * l2["p95"],
        res["mean"], 1e3 * t["surrogate_batched"], 1e3 * t["petsc_solve"],
        t["petsc_solve"] / t["surrogate_batched"]))
print()
print("Test-time refinement (k V-cycles of the 3-D aggregation multigrid on the prediction):")
print()
print("| network | k | rel. L2 mean | surrogate + k cycles ms/sample | PETSc to the same error ms/sample |")
print("|---|---|---|---|---|")
for name in ("unet3d", "fno3d"):
    rep = json.load(open(os.path.join(work, "report_" + name, "report.json")))
    for r in rep.get("refine", []):
        petsc = r["petsc_seconds_to_same_error"]
        print("| %s | %d | %.3g %% | %.1f | %s |" % (name, r["k"], 100 * r["relative_l2_mean"],
              1e3 * r["seconds_per_sample"], "%.1f" % (1e3 * petsc) if petsc else "not reached"))
PY
