"""A chapter read in JupyterLab: opened in headless Chromium and run through the UI.

Starts `jupyter lab` as `make lab` does (no browser, a free port, a token), on a copy of one
short chapter, opens it, runs every cell from the Run menu, waits for the kernel to be idle and
saves the notebook. Then checks what a reader would see: every code cell ran, none shows an
error, a figure is on the screen, and the bootstrap cell did nothing (`dlmath` was importable).
A screenshot is left in `_build/test-artifacts/jupyterlab.png`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

import chapters  # tools/chapters.py

pytestmark = pytest.mark.slow

ARTIFACTS = chapters.ROOT / "_build" / "test-artifacts"
#: A chapter whose site profile runs in a few seconds and draws figures.
CHAPTER = "10_top_eigenvector"
TIMEOUT_MS = 60_000
PROMPTS = ".jp-CodeCell .jp-InputPrompt"
DIALOG = ".jp-Dialog"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A JupyterLab server on a copy of the chapter; yields its URL and the notebook's path.

    Settings, workspaces and runtime files go to ``tmp_path``, so the reader's own settings
    neither change the test nor are changed by it.
    """
    root = tmp_path / "book"
    root.mkdir()
    notebook = root / f"{CHAPTER}.ipynb"
    shutil.copy(chapters.BOOK / notebook.name, notebook)
    port, token = free_port(), secrets.token_hex(16)
    env_dirs = {name: tmp_path / name.lower() for name in
                ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
                 "JUPYTERLAB_WORKSPACES_DIR")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}"],
        env={**os.environ, **{k: str(v) for k, v in env_dirs.items()}},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not start:\n{server.communicate()[1][-3000:]}")
                time.sleep(0.5)
        yield f"{url}/lab/tree/{notebook.name}?token={token}", notebook
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def menu(page: Page, title: str, command: str) -> None:
    """Click the menu bar entry ``title``, then its item that runs ``command``."""
    page.click(f"li.lm-MenuBar-item:has-text('{title}')")
    page.click(f"li.lm-Menu-item[data-command='{command}']")


def test_chapter_runs_in_jupyterlab(browser: Browser, lab: tuple[str, Path]) -> None:
    url, notebook = lab
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(url)
        # JupyterLab starts the notebook's kernel, or, if it has not yet read the list of
        # kernels, asks which to start: accept its proposal, the notebook's own kernel.
        idle = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
        page.wait_for_selector(f"{DIALOG}, .jp-Notebook")
        page.wait_for_function(f"""() => document.querySelector({json.dumps(DIALOG)}) ||
            document.querySelector('.jp-Toolbar-kernelName')?.textContent.includes('Python 3')""")
        if page.locator(DIALOG).count():
            page.click(f"{DIALOG} .jp-mod-accept")
        page.wait_for_selector(idle)
        menu(page, "Run", "runmenu:run-all")
        # A queued cell shows "[*]:", a cell that ran "[12]:"; after an error the kernel drops
        # the queue and the rest show "[ ]:" again. So: wait for the run to start, then end.
        prompts = f"[...document.querySelectorAll({json.dumps(PROMPTS)})].map(e => e.textContent)"
        page.wait_for_function(f"() => {prompts}.some(t => /\\[(\\*|\\d+)\\]/.test(t))")
        page.wait_for_function(f"() => !{prompts}.some(t => t.includes('[*]'))")
        page.wait_for_selector(idle)
        figures = page.eval_on_selector_all(
            ".jp-OutputArea-output img", "imgs => imgs.filter(i => i.naturalWidth > 0).length")
        menu(page, "File", "docmanager:save")
        page.wait_for_selector(".jp-mod-dirty", state="detached")
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "jupyterlab.png")
        page.close()

    cells = [cell for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
             if cell["cell_type"] == "code"]
    errors = [output for cell in cells for output in cell["outputs"]
              if output["output_type"] == "error"]
    assert not errors, "\n".join(f"{e['ename']}: {e['evalue']}" for e in errors)
    assert all(cell["execution_count"] for cell in cells), "a code cell did not run"
    assert figures >= 1, "no figure was rendered in JupyterLab"
    assert cells[0]["outputs"] == [], "the bootstrap cell did something: dlmath was not found"
