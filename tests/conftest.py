"""Shared set-up of the tests, and how they are shared out between test processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from dlmath import env

#: Debian's Chromium, which .ci/run installs when no other browser is at hand.
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Tests that each start a kernel and run a whole notebook: independent units of work.
NOTEBOOK_RUNS = "tests/test_notebooks.py::"


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """The tensors of the unit tests are small: one torch thread avoids waking a thread pool,
    which costs more than the work on a busy machine. (Notebooks run in their own kernels.)"""
    with env.one_thread():
        yield


def chromium_executable() -> Path | None:
    """The Chromium the browser tests drive: ``$CHROMIUM`` if set, else Debian's, else ``None``
    for the one Playwright keeps itself (``playwright install chromium``)."""
    if "CHROMIUM" in os.environ:
        return Path(os.environ["CHROMIUM"])
    return SYSTEM_CHROMIUM if SYSTEM_CHROMIUM.exists() else None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium, driven through Playwright."""
    executable = chromium_executable()
    if executable is not None and not executable.exists():
        pytest.fail(f"CHROMIUM names {executable}, which does not exist")
    with sync_playwright() as playwright:
        if executable is None and not Path(playwright.chromium.executable_path).exists():
            pytest.fail("no Chromium: install Debian's `chromium`, set CHROMIUM, or run "
                        "`.venv/bin/playwright install chromium`")
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
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
