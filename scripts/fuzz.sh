#!/usr/bin/env bash
# Fuzzes pins' three file readers with libFuzzer (issue 16 §3): datasets (read_dataset_info,
# read_dataset, DatasetStream; target dataset on HDF5 bytes, target dataset_layout on files the
# harness writes from a fuzzed description), model files (load_model) and training
# checkpoints (read_checkpoint). Layout and harnesses: fuzz/README.md.
#
#   scripts/fuzz.sh [executions] [targets...]
#       (defaults: 1000000; dataset_layout model checkpoint dataset; PINS_FUZZ_SECONDS=<s>
#       also stops each target after that many seconds)
#
# 1. Installs clang-14 and libFuzzer (libfuzzer-14-dev) with apt-get where they are missing.
# 2. Builds pins_core and the pins CLI (gcc, Release) in $PINS_BUILD_DIR (scripts/build.sh's
#    folder, default build/), then the libFuzzer targets with clang++-14 in
#    $PINS_FUZZ_DIR (default $PINS_BUILD_DIR-fuzz): each compiles its harness
#    (fuzz/harness_<target>.cpp) and the reader sources with coverage instrumentation and
#    ASan + UBSan and links that pins_core for the rest (fuzz/libfuzzer/CMakeLists.txt).
# 3. Makes seed files with the pins CLI and h5py (fuzz/make_seeds.py: tiny datasets of
#    several kinds and their text descriptions, tiny FNO (2-D, 3-D) and GNN models with their
#    checkpoints, truncated copies); the committed seeds in fuzz/corpus and the regression
#    inputs in fuzz/regression are added.
# 4. Runs each target for the given number of executions, one process at a time, and prints
#    per target the executions, executions per second, coverage and crashes, and for each
#    saved input where it fails (a pins source line, or a function of libhdf5). Each target
#    has a dictionary (fuzz/dict/<target>.dict: the format's keys and the numbers that break
#    sizes, e.g. a negative or 2^40 tensor dimension). Inputs that crash (or hang, or ask
#    for more than 2 GB) are saved under $PINS_FUZZ_DIR/artifacts/<target>/; fix the reader,
#    copy the input to fuzz/regression/<target>/ and ctest's fuzz_replay_<target> keeps it
#    fixed. libFuzzer stops a target at its first crash, except dataset, which runs in fork
#    mode (HDF5 1.10.8 itself crashes on some corrupt files: fuzz/hdf5-known/README.md).
#
# Runtime settings: -max_len 65536 (seeds are 1-40 kB), -timeout 10 s per input (a slower
# one is reported as a hang), -rss_limit_mb 3072. ASan max_allocation_size_mb=2048 with
# allocator_may_return_null=1: a single allocation above 2 GB fails; HDF5's malloc then
# returns NULL and HDF5 reports an error (a corrupt size field in an HDF5 object header makes
# HDF5 itself ask for gigabytes; pins cannot prevent that and it is handled), while C++'s
# operator new (pins, LibTorch) is reported by ASan as a crash: a few-kB file must not make a
# reader ask for gigabytes. detect_leaks=0, because HDF5, LibTorch and Open MPI keep global
# allocations that LeakSanitizer reports as leaks (scripts/sanitize.sh does the same).
set -euo pipefail
source "$(dirname "$0")/env.sh"
runs="${1:-1000000}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(dataset_layout model checkpoint dataset)
fuzzdir="${PINS_FUZZ_DIR:-$PINS_BUILD_DIR-fuzz}"

# 1. clang-14 and libFuzzer.
fuzzer_lib() { ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null | head -1; }
if ! command -v clang++-14 >/dev/null 2>&1 || [[ -z "$(fuzzer_lib)" ]]; then
  echo "fuzz: installing clang-14 and libfuzzer-14-dev"
  apt-get update -qq && apt-get install -y -qq clang-14 libfuzzer-14-dev
fi

# 2. pins_core and the CLI (gcc), then the fuzz targets (clang).
launcher=()
if command -v ccache >/dev/null 2>&1 && [ "${PINS_CCACHE:-1}" = 1 ]; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PINS_ROOT}"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
if [[ ! -f "$PINS_BUILD_DIR/CMakeCache.txt" ]]; then
  mkdir -p "$PINS_BUILD_DIR"
  cmake -S "$PINS_ROOT" -B "$PINS_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
    >"$PINS_BUILD_DIR/configure.log" 2>&1 ||
    { cat "$PINS_BUILD_DIR/configure.log" >&2; echo "fuzz: configure failed" >&2; exit 1; }
fi
cli_target=()
grep -q "^PINS_ENABLE_PETSC:BOOL=ON" "$PINS_BUILD_DIR/CMakeCache.txt" && cli_target=(pins)
cmake --build "$PINS_BUILD_DIR" -j "$(nproc)" --target pins_core "${cli_target[@]}"
mkdir -p "$fuzzdir"
cmake -S "$PINS_ROOT/fuzz/libfuzzer" -B "$fuzzdir/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DPINS_CORE_BUILD_DIR="$PINS_BUILD_DIR" >"$fuzzdir/configure.log" 2>&1 ||
  { cat "$fuzzdir/configure.log" >&2; echo "fuzz: configure of the fuzz targets failed" >&2; exit 1; }
cmake --build "$fuzzdir/build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

# 3. Seeds.
if [[ -x "$PINS_BUILD_DIR/bin/pins" ]]; then
  rm -rf "$fuzzdir/seeds"
  "$PINS_PYTHON" "$PINS_ROOT/fuzz/make_seeds.py" --pins "$PINS_BUILD_DIR/bin/pins" \
    --out "$fuzzdir/seeds" --work "$fuzzdir/seeds-work"
else
  echo "fuzz: no pins CLI (PETSc off): fuzzing from the committed seeds only"
fi

# 4. Fuzzing, one target at a time.
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=2048"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PINS_ROOT/scripts/sanitizer-suppressions/ubsan.supp"
summary=()
status=0
for t in "${targets[@]}"; do
  corpus="$fuzzdir/corpus/$t" artifacts="$fuzzdir/artifacts/$t/"
  mkdir -p "$corpus" "$artifacts"
  rm -f "$artifacts"/*
  inputs=("$corpus")
  for d in "$fuzzdir/seeds/$t" "$PINS_ROOT/fuzz/corpus/$t" "$PINS_ROOT/fuzz/regression/$t"; do
    [[ -d "$d" ]] && inputs+=("$d")
  done
  dict=()
  [[ -f "$PINS_ROOT/fuzz/dict/$t.dict" ]] && dict=(-dict="$PINS_ROOT/fuzz/dict/$t.dict")
  # Byte-level HDF5 inputs crash HDF5 itself every few hundred executions (fuzz/hdf5-known):
  # libFuzzer's fork mode goes on after a crash, hang or OOM and keeps each input.
  fork=()
  [[ $t == dataset ]] && fork=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  log="$fuzzdir/$t.log"
  echo "fuzz: $t: $runs executions${fork:+ (fork mode)} (log: $log)"
  t0=$SECONDS
  rc=0
  "$fuzzdir/build/fuzz_$t" "${fork[@]}" -runs="$runs" -max_total_time="${PINS_FUZZ_SECONDS:-0}" \
    -max_len=65536 -timeout=10 -rss_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "${dict[@]}" "${inputs[@]}" >"$log" 2>&1 || rc=$?
  seconds=$((SECONDS - t0))
  [[ $rc == 0 ]] || status=1
  if [[ ${#fork[@]} == 0 ]]; then
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  else  # the fork-mode parent's lines: "#<executions>: cov: ... ft: ..."
    last=$(grep -E '^#[0-9]+: ' "$log" | tail -1)
    execs=$(grep -oE '^#[0-9]+' <<<"$last" | tr -d '#' || true)
  fi
  rate=$((${execs:-0} / (seconds > 0 ? seconds : 1)))
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" || true)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" || true)
  crashes=$(find "$artifacts" -type f -name 'crash-*' | wc -l)
  others=$(find "$artifacts" -type f ! -name 'crash-*' | wc -l)
  line="$t: ${execs:-?} executions in $seconds s, $rate exec/s, ${cov:-cov: ?}, ${ft:-ft: ?}, crashes: $crashes, hangs/OOMs/slow: $others (exit $rc)"
  echo "fuzz: $line"
  summary+=("$line")
  # Where each saved input fails: the first frame in pins' sources or in libhdf5.
  for f in $(find "$artifacts" -type f | sort); do
    status=1
    out=$(timeout 60 "$fuzzdir/build/fuzz_$t" -timeout=10 "$f" 2>&1 || true)
    what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|libFuzzer): [A-Za-z-]+|runtime error: .*|uncaught exception|deadly signal' <<<"$out" || true)
    where=$(grep -E '^ +#[0-9]+ ' <<<"$out" | grep -m1 -oE ' in H5[A-Za-z0-9_]+|/src/core/[a-z0-9_]+\.cpp:[0-9]+|/fuzz/[a-z_]+\.cpp:[0-9]+' || true)
    echo "fuzz:   $(basename "$f"): ${what:-does not fail alone}${where:+ at${where}}" >&2
  done
done
echo "fuzz: summary (libFuzzer $(basename "$(fuzzer_lib)"), $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'))"
printf '  %s\n' "${summary[@]}"
exit $status
