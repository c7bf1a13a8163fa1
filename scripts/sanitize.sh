#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer.
#
# Builds everything CTest runs (pins::core, pins::petsc, the CLI, the Python module and the
# examples) with -fsanitize=address,undefined at -O1 -g into
# $PINS_SANITIZE_BUILD_DIR (default $PINS_BUILD_DIR-sanitize), then runs every CTest test there:
# the doctest executables, the CLI and MPI tests (the instrumented `pins` binary is what they
# run), the examples, the Python tests and notebooks (the instrumented module is loaded into
# Debian's python3, with the ASan runtime preloaded because python itself is not instrumented)
# and the install + find_package test. Any sanitizer report fails the test it happens in, and
# any failed test fails the run (exit status non-zero).
#
#   scripts/sanitize.sh            the whole suite (about an hour of build and an hour of tests
#                                  on 2 cores)
#   scripts/sanitize.sh --unit     only the four doctest executables (core, surrogates,
#                                  training, PETSc on 1 and 2 processes): the quick check
# Further arguments go to ctest (e.g. -R cli_ to run a subset); PINS_SANITIZE_CMAKE_ARGS to
# the CMake configure step.
#
# Runtime settings, and why:
#  - detect_leaks=0: LeakSanitizer would report the allocations that Open MPI, PETSc, Python
#    and LibTorch make once per process and never free (global registries, thread pools, MPI's
#    own state); they are not leaks of pins and would drown any real one. Memory errors (use
#    after free, overflows, double free) are still fatal.
#  - allocator_may_return_null=1: tests ask for impossible sizes on purpose (e.g. -grid too
#    large) and expect std::bad_alloc / a clean error, which ASan would otherwise turn into
#    a fatal "allocation-size-too-big" report.
#  - UBSan halt_on_error=1, print_stacktrace=1: the first undefined behaviour stops the test
#    with a stack; suppressions for third-party headers are in
#    scripts/sanitizer-suppressions/ubsan.supp, each with its reason.
#  - LD_PRELOAD of the ASan runtime (whole-suite mode): an uninstrumented python3 must load
#    it first, before the instrumented pins module; the other processes (ctest, cmake,
#    mpiexec, bash) are merely intercepted, and the instrumented binaries load it first anyway.
#    libstdc++ is preloaded with it: python does not link it, and ASan resolves the real
#    __cxa_throw when it starts — without libstdc++ then, the first C++ exception thrown in
#    the module aborted with "CHECK failed: ... real___cxa_throw != 0" (seen on the pytest and
#    notebook tests).
set -euo pipefail
source "$(dirname "$0")/env.sh"
dir="${PINS_SANITIZE_BUILD_DIR:-$PINS_BUILD_DIR-sanitize}"
supp="$PINS_ROOT/scripts/sanitizer-suppressions"
sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer"
mode=suite
if [[ "${1:-}" == --unit ]]; then mode=unit; shift; fi
mkdir -p "$dir"
# ccache as in scripts/build.sh (paths relative to the checkout, so clones share the cache).
launcher=()
if command -v ccache >/dev/null 2>&1 && [ "${PINS_CCACHE:-1}" = 1 ]; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PINS_ROOT}"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
# The benchmarks' executables are not tests (nothing in CTest runs them): not built.
parts=(-DPINS_ENABLE_PYTHON=ON -DPINS_ENABLE_EXAMPLES=ON -DPINS_ENABLE_BENCH=OFF)
[[ $mode == unit ]] && parts=(-DPINS_ENABLE_PYTHON=OFF -DPINS_ENABLE_EXAMPLES=OFF -DPINS_ENABLE_BENCH=OFF)
log="$dir/configure.log"
# RelWithDebInfo with -O1 -g and assertions on (no -DNDEBUG).
# shellcheck disable=SC2086  # PINS_SANITIZE_CMAKE_ARGS is a list of words on purpose
cmake -S "$PINS_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_C_FLAGS="$sanitize" -DCMAKE_CXX_FLAGS="$sanitize" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DPINS_PYTHON_EXECUTABLE="$PINS_PYTHON" \
  "${parts[@]}" "${launcher[@]}" ${PINS_SANITIZE_CMAKE_ARGS:-} \
  >"$log" 2>&1 || { cat "$log" >&2; echo "sanitize: CMake configure failed (log above)" >&2; exit 1; }
petsc=0
grep -q "^PINS_ENABLE_PETSC:BOOL=ON" "$dir/CMakeCache.txt" && petsc=1
targets=(pins_core_tests pins_surrogate_tests pins_training_tests)
[[ $petsc == 1 ]] && targets+=(pins_petsc_tests)
[[ $mode == suite ]] && targets=(all)
t0=$SECONDS
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"
echo "sanitize: build took $((SECONDS - t0)) s"

export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
if [[ $mode == suite ]]; then
  t0=$SECONDS
  status=0
  LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so.6)" \
    ctest --test-dir "$dir" --output-on-failure --timeout 1800 -j "$(nproc)" "$@" || status=$?
  echo "sanitize: ctest took $((SECONDS - t0)) s"
  [[ $status == 0 ]] && echo "sanitize: all clean" || echo "sanitize: failures above" >&2
  exit $status
fi

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
