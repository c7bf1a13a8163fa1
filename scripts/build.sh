#!/usr/bin/env bash
# Configures and builds pins (Release) into $PINS_BUILD_DIR (default: build/).
# Extra arguments go to the CMake configure step, e.g. scripts/build.sh -DPINS_ENABLE_PETSC=OFF
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$PINS_BUILD_DIR"
log="$PINS_BUILD_DIR/configure.log"
cmake -S "$PINS_ROOT" -B "$PINS_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "$@" >"$log" 2>&1 ||
  { cat "$log" >&2; echo "build: CMake configure failed (log above)" >&2; exit 1; }
cmake --build "$PINS_BUILD_DIR" -j "$(nproc)"
