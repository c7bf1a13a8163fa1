# Sourced by the pins scripts: the environment every run needs on this kind of machine.
# OpenMPI refuses to run as root (CI and containers run as root) unless told it may.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Debian's python3 (with python3-torch, h5py, petsc4py); a pyenv python3 first on PATH
# sees none of those packages.
export PINS_PYTHON=${PINS_PYTHON:-/usr/bin/python3}
PINS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PINS_ROOT
export PINS_BUILD_DIR=${PINS_BUILD_DIR:-$PINS_ROOT/build}
