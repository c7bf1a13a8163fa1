#!/usr/bin/env bash
# Installs the Debian 12 packages pins needs, only those that are missing (idempotent, silent
# when everything is there). Needs root (or sudo). Used by the README commands and .ci/run.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libtorch-dev libtrilinos-kokkos-dev petsc-dev libopenmpi-dev openmpi-bin libhdf5-openmpi-dev
  libeigen3-dev doctest-dev pybind11-dev nlohmann-json3-dev libopenblas0-openmp
  python3 python3-dev python3-torch python3-petsc4py python3-numpy python3-h5py
  python3-matplotlib python3-pytest jupyter-nbconvert python3-ipykernel
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
