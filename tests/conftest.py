"""Shared set-up of the tests, and how they are shared out between test processes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings
from playwright.sync_api import Browser, sync_playwright

import chromium
from dlmath import env

#: The property tests draw new examples on every run, which is how they find counterexamples;
#: the CI (.ci/run) sets HYPOTHESIS_PROFILE=ci, whose examples are fixed, so that its verdict
#: does not depend on the draw.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: Tests that each start a kernel and run a whole notebook: independent units of work.
NOTEBOOK_RUNS = "tests/test_notebooks.py::"


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """The tensors of the unit tests are small: one torch thread avoids waking a thread pool,
    which costs more than the work on a busy machine. (Notebooks run in their own kernels.)"""
    with env.one_thread():
        yield


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium, driven through Playwright (tools/chromium.py says which)."""
    with sync_playwright() as playwright:
        try:
            browser = chromium.launch(playwright)
        except RuntimeError as error:
            pytest.fail(str(error))
        yield browser
        browser.close()


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadfile``, except that every notebook run is a unit of work of its own.

    A test file stays on one process, so the site tests share one build; the notebook runs,
    some seventy of a minute or less, spread over the processes. (xdist hands out the largest
    units first, so the site build starts at once.)
    """
    if config.option.dist != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class NotebookRunsApart(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(NOTEBOOK_RUNS):
                return nodeid
            return super()._split_scope(nodeid)

    return NotebookRunsApart(config, log)
