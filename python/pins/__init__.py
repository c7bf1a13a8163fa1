"""pins — Physics-Informed Neural Surrogates, from Python.

The same C++ library as the ``pins`` command line, for notebooks and Python training loops:

* data: ``generate`` (PETSc solves → HDF5 dataset), ``Dataset`` (arrays as numpy/torch
  views, metadata as a dict);
* the PDE's own discrete operator as differentiable torch functions backed by Kokkos
  kernels: ``coefficients``, ``apply``, ``residual``, ``residual_loss``, ``energy_loss``,
  ``physics_loss``, ``relative_residual``, ``relative_l2``; any operator as a ``pins.Operator``
  (``stencil_operator`` for stencils of any shape, ``pins.petsc.operator`` for a petsc4py
  matrix, ``pins.petsc.residual_function`` for a SNES's own residual);
* models: ``load_model``, ``train`` (the ``pins train`` options, a progress bar),
  ``evaluate`` (the ``pins evaluate`` metrics as a dict), ``train_preconditioner`` (a model
  for the PETSc preconditioner ``-pc_type surrogate``);
* ``pins.petsc``: pins' PC/KSPGuess types in petsc4py programs, and small solver helpers;
* ``pins.plot``: matplotlib figures of fields, errors and convergence histories.

Errors from C++ arrive as FileNotFoundError (missing files), ValueError (bad input, with the
same one-line message as the command line) or RuntimeError.

>>> import pins
>>> pins.generate("train.h5", grid=32, samples=64, seed=1)
>>> model = pins.train("train.h5", "fno.pins", train_epochs=20, train_physics_weight=0.1)
>>> pins.evaluate(model, "test.h5")["relative_l2"]["mean"]
"""

from ._runtime import _pins
from .data import Dataset, generate
from .models import Answer, Model, calibrate, evaluate, load_model, train, train_preconditioner
from .ops import (Operator, apply, coefficients, stencil_operator, energy_loss, physics_loss, relative_l2,
                  relative_residual, residual, residual_loss)
from . import petsc, plot  # noqa: E402  (submodules: pins.petsc, pins.plot)

__all__ = [
    "Answer", "Dataset", "Model", "Operator", "apply", "calibrate", "coefficients", "energy_loss", "evaluate", "generate",
    "load_model", "petsc", "physics_loss", "plot", "relative_l2", "relative_residual",
    "residual", "residual_loss", "stencil_operator", "surrogate_types", "train", "train_help",
    "train_preconditioner",
]


def surrogate_types():
    """The registered architectures, for ``surrogate_type=`` ("fno", "unet", ...)."""
    return list(_pins.surrogate_types())


def train_help():
    """Every ``-train_*`` option and every architecture's options, with defaults (text)."""
    return _pins.train_help()
