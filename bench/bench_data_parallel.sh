#!/usr/bin/env bash
# Data-parallel training throughput (issue 15): `pins train` on P = 1 and P = 2 MPI processes,
# the same FNO, data and global batch, side by side in one run, plus the peak memory of each
# process at two dataset sizes and the share of a step the gradient sum takes.
#   bench/bench_data_parallel.sh [build dir] [grid] [samples] [epochs]
#   bench/bench_data_parallel.sh build 85 100 3
# Rows: P=1 with 1 LibTorch thread (one core), P=1 with 2 threads (the whole machine, intra-op
# parallel), P=2 with 1 thread each (data parallel, one core each). Samples/s is the mean of
# the epochs after the first (the log's samples_per_second: the global batch's samples).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
GRID=${2:-85}
N=${3:-100}
EPOCHS=${4:-3}
PINS=$BUILD/bin/pins
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Debian's PETSc loads an OpenMP OpenBLAS: one thread per process, or P processes spin.
export OMP_NUM_THREADS=1
WORK=${WORK:-$(mktemp -d)}
PY=${PINS_PYTHON:-/usr/bin/python3}
BATCH=${BATCH:-16}
FNO=(-surrogate_type fno -fno_modes 12 -fno_width 32 -fno_layers 4)

echo "machine: $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "FNO modes 12, width 32, layers 4; Adam lr 1e-3 constant; global batch $BATCH; float32;"
echo "${GRID}x${GRID}; $EPOCHS epochs; relative L2 + 0.1 x residual physics loss"
gen() {  # file samples
  [[ -f "$WORK/$1" ]] || "$PINS" generate -grid "$GRID" -samples "$2" -seed 3 -o "$WORK/$1" \
    -progress 0 >/dev/null
}
gen data.h5 "$N"

train() {  # label procs threads data extra...
  local label=$1 procs=$2 threads=$3 data=$4
  shift 4
  local cmd=("$PINS" train -data "$WORK/$data" "${FNO[@]}" -o "$WORK/$label.pins" -force
    -train_epochs "$EPOCHS" -train_batch_size "$BATCH" -train_lr 1e-3 -train_schedule constant
    -train_physics_weight 0.1 -train_threads "$threads" -train_log "$WORK/$label.csv"
    -train_monitor 0 "$@")
  # GNU time's peak resident set of each process (one line per process).
  if [[ $procs == 1 ]]; then
    /usr/bin/time -f "%M" -o "$WORK/$label.rss" "${cmd[@]}"
  else
    mpiexec -n "$procs" --bind-to core sh -c '/usr/bin/time -f "%M" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' \
      "$WORK/$label.rss" "${cmd[@]}"
    cat "$WORK/$label.rss".* >"$WORK/$label.rss"
  fi
}
rate() {
  "$PY" - "$WORK/$1.csv" <<'PYEOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
rates = [float(r["samples_per_second"]) for r in rows][1:] or [float(rows[0]["samples_per_second"])]
print(f"{sum(rates) / len(rates):.2f}")
PYEOF
}
rss() { awk '{printf "%s%.0f", (NR > 1 ? " / " : ""), $1 / 1024}' "$WORK/$1.rss"; }

train p1t1 1 1 data.h5
train p1t2 1 2 data.h5
train p2t1 2 1 data.h5
R11=$(rate p1t1); R12=$(rate p1t2); R21=$(rate p2t1)
echo
echo "| processes x threads | samples/s | vs 1 x 1 | peak RSS per process (MB) |"
echo "|---|---|---|---|"
echo "| 1 x 1 | $R11 | 1.00 | $(rss p1t1) |"
echo "| 1 x 2 | $R12 | $("$PY" -c "print(f'{$R12 / $R11:.2f}')") | $(rss p1t2) |"
echo "| 2 x 1 (data parallel) | $R21 | $("$PY" -c "print(f'{$R21 / $R11:.2f}')") | $(rss p2t1) |"

# The gradient sum's engine: MPI_Allreduce (what pins uses) against LibTorch's Gloo process
# group, the same buffer sizes, 2 processes.
echo
mpiexec -n 2 --bind-to core "$BUILD/bin/bench_allreduce" 20
echo
"$PY" "$ROOT/bench/allreduce_gloo.py" 20

if [[ -n "${BIG:-}" ]]; then
  # Memory per process against the dataset size (1 epoch each, P = 2).
  gen big.h5 "$BIG"
  EPOCHS=1 train mem_small 2 1 data.h5
  EPOCHS=1 train mem_big 2 1 big.h5
  echo
  echo "peak RSS per process, P = 2: $N samples $(rss mem_small) MB; $BIG samples $(rss mem_big) MB"
fi
