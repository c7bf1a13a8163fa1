#!/usr/bin/python3
"""Packs pins Darcy datasets (HDF5, from `pins generate` with PETSc) for the GPU machine,
which has neither PETSc nor HDF5 for C++ and takes at most 64 MiB per call (issue 17, item 5).

The FNO paper's setting has two conductivity values and a constant source, so a set packs
as a one-byte mask of κ's high value, κ's two values, f's constant and u (float32, or float16
with -u_dtype float16 for a quarter of the bytes: a relative rounding of 5e-4, far below the
errors measured). bench_train_packed (bench/gpu/train_packed.cpp) reads the result with
torch::pickle_load and rebuilds κ, f and u exactly as written.

    /usr/bin/python3 bench/gpu/pack_darcy.py darcy85_train.h5 train.pt [-u_dtype float16]

Refuses (one line, exit 1, nothing written) a file that is not a labelled pins Darcy dataset,
a κ with other than two values or a non-constant f.
"""
import argparse
import os
import sys
import tempfile


def fail(msg):
    print("pack_darcy: error: %s" % msg, file=sys.stderr)
    sys.exit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dataset")
    p.add_argument("out")
    p.add_argument("-u_dtype", default="float32", choices=["float32", "float16"])
    a = p.parse_args()
    import h5py
    import numpy as np
    import torch
    if not os.path.isfile(a.dataset):
        fail("%s: no such file; expected a dataset from pins generate" % a.dataset)
    try:
        f = h5py.File(a.dataset, "r")
    except OSError:
        fail("%s: not an HDF5 file; expected a dataset from pins generate" % a.dataset)
    attrs = dict(f.attrs)
    if attrs.get("format") != "pins-dataset" or attrs.get("pde") != "darcy":
        fail("%s: not a pins Darcy dataset (format %r, pde %r)" %
             (a.dataset, attrs.get("format"), attrs.get("pde")))
    if "u" not in f or int(attrs.get("labelled", 1)) != 1:
        fail("%s: has no solutions u (an inputs-only dataset); the accuracy run needs them" %
             a.dataset)
    kappa, rhs, u = f["kappa"][...], f["f"][...], f["u"][...]
    if kappa.ndim != 3 or u.shape != kappa.shape or rhs.shape != kappa.shape:
        fail("%s: kappa, f and u must all be [N, ny, nx], got %s, %s, %s" %
             (a.dataset, kappa.shape, rhs.shape, u.shape))
    values = np.unique(kappa)
    if len(values) != 2:
        fail("%s: kappa takes %d values; packing needs the two-valued (threshold) field" %
             (a.dataset, len(values)))
    if not np.all(rhs == rhs.flat[0]):
        fail("%s: f is not constant; packing needs the constant source" % a.dataset)
    if not np.all(np.isfinite(u)):
        fail("%s: u holds non-finite values" % a.dataset)
    low, high = float(values[0]), float(values[1])
    packed = {
        "kappa_mask": torch.from_numpy((kappa == high).astype(np.uint8)),
        "kappa_low": low,
        "kappa_high": high,
        "f_value": float(rhs.flat[0]),
        "u": torch.from_numpy(u.astype(a.u_dtype)),
        "fingerprint": "%s seed %s, %d samples" % (os.path.basename(a.dataset),
                                                   attrs.get("seed"), kappa.shape[0]),
    }
    # Atomic: a half-written file never takes the output's name.
    folder = os.path.dirname(os.path.abspath(a.out))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="pack_", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(packed, tmp)
        os.replace(tmp, a.out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print("packed %s: %d samples on %dx%d, kappa %g/%g, f = %g, u %s -> %s (%.1f MB)" %
          (a.dataset, kappa.shape[0], kappa.shape[1], kappa.shape[2], low, high,
           packed["f_value"], a.u_dtype, a.out, os.path.getsize(a.out) / 1e6))


if __name__ == "__main__":
    main()
