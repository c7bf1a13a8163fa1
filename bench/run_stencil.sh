#!/usr/bin/env bash
# Residual-operator benchmark as recorded in bench/RESULTS.md: machine facts, then the
# Kokkos kernel vs LibTorch ops vs the copy-bandwidth bound, B = 32, n = 256, one thread.
# Run twice: with glibc's default allocator settings, and with freed memory kept in the
# heap (MALLOC_MMAP_MAX_=0), which removes the page faults of fresh gradient buffers.
#   bench/run_stencil.sh [build dir]
set -euo pipefail
BUILD=${1:-$(cd "$(dirname "$0")/.." && pwd)/build}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo
echo "### glibc default allocator"
"$BUILD/bin/bench_stencil" -B 32 -n 256 -reps 15 -threads 1
echo
echo "### MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1e11 (freed buffers reused, no page faults)"
MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 \
  "$BUILD/bin/bench_stencil" -B 32 -n 256 -reps 15 -threads 1
