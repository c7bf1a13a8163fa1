#!/usr/bin/env bash
# The darcy_fem benchmark (issue 13): the graph network `gnn` trained on one unstructured
# mesh (the unit square, perturbed triangles) with data + the sparse operator's residual, and
# evaluated on unseen samples on that mesh and on an unseen finer mesh of the same domain
# (another perturbation, twice the cells per direction) against PETSc CG + GAMG.
#
#   bench/darcy_fem.sh [build dir] [work folder]
#   GRID=16 FINE=32 TRAIN=400 TEST=50 EPOCHS=40 bench/darcy_fem.sh build /work/fem
#
# Data files in the work folder are reused when present. The finer mesh's κ and f are the
# same random fields of space (the sampler evaluates them at the cell centroids), so the
# two test sets pose the same problems on different meshes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/out/darcy_fem_bench}
GRID=${GRID:-16}
FINE=${FINE:-32}
TRAIN=${TRAIN:-400}
TEST=${TEST:-50}
EPOCHS=${EPOCHS:-40}
PERTURB=${PERTURB:-0.25}
THREADS=${THREADS:-1}
PINS=${PINS:-$BUILD/bin/pins}
[[ -x "$PINS" ]] || { echo "darcy_fem.sh: no pins executable at $PINS" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$WORK"
log() { echo "[$(date -u +%T)] $*" >&2; }

gen() {  # name grid samples seed
  [[ -f "$WORK/$1.h5" ]] && return
  log "generating $1.h5 ($3 samples on the ${2}x${2} perturbed triangle mesh)"
  "$PINS" generate -pde darcy_fem -grid "$2" -mesh_perturb "$PERTURB" -samples "$3" -seed "$4" \
    -progress 0 -o "$WORK/$1.h5" >"$WORK/generate_$1.log"
}
gen train "$GRID" "$TRAIN" 1
gen test "$GRID" "$TEST" 2
gen test_fine "$FINE" "$TEST" 2

log "training gnn ($EPOCHS epochs, data + 0.1 x residual)"
start=$(date +%s)
"$PINS" train -data "$WORK/train.h5" -surrogate_type gnn -train_epochs "$EPOCHS" \
  -train_physics_weight 0.1 -train_batch_size 16 -train_lr 2e-3 -train_threads "$THREADS" \
  -train_monitor 1 -train_log "$WORK/train.csv" -o "$WORK/gnn.pins" -force >"$WORK/train.log"
train_s=$(( $(date +%s) - start ))
for t in test test_fine; do
  "$PINS" evaluate -model "$WORK/gnn.pins" -data "$WORK/$t.h5" -o "$WORK/report_$t" \
    -evaluate_solve_samples 20 >"$WORK/evaluate_$t.log"
done
/usr/bin/python3 - "$WORK" "$train_s" <<'PY'
import json, sys
work, train_s = sys.argv[1], sys.argv[2]
print("| test mesh | points | relative L2 mean | p95 | residual of prediction | surrogate ms/sample (batched) | PETSc ms/sample |")
print("|---|---|---|---|---|---|---|")
for t, name in (("test", "training mesh"), ("test_fine", "unseen finer mesh")):
    r = json.load(open("%s/report_%s/report.json" % (work, t)))
    s = r["seconds_per_sample"]
    print("| %s | %d | %.4f | %.4f | %.3g | %.3f | %.3f |" % (
        name, r["grid"]["nx"], r["relative_l2"]["mean"], r["relative_l2"]["p95"],
        r["relative_residual_prediction"]["mean"], 1e3 * s["surrogate_batched"],
        1e3 * s["petsc_solve"]))
print("\ntraining: %s s" % train_s)
PY
