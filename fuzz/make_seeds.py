#!/usr/bin/env python3
"""Seed inputs for the fuzz targets (scripts/fuzz.sh), made the way users make files.

    make_seeds.py --pins build/bin/pins --out SEEDS [--work WORK]

SEEDS/dataset: tiny datasets from `pins generate` (2-D Darcy, inputs-only, 3-D, a mesh
family, a nonlinear family), copies rewritten with h5py (contiguous arrays without checksums,
HDF5's oldest object headers: a fuzzer's byte flips then reach attribute values and array
shapes instead of failing HDF5's checksums; one as format version 1), and truncated copies.
SEEDS/model and SEEDS/checkpoint: tiny FNO models from `pins train` and their checkpoints,
and truncated copies. A command that fails (e.g. a family missing from this build) is
reported and skipped. The committed fuzz/corpus/* was made with this script.
"""
import argparse
import os
import shutil
import subprocess
import sys


def run(pins, args, cwd):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1")
    r = subprocess.run([pins] + args, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        print("make_seeds: skipped (%s): pins %s" % (r.stderr.strip().splitlines()[-1:] or "?",
                                                   " ".join(args)), file=sys.stderr)
        return False
    return True


def truncate(src, dst, size):
    with open(src, "rb") as f:
        data = f.read()
    with open(dst, "wb") as f:
        f.write(data[:size])


def rewrite_h5py(src, dst, version1=False):
    """The same attributes and arrays, contiguous, unchecksummed, old object headers."""
    import h5py
    import numpy as np
    with h5py.File(src, "r") as a, h5py.File(dst, "w", libver="earliest") as b:
        for name, value in a.attrs.items():
            if version1 and name in ("dim", "dof", "inputs", "operator", "labelled"):
                continue
            if version1 and name == "format_version":
                value = np.int64(1)
            b.attrs[name] = value

        def copy(name, obj):
            if isinstance(obj, h5py.Dataset):
                b.create_dataset(name, data=obj[()])
            elif isinstance(obj, h5py.Group):
                b.require_group(name)
        a.visititems(copy)


def dump_layout(src, dst):
    """The dataset_layout target's text description of a dataset (fuzz/harness_dataset_layout.cpp)."""
    import h5py
    import numpy as np
    lines = []
    with h5py.File(src, "r") as f:
        for name, v in f.attrs.items():
            if isinstance(v, (bytes, str)):
                lines.append("attr %s s %s" % (name, v.decode() if isinstance(v, bytes) else v))
            elif np.issubdtype(np.asarray(v).dtype, np.integer):
                lines.append("attr %s i %d" % (name, int(v)))
            else:
                lines.append("attr %s d %r" % (name, float(v)))
        types = {"float64": "f64", "int32": "i32", "int64": "i64", "uint64": "u64"}

        def visit(name, obj):
            if isinstance(obj, h5py.Group):
                lines.append("group %s" % name)
            elif isinstance(obj, h5py.Dataset):
                values = obj[()].ravel()[:64]
                text = ",".join(repr(float(x)) if obj.dtype.kind == "f" else str(int(x))
                                for x in values)
                lines.append("array %s %s %s %s" % (name, types[str(obj.dtype)],
                                                    ",".join(str(d) for d in obj.shape), text))
        f.visititems(visit)
    with open(dst, "w") as out:
        out.write("\n".join(lines) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pins", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--work", default=None)
    a = p.parse_args()
    work = a.work or a.out + "-work"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    out = {t: os.path.join(a.out, t) for t in ("dataset", "dataset_layout", "model", "checkpoint")}
    for d in out.values():
        os.makedirs(d, exist_ok=True)
    pins = os.path.abspath(a.pins)

    gen = ["generate", "-progress", "0", "-seed", "1"]
    datasets = {
        "darcy2d.h5": ["-grid", "4", "-samples", "2"],
        "darcy2d_inputs_only.h5": ["-grid", "4", "-samples", "2", "-inputs_only"],
        "darcy3d.h5": ["-pde", "darcy3d", "-grid", "3", "-samples", "2"],
        "darcy_fem.h5": ["-pde", "darcy_fem", "-grid", "3", "-samples", "2"],
        "nonlinear_darcy.h5": ["-pde", "nonlinear_darcy", "-grid", "4", "-samples", "2"],
        "allen_cahn.h5": ["-pde", "allen_cahn", "-grid", "4", "-samples", "2"],
    }
    made = []
    for name, args in datasets.items():
        if run(pins, gen + args + ["-o", name], work):
            shutil.copy(os.path.join(work, name), os.path.join(out["dataset"], name))
            made.append(name)
    try:
        for name in made:
            if name in ("darcy2d.h5", "darcy_fem.h5", "darcy2d_inputs_only.h5"):
                rewrite_h5py(os.path.join(work, name),
                             os.path.join(out["dataset"], "h5py_" + name))
        if "darcy2d.h5" in made:
            rewrite_h5py(os.path.join(work, "darcy2d.h5"),
                         os.path.join(out["dataset"], "h5py_version1_darcy2d.h5"), version1=True)
        for name in made:
            dump_layout(os.path.join(work, name),
                        os.path.join(out["dataset_layout"], name.replace(".h5", ".txt")))
    except ImportError:
        print("make_seeds: no h5py: no rewritten datasets, no dataset_layout seeds",
              file=sys.stderr)
    for name in ("darcy2d.h5", "h5py_darcy2d.h5"):
        src = os.path.join(out["dataset"], name)
        if os.path.exists(src):
            truncate(src, os.path.join(out["dataset"], "truncated_" + name),
                     os.path.getsize(src) // 2)

    # Models and checkpoints: one epoch of a tiny FNO, 2-D and 3-D.
    fno = ["-surrogate_type", "fno", "-fno_modes", "2", "-fno_width", "2", "-fno_layers", "1",
           "-fno_padding", "0", "-fno_hidden", "2", "-train_epochs", "1", "-train_batch_size",
           "2", "-train_monitor", "0", "-train_val_fraction", "0"]
    fno3d = ["-surrogate_type", "fno3d"] + [a.replace("-fno_", "-fno3d_") for a in fno[2:]]
    gnn = ["-surrogate_type", "gnn", "-gnn_width", "2", "-gnn_layers", "1", "-gnn_grid", "3",
           "-gnn_modes", "1"] + fno[12:]
    models = {"fno2d": ("darcy2d.h5", fno), "fno3d": ("darcy3d.h5", fno3d),
              "gnn": ("darcy_fem.h5", gnn)}
    for name, (data, options) in models.items():
        if data not in made:
            continue
        model = name + ".pins"
        if run(pins, ["train", "-data", data, "-o", model] + options, work):
            shutil.copy(os.path.join(work, model), os.path.join(out["model"], model))
            ckpt = os.path.join(work, model + ".ckpt")
            if os.path.exists(ckpt):
                shutil.copy(ckpt, os.path.join(out["checkpoint"], name + ".ckpt"))
    for kind in ("model", "checkpoint"):
        for name in sorted(os.listdir(out[kind])):
            src = os.path.join(out[kind], name)
            size = os.path.getsize(src)
            truncate(src, os.path.join(out[kind], "truncated_header_" + name), 20)
            truncate(src, os.path.join(out[kind], "truncated_half_" + name), size // 2)
    for kind, d in out.items():
        files = sorted(os.listdir(d))
        print("make_seeds: %s: %d files, %d bytes" %
              (kind, len(files), sum(os.path.getsize(os.path.join(d, f)) for f in files)))


if __name__ == "__main__":
    main()
