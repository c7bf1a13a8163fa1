#!/usr/bin/env bash
# The FNO's spectral convolution before and after a change to it, side by side in one run:
# two pins builds (e.g. the commit before b89b2c1, rfftn/irfftn of the padded grid, and
# b89b2c1 or later, the truncated DFT) train the same FNO on the same data and evaluate it,
# alternating builds for `rounds` rounds so drift on a shared machine hits both alike.
#   bench/fno_transform_speed.sh BEFORE AFTER [rounds] [threads]
# BEFORE and AFTER are build folders (bin/pins; a lib/ beside it, if there, goes first on
# LD_LIBRARY_PATH, for a copied build whose RUNPATH points elsewhere).
# Per setting: seconds per training epoch (64 samples, batch 16, data loss only, epochs 2–3
# of 3) and the surrogate's batched ms per sample in `pins evaluate`, each build, and the ratio.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BEFORE_BUILD AFTER_BUILD [rounds] [threads]" >&2; exit 2; }
BEFORE=$(cd "$1" && pwd)
AFTER=$(cd "$2" && pwd)
ROUNDS=${3:-2}
THREADS=${4:-1}
for b in "$BEFORE" "$AFTER"; do
  [ -x "$b/bin/pins" ] || { echo "fno_transform_speed: no $b/bin/pins (expected a pins build folder)" >&2; exit 2; }
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
PY=${PINS_PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

pins() {  # pins BUILD args...
  local b=$1
  shift
  if [ -d "$b/lib" ]; then LD_LIBRARY_PATH="$b/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$b/bin/pins" "$@"
  else "$b/bin/pins" "$@"; fi
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1 /proc/loadavg)"
echo "before: $BEFORE; after: $AFTER; $ROUNDS rounds; $THREADS thread(s)"
# name grid modes width padding hidden: the issue-12 setting at 32² (padded 36) and 85²
# (padded 89, a prime), and the FNO paper's at 85² (padded 94 = 2·47).
SETTINGS="physics_pays_32 32 8 24 4 64
physics_pays_85 85 8 24 4 64
fno_paper_85 85 12 32 9 128"
echo
echo "| setting | padded grid | build | s/epoch, each round | evaluate ms/sample, each round |"
echo "|---|---|---|---|---|"
declare -A EPOCH EVAL
while read -r name grid modes width padding hidden; do
  data=$WORK/data$grid.h5
  [ -f "$data" ] || pins "$AFTER" generate -grid "$grid" -samples 64 -seed 3 -o "$data" -progress 0 >/dev/null
  for side in before after; do EPOCH[$side]=""; EVAL[$side]=""; done
  for r in $(seq "$ROUNDS"); do
    for side in before after; do
      b=$BEFORE
      [ $side = after ] && b=$AFTER
      out=$WORK/$name-$side-$r
      pins "$b" train -data "$data" -o "$out.pins" -force -surrogate_type fno -fno_modes "$modes" \
        -fno_width "$width" -fno_padding "$padding" -fno_hidden "$hidden" -train_epochs 3 \
        -train_batch_size 16 -train_val_fraction 0 -train_seed 0 -train_threads "$THREADS" \
        -train_monitor 0 -train_log "$out.csv" >"$out.train.log" 2>&1
      pins "$b" evaluate -model "$out.pins" -data "$data" -o "$out.eval" -force -evaluate_plot 0 \
        -evaluate_solve_samples 1 -evaluate_threads "$THREADS" >"$out.eval.log" 2>&1
      EPOCH[$side]+="$("$PY" -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1])))[1:]; print('%.2f' % (sum(float(x['seconds']) for x in r)/len(r)))" "$out.csv") "
      EVAL[$side]+="$("$PY" -c "import json,sys; print('%.1f' % (1e3*json.load(open(sys.argv[1]))['seconds_per_sample']['surrogate_batched']))" "$out.eval/report.json") "
    done
  done
  for side in before after; do
    echo "| $name | $((grid + padding))² | $side | ${EPOCH[$side]% } | ${EVAL[$side]% } |"
  done
  "$PY" - "${EPOCH[before]}" "${EPOCH[after]}" "${EVAL[before]}" "${EVAL[after]}" "$name" <<'PYEOF'
import statistics as s, sys
m = [s.mean(float(x) for x in a.split()) for a in sys.argv[1:5]]
print("| %s | | before / after | %.1fx | %.1fx |" % (sys.argv[5], m[0] / m[1], m[2] / m[3]))
PYEOF
done <<<"$SETTINGS"
