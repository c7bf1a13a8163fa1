#!/usr/bin/env bash
# Prepares .device/ (git-ignored) for bench/gpu/run_device_check.sh on a GPU machine that
# has CUDA and PyTorch but no Kokkos, PETSc, doctest or nlohmann-json:
#  - Kokkos 3.4.1 source from Debian's trilinos source package (the same Kokkos Debian
#    ships for the CPU), patched for CUDA 13 and Hopper (kokkos-3.4.1-cuda13.patch: sm_90
#    code under the AMPERE80 macros, half_t and the UVM prefetch hint disabled);
#  - the header-only doctest and nlohmann-json with their CMake packages;
#  - a snapshot of the committed tree (git archive HEAD) to build;
#  - with three dataset files (pins generate: the FNO paper's 85² setting, e.g. from
#    bench/run_fno85_accuracy.sh), those sets packed for bench_train_packed into .device/data
#    (pack_darcy.py; u in float16 unless U_DTYPE=float32), so the device script's step 5
#    trains the FNO there (the machine has no PETSc to generate them).
# Needs deb-src for bookworm in APT's sources (for apt-get source).
#   bench/gpu/prepare.sh [train.h5 val.h5 test.h5]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=$ROOT/.device
mkdir -p "$D/deps/include" "$D/deps/share/cmake" "$D/deps/lib/cmake" /tmp/pins-trilinos-src
(cd /tmp/pins-trilinos-src && [ -f trilinos_13.2.0.orig.tar.gz ] || apt-get source --download-only trilinos)
rm -rf "$D/kokkos" && mkdir -p "$D/kokkos"
tar xzf /tmp/pins-trilinos-src/trilinos_13.2.0.orig.tar.gz -C "$D/kokkos" --strip-components=3 \
  Trilinos-trilinos-release-13-2-0/packages/kokkos
rm -rf "$D/kokkos/doc"
patch -d "$D/kokkos" -p1 < "$ROOT/bench/gpu/kokkos-3.4.1-cuda13.patch"
cp -r /usr/include/nlohmann /usr/include/doctest "$D/deps/include/"
cp -r /usr/share/cmake/nlohmann_json "$D/deps/share/cmake/"
cp -r /usr/lib/cmake/doctest "$D/deps/lib/cmake/"
# Debian's doctest package config hard-codes /usr; make it relative to where it lies.
sed -i 's|^set(_IMPORT_PREFIX "/usr")|get_filename_component(_IMPORT_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)|' \
  "$D/deps/lib/cmake/doctest/doctestTargets.cmake"
rm -rf "$D/src" && mkdir -p "$D/src" && git -C "$ROOT" archive HEAD | tar x -C "$D/src"
cp "$ROOT/bench/gpu/run_device_check.sh" "$D/run.sh"
if [ $# -eq 3 ]; then
  mkdir -p "$D/data"
  for pair in "train $1" "val $2" "test $3"; do
    set -- $pair
    /usr/bin/python3 "$ROOT/bench/gpu/pack_darcy.py" "$2" "$D/data/$1.pt" -u_dtype "${U_DTYPE:-float16}"
  done
fi
du -sh "$D"
# What travels to the device machine is at most 64 MiB (the tree and .device together).
[ "$(du -sm "$D" | cut -f1)" -lt 58 ] || echo "prepare.sh: warning: .device is over 58 MB; the device tool carries at most 64 MiB"
