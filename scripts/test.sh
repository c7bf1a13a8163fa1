#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: install what is missing, build, run
# every test (C++ unit tests, MPI and CLI tests, install/find_package test).
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$PINS_ROOT/scripts/setup-debian.sh"
"$PINS_ROOT/scripts/build.sh"
cd "$PINS_BUILD_DIR"
ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@"
