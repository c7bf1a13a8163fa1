#!/usr/bin/env bash
# The FNO paper's Darcy setting on pins' discretisation: 85x85, 1000 training samples, 100
# validation and 100 test samples (three seeds, so none overlap), FNO modes 12 width 32,
# all 1000 samples trained on with the grid symmetries as augmentation, Adam + cosine with
# weight decay 1e-4; then pins evaluate on the unseen test set and the curve of validation
# error against epochs and wall time. Needs a quiet machine: about 1 min per epoch on 2 cores.
#   bench/run_fno85_accuracy.sh [build dir] [epochs] [work dir]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
EPOCHS=${2:-100}
WORK=${3:-$ROOT/out/fno85}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PINS=$BUILD/bin/pins
mkdir -p "$WORK"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
for spec in "train 1000 1" "val 100 3" "test 100 2"; do
  set -- $spec
  [ -f "$WORK/darcy85_$1.h5" ] || mpiexec -n 2 "$PINS" generate -grid 85 -samples "$2" -seed "$3" \
    -o "$WORK/darcy85_$1.h5" -progress 0
done
"$PINS" train -data "$WORK/darcy85_train.h5" -train_val_data "$WORK/darcy85_val.h5" \
  -train_augment symmetries -surrogate_type fno -fno_modes 12 -fno_width 32 -fno_layers 4 \
  -fno_padding 9 -train_epochs "$EPOCHS" -train_batch_size 20 -train_lr 1e-3 \
  -train_schedule cosine -train_weight_decay 1e-4 -train_physics_weight 0 -train_threads 2 \
  -train_checkpoint_every 1 -train_log "$WORK/history.csv" -o "$WORK/fno85.pins" -force
"$PINS" evaluate -model "$WORK/fno85.pins" -data "$WORK/darcy85_test.h5" -o "$WORK/eval" -force
/usr/bin/python3 "$ROOT/bench/plot_training_curve.py" "$WORK/history.csv" "$WORK/curve.png" 5
