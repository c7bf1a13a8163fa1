#!/usr/bin/env bash
# The surrogate as Newton's initial guess on nonlinear_darcy (issue 13): Newton iterations and
# time (inference + Newton) to a tolerance from the FNO's guess against from zero, at FINE².
#
#   bench/nonlinear_guess.sh [build dir] [work folder]
#   TRAIN_GRID=128 FINE=128 N=240 TEST=16 EPOCHS=12 PADDING=8 THREADS=1 RTOL=1e-8 \
#     bench/nonlinear_guess.sh
# About 20 minutes on one core of a 2-core machine: 2 min of data, 15 min of training, 3 min
# of evaluation. (Training at 64² and evaluating at 128² is faster but the FNO's error grows
# from 2 % to 18 % across the grids: see bench/RESULTS.md.)
#   NL_OPTS="-nonlinearity exp -nonlinearity_beta 3" bench/nonlinear_guess.sh build out/nl_exp3
#
# Steps (each skipped when its output exists, so a run can be resumed):
#  1. N training samples at TRAIN_GRID² (seed 1) and TEST test samples at FINE² (seed 2),
#     k(u) = 1 + u², f = 100 (the family's defaults; NL_OPTS adds generate options, e.g. another
#     k(u));
#  2. an FNO (modes 12, width 24, PADDING cells of padding, hidden 64) trained on the data
#     loss, EPOCHS epochs, batch 16, Adam lr 3e-3 cosine, THREADS LibTorch threads;
#  3. pins evaluate on the FINE² test set: Newton (newtonls + bt, GMRES + GAMG) to
#     ‖F(u)‖ ≤ RTOL ‖F(0)‖ from zero and from the network's guess (-snes_surrogate_guess's
#     code path), per sample, best of 3 timings each; report in $WORK/report.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-$ROOT/out/nonlinear_guess}
TRAIN_GRID=${TRAIN_GRID:-128}
FINE=${FINE:-128}
N=${N:-240}
TEST=${TEST:-16}
EPOCHS=${EPOCHS:-12}
PADDING=${PADDING:-8}
THREADS=${THREADS:-1}
RTOL=${RTOL:-1e-8}
NL_OPTS=${NL_OPTS:-}
PINS=$BUILD/bin/pins
[[ -x "$PINS" ]] || { echo "nonlinear_guess.sh: no pins executable at $PINS" >&2; exit 1; }
mkdir -p "$WORK"
log() { echo "[$(date -u +%T)] $*" >&2; }

gen() {  # file grid samples seed
  [[ -f "$WORK/$1" ]] && return
  log "generating $1 ($3 samples at $2^2)"
  # shellcheck disable=SC2086 # NL_OPTS is a list of options
  "$PINS" generate -pde nonlinear_darcy -grid "$2" -samples "$3" -seed "$4" -progress 0 \
    $NL_OPTS -o "$WORK/$1" >"$WORK/generate_$1.log"
  tail -n 3 "$WORK/generate_$1.log" >&2
}
gen "train${N}_${TRAIN_GRID}.h5" "$TRAIN_GRID" "$N" 1
gen "test${TEST}_${FINE}.h5" "$FINE" "$TEST" 2

if [[ ! -f "$WORK/fno.pins" ]]; then
  log "training the FNO ($EPOCHS epochs on $N samples at ${TRAIN_GRID}^2, $THREADS thread(s))"
  "$PINS" train -data "$WORK/train${N}_${TRAIN_GRID}.h5" -o "$WORK/fno.pins" -surrogate_type fno \
    -fno_modes 12 -fno_width 24 -fno_padding "$PADDING" -fno_hidden 64 -train_epochs "$EPOCHS" \
    -train_batch_size 16 -train_lr 3e-3 -train_threads "$THREADS" -train_monitor 1 \
    -train_log "$WORK/train.csv" >"$WORK/train.log" 2>&1
  tail -n 2 "$WORK/train.log" >&2
fi

log "evaluating at ${FINE}^2 (Newton to ${RTOL} from zero and from the guess)"
"$PINS" evaluate -model "$WORK/fno.pins" -data "$WORK/test${TEST}_${FINE}.h5" -o "$WORK/report" \
  -force -evaluate_plot 0 -evaluate_threads "$THREADS" -evaluate_solve_samples "$TEST" \
  -evaluate_newton_rtol "$RTOL"
log "done: $WORK/report/report.md"
