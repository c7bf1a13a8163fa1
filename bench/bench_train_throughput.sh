#!/usr/bin/env bash
# Training throughput: pins' C++ trainer (`pins train`) against the same FNO and training
# loop in Python (bench/fno_reference.py, Debian's python3-torch 1.13 = the same LibTorch),
# same data, batch size, optimiser, thread count, in one run. Data loss only on both sides
# (the Python reference has no physics loss).
#   bench/bench_train_throughput.sh [build dir] [grid] [samples] [epochs] [threads]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
GRID=${2:-85}
N=${3:-100}
EPOCHS=${4:-4}
THREADS=${5:-$(nproc)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PY=${PINS_PYTHON:-/usr/bin/python3}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "FNO modes 12, width 32, layers 4, padding 9, hidden 128; Adam lr 1e-3; batch 20;"
echo "$N samples of ${GRID}x${GRID}; $EPOCHS epochs; $THREADS threads; float32"
"$BUILD/bin/pins" generate -grid "$GRID" -samples "$N" -seed 3 -o "$WORK/data.h5" -progress 0 >/dev/null

# pins: no validation split, so every sample of an epoch is a training sample, as in Python.
"$BUILD/bin/pins" train -data "$WORK/data.h5" -surrogate_type fno -o "$WORK/m.pins" \
  -train_epochs "$EPOCHS" -train_batch_size 20 -train_lr 1e-3 -train_schedule constant \
  -train_val_fraction 0 -train_threads "$THREADS" -train_log "$WORK/log.csv" >"$WORK/pins.out"
CPP=$("$PY" - "$WORK/log.csv" <<'PYEOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
rates = [float(r["samples_per_second"]) for r in rows][1:]  # epochs after the first
print(f"{sum(rates) / len(rates):.2f}")
PYEOF
)
PYRATE=$("$PY" "$ROOT/bench/fno_reference.py" -data "$WORK/data.h5" -epochs "$EPOCHS" -batch 20 \
  -threads "$THREADS" | awk '/^samples\/s/ {print $2}')
# `pins` keeps freed memory in the heap (mallopt at start-up); give Python the same
# allocator settings through glibc's environment, so the allocator is not the difference.
PYRATE_HEAP=$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 "$PY" "$ROOT/bench/fno_reference.py" \
  -data "$WORK/data.h5" -epochs "$EPOCHS" -batch 20 -threads "$THREADS" | awk '/^samples\/s/ {print $2}')
echo
echo "| implementation | samples/s (epochs 2..$EPOCHS, mean) |"
echo "|---|---|"
echo "| pins train (C++) | $CPP |"
echo "| Python reference (python3-torch 1.13), glibc defaults | $PYRATE |"
echo "| Python reference, freed memory kept (as pins) | $PYRATE_HEAP |"
echo
"$PY" -c "c, p, q = $CPP, $PYRATE, $PYRATE_HEAP; print(f'ratio C++ / Python: {c / p:.2f}x (glibc defaults), {c / q:.2f}x (same allocator settings)')"
