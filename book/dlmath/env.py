"""Where the book's code runs: device selection, seeding and Colab detection."""

from __future__ import annotations

import contextlib
import numbers
import random
import sys
from collections.abc import Iterator

import numpy as np
import torch

DEVICE_TYPES = ("cpu", "cuda")
#: Below this many multiply-adds per step, a CPU loop runs faster on one thread: splitting a tiny
#: product gains nothing, and waiting for a second thread on a busy machine can cost
#: milliseconds a step.
SMALL_WORK = 2**20


def device(name: str | None = None) -> torch.device:
    """Return the device to compute on.

    With no ``name``: the first CUDA GPU when one is present, otherwise the CPU. A ``name``
    such as ``"cpu"``, ``"cuda"`` or ``"cuda:1"`` is checked against what this machine has.
    """
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(name, str):
        raise TypeError(f"device name must be a string such as 'cpu' or 'cuda', "
                        f"got {type(name).__name__}")
    try:
        chosen = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"unknown device name {name!r}; expected one of 'cpu', 'cuda' "
                         "or 'cuda:N'") from error
    if chosen.type not in DEVICE_TYPES:
        raise ValueError(f"unsupported device {name!r}; the book runs on 'cpu' or 'cuda'")
    if chosen.type == "cuda":
        count = torch.cuda.device_count()
        if count == 0:
            raise ValueError(f"device {name!r} was asked for, but no CUDA GPU is available "
                             "here; use 'cpu' or device() to choose automatically")
        if chosen.index is not None and chosen.index >= count:
            raise ValueError(f"device {name!r} does not exist: this machine has {count} GPU(s)")
    return chosen


def seed(value: int) -> np.random.Generator:
    """Seed Python's, NumPy's and torch's generators; return a NumPy generator seeded alike."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {type(value).__name__}")
    if not 0 <= value < 2**32:
        raise ValueError(f"seed must lie in [0, 2**32), got {value}")
    value = int(value)  # random.seed rejects NumPy integers
    random.seed(value)
    np.random.seed(value)  # noqa: NPY002 (libraries that draw from the legacy global state)
    torch.manual_seed(value)
    return np.random.default_rng(value)


@contextlib.contextmanager
def one_thread(active: bool = True) -> Iterator[None]:
    """Run the body with one torch thread if ``active``; restore the thread count afterwards.

    For loops of many small tensor operations on the CPU, e.g.
    ``with env.one_thread(n * d < env.SMALL_WORK and x.device.type == "cpu"): ...``.
    """
    threads = torch.get_num_threads()
    if active and threads > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def in_colab() -> bool:
    """Whether this code runs in Google Colab."""
    return "google.colab" in sys.modules


def summary() -> str:
    """One line naming the versions and the device, printed at the top of each chapter."""
    from dlmath import __version__

    where = "Colab" if in_colab() else "local"
    return (f"dlmath {__version__} | torch {torch.__version__} | device {device()} | {where}")
