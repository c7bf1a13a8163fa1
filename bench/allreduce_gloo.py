#!/usr/bin/env python3
"""LibTorch's Gloo process group (python3-torch 1.13, the same LibTorch as pins): milliseconds
per all-reduce (sum) of a float32 tensor of each size on 2 local processes, the median of
REPEATS after a warm-up; bench/bench_allreduce.cpp times MPI_Allreduce on the same sizes.
   /usr/bin/python3 bench/allreduce_gloo.py [repeats]
"""
import os
import sys
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

SIZES = [1 << 14, 1 << 18, 1 << 20, 1 << 22, 1 << 24]


def worker(rank, world, store, repeats, results):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method="file://" + store, rank=rank, world_size=world)
    for n in SIZES:
        t = torch.ones(n)
        seconds = []
        for r in range(repeats + 2):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(t)
            if r >= 2:
                seconds.append(time.perf_counter() - t0)
        seconds.sort()
        if rank == 0:
            results[n] = seconds[len(seconds) // 2]
    dist.destroy_process_group()


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    world = 2
    with tempfile.TemporaryDirectory() as d:
        manager = mp.Manager()
        results = manager.dict()
        mp.spawn(worker, args=(world, os.path.join(d, "store"), repeats, results), nprocs=world)
        print("| floats | MB | Gloo all_reduce (ms), %d processes |\n|---|---|---|" % world)
        for n in SIZES:
            print("| %d | %.1f | %.3f |" % (n, 4.0 * n / 1e6, 1e3 * results[n]))


if __name__ == "__main__":
    main()
