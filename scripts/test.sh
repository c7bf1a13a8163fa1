#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: install what is missing, build, run
# every test (C++ unit tests, MPI and CLI tests, install/find_package test), then pins::core
# alone in a PETSc-off build (scripts/test-core.sh) and, with PINS_SANITIZE=1, the whole suite
# again under AddressSanitizer + UBSan (scripts/sanitize.sh: about two more hours on 2 cores;
# PINS_SANITIZE=unit for the doctest executables alone).
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$PINS_ROOT/scripts/setup-debian.sh"
"$PINS_ROOT/scripts/build.sh"
(cd "$PINS_BUILD_DIR" && ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@")
# pins::core must also build and pass its tests without PETSc (PINS_TEST_CORE=0 skips it).
if [[ "${PINS_TEST_CORE:-1}" == 1 ]]; then
  "$PINS_ROOT/scripts/test-core.sh"
fi
# Under ASan + UBSan (PINS_SANITIZE=1: the whole suite; unit: the doctests; scripts/sanitize.sh).
if [[ "${PINS_SANITIZE:-0}" == 1 ]]; then
  "$PINS_ROOT/scripts/sanitize.sh"
elif [[ "${PINS_SANITIZE:-0}" == unit ]]; then
  "$PINS_ROOT/scripts/sanitize.sh" --unit
fi
