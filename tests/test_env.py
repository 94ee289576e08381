"""Tests of dlmath.env: device choice, seeding, Colab detection, the summary line."""

from __future__ import annotations

import random
import sys
import types

import numpy as np
import pytest
import torch

import dlmath
from dlmath import env


def draws() -> tuple[float, float, list[float], list[float]]:
    """One draw from each generator that env.seed is meant to seed."""
    # The legacy global NumPy generator is what env.seed seeds, so it is what we draw from.
    return (random.random(), float(np.random.rand()), torch.randn(3).tolist(),  # noqa: NPY002
            torch.rand(2, dtype=torch.float64).tolist())


@pytest.fixture
def gpus(monkeypatch: pytest.MonkeyPatch):
    """Pretend this machine has ``count`` CUDA GPUs (0 by default); returns the setter."""
    def pretend(count: int) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)

    pretend(0)
    return pretend


# --- seed ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, 7, 2**32 - 1, np.int64(11)])
def test_seed_makes_python_numpy_and_torch_reproducible(value: int) -> None:
    env.seed(value)
    first = draws()
    env.seed(value)
    assert draws() == first


def test_different_seeds_give_different_draws() -> None:
    env.seed(1)
    first = draws()
    env.seed(2)
    assert all(a != b for a, b in zip(first, draws(), strict=True))


def test_seed_returns_a_generator_seeded_alike() -> None:
    rng = env.seed(5)
    assert isinstance(rng, np.random.Generator)
    assert rng.normal(size=4).tolist() == np.random.default_rng(5).normal(size=4).tolist()


@pytest.mark.parametrize(("value", "error", "message"), [
    (-1, ValueError, r"seed must lie in \[0, 2\*\*32\), got -1"),
    (2**32, ValueError, r"seed must lie in \[0, 2\*\*32\), got 4294967296"),
    (1.5, TypeError, "seed must be an integer, got float"),
    ("3", TypeError, "seed must be an integer, got str"),
    (True, TypeError, "seed must be an integer, got bool"),
    (None, TypeError, "seed must be an integer, got NoneType"),
])
def test_seed_rejects_what_is_not_a_valid_seed(value: object, error: type[Exception],
                                               message: str) -> None:
    with pytest.raises(error, match=message):
        env.seed(value)  # type: ignore[arg-type]


# --- device -------------------------------------------------------------------------------

def test_device_is_the_cpu_on_this_machine_without_a_gpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert env.device() == torch.device(expected)
    assert env.device().type == expected


def test_device_chooses_cpu_without_gpu_and_cuda_with_one(gpus) -> None:
    assert env.device() == torch.device("cpu")
    gpus(2)
    assert env.device() == torch.device("cuda")


@pytest.mark.parametrize("name", ["cpu", "cpu:0"])
def test_device_accepts_the_cpu_by_name(name: str) -> None:
    assert env.device(name) == torch.device(name)


@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:1"])
def test_device_accepts_a_gpu_that_exists(gpus, name: str) -> None:
    gpus(2)
    assert env.device(name) == torch.device(name)


@pytest.mark.parametrize(("name", "count", "error", "message"), [
    ("gpu", 0, ValueError, "unknown device name 'gpu'; expected one of 'cpu', 'cuda'"),
    ("tpu", 0, ValueError, "unknown device name 'tpu'"),
    ("", 0, ValueError, "unknown device name ''"),
    ("mps", 0, ValueError, "unsupported device 'mps'; the book runs on 'cpu' or 'cuda'"),
    ("meta", 0, ValueError, "unsupported device 'meta'"),
    ("cuda", 0, ValueError, "device 'cuda' was asked for, but no CUDA GPU is available"),
    ("cuda:7", 0, ValueError, "device 'cuda:7' was asked for, but no CUDA GPU is available"),
    ("cuda:7", 2, ValueError, r"device 'cuda:7' does not exist: this machine has 2 GPU\(s\)"),
    (42, 0, TypeError, "device name must be a string such as 'cpu' or 'cuda', got int"),
    (torch.device("cpu"), 0, TypeError, "device name must be a string .* got device"),
])
def test_device_rejects_unknown_or_missing_devices(gpus, name: object, count: int,
                                                   error: type[Exception], message: str) -> None:
    gpus(count)
    with pytest.raises(error, match=message):
        env.device(name)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["gpu", "tpu", "cuda:7"])
def test_unknown_device_names_are_rejected_on_this_machine_too(name: str) -> None:
    """Without monkeypatching: whatever GPUs are here, these names are not usable."""
    with pytest.raises(ValueError, match=repr(name)):
        env.device(name)


# --- in_colab and summary ------------------------------------------------------------------

@pytest.fixture
def colab(monkeypatch: pytest.MonkeyPatch):
    """Set whether ``google.colab`` looks imported; returns the setter."""
    def pretend(inside: bool) -> None:
        if inside:
            monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
        else:
            monkeypatch.delitem(sys.modules, "google.colab", raising=False)

    return pretend


@pytest.mark.parametrize("inside", [False, True])
def test_in_colab_follows_whether_google_colab_is_imported(colab, inside: bool) -> None:
    colab(inside)
    assert env.in_colab() is inside


@pytest.mark.parametrize(("inside", "where"), [(False, "local"), (True, "Colab")])
def test_summary_names_versions_device_and_place(colab, inside: bool, where: str) -> None:
    colab(inside)
    line = env.summary()
    assert line == (f"dlmath {dlmath.__version__} | torch {torch.__version__} | "
                    f"device {env.device()} | {where}")
    assert "\n" not in line


# --- setup, randn and timing -----------------------------------------------------------------

def test_setup_seeds_styles_threads_and_prints_the_summary(capsys, gpus) -> None:
    threads = torch.get_num_threads()
    try:
        dev, f64 = env.setup(3)
        assert dev == torch.device("cpu") and f64 == {"dtype": torch.float64, "device": dev}
        first = draws()
        env.seed(3)
        assert draws() == first
        assert torch.get_num_threads() == 1
        assert capsys.readouterr().out.strip() == env.summary()
    finally:
        torch.set_num_threads(threads)


def test_randn_is_float64_on_the_device_and_takes_a_generator() -> None:
    x = env.randn(2, 3, generator=torch.Generator().manual_seed(0))
    assert x.shape == (2, 3) and x.dtype == torch.float64 and x.device == env.device()
    assert torch.equal(x, env.randn(2, 3, generator=torch.Generator().manual_seed(0)))


def test_timed_returns_the_result_and_a_time() -> None:
    result, seconds = env.timed(lambda: 6 * 7)
    assert result == 42 and 0 <= seconds < 1
    assert env.timed(divmod, 7, 2)[0] == (3, 1)


def test_seconds_per_call_repeats_short_calls_up_to_min_time() -> None:
    calls = []
    best = env.seconds_per_call(lambda: calls.append(1), min_time=0.01, repeats=2)
    assert 0 < best < 0.001 and len(calls) > 10


@pytest.mark.parametrize(("kwargs", "message"), [({"repeats": 0}, "repeats"),
                                                 ({"min_time": -1.0}, "min_time")])
def test_seconds_per_call_rejects_bad_arguments(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        env.seconds_per_call(lambda: None, **kwargs)
