#!/usr/bin/env bash
# pins::core without PETSc, as a machine without PETSc builds it (e.g. a GPU node with only
# Kokkos + LibTorch): configures $PINS_CORE_BUILD_DIR (default $PINS_BUILD_DIR-core) with
# -DPINS_ENABLE_PETSC=OFF, builds the library, its unit tests and examples (no benchmarks),
# and runs its ctest. Extra arguments go to ctest. scripts/test.sh runs it after the main suite.
set -euo pipefail
source "$(dirname "$0")/env.sh"
dir="${PINS_CORE_BUILD_DIR:-$PINS_BUILD_DIR-core}"
PINS_BUILD_DIR="$dir" "$PINS_ROOT/scripts/build.sh" -DPINS_ENABLE_PETSC=OFF -DPINS_ENABLE_BENCH=OFF
cd "$dir"
ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@"
