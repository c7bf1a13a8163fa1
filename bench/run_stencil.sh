#!/usr/bin/env bash
# Residual-operator benchmark as recorded in bench/RESULTS.md: machine facts, then the
# Kokkos kernels vs LibTorch ops vs the copy-bandwidth bound, one thread, for the stencils
# with fast paths (2-D 5- and 9-point at B = 32, 256²; 3-D 7-point at B = 8, 64³) and the
# general kernel (3-D 27-point box). Freed memory is kept in the heap (MALLOC_MMAP_MAX_=0),
# which removes the page faults of fresh gradient buffers (see RESULTS.md for the default
# allocator's cost); `-default-malloc` as the second argument runs without it. Times are the
# benchmark thread's CPU time (bench_stencil's default on the host with one thread).
#   bench/run_stencil.sh [build dir] [-default-malloc]
set -euo pipefail
BUILD=${1:-$(cd "$(dirname "$0")/.." && pwd)/build}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F), load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${2:-}" != "-default-malloc" ]; then
  export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
fi
"$BUILD/bin/bench_stencil" -stencil 2d5 -B 32 -n 256 -reps 15 -threads 1
"$BUILD/bin/bench_stencil" -stencil 2d9 -B 32 -n 256 -reps 15 -threads 1 | tail -4
"$BUILD/bin/bench_stencil" -stencil 3d7 -B 8 -n 64 -reps 15 -threads 1 | tail -4
"$BUILD/bin/bench_stencil" -stencil 3d27 -B 8 -n 32 -reps 5 -threads 1 | tail -4
