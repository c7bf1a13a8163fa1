#!/usr/bin/env bash
# Sparse (CSR) operator benchmark as recorded in bench/RESULTS.md: machine facts, then pins'
# Kokkos CSR kernels vs torch.sparse vs PETSc vs the copy-bandwidth bound on the 3-D 27-point
# DMDA matrix (34³) and on the DMPlex Q1 Laplacian (33³ hexahedra, 34³ vertices), both ~10⁶
# nonzeros, B = 1 and 8. Freed memory is kept in the heap (MALLOC_MMAP_MAX_=0), as the `pins`
# CLI does with mallopt; times are the thread's CPU time (bench_sparse's default).
#   bench/run_sparse.sh [build dir] [extra bench_sparse options]
set -euo pipefail
BUILD=${1:-$(cd "$(dirname "$0")/.." && pwd)/build}
shift || true
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F), load $(cut -d' ' -f1-3 /proc/loadavg)"
export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
"$BUILD/bin/bench_sparse" -reps 10 "$@" 2>&1 | grep -v "Sparse CSR tensor support\|InitGoogleLogging"
"$BUILD/bin/bench_sparse" -plex -reps 10 "$@" 2>&1 | grep -v "Sparse CSR tensor support\|InitGoogleLogging"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
