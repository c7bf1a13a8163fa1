#!/usr/bin/env bash
# The surrogate preconditioner against PETSc's own, side by side in one run: trains a
# preconditioner model on sampled operators (no solves), then bench_precondition solves unseen
# Darcy 12/3 and 1:1e4 samples with CG + Jacobi/ICC/GAMG/BoomerAMG, FGMRES + surrogate (with
# and without Jacobi sweeps), CG + GAMG from the surrogate guess, and replace mode.
#   bench/run_precondition.sh [build dir] [grids] [samples] [model]
# With a model given, training is skipped.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
GRIDS=${2:-64,128,256}
SAMPLES=${3:-2}
MODEL=${4:-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
if [ -z "$MODEL" ]; then
  MODEL=$(mktemp -d)/pc64.pins
  "$BUILD/bin/pins" train -task precondition -grid 64 -train_steps 400 -train_batch_size 8 \
    -fno_width 16 -fno_modes 12 -fno_layers 4 -train_threads 1 -train_monitor_every 100 -o "$MODEL"
fi
"$BUILD/bin/bench_precondition" -model "$MODEL" -grids "$GRIDS" -samples "$SAMPLES"
