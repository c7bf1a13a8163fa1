#!/bin/bash
# The learned smoother inside GAMG on the DMPlex example: on every level against the finest
# level only (Chebyshev/Jacobi below), with GAMG's own levels beside them, rows interleaved
# over ROUNDS rounds; prints iterations, PCSetUp, KSPSolve and the smoother's own events
# (bench/RESULTS.md, "DMPlex: where the time goes", session 23).
#   bench/smoother_fine_level.sh <build> <smoother.pins> [boxes=316] [contrast=1e4]
#                                [processes=1] [rounds=2] [finest level index=4]
set -u
BUILD=$1 MODEL=$2 SZ=${3:-316} C=${4:-1e4} NP=${5:-1} ROUNDS=${6:-2} FINE=${7:-4}
CORES=$(nproc)  # before OMP_NUM_THREADS is set: nproc honours it
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
L=$BUILD/src/petsc/libpins_petsc.so
[ -f "$L" ] || { echo "smoother_fine_level.sh: no $L (build pins first)" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "smoother_fine_level.sh: no model file $MODEL" >&2; exit 1; }
declare -A CFG
CFG[gamg]="-pc_type gamg"
CFG[learned_every_level]="-pc_type gamg -mg_levels_pc_type surrogate_smoother -mg_levels_pc_surrogate_smoother_model $MODEL"
CFG[learned_finest_level]="-pc_type gamg -mg_levels_pc_type jacobi -mg_levels_${FINE}_pc_type surrogate_smoother -mg_levels_${FINE}_pc_surrogate_smoother_model $MODEL"
echo "machine: $CORES cores, $(date -u '+%F %H:%M') UTC; DMPlex ${SZ}^2 boxes, contrast $C, $NP process(es)"
for r in $(seq 1 "$ROUNDS"); do
  for k in gamg learned_every_level learned_finest_level; do
    out=$(mpiexec --oversubscribe --bind-to none -n "$NP" "$BUILD/bin/example_plain_petsc_plex" \
      -dll_append "$L" -dm_plex_box_faces "$SZ,$SZ" -kappa_contrast "$C" -ksp_rtol 1e-8 \
      -ksp_max_it 3000 -ksp_norm_type unpreconditioned -ksp_converged_reason -log_view \
      -ksp_type cg ${CFG[$k]} 2>&1) || { echo "$k failed:"; echo "$out" | tail -5; exit 1; }
    its=$(echo "$out" | grep -o "[0-9]* iterations, true relative residual [0-9.e+-]*")
    ev=$(echo "$out" | awk '/^(PCSetUp|KSPSolve|PinsSmootherSetUp|PinsSmootherNet|PinsSmootherRead|PinsSmootherAsm) /{printf "%s=%s ", $1, $4}')
    echo "$k round $r: $its | $ev"
  done
done
