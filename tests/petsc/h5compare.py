"""Compares two pins datasets with h5py alone (no pins): every array bit for bit (shape,
dtype, chunks, Fletcher32 and the raw bytes of the values) and every attribute of the file
and of its arrays, except those that describe the run rather than the data."""

import numpy as np

# Attributes that name the run that wrote a file (its process count, its time, its command
# line, how long it took): they differ between runs that write the same data.
PROVENANCE = ("mpi_processes", "created", "command", "generation_seconds")


def arrays(f):
    """Every dataset of an open h5py file, by path ("u", "mesh/cells")."""
    import h5py
    found = {}
    f.visititems(lambda name, obj: found.__setitem__(name, obj)
                 if isinstance(obj, h5py.Dataset) else None)
    return found


def _same_value(x, y):
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        x, y = np.asarray(x), np.asarray(y)
        return x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()
    if isinstance(x, (float, np.floating)) and isinstance(y, (float, np.floating)):
        return np.float64(x).tobytes() == np.float64(y).tobytes()
    return type(x) is type(y) and x == y


def attribute_differences(a, b, where, skip):
    out = []
    names_a = [k for k in a.attrs if k not in skip]
    names_b = [k for k in b.attrs if k not in skip]
    if names_a != names_b:
        out.append("%s: attributes %s vs %s" % (where, names_a, names_b))
        return out
    for k in names_a:
        if not _same_value(a.attrs[k], b.attrs[k]):
            out.append("%s: attribute %s = %r vs %r" % (where, k, a.attrs[k], b.attrs[k]))
    return out


def differences(path_a, path_b, skip_arrays=(), skip_attributes=PROVENANCE):
    """The ways the two files differ (empty: identical data), as one line each."""
    import h5py
    out = []
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        out += attribute_differences(a, b, "/", skip_attributes)
        da, db = arrays(a), arrays(b)
        if sorted(da) != sorted(db):
            out.append("arrays %s vs %s" % (sorted(da), sorted(db)))
            return out
        for name in sorted(da):
            x, y = da[name], db[name]
            layout = lambda d: (d.shape, d.dtype, d.chunks, d.fletcher32)  # noqa: E731
            if layout(x) != layout(y):
                out.append("%s: shape/dtype/chunks/fletcher32 %s vs %s" % (name, layout(x), layout(y)))
                continue
            if name not in skip_arrays and x[()].tobytes() != y[()].tobytes():
                out.append("%s: values differ" % name)
            out += attribute_differences(x, y, name, skip_attributes)
    return out
