#!/bin/bash
# Data-parallel `pins train` on a Slurm cluster: submit with `sbatch scripts/slurm_train.sh`.
#
# Each Slurm task is one training process: it reads the dataset (on a file system every node
# sees), trains on its share of every global mini-batch with -train_threads LibTorch threads
# on the cores Slurm binds to it, and the gradients are summed over all tasks with
# MPI_Allreduce. The result does not depend on the task count (up to floating-point summation
# order), so -train_batch_size is the global batch: keep it when you change the node count,
# and a checkpoint resumes on any number of tasks. Task 0 prints, and writes the checkpoint,
# the log and the model file.
#
# srun starts the tasks when the MPI library was built with Slurm's PMI (most cluster MPIs);
# otherwise replace `srun` by `mpiexec -n "$SLURM_NTASKS" --map-by ppr:$SLURM_NTASKS_PER_NODE:node:pe=$SLURM_CPUS_PER_TASK`
# (Open MPI) inside the same allocation.
#SBATCH --job-name=pins-train
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4
#SBATCH --cpus-per-task=8
#SBATCH --time=02:00:00
#SBATCH --output=pins-train-%j.out
set -euo pipefail
PINS=${PINS:-build/bin/pins}
DATA=${DATA:-train.h5}
MODEL=${MODEL:-model.pins}
# Debian-style PETSc builds load an OpenMP BLAS: one thread per process, LibTorch has its own.
export OMP_NUM_THREADS=1
srun --cpu-bind=cores "$PINS" train -data "$DATA" -o "$MODEL" \
  -surrogate_type fno -train_epochs 100 -train_batch_size 64 -train_physics_weight 0.1 \
  -train_threads "${SLURM_CPUS_PER_TASK:-1}" -train_checkpoint_every 5 "$@"
