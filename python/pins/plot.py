"""Plot helpers (matplotlib) for pins results: fields side by side, error maps, the three
middle planes of 3-D fields, fields on unstructured meshes, rollouts of time-dependent
surrogates, convergence histories of iterative solvers, training curves. Each function takes numpy arrays or torch
tensors, draws into a new figure and returns it (``fig.savefig(...)`` to keep it)."""

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _numpy(a):
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _field(a, sample=0):
    """A 2-D numpy array from a [ny, nx] field, sample `sample` of a [B, ny, nx] batch, or the
    middle z plane of sample `sample` of a 3-D batch [B, nz, ny, nx]."""
    a = _numpy(a)
    if a.ndim == 4:
        a = a[sample, a.shape[1] // 2]
    elif a.ndim == 3:
        a = a[sample]
    if a.ndim != 2:
        raise ValueError("expected a field [ny, nx], a batch [B, ny, nx] or a 3-D batch "
                         "[B, nz, ny, nx], got shape %s" % (a.shape,))
    return a


def _volume(a, sample=0):
    """A 3-D numpy array from a [nz, ny, nx] field or sample `sample` of a [B, nz, ny, nx]
    batch."""
    a = _numpy(a)
    if a.ndim == 4:
        a = a[sample]
    if a.ndim != 3:
        raise ValueError("expected a 3-D field [nz, ny, nx] or a batch [B, nz, ny, nx], got "
                         "shape %s" % (a.shape,))
    return a


def slices(named, *, sample=0, cmap="viridis", size=2.8, title=None):
    """The three middle planes (z = ½, y = ½, x = ½) of one or more 3-D fields: a row per
    field, one colour scale per row.

    `named` is a dict {title: field} (or one field, or a list); a field is [nz, ny, nx] or a
    batch [B, nz, ny, nx] of which `sample` is shown.

    >>> pins.plot.slices({"kappa": ds.kappa, "u": ds.u, "prediction": pred}, sample=0)
    """
    if not isinstance(named, (dict, list, tuple)):
        named = {"field": named}
    if not isinstance(named, dict):
        named = {"field %d" % i: a for i, a in enumerate(named)}
    if not named:
        raise ValueError("slices: nothing to draw")
    volumes = {k: _volume(v, sample) for k, v in named.items()}
    plt = _plt()
    fig, axes = plt.subplots(len(volumes), 3, figsize=(3 * size + 0.8, size * len(volumes)),
                             squeeze=False)
    for row, (name, v) in zip(axes, volumes.items()):
        nz, ny, nx = v.shape
        lo, hi = v.min(), v.max()
        planes = ((v[nz // 2], "z = 1/2", ("x", "y")), (v[:, ny // 2, :], "y = 1/2", ("x", "z")),
                  (v[:, :, nx // 2], "x = 1/2", ("y", "z")))
        for ax, (plane, where, (h, vert)) in zip(row, planes):
            im = ax.imshow(plane, origin="lower", cmap=cmap, vmin=lo, vmax=hi, extent=(0, 1, 0, 1))
            ax.set_title("%s, %s" % (name, where))
            ax.set_xlabel(h)
            ax.set_ylabel(vert)
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(im, ax=list(row), fraction=0.046, pad=0.04)
    if title:
        fig.suptitle(title)
    return fig


def fields(named, *, sample=0, cmap="viridis", shared_scale=False, size=3.2, title=None):
    """Draws several fields side by side, each with its colour bar.

    `named` is a dict {title: field} (or a list of fields); a field is [ny, nx] or a batch
    [B, ny, nx] of which `sample` is shown (of a 3-D batch [B, nz, ny, nx], its middle z
    plane: `slices` shows all three). ``shared_scale=True`` uses one colour range.

    >>> pins.plot.fields({"kappa": ds.kappa, "u": ds.u, "prediction": pred}, sample=3)
    """
    if not isinstance(named, dict):
        named = {"field %d" % i: a for i, a in enumerate(named)}
    if not named:
        raise ValueError("fields: nothing to draw")
    arrays = {k: _field(v, sample) for k, v in named.items()}
    lo = min(a.min() for a in arrays.values()) if shared_scale else None
    hi = max(a.max() for a in arrays.values()) if shared_scale else None
    plt = _plt()
    fig, axes = plt.subplots(1, len(arrays), figsize=(size * len(arrays) + 0.6, size),
                             squeeze=False)
    for ax, (name, a) in zip(axes[0], arrays.items()):
        im = ax.imshow(a, origin="lower", cmap=cmap, vmin=lo, vmax=hi, extent=(0, 1, 0, 1))
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _mesh_triangles(mesh):
    """Triangles of a dataset mesh for matplotlib (quadrilaterals split in two) and, per
    triangle, the cell it came from."""
    cells = np.asarray(mesh["cells"])
    if cells.shape[1] == 3:
        return cells, np.arange(len(cells))
    if cells.shape[1] != 4:
        raise ValueError("mesh_fields: 2-D triangle or quadrilateral meshes only, got cells of "
                         "%d vertices" % cells.shape[1])
    tris = np.concatenate([cells[:, [0, 1, 2]], cells[:, [0, 2, 3]]])
    return tris, np.concatenate([np.arange(len(cells))] * 2)


def mesh_fields(mesh, named, *, sample=0, cmap="viridis", size=3.2, edges=False, title=None):
    """Draws fields on an unstructured 2-D mesh (a dataset's ``mesh``, e.g. darcy_fem's) side
    by side, each with its colour bar.

    `named` is a dict {title: field}; a field is one sample or a batch [B, ...] of which
    `sample` is shown, and holds either one value per point (``u``: shaded linearly, 0 on
    boundary vertices as the boundary condition says) or one value per cell (``kappa``,
    ``f``: flat per cell). ``edges=True`` draws the mesh lines.

    >>> ds = pins.Dataset("fem.h5")
    >>> pins.plot.mesh_fields(ds.mesh, {"kappa": ds.kappa, "u": ds.u}, sample=2)
    """
    if mesh is None:
        raise ValueError("mesh_fields: the dataset has no mesh (a grid family: use fields)")
    if not isinstance(named, dict):
        named = {"field %d" % i: a for i, a in enumerate(named)}
    xy = np.asarray(mesh["coordinates"])
    points = np.asarray(mesh["points"])
    tris, cell_of = _mesh_triangles(mesh)
    n_cells = len(np.asarray(mesh["cells"]))
    plt = _plt()
    from matplotlib.tri import Triangulation

    tri = Triangulation(xy[:, 0], xy[:, 1], tris)
    fig, axes = plt.subplots(1, len(named), figsize=(size * len(named) + 0.6, size), squeeze=False)
    for ax, (name, a) in zip(axes[0], named.items()):
        a = _numpy(a)
        if a.ndim == 2:
            a = a[sample]
        if a.shape == (len(points),):
            vertex = np.zeros(len(xy))
            vertex[points] = a
            im = ax.tripcolor(tri, vertex, shading="gouraud", cmap=cmap)
        elif a.shape == (n_cells,):
            im = ax.tripcolor(tri, facecolors=a[cell_of], cmap=cmap,
                              edgecolors="k" if edges else "none", linewidth=0.2)
        else:
            raise ValueError("mesh_fields: field %r has shape %s; expected [%d] (points) or [%d] "
                             "(cells), or a batch of them" % (name, a.shape, len(points), n_cells))
        if edges:
            ax.triplot(tri, color="k", linewidth=0.2)
        ax.set_aspect("equal")
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def error_map(prediction, truth, *, sample=0, relative=False, cmap="viridis", title=None):
    """Truth, prediction and their pointwise error |prediction - truth| side by side
    (divided by max |truth| when ``relative=True``), the first two on one colour scale."""
    p, t = _field(prediction, sample), _field(truth, sample)
    if p.shape != t.shape:
        raise ValueError("error_map: prediction %s and truth %s differ in shape"
                         % (p.shape, t.shape))
    err = np.abs(p - t)
    if relative:
        err = err / max(np.abs(t).max(), np.finfo(float).tiny)
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(10.2, 3.2))
    lo, hi = min(p.min(), t.min()), max(p.max(), t.max())
    for ax, a, name, kw in ((axes[0], t, "truth", dict(vmin=lo, vmax=hi, cmap=cmap)),
                            (axes[1], p, "prediction", dict(vmin=lo, vmax=hi, cmap=cmap)),
                            (axes[2], err, "relative |error|" if relative else "|error|",
                             dict(cmap="magma"))):
        im = ax.imshow(a, origin="lower", extent=(0, 1, 0, 1), **kw)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    rel = np.linalg.norm(p - t) / max(np.linalg.norm(t), np.finfo(float).tiny)
    fig.suptitle(title or "relative L2 error %.3g" % rel)
    fig.tight_layout()
    return fig


def rollout(truth, prediction, *, dt=1.0, sample=0, times=4, cmap="RdBu_r", size=2.6,
            title=None):
    """A time-dependent surrogate's rollout against the stored trajectories: the relative L2
    error against time (mean over the batch and sample `sample`'s own), and sample `sample`'s
    states at `times` evenly spaced output times, true above, predicted below.

    `truth` and `prediction` are trajectories [B, T, ny, nx] (e.g. a dataset's ``u`` and
    ``Model.rollout``'s result); `dt` is the time between stored states.
    """
    plt = _plt()
    u, p = _numpy(truth), _numpy(prediction)
    if u.shape != p.shape or u.ndim != 4:
        raise ValueError("rollout: truth and prediction must be trajectories [B, T, ny, nx] of "
                         "one shape, got %s and %s" % (u.shape, p.shape))
    steps = u.shape[1] - 1
    diff = (p - u).reshape(u.shape[0], u.shape[1], -1)
    err = np.linalg.norm(diff, axis=2) / np.maximum(
        np.linalg.norm(u.reshape(u.shape[0], u.shape[1], -1), axis=2), 1e-300)
    t = dt * np.arange(1, steps + 1)
    shown = sorted(set(int(round(k)) for k in np.linspace(0, steps, max(2, times))))
    fig = plt.figure(figsize=(size * (len(shown) + 1.5), 2 * size + 0.4))
    grid = fig.add_gridspec(2, len(shown) + 1, width_ratios=[1.5] + [1] * len(shown))
    ax = fig.add_subplot(grid[:, 0])
    ax.plot(t, err[:, 1:].mean(axis=0), marker="o", ms=3, label="mean over %d" % u.shape[0])
    ax.plot(t, err[sample, 1:], ls="--", label="sample %d" % sample)
    ax.set_xlabel("t")
    ax.set_ylabel("relative L2 error")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    lo, hi = float(min(u[sample].min(), p[sample].min())), float(max(u[sample].max(), p[sample].max()))
    for col, k in enumerate(shown):
        for row, (field, name) in enumerate(((u, "true"), (p, "rollout"))):
            a = fig.add_subplot(grid[row, col + 1])
            im = a.imshow(field[sample, k], origin="lower", cmap=cmap, vmin=lo, vmax=hi)
            a.set_xticks([])
            a.set_yticks([])
            a.set_title("%s, t = %.3g" % (name, dt * k), fontsize=9)
    fig.colorbar(im, ax=fig.axes[1:], shrink=0.8)
    if title:
        fig.suptitle(title)
    return fig


def convergence(histories, *, relative=True, title="convergence", ylabel=None):
    """Residual norm against iteration for several solvers, on a log scale.

    `histories` is a dict {label: residual norms per iteration} (e.g. from
    ``pins.petsc.solve(...)["history"]`` or ``ksp.getConvergenceHistory()``); with
    ``relative=True`` each history is divided by its first value.

    >>> pins.plot.convergence({"jacobi": h1, "surrogate": h2})
    """
    if not histories:
        raise ValueError("convergence: no histories")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, h in histories.items():
        h = np.asarray(h.detach().cpu() if hasattr(h, "detach") else h, dtype=float)
        if h.size == 0:
            continue
        if relative and h[0] > 0:
            h = h / h[0]
        ax.semilogy(np.arange(h.size), h, marker="." if h.size < 40 else None,
                    label="%s (%d its)" % (label, h.size - 1))
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel or ("relative residual norm" if relative else "residual norm"))
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def training_history(history, *, title="training"):
    """Training loss and validation error per epoch from ``Model.history`` (pins.train)."""
    if not history:
        raise ValueError("training_history: empty history")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = [r["epoch"] for r in history]
    for key, label in (("loss", "training loss"), ("data_loss", "data loss"),
                       ("physics_loss", "physics loss"), ("val_rel_l2", "validation rel. L2")):
        values = [np.nan if r.get(key) is None else r[key] for r in history]
        if not all(np.isnan(values)):
            ax.semilogy(epochs, values, label=label)
    ax.set_xlabel("epoch")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
