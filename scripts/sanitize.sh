#!/usr/bin/env bash
# The C++ unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
#
# Builds pins (pins::core, pins::petsc) and its four doctest executables with
# -fsanitize=address,undefined at -O1 -g into $PINS_SANITIZE_BUILD_DIR (default
# $PINS_BUILD_DIR-sanitize), then runs them: core, surrogates, training, and the PETSc tests on
# one and on two MPI processes. Any sanitizer report fails the run (exit status non-zero).
# Extra arguments go to the CMake configure step. Usage: scripts/sanitize.sh
#
# Runtime settings, and why:
#  - detect_leaks=0: LeakSanitizer would report the allocations that Open MPI, PETSc and
#    LibTorch make once per process and never free (global registries, thread pools, MPI's
#    own state); they are not leaks of pins and would drown any real one. Memory errors (use
#    after free, overflows, double free) are still fatal.
#  - allocator_may_return_null=1: tests ask for impossible sizes on purpose (e.g. -grid too
#    large) and expect std::bad_alloc / a clean error, which ASan would otherwise turn into
#    a fatal "allocation-size-too-big" report.
#  - UBSan halt_on_error=1, print_stacktrace=1: the first undefined behaviour stops the test
#    with a stack; suppressions for third-party headers are in
#    scripts/sanitizer-suppressions/ubsan.supp, each with its reason.
set -euo pipefail
source "$(dirname "$0")/env.sh"
dir="${PINS_SANITIZE_BUILD_DIR:-$PINS_BUILD_DIR-sanitize}"
supp="$PINS_ROOT/scripts/sanitizer-suppressions"
sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer"
mkdir -p "$dir"
# ccache as in scripts/build.sh (paths relative to the checkout, so clones share the cache).
launcher=()
if command -v ccache >/dev/null 2>&1 && [ "${PINS_CCACHE:-1}" = 1 ]; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PINS_ROOT}"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
log="$dir/configure.log"
# RelWithDebInfo with -O1 -g and assertions on (no -DNDEBUG).
cmake -S "$PINS_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_C_FLAGS="$sanitize" -DCMAKE_CXX_FLAGS="$sanitize" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DPINS_ENABLE_PYTHON=OFF -DPINS_ENABLE_EXAMPLES=OFF -DPINS_ENABLE_BENCH=OFF "${launcher[@]}" "$@" \
  >"$log" 2>&1 || { cat "$log" >&2; echo "sanitize: CMake configure failed (log above)" >&2; exit 1; }
targets=(pins_core_tests pins_surrogate_tests pins_training_tests)
petsc=0
if grep -q "^PINS_ENABLE_PETSC:BOOL=ON" "$dir/CMakeCache.txt"; then
  targets+=(pins_petsc_tests)
  petsc=1
fi
t0=$SECONDS
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"
echo "sanitize: build took $((SECONDS - t0)) s"

export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
status=0
run() {
  echo "sanitize: $*"
  local t0=$SECONDS
  if "$@"; then
    echo "sanitize: ok ($((SECONDS - t0)) s): $*"
  else
    echo "sanitize: FAILED ($((SECONDS - t0)) s): $*" >&2
    status=1
  fi
}
bin="$dir/bin"
run "$bin/pins_core_tests"
run "$bin/pins_surrogate_tests"
run "$bin/pins_training_tests"
if [[ $petsc == 1 ]]; then
  run "$bin/pins_petsc_tests"
  # As ctest does: the tests that mean something on two processes.
  run mpiexec -n 2 --oversubscribe "$bin/pins_petsc_tests" '-tc=*MatMult*,*agree*,*boundary*'
fi
[[ $status == 0 ]] && echo "sanitize: all clean" || echo "sanitize: failures above" >&2
exit $status
