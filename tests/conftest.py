"""Shared set-up of the unit tests."""

import pytest

from dlmath import env


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """The tensors of the unit tests are small: one torch thread avoids waking a thread pool,
    which costs more than the work on a busy machine. (Notebooks run in their own kernels.)"""
    with env.one_thread():
        yield
