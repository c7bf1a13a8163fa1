#!/usr/bin/env bash
# Configures and builds pins (Release) into $PINS_BUILD_DIR (default: build/).
# Extra arguments go to the CMake configure step, e.g. scripts/build.sh -DPINS_ENABLE_PETSC=OFF
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$PINS_BUILD_DIR"
# ccache, where installed, makes rebuilds (and fresh clones on the same machine) fast; paths
# are taken relative to the checkout so that clones share the cache. Nothing needs it.
launcher=()
if command -v ccache >/dev/null 2>&1 && [ "${PINS_CCACHE:-1}" = 1 ]; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PINS_ROOT}"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
log="$PINS_BUILD_DIR/configure.log"
cmake -S "$PINS_ROOT" -B "$PINS_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@" >"$log" 2>&1 ||
  { cat "$log" >&2; echo "build: CMake configure failed (log above)" >&2; exit 1; }
cmake --build "$PINS_BUILD_DIR" -j "$(nproc)"
