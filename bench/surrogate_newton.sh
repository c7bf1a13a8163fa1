#!/bin/bash
# The surrogate PC inside Newton against CG + GAMG (issue 14): examples/plain_petsc_nonlinear_darcy
# at G² with -f_value F on P = 1 and 2 processes, every configuration once per round, the
# rounds one after the other (the host is noisy: compare within a round). One line per run:
# PCSetUp and SNESSolve from -log_view, the Krylov iterations, Newton steps, and the surrogate's
# set-up events (PinsMgNetRead/Net/Asm/RAP).
#
#   bench/surrogate_newton.sh BUILD MODEL            (MODEL: pins train -task precondition
#                                                     -surrogate_type mgnet ...)
#   env: G (1024), F (20), ROUNDS (2), CFGS ("gamg lag1 lag3"), OLD_LIB (another build's
#        libpins_petsc.so for the configuration "old", with its libpins_core beside it)
# Configurations: gamg, lag1 (the network's hierarchy D⁻¹A, the default before session 21),
# lagN (-pc_surrogate_network_lag N), network (the network on rank 0 at every application
# instead of the cycle as matrices), symN (lagN with the coarse operators from A itself:
# -pc_surrogate_galerkin symmetric, the default since session 21), old.
set -euo pipefail
BUILD=${1:?usage: bench/surrogate_newton.sh BUILD MODEL}
MODEL=${2:?usage: bench/surrogate_newton.sh BUILD MODEL}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
LIB=$(realpath "$BUILD/src/petsc/libpins_petsc.so")
EXAMPLE=$BUILD/bin/example_plain_petsc_nonlinear_darcy
G=${G:-1024}
base="-da_grid_x $G -da_grid_y $G -f_value ${F:-20} -snes_rtol 1e-8 -ksp_rtol 1e-8 -snes_view -log_view"
sur="-ksp_type fgmres -ksp_gmres_restart 200 -pc_type surrogate -pc_surrogate_model $MODEL -pc_surrogate_cycle matrices"
echo "machine: $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), G=$G F=${F:-20}"
for round in $(seq "${ROUNDS:-2}"); do
  for P in 1 2; do
    for cfg in ${CFGS:-gamg lag1 lag3}; do
      env=(OMP_NUM_THREADS=$((2 / P)))  # OpenBLAS's threads must not fight the processes
      case $cfg in
        gamg) opts="-ksp_type cg -pc_type gamg" ;;
        old) opts="-dll_append ${OLD_LIB:?OLD_LIB for the configuration old} $sur"
             env+=(LD_LIBRARY_PATH=$(dirname "$OLD_LIB")) ;;
        lag1) opts="-dll_append $LIB $sur -pc_surrogate_galerkin scaled" ;;
        network) opts="-dll_append $LIB ${sur/cycle matrices/cycle network}" ;;
        lag*) opts="-dll_append $LIB $sur -pc_surrogate_galerkin scaled -pc_surrogate_network_lag ${cfg#lag}" ;;
        sym*) opts="-dll_append $LIB $sur -pc_surrogate_galerkin symmetric -pc_surrogate_network_lag ${cfg#sym}" ;;
        *) echo "unknown configuration $cfg" >&2; exit 1 ;;
      esac
      exports=()
      for e in "${env[@]}"; do exports+=(-x "$e"); done
      out=$(env "${env[@]}" mpiexec -n "$P" "${exports[@]}" "$EXAMPLE" $base $opts 2>&1)
      ev() { echo "$out" | awk -v e="$1" '$1 == e {print $4}'; }
      lin=$(echo "$out" | grep -o "total number of linear solver iterations=[0-9]*" | grep -o "[0-9]*$")
      newton=$(echo "$out" | grep -o "[0-9]* Newton iterations" | grep -o "^[0-9]*")
      echo "round $round P=$P $cfg PCSetUp $(ev PCSetUp) SNESSolve $(ev SNESSolve) krylov $lin" \
           "newton $newton read $(ev PinsMgNetRead) net $(ev PinsMgNetNet) asm $(ev PinsMgNetAsm)" \
           "rap $(ev PinsMgNetRAP)"
    done
  done
done
