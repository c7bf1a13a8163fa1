#!/usr/bin/env bash
# Zero-shot resolution (issue 12, item 4): is a surrogate trained on a coarse grid with
# the physics loss on unlabelled inputs useful on a finer grid, as is or refined by a few
# multigrid cycles, against one trained on the fine grid with data?
#
#   bench/zero_shot.sh [build dir] [work folder]
#   COARSE=43 FINE=85 N=100 M=1000 STEPS=400 THREADS=1 bench/zero_shot.sh build /work/zs
#
# Runs (the same FNO, modes 8, width 24, padding 4, hidden 64; batch 16, Adam lr 3e-3 cosine,
# STEPS optimiser steps; model selection on 1/8 of the labelled samples, never the test set):
#   coarse+energy  N labelled + M unlabelled samples at COARSE², energy loss (weight 100)
#   coarse data    the same N labelled samples at COARSE², data loss only
#   fine data      N labelled samples at FINE², data loss only (N fine solves instead)
# then `pins evaluate -refine 0,1,5` of each on the same FINE² test set (100 samples).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/out/zero_shot}
COARSE=${COARSE:-43}
FINE=${FINE:-85}
N=${N:-100}
M=${M:-1000}
STEPS=${STEPS:-400}
THREADS=${THREADS:-1}
WEIGHT=${WEIGHT:-100}
PINS=$BUILD/bin/pins
[[ -x "$PINS" ]] || { echo "zero_shot.sh: no pins executable at $PINS" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$WORK"
log() { echo "[$(date -u +%T)] $*" >&2; }

gen() {  # file grid samples seed [extra...]
  local file=$1 grid=$2 samples=$3 seed=$4
  shift 4
  [[ -f "$WORK/$file" ]] && return
  log "generating $file"
  mpiexec -n 2 "$PINS" generate -grid "$grid" -samples "$samples" -seed "$seed" -progress 0 \
    "$@" -o "$WORK/$file" >/dev/null
}
# The seeds of bench/physics_pays.py: labelled 11, unlabelled 21, test 12.
gen "labelled${N}_${COARSE}.h5" "$COARSE" "$N" 11
gen "unlabelled${M}_${COARSE}.h5" "$COARSE" "$M" 21 -inputs_only
gen "labelled${N}_${FINE}.h5" "$FINE" "$N" 11
gen "test100_${FINE}.h5" "$FINE" 100 12

val=$(( (N + 4) / 8 ))
batches=$(( (N - val + 15) / 16 ))
epochs=$(( (STEPS + batches / 2) / batches ))

run() {  # name data [extra train options...]
  local name=$1 data=$2
  shift 2
  if [[ ! -f "$WORK/$name.pins" ]]; then
    log "training $name ($epochs epochs x $batches batches)"
    "$PINS" train -data "$WORK/$data" -o "$WORK/$name.pins" -surrogate_type fno -fno_modes 8 \
      -fno_width 24 -fno_padding 4 -fno_hidden 64 -train_epochs "$epochs" -train_batch_size 16 \
      -train_lr 3e-3 -train_threads "$THREADS" -train_monitor 0 -train_log "$WORK/$name.csv" \
      "$@" >"$WORK/train_$name.log" 2>&1
  fi
  log "evaluating $name at ${FINE}^2"
  "$PINS" evaluate -model "$WORK/$name.pins" -data "$WORK/test100_${FINE}.h5" -refine 0,1,5 \
    -evaluate_solve_samples 8 -evaluate_threads "$THREADS" -evaluate_plot 0 -force \
    -o "$WORK/report_$name" >"$WORK/evaluate_$name.log" 2>&1
}
run coarse_energy "labelled${N}_${COARSE}.h5" -train_unlabelled "$WORK/unlabelled${M}_${COARSE}.h5" \
  -train_unlabelled_batch_size 16 -train_physics_loss energy -train_physics_weight "$WEIGHT"
run coarse_data "labelled${N}_${COARSE}.h5"
run fine_data "labelled${N}_${FINE}.h5"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u '+%F %H:%M') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Darcy 12/3, test: 100 unseen samples at ${FINE}^2; FNO m8 w24, $STEPS steps ($epochs epochs), $THREADS thread(s)"
echo
/usr/bin/python3 - "$WORK" "$COARSE" "$FINE" "$N" "$M" "$WEIGHT" <<'PY'
import csv, json, os, sys
work, coarse, fine, n, m, w = sys.argv[1:]
rows = [("coarse_energy", "%s², %s labelled + %s unlabelled, energy (weight %s)" % (coarse, n, m, w)),
        ("coarse_data", "%s², %s labelled, data only" % (coarse, n)),
        ("fine_data", "%s², %s labelled, data only" % (fine, n))]
print("| trained on | solves | training time | rel. L2 at %s² (k = 0) | k = 1 | k = 5 | "
      "ms/sample k = 0 / 1 / 5 | PETSc ms/sample to the k = 0 error |" % fine)
print("|---|---|---|---|---|---|---|---|")
for name, label in rows:
    rep = json.load(open(os.path.join(work, "report_" + name, "report.json")))
    hist = list(csv.DictReader(open(os.path.join(work, name + ".csv"))))
    secs = sum(float(r["seconds"]) for r in hist)
    ref = {r["k"]: r for r in rep["refine"]}
    def err(k):
        return "%.2f %%" % (100 * ref[k]["relative_l2_mean"])
    def ms(k):
        return "%.1f" % (1e3 * ref[k]["seconds_per_sample"])
    petsc = ref[0].get("petsc_seconds_to_same_error")
    print("| %s | %s at %s² | %.0f s | %s | %s | %s | %s / %s / %s | %s |" % (
        label, n, coarse if name.startswith("coarse") else fine, secs, err(0), err(1), err(5),
        ms(0), ms(1), ms(5), "%.1f" % (1e3 * petsc) if petsc else "n/a"))
PY
