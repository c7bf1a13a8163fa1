#!/usr/bin/env bash
# pins generate with parallel HDF5 (issue 15), as recorded in bench/RESULTS.md ("Data
# generation with parallel HDF5"):
#   1. darcy 64²: samples/s on 1 and 2 processes, every process writing its own samples
#      (this build), and the same with the rank-0 funnel of an older build if one is given;
#   2. darcy3d 64³ on 2 processes: two groups of 1 (each process solves its own samples)
#      against one group of 2 (-generate_procs_per_sample 2: each sample on both).
#
#   bench/bench_generate_mpi.sh [build dir] [funnel build dir]
#   SAMPLES=256 SAMPLES3D=8 REPEATS=3 bench/bench_generate_mpi.sh build /tmp/funnel/build
#
# Run it on a quiet machine: no build, no other benchmark (the 2-process figures need both
# cores). Every process runs one OpenMP/OpenBLAS thread (spinning BLAS threads made 2-process
# runs up to 100x slower on 2 cores).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../build}
FUNNEL=${2:-}
export OMP_NUM_THREADS=1
export REPEATS=${REPEATS:-3}

echo "== 1. darcy 64², parallel HDF5 ($BUILD)"
GRIDS=64 SAMPLES=${SAMPLES:-256} PROCS="1 2" "$HERE/bench_generate.sh" "$BUILD"
if [[ -n "$FUNNEL" ]]; then
  echo
  echo "== 1b. the same with the rank-0 funnel ($FUNNEL)"
  GRIDS=64 SAMPLES=${SAMPLES:-256} PROCS="1 2" "$HERE/bench_generate.sh" "$FUNNEL"
fi
echo
echo "== 2. darcy3d 64³ on 2 processes: two groups of 1"
PDE=darcy3d GRIDS=64 SAMPLES=${SAMPLES3D:-8} PROCS=2 "$HERE/bench_generate.sh" "$BUILD"
echo
echo "== 2b. darcy3d 64³ on 2 processes: one group of 2 (-generate_procs_per_sample 2)"
PDE=darcy3d GRIDS=64 SAMPLES=${SAMPLES3D:-8} PROCS=2 OPTIONS="-generate_procs_per_sample 2" \
  "$HERE/bench_generate.sh" "$BUILD"
