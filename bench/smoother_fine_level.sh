#!/bin/bash
# The learned smoother inside GAMG on the DMPlex example: on every level against the finest
# level only (Jacobi below; under GAMG's Chebyshev, or under Richardson, which needs no
# eigenvalue estimate at set-up), with GAMG's own levels beside them, rows interleaved over
# ROUNDS rounds; prints iterations, PCSetUp, KSPSolve and the smoother's own events
# (bench/RESULTS.md, "DMPlex: where the time goes", sessions 23 and 25).
#   bench/smoother_fine_level.sh <build> <smoother.pins> [boxes=316 | C/L] [contrast=1e4]
#                                [processes=1] [rounds=2] [finest level index=4]
# C/L: a C² box mesh refined L times (-dm_refine_hierarchy L), 2^L C boxes per side.
# ROWS="gamg learned_finest_level ..." picks rows (default: all four).
set -u
BUILD=$1 MODEL=$2 SZ=${3:-316} C=${4:-1e4} NP=${5:-1} ROUNDS=${6:-2} FINE=${7:-4}
ROWS=${ROWS:-gamg learned_every_level learned_finest_level learned_finest_richardson}
CORES=$(nproc)  # before OMP_NUM_THREADS is set: nproc honours it
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
L=$BUILD/src/petsc/libpins_petsc.so
[ -f "$L" ] || { echo "smoother_fine_level.sh: no $L (build pins first)" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "smoother_fine_level.sh: no model file $MODEL" >&2; exit 1; }
if [[ $SZ =~ ^([0-9]+)/([0-9]+)$ ]]; then
  MESH="-dm_plex_box_faces ${BASH_REMATCH[1]},${BASH_REMATCH[1]} -dm_refine_hierarchy ${BASH_REMATCH[2]}"
elif [[ $SZ =~ ^[0-9]+$ ]]; then
  MESH="-dm_plex_box_faces $SZ,$SZ"
else
  echo "smoother_fine_level.sh: boxes '$SZ' is not B or C/L (boxes per side, refinements)" >&2
  exit 1
fi
declare -A CFG
FINEST="-pc_type gamg -mg_levels_pc_type jacobi -mg_levels_${FINE}_pc_type surrogate_smoother -mg_levels_${FINE}_pc_surrogate_smoother_model $MODEL"
CFG[gamg]="-pc_type gamg"
CFG[learned_every_level]="-pc_type gamg -mg_levels_pc_type surrogate_smoother -mg_levels_pc_surrogate_smoother_model $MODEL"
CFG[learned_finest_level]="$FINEST"
CFG[learned_finest_richardson]="$FINEST -mg_levels_${FINE}_ksp_type richardson"
for k in $ROWS; do
  [ -n "${CFG[$k]+x}" ] || { echo "smoother_fine_level.sh: unknown row '$k' (expected some of ${!CFG[*]})" >&2; exit 1; }
done
echo "machine: $CORES cores, $(date -u '+%F %H:%M') UTC; DMPlex $MESH, contrast $C, $NP process(es)"
for r in $(seq 1 "$ROUNDS"); do
  for k in $ROWS; do
    out=$(mpiexec --oversubscribe --bind-to none -n "$NP" "$BUILD/bin/example_plain_petsc_plex" \
      -dll_append "$L" $MESH -kappa_contrast "$C" -ksp_rtol 1e-8 \
      -ksp_max_it 3000 -ksp_norm_type unpreconditioned -ksp_converged_reason -log_view \
      -ksp_type cg ${CFG[$k]} 2>&1) || { echo "$k failed:"; echo "$out" | tail -5; exit 1; }
    its=$(echo "$out" | grep -o "[0-9]* iterations, true relative residual [0-9.e+-]*")
    reason=$(echo "$out" | grep -o "CONVERGED_[A-Z_]*\|DIVERGED_[A-Z_]*" | head -1)
    ev=$(echo "$out" | awk '/^(PCSetUp|KSPSolve|PinsSmootherSetUp|PinsSmootherNet|PinsSmootherRead|PinsSmootherAsm) /{printf "%s=%s ", $1, $4}')
    echo "$k round $r: $its $reason | $ev"
  done
done
