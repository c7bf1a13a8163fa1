#!/usr/bin/env bash
# Streaming datasets (issue 15 §2): `pins train` holding the dataset in memory against
# streaming it from the HDF5 file (-train_memory below the dataset's size), side by side in
# one run, at two dataset sizes: samples/s and the peak resident memory of the process.
#   bench/bench_streaming.sh [build dir] [grid] [small samples] [large samples]
#   bench/bench_streaming.sh build 85 100 1000
# One process, 2 LibTorch threads; 2 epochs, samples/s of the second (the log's
# samples_per_second); peak memory is GNU time's maximum resident set of the process.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
GRID=${2:-85}
SMALL=${3:-100}
LARGE=${4:-1000}
PINS=$BUILD/bin/pins
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1  # Debian's PETSc loads an OpenMP BLAS; LibTorch has its own threads
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
PY=${PINS_PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-2}
FNO=(-surrogate_type fno -fno_modes 12 -fno_width 32 -fno_layers 4)

echo "machine: $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "FNO modes 12, width 32, layers 4; Adam lr 1e-3 constant; batch 16; float32; ${GRID}x${GRID};"
echo "2 epochs; relative L2 + 0.1 x residual physics loss; $THREADS LibTorch threads"
gen() {  # file samples
  [[ -f "$WORK/$1" ]] || mpiexec -n 2 "$PINS" generate -grid "$GRID" -samples "$2" -seed 3 \
    -o "$WORK/$1" -progress 0 >/dev/null
}
gen small.h5 "$SMALL"
gen large.h5 "$LARGE"

train() {  # label data memory_mb [epochs]
  /usr/bin/time -f "%M" -o "$WORK/$1.rss" "$PINS" train -data "$WORK/$2" "${FNO[@]}" \
    -o "$WORK/$1.pins" -force -train_epochs "${4:-2}" -train_batch_size 16 -train_lr 1e-3 \
    -train_schedule constant -train_physics_weight 0.1 -train_threads "$THREADS" \
    -train_log "$WORK/$1.csv" -train_monitor 0 -train_memory "$3"
}
rate() { "$PY" -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(f'{float(r[-1][\"samples_per_second\"]):.2f}')" "$WORK/$1.csv"; }
rss() { awk '{printf "%.0f", $1 / 1024}' "$WORK/$1.rss"; }
same() { cmp -s <(cut -d, -f1-7 "$WORK/$1.csv") <(cut -d, -f1-7 "$WORK/$2.csv") && echo yes || echo NO; }

for n in small large; do
  train "${n}_memory" "$n.h5" 100000
  train "${n}_stream" "$n.h5" 1
done
# The small dataset streamed for as many optimiser steps as the large one takes in 2 epochs:
# the allocator's peak grows with the steps taken, whatever the data.
LONG=$((2 * LARGE / SMALL))
train small_stream_long small.h5 1 "$LONG"
values() { "$PY" -c "import os; print(f'{os.path.getsize(\"$WORK/$1\") / 2**20:.0f}')"; }
echo
echo "| samples | file (MB) | mode | samples/s | vs in memory | peak RSS (MB) | same history |"
echo "|---|---|---|---|---|---|---|"
for n in small large; do
  count=$([[ $n == small ]] && echo "$SMALL" || echo "$LARGE")
  rm=$(rate "${n}_memory"); rs=$(rate "${n}_stream")
  echo "| $count | $(values "$n.h5") | in memory | $rm | 1.00 | $(rss "${n}_memory") | |"
  echo "| $count | $(values "$n.h5") | streamed | $rs | $("$PY" -c "print(f'{$rs / $rm:.2f}')") | $(rss "${n}_stream") | $(same "${n}_memory" "${n}_stream") |"
done
echo "| $SMALL ($LONG epochs) | $(values small.h5) | streamed | $(rate small_stream_long) | | $(rss small_stream_long) | |"
