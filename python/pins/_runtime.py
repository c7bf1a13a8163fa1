"""Process-wide plumbing shared by the pins modules (private): loading the extension after
torch, PETSc's lifetime, option dictionaries and thread counts."""

import os

import torch  # noqa: F401  (must come first: the extension's tensor casters need torch loaded)

from . import _pins  # noqa: E402


def ensure_petsc():
    """Initialises PETSc once per process, through petsc4py when it is installed (so that
    petsc4py owns PETSc, finalises it at exit, and petsc4py objects work with pins), else
    directly."""
    try:
        # Importing initialises PETSc, with the arguments of an earlier petsc4py.init(argv)
        # if the program made one, else with none.
        from petsc4py import PETSc  # noqa: F401
    except ImportError:
        pass
    _pins.ensure_petsc()


def _text(value):
    """An option value as PETSc's options database spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    return str(value)


def option_dict(options=None, **kwargs):
    """Options as the command line spells them: {"-train_epochs": "5"}.

    `options` is a dict whose names may carry the leading dash or not ("train_epochs" or
    "-train_epochs"); keyword arguments add more (train_epochs=5). A value of None leaves the
    option out; True/False become "true"/"false"; lists become "a,b"."""
    merged = dict(options or {})
    merged.update(kwargs)
    out = {}
    for name, value in merged.items():
        if not isinstance(name, str) or not name.strip("-"):
            raise ValueError("option names must be non-empty strings, got %r" % (name,))
        if value is None:
            continue
        out["-" + name.lstrip("-")] = _text(value)
    return out


def default_threads(threads):
    """`threads` if given, else the cores this process may run on."""
    if threads is None:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            return os.cpu_count() or 1
    threads = int(threads)
    if threads < 1:
        raise ValueError("threads must be at least 1, got %d" % threads)
    return threads
