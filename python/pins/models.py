"""Surrogate models: loading (`load_model`), training (`train`) and evaluating (`evaluate`),
with the same options and results as ``pins train`` and ``pins evaluate``."""

import json
import os

import torch

from ._runtime import _pins, default_threads, ensure_petsc, option_dict
from .data import as_dataset
from .progress import ProgressBar


class Answer:
    """A solution model's answers with their evidence (`Model.predict(..., evidence=True)`):
    ``u`` [B, ...]; ``certificate`` [B] (relative residual by the family's operator);
    ``error_estimate`` [B] (multigrid cycles on the residual: an estimate of the relative
    error, ``None`` where the family offers none); ``bound`` [B] (calibrated error bound at
    ``level``), ``ood_score`` [B] and ``flagged`` [B] (bool) — those three ``None`` for a
    model that is not calibrated."""

    __slots__ = ("u", "certificate", "error_estimate", "bound", "ood_score", "flagged", "level")

    def __init__(self, u, certificate, bound, ood_score, flagged, level, error_estimate=None):
        """Made by `Model.predict(..., evidence=True)`."""
        self.u, self.certificate, self.bound = u, certificate, bound
        self.ood_score, self.flagged, self.level = ood_score, flagged, level
        self.error_estimate = error_estimate

    def __repr__(self):
        n = self.u.shape[0]
        if self.bound is None:
            return "pins.Answer(%d answers, certificate mean %.3g, not calibrated)" % (
                n, float(self.certificate.mean()))
        return "pins.Answer(%d answers, certificate mean %.3g, %g %% bound mean %.3g, %d flagged)" % (
            n, float(self.certificate.mean()), 100 * self.level, float(self.bound.mean()),
            int(self.flagged.sum()) if self.flagged is not None else 0)


class Model:
    """A pins surrogate (C++ LibTorch module) usable from Python.

    ``model(x)`` maps features ``x`` ``[B, Cin, ny, nx]`` to ``[B, Cout, ny, nx]``; it is
    differentiable, and ``parameters()`` are the model's own torch tensors, so a Python
    optimiser can fine-tune them. ``predict(kappa, f)`` gives the de-normalised solution
    ``[B, ny, nx]`` of a solution model (what ``pins evaluate`` scores).

    >>> model = pins.load_model("fno32.pins")
    >>> u = model.predict(ds.tensor("kappa"), ds.tensor("f"))
    """

    def __init__(self, handle):
        """Wraps a handle from the extension; use `load_model` or `train` instead."""
        self._handle = handle

    def __repr__(self):
        return "pins.Model(%s, %d -> %d channels%s)" % (
            self.architecture, self._handle.in_channels, self._handle.out_channels,
            ", " + repr(self.path) if self.path else "")

    def __call__(self, x):
        """The model on features `x` [B, Cin, ny, nx] (cast to the model's dtype)."""
        return self.forward(x)

    def forward(self, x):
        """The model on features `x` [B, Cin, ny, nx] (cast to the model's dtype)."""
        return self._handle.forward(x)

    def features(self, *fields, **named):
        """The normalised input features [B, C, (nz,) ny, nx] the trainer builds from the
        family's input fields, given in the family's order (Darcy: ``kappa, f``) or by
        name (``kappa=..., f=...``)."""
        return self._handle.features(self._inputs(fields, named))

    def predict(self, *fields, batch=64, evidence=False, parameters=None, **named):
        """The predicted solution [B, (dof,) (nz,) ny, nx] (float64, de-normalised) for the
        family's input fields [B, (nz,) ny, nx] (in order, e.g. ``kappa, f``, or by name);
        no gradients, in batches of `batch`.

        With ``evidence=True``, a `pins.Answer` instead: ``u`` as above and, per answer, its
        ``certificate`` (the relative residual ‖F(u)‖/‖F(0)‖ by the family's own operator,
        [B]) and, for a model calibrated with ``pins calibrate``, its ``bound`` (the error
        bound at the calibration ``level``), its ``ood_score`` and ``flagged`` (score > 1:
        out of distribution) — ``None`` when the model is not calibrated. `parameters`
        (dict of str) sets up a family whose equation has parameters (e.g.
        nonlinear_darcy's k(u)) as the dataset's sampler attributes do; default: the
        family's own.

        >>> a = model.predict(kappa, f, evidence=True)
        >>> trusted = a.u[~a.flagged & (a.bound < 0.05)]
        """
        inputs = self._inputs(fields, named)
        if not evidence:
            return self._handle.predict(inputs, int(batch))
        params = {str(k): str(v) for k, v in (parameters or {}).items()}
        return Answer(**self._handle.predict_with_evidence(inputs, int(batch), params))

    @property
    def input_names(self):
        """The input fields `predict` takes, in channel order (e.g. ``['kappa', 'f']``; a
        one-step model of a time-dependent family also takes its state, e.g. ``u_prev``)."""
        return list(self._handle.input_names)

    def rollout(self, initial, steps, *fields, batch=64, **named):
        """A one-step model of a time-dependent family (e.g. ``allen_cahn``) applied to its
        own output `steps` times from the states `initial` [B, ny, nx]: the trajectories
        [B, steps + 1, ny, nx] (float64, ``[:, 0]`` = `initial`). The other input fields
        (e.g. ``kappa``) are given as for `predict`, without the state.

        >>> u = model.rollout(ds.tensor("u")[:, 0], 20, ds.tensor("kappa"))
        """
        state = self._handle.state_input
        if not state:
            raise ValueError("this model is not a one-step model of a time-dependent family "
                             "(its family has no state input): use predict")
        names = [n for n in self._handle.input_names if n != state]
        if len(fields) > len(names):
            raise ValueError("rollout takes %d input field(s) besides the state (%s), got %d" % (
                len(names), ", ".join(names), len(fields)))
        inputs = dict(zip(names, fields))
        inputs.update(named)
        missing = [n for n in names if n not in inputs]
        if missing or state in inputs:
            raise ValueError("rollout needs the input field(s) %s and not the state %r" % (
                ", ".join(names), state))
        return self._handle.rollout(inputs, initial, int(steps), int(batch))

    def _inputs(self, fields, named):
        names = list(self._handle.input_names)
        if len(fields) > len(names):
            raise ValueError("%s takes %d input fields (%s), got %d" % (
                self.architecture, len(names), ", ".join(names), len(fields)))
        inputs = dict(zip(names, fields))
        for name, value in named.items():
            if name not in names:
                raise ValueError("%r is not an input of this model (inputs: %s)" % (
                    name, ", ".join(names)))
            if name in inputs:
                raise ValueError("input %r given twice" % name)
            inputs[name] = value
        missing = [n for n in names if n not in inputs]
        if missing:
            raise ValueError("missing input field(s): %s (inputs: %s)" % (
                ", ".join(missing), ", ".join(names)))
        return inputs

    def parameters(self):
        """The model's parameters: the C++ module's own tensors (not copies)."""
        return self._handle.parameters()

    def train(self, mode=True):
        """Switches training mode on (or off); returns the model."""
        self._handle.set_training(bool(mode))
        return self

    def eval(self):
        """Switches to evaluation mode; returns the model."""
        return self.train(False)

    @property
    def training(self):
        """Whether the model is in training mode."""
        return self._handle.training

    def save(self, path, force=False):
        """Writes the model file `path` (atomically); an existing file needs ``force=True``."""
        self._handle.save(os.fspath(path), bool(force))

    @property
    def architecture(self):
        """The registry name of the architecture: "fno", "unet", "deeponet", "mlp" or "mgnet"."""
        return self._handle.architecture

    @property
    def path(self):
        """The model file this model was loaded from or saved to ("" if none)."""
        return self._handle.path

    @property
    def manifest(self):
        """The model file's manifest (architecture, grid, normalisation, metrics, ...)."""
        return json.loads(self._handle.manifest_json)

    @property
    def history(self):
        """Per-epoch training records of `pins.train` (empty for a loaded model): dicts with
        epoch, loss, data_loss, physics_loss, val_rel_l2, lr, seconds, ... (None: not
        computed)."""
        return json.loads(self._handle.history_json)


def load_model(path, *, pde=None, task=None):
    """Reads a pins model file (``pins train -o``) and returns a `Model`.

    The file's SHA-256 and every tensor's name, shape and dtype are checked; with `pde` or
    `task` the manifest must also match them. Raises FileNotFoundError for a missing file,
    ValueError with a one-line message for anything else. No code from the file is run."""
    return Model(_pins.load_model(os.fspath(path), pde, task))


def train(data=None, output=None, *, surrogate_type=None, val_data=None, unlabelled=None,
          task="solution", options=None, threads=None, force=False, progress=True, **kwargs):
    """Trains a surrogate on the dataset `data` (a Dataset or a path), as ``pins train``.

    Options are the command line's ``-train_*`` and ``-<surrogate_type>_*`` ones, as
    keywords without the dash or in `options`: ``train_epochs=20, train_physics_weight=0.1,
    fno_modes=8``; ``surrogate_type`` and ``train_val_data`` may also come that way.
    `val_data` (Dataset or path) is the ``-train_val_data`` set. `unlabelled` (Dataset or
    path, ``pins.generate(..., inputs_only=True)``) is the ``-train_unlabelled`` set: inputs
    without solutions that train through the physics loss (``train_physics_weight > 0``);
    with ``data=None`` it is physics-only training (``train_data_weight=0``). `threads` (default: the
    cores available) sets LibTorch's thread count, for the whole process. With `output`
    the model file is written (an existing one needs ``force=True``); checkpoints only with
    ``train_checkpoint=<file>``. ``task="precondition"`` trains a preconditioner model
    instead (no `data`; see `train_preconditioner`). `surrogate_type` defaults to "fno",
    and to "mgnet" for ``task="precondition"``.

    `progress`: True draws a bar (in a notebook: an HTML bar updated in place), False is
    quiet, a callable receives each progress line. Ctrl-C (KeyboardInterrupt) stops
    training at the next mini-batch.

    Returns the trained `Model` (best validation weights) with its ``history``.

    >>> model = pins.train("train.h5", "fno.pins", train_epochs=20, fno_modes=8)
    """
    opts = option_dict(options, **kwargs)
    surrogate_type = opts.pop("-surrogate_type", surrogate_type)
    task = opts.pop("-task", task)
    if task == "precondition":
        if data is not None:
            raise ValueError("task='precondition' trains on sampled problems; pass no data")
        if output is None:
            raise ValueError("task='precondition' needs output, the model file to write")
        return train_preconditioner(output, surrogate_type=surrogate_type or "mgnet", options=opts,
                                    threads=threads, force=force, progress=progress)
    if task != "solution":
        raise ValueError("task must be 'solution' or 'precondition', got %r" % (task,))
    if "-train_unlabelled" in opts:
        path = opts.pop("-train_unlabelled")
        if unlabelled is not None:
            raise ValueError("give the unlabelled set once: unlabelled or train_unlabelled")
        unlabelled = path
    if data is None and unlabelled is None:
        raise ValueError("train: data (a Dataset or a dataset file) is required, or unlabelled "
                         "for physics-only training")
    surrogate_type = surrogate_type or "fno"
    if "-train_val_data" in opts:
        path = opts.pop("-train_val_data")
        if val_data is not None:
            raise ValueError("give the validation set once: val_data or train_val_data")
        val_data = path
    # A Dataset travels as its handle (already in memory); a file as its path, which the
    # C++ side reads whole or, larger than train_memory, streams while training.
    def as_set(d):
        if d is None:
            return None
        if isinstance(d, (str, os.PathLike)):
            return os.fspath(d)
        return as_dataset(d)._handle

    handles = [as_set(d) for d in (data, val_data, unlabelled)]
    if unlabelled is not None:
        # The option itself is what the manifest records; the set travels as a handle.
        u = handles[2]
        opts["-train_unlabelled"] = u if isinstance(u, str) else (u.path or "(in memory)")
    opts.setdefault("-train_threads", str(default_threads(threads)))
    out = "" if output is None else os.fspath(output)
    if progress is True:
        with ProgressBar("pins.train %s" % surrogate_type) as bar:
            handle = _pins.train(*handles, surrogate_type, opts, out, bool(force), bar.line)
    else:
        if progress is False or progress is None:
            opts.setdefault("-train_monitor", "0")
            callback = None
        else:
            callback = progress
        handle = _pins.train(*handles, surrogate_type, opts, out, bool(force), callback)
    return Model(handle)


def evaluate(model, data, *, solve_samples=8, threads=None, return_predictions=False,
             refine=None):
    """Scores a solution model on a dataset against PETSc, as ``pins evaluate`` does, and
    returns its report as a dict: relative_l2 and relative_residual_prediction summaries
    (mean, median, p95, max), relative_residual_petsc, seconds_per_sample (surrogate one at
    a time and batched, PETSc re-solving `solve_samples` samples with the dataset's own
    solver, assembly included), speedup_single_vs_petsc.

    `model` is a Model or a model file, `data` a Dataset or a dataset file. With
    ``return_predictions=True`` the dict also holds "prediction" [N, ny, nx] and
    "relative_l2_per_sample" [N] as torch tensors. Raises ValueError for an inputs-only
    dataset (``Dataset.labelled`` False: no solutions to compare with), a model that does
    not fit the data (problem family, task, channels; grid for non-FNO models). `threads`
    (default: the cores available) sets LibTorch's thread count for the whole process.

    ``refine=[0, 1, 5, 20]`` (``pins evaluate -refine 0,1,5,20``) also refines the predictions
    by k multigrid V-cycles for each k and adds "refine": one dict per k (in increasing
    order) with k, relative_l2_mean, relative_l2_p95, relative_residual_mean,
    seconds_per_sample (surrogate + k cycles, batched), petsc_seconds_to_same_error (PETSc on
    the same re-solved samples, to the refined error of each; None if never reached),
    petsc_samples_reached and ratio (PETSc / surrogate), and "refine_petsc" (how the times
    were measured). A negative k, or a problem family whose operator the multigrid cycle does
    not support, raises ValueError."""
    m = model if isinstance(model, Model) else load_model(model)
    ds = as_dataset(data)
    counts = []
    for k in refine or []:
        if isinstance(k, bool) or int(k) != k:
            raise ValueError("refine: cycle counts must be integers >= 0, got %r" % (k,))
        if k < 0:
            raise ValueError("refine: cycle counts must be 0 or more, got %d" % k)
        counts.append(int(k))
    ensure_petsc()
    report, prediction, errors = _pins.evaluate(m._handle, ds._handle, int(solve_samples),
                                                default_threads(threads), counts)
    result = json.loads(report)
    if return_predictions:
        result["prediction"] = prediction
        result["relative_l2_per_sample"] = errors
    return result


def train_preconditioner(output, *, surrogate_type="mgnet", grid=None, options=None, threads=None,
                         force=False, progress=True, **kwargs):
    """Trains a model for pins' preconditioner (PC "surrogate"), as ``pins train -task
    precondition`` does: on freshly sampled 5-point problems, no dataset needed. Writes the
    model file `output` (``-pc_surrogate_model`` of the PC) and returns the `Model`.

    Options are that command's, as keywords without the dash or in `options`:
    ``train_steps=300, train_batch_size=16, precondition_operators="darcy,lognormal",
    mgnet_width=16``; `grid` is ``-grid``. ``train_checkpoint="pc.ckpt"`` writes checkpoints
    (``train_checkpoint_every``) and ``train_resume=True`` continues from one, as the command
    does. The default architecture is MgNet, a learned
    multigrid V-cycle (``surrogate_type="fno"`` or ``"unet"`` for a plain network step).
    `threads`, `force` and `progress` work as in `train`.

    >>> pins.train_preconditioner("pc.pins", grid=32, train_steps=300)
    """
    if not hasattr(_pins, "train_preconditioner"):
        raise RuntimeError("this pins build has no preconditioner training "
                           "(include/pins/core/precondition.hpp was missing when the module "
                           "was compiled)")
    opts = option_dict(options, **kwargs)
    if grid is not None:
        opts["-grid"] = str(int(grid))
    opts.setdefault("-train_threads", str(default_threads(threads)))
    out = os.fspath(output)
    if progress is True:
        with ProgressBar("pins.train_preconditioner %s" % surrogate_type) as bar:
            handle = _pins.train_preconditioner(out, surrogate_type, opts, bool(force), bar.line)
    else:
        if progress is False or progress is None:
            opts.setdefault("-train_monitor_every", "0")
        handle = _pins.train_preconditioner(out, surrogate_type, opts, bool(force),
                                            None if progress in (False, None) else progress)
    return Model(handle)


def calibrate(model, data, *, level=0.9, score="auto", threads=None):
    """Calibrates a solution model's error bound at `level` and its out-of-distribution flag
    on held-out labelled `data` (a path or a `pins.Dataset`; what ``pins calibrate`` does:
    split conformal prediction on error / score, and the 99 % quantiles of the
    certificates and of the inputs' feature statistics). `score` is what the bound
    multiplies: "residual" (the certificate), "error_estimate" (multigrid cycles on the
    residual, where the family offers them) or "auto" (the estimate where offered, else the
    residual). The model (a `Model` or a path,
    then loaded) carries the calibration from then on: ``predict(..., evidence=True)`` gives
    bounds and flags, and ``save`` writes it. Returns the model and the calibration as a dict.

    >>> model, c = pins.calibrate("fno.pins", "cal.h5", level=0.9)
    >>> a = model.predict(kappa, f, evidence=True)
    """
    m = model if isinstance(model, Model) else load_model(model)
    ds = as_dataset(data)
    if not 0 < float(level) < 1:
        raise ValueError("calibrate: level must be in (0, 1), got %r" % (level,))
    if score not in ("auto", "residual", "error_estimate"):
        raise ValueError("calibrate: score must be 'auto', 'residual' or 'error_estimate', "
                         "got %r" % (score,))
    ensure_petsc()
    c = _pins.calibrate(m._handle, ds._handle, float(level), score, default_threads(threads))
    return m, json.loads(c)
