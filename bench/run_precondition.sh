#!/usr/bin/env bash
# The surrogate preconditioner against PETSc's own, side by side in one run: trains an MgNet
# preconditioner on sampled operators (no solves) and writes the same network untrained (a
# classical V-cycle, the baseline that shows what training bought), then bench_precondition
# solves unseen Darcy 12/3 and 1:1e4 samples with CG + Jacobi/ICC/GAMG/BoomerAMG, FGMRES +
# surrogate (with and without extra Jacobi sweeps), FGMRES + the untrained network, CG + GAMG
# from the surrogate guess, and replace mode. Then bench_mgnet breaks down one application.
#   bench/run_precondition.sh [build dir] [grids] [samples] [model] [untrained model]
# With models given, training is skipped.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
GRIDS=${2:-64,128,256}
SAMPLES=${3:-2}
MODEL=${4:-}
UNTRAINED=${5:-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
WORK=$(mktemp -d)
if [ -z "$MODEL" ]; then
  MODEL=$WORK/mgnet64.pins
  "$BUILD/bin/pins" train -task precondition -surrogate_type mgnet -mgnet_smooth 2 -grid 64 \
    -train_steps 800 -train_batch_size 16 -train_monitor_every 100 -o "$MODEL"
fi
if [ -z "$UNTRAINED" ]; then
  UNTRAINED=$WORK/untrained.pins
  "$BUILD/bin/pins" train -task precondition -surrogate_type mgnet -mgnet_smooth 2 -grid 64 \
    -train_steps 0 -train_monitor_every 1 -o "$UNTRAINED"
fi
"$BUILD/bin/bench_precondition" -model "$MODEL" -baselines "$UNTRAINED" -grids "$GRIDS" \
  -samples "$SAMPLES" -smooth 1
for kind in darcy contrast; do "$BUILD/bin/bench_mgnet" "$MODEL" 256 "$kind"; done
