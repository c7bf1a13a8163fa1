#!/usr/bin/env bash
# Data-generation throughput of `pins generate` (Darcy by default, any family with PDE=; default sampler and solver: CG +
# GAMG, rtol 1e-10), as recorded in bench/RESULTS.md: samples per second at each grid and
# MPI process count, as a Markdown table, then the P-process / 1-process ratios.
#
#   bench/bench_generate.sh [build dir]          (default: <repo>/build)
#   SAMPLES=64 REPEATS=3 GRIDS="64 128" PROCS="1 2" bench/bench_generate.sh build
#   PDE=darcy3d GRIDS=32 SAMPLES=40 bench/bench_generate.sh build
#   PDE=allen_cahn GRIDS=64 OPTIONS="-steps 20" bench/bench_generate.sh build
#
# Each configuration runs REPEATS times; the table shows the median run (by solve rate).
# "solve" is the sampling + solving phase as timed by pins generate itself; "wall" is the
# whole command (process start-up, MPI, writing the file) as timed here.
set -euo pipefail
BUILD=${1:-$(cd "$(dirname "$0")/.." && pwd)/build}
PINS="$BUILD/bin/pins"
SAMPLES=${SAMPLES:-64}
REPEATS=${REPEATS:-3}
GRIDS=${GRIDS:-"64 128"}
PROCS=${PROCS:-"1 2"}
PDE=${PDE:-darcy}   # any family: PDE=darcy3d GRIDS=32
OPTIONS=${OPTIONS:-}  # more options for every run, e.g. OPTIONS="-steps 20 -dt 0.05"
MPIEXEC=${MPIEXEC:-mpiexec}
[[ -x "$PINS" ]] || { echo "bench_generate.sh: no pins executable at $PINS" >&2; exit 1; }
# Containers often run as root, which Open MPI refuses unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "command: $MPIEXEC -n P $PINS generate -pde $PDE -grid N -samples $SAMPLES -seed 1 -progress 0 -force -o <tmp>${OPTIONS:+ $OPTIONS} (median of $REPEATS)"
echo
echo "| grid | processes | samples | solve (s) | samples/s (solve) | wall (s) | samples/s (wall) | CG iterations min/mean/max |"
echo "|-----:|----------:|--------:|----------:|------------------:|---------:|-----------------:|:--------------------------:|"

declare -A rate
power=²
[[ "$PDE" == *3d* ]] && power=³
for grid in $GRIDS; do
  for procs in $PROCS; do
    runs=()
    for ((k = 0; k < REPEATS; ++k)); do
      start=$(date +%s.%N)
      out=$("$MPIEXEC" -n "$procs" "$PINS" generate -pde $PDE -grid "$grid" -samples "$SAMPLES" \
              -seed 1 -progress 0 -force -o "$work/d.h5" $OPTIONS)
      end=$(date +%s.%N)
      # "  time        0.64 s (solving 0.61 s, 65.5 samples/s)"
      solve=$(sed -n 's/.*(solving \([0-9.]*\) s.*/\1/p' <<<"$out")
      solve_rate=$(sed -n 's/.*(solving [0-9.]* s, \([0-9.]*\) samples\/s).*/\1/p' <<<"$out")
      its=$(sed -n 's/.*iterations  min \([0-9]*\), mean \([0-9.]*\), max \([0-9]*\).*/\1\/\2\/\3/p' <<<"$out")
      wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
      runs+=("$solve_rate $solve $wall $its")
    done
    # Median by solve rate.
    median=$(printf '%s\n' "${runs[@]}" | sort -n -k1,1 | sed -n "$(((REPEATS + 1) / 2))p")
    read -r r solve wall its <<<"$median"
    rate[$grid,$procs]=$r
    printf '| %d%s | %d | %d | %.2f | %.1f | %.2f | %.1f | %s |\n' "$grid" "$power" "$procs" "$SAMPLES" \
      "$solve" "$r" "$wall" "$(awk -v n="$SAMPLES" -v w="$wall" 'BEGIN { printf "%.1f", n / w }')" "$its"
  done
done

echo
first=${PROCS%% *}
for grid in $GRIDS; do
  for procs in $PROCS; do
    [[ "$procs" == "$first" ]] && continue
    printf -- '- %d%s: %d-process / %d-process solve throughput = %s\n' "$grid" "$power" "$procs" "$first" \
      "$(awk -v a="${rate[$grid,$procs]}" -v b="${rate[$grid,$first]}" 'BEGIN { printf "%.2f", a / b }')"
  done
done
