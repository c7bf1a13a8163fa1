"""Shared fixtures of the pins Python tests: small datasets and a small model, made once per
test session with the module itself (generate, train), in a session temporary folder."""

import os

import matplotlib
import pytest

matplotlib.use("Agg")  # no display in CI

import pins  # noqa: E402

GRID = 16


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    """A folder for files shared by the whole session."""
    return tmp_path_factory.mktemp("pins")


@pytest.fixture(scope="session")
def train_file(work):
    """12 Darcy samples on a 16 x 16 grid (seed 1)."""
    path = work / "train.h5"
    pins.generate(path, grid=GRID, samples=12, seed=1)
    return path


@pytest.fixture(scope="session")
def test_file(work):
    """4 Darcy samples on a 16 x 16 grid (seed 2)."""
    path = work / "test.h5"
    pins.generate(path, grid=GRID, samples=4, seed=2)
    return path


@pytest.fixture(scope="session")
def model_file(work, train_file):
    """A small FNO trained for 3 epochs with data and physics loss, written to a file."""
    path = work / "fno.pins"
    pins.train(train_file, path, train_epochs=3, train_batch_size=4, train_physics_weight=0.1,
               fno_modes=4, fno_width=8, threads=1, progress=False)
    return path


def threads():
    """Threads the tests may use (the machine is shared)."""
    return int(os.environ.get("PINS_TEST_THREADS", "1"))
