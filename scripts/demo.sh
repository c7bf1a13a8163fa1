#!/usr/bin/env bash
# The main job, end to end on small built-in defaults, from a fresh Debian 12 machine:
# install what is missing, build, generate a Darcy dataset with PETSc on 2 MPI ranks,
# verify every stored solution with the Kokkos residual operator, and summarise.
#   PINS_GRID=64 PINS_SAMPLES=200 scripts/demo.sh      # bigger
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$PINS_ROOT/scripts/setup-debian.sh"
"$PINS_ROOT/scripts/build.sh" >/dev/null

PINS=$PINS_BUILD_DIR/bin/pins
OUT=${PINS_OUT:-$PINS_ROOT/out}
GRID=${PINS_GRID:-32}
SAMPLES=${PINS_SAMPLES:-64}
mkdir -p "$OUT"
DATA=$OUT/darcy${GRID}.h5

echo "== 1. generate: $SAMPLES Darcy samples on a ${GRID}x${GRID} grid, 2 MPI ranks (CG + GAMG)"
mpiexec -n 2 --oversubscribe "$PINS" generate -pde darcy -grid "$GRID" -samples "$SAMPLES" \
  -seed 1 -o "$DATA" -force
echo
echo "== 2. verify: recompute every sample's residual with the Kokkos operator"
"$PINS" verify -data "$DATA"
echo
echo "== 3. summary"
"$PINS" info -data "$DATA"
echo
echo "dataset: $DATA (readable with h5py: $PINS_PYTHON -c \"import h5py; print(list(h5py.File('$DATA')))\")"
