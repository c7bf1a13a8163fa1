#!/usr/bin/env bash
# The main job, end to end on small built-in defaults, from a fresh Debian 12 machine:
# install what is missing, build, then
#   1. generate Darcy training and test datasets with PETSc on 2 MPI ranks,
#   2. verify every stored solution with the Kokkos residual operator,
#   3. train an FNO surrogate (data + physics loss) on the training set,
#   4. evaluate it against PETSc on the test set: errors, residuals, timings, figures,
#   5. run the Darcy benchmark suite (bench/suites/darcy.json) with pins bench.
#   PINS_GRID=64 PINS_SAMPLES=500 PINS_EPOCHS=100 scripts/demo.sh      # bigger
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$PINS_ROOT/scripts/setup-debian.sh"
"$PINS_ROOT/scripts/build.sh" >/dev/null

PINS=$PINS_BUILD_DIR/bin/pins
OUT=${PINS_OUT:-$PINS_ROOT/out}
GRID=${PINS_GRID:-32}
SAMPLES=${PINS_SAMPLES:-256}
TEST_SAMPLES=${PINS_TEST_SAMPLES:-32}
EPOCHS=${PINS_EPOCHS:-40}
mkdir -p "$OUT"
TRAIN=$OUT/darcy${GRID}_train.h5
TEST=$OUT/darcy${GRID}_test.h5
MODEL=$OUT/fno${GRID}.pins
REPORT=$OUT/report${GRID}

echo "== 1. generate: $SAMPLES training + $TEST_SAMPLES test Darcy samples, ${GRID}x${GRID}, 2 MPI ranks (CG + GAMG)"
mpiexec -n 2 --oversubscribe "$PINS" generate -pde darcy -grid "$GRID" -samples "$SAMPLES" \
  -seed 1 -o "$TRAIN" -force -progress 0
mpiexec -n 2 --oversubscribe "$PINS" generate -pde darcy -grid "$GRID" -samples "$TEST_SAMPLES" \
  -seed 2 -o "$TEST" -force -progress 0 | tail -1
echo
echo "== 2. verify: recompute every training sample's residual with the Kokkos operator"
"$PINS" verify -data "$TRAIN"
echo
echo "== 3. train: FNO, relative L2 data loss + 0.1 x physics loss (the PDE's own residual), $EPOCHS epochs"
"$PINS" train -data "$TRAIN" -surrogate_type fno -fno_modes 8 -fno_width 24 -fno_padding 4 \
  -fno_hidden 64 -train_epochs "$EPOCHS" -train_batch_size 16 -train_lr 3e-3 \
  -train_physics_weight 0.1 -train_log "$OUT/fno${GRID}_history.csv" -o "$MODEL" -force
echo
echo "== 4. evaluate on the unseen test set against PETSc"
"$PINS" evaluate -model "$MODEL" -data "$TEST" -o "$REPORT" -force
echo
echo "== 5. bench: the Darcy suite (bench/suites/darcy.json): a calibrated FNO and a learned preconditioner against CG + GAMG and CG + Jacobi, out-of-distribution sets, break-even"
"$PINS" bench -suite "$PINS_ROOT/bench/suites/darcy.json" -o "$OUT/bench_darcy" -force
echo
echo "datasets: $TRAIN, $TEST (h5py-readable)"
echo "model:    $MODEL   history: $OUT/fno${GRID}_history.csv"
echo "report:   $REPORT/report.md, report.json; figures: $REPORT/samples.png, $REPORT/error_histogram.png"
echo "bench:    $OUT/bench_darcy/report.md, report.json; figures: time_per_query.png, break_even.png, answers.png"
