"""Where the book's code runs: the set-up of a chapter, device selection, seeding, threads,
timing and Colab detection."""

from __future__ import annotations

import contextlib
import math
import numbers
import random
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

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


def setup(value: int) -> tuple[torch.device, dict[str, Any]]:
    """The first line of every chapter: ``dev, f64 = env.setup(seed)``.

    Applies the book's figure style, chooses the device (:func:`device`), seeds Python's,
    NumPy's and torch's generators with ``value`` (:func:`seed`), and on a CPU lets torch use
    one thread: the chapters' tensors are small, and one thread runs their many small products
    faster than a pool that wakes for each (and, on a shared machine, waits for a busy core).
    Prints :func:`summary`. Returns the device and ``f64``, the keyword arguments of a float64
    tensor on it (``torch.zeros(3, **f64)``).
    """
    from dlmath import plot

    plot.use_style()
    chosen = device()
    seed(value)
    if chosen.type == "cpu":
        torch.set_num_threads(1)
    print(summary())
    return chosen, {"dtype": torch.float64, "device": chosen}


def randn(*shape: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A standard normal float64 tensor of ``shape`` on :func:`device`."""
    return torch.randn(*shape, dtype=torch.float64, device=device(), generator=generator)


T = TypeVar("T")


def _wait(on: torch.device | None = None) -> None:
    """Wait for the GPU's queued work (a no-op on a CPU): timings must include it."""
    if torch.cuda.is_available():
        torch.cuda.synchronize(on if on is not None and on.type == "cuda" else None)


def timed(f: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    """``(f(*args, **kwargs), seconds)``: one call, timed with ``time.perf_counter``, the GPU's
    work included."""
    _wait()
    start = time.perf_counter()
    result = f(*args, **kwargs)
    _wait()
    return result, time.perf_counter() - start


def seconds_per_call(f: Callable[[], object], *, min_time: float = 0.0,
                     repeats: int = 5) -> float:
    """The best time per call of ``f()`` over ``repeats`` blocks of calls.

    Each block repeats ``f`` until it lasts at least ``min_time`` seconds (one call when 0),
    after one warm-up call. The minimum over blocks is the estimate least disturbed by other
    programs; blocks longer than a scheduler's time slice (5 ms) are interrupted anyway, so
    then three suffice.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, numbers.Integral) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    if not min_time >= 0:
        raise ValueError(f"min_time must be >= 0 seconds, got {min_time!r}")
    def per_call(number: int) -> float:  # one block of ``number`` calls
        return timed(lambda: [f() for _ in range(number)])[1] / number

    f()
    number, best = 1, per_call(1)
    while best * number < min_time:
        number *= 2 if best <= 0 else max(2, math.ceil(1.2 * min_time / (best * number)))
        best = per_call(number)
    for _ in range((repeats if best <= 0.005 else min(repeats, 3)) - 1):
        best = min(best, per_call(number))
    return best
