"""The headless Chromium that the tests and `make pdf` drive through Playwright, and a local
web server for the pages it opens."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import Browser, Playwright

#: Debian's Chromium, which .ci/run installs when no other browser is at hand.
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> Path | None:
    """``$CHROMIUM`` if set, else Debian's Chromium, else ``None`` for the one Playwright keeps
    itself (``playwright install chromium``)."""
    if "CHROMIUM" in os.environ:
        return Path(os.environ["CHROMIUM"])
    return SYSTEM_CHROMIUM if SYSTEM_CHROMIUM.exists() else None


def launch(playwright: Playwright) -> Browser:
    """Start headless Chromium; raise ``RuntimeError`` saying how to get one if none is there."""
    executable = chromium_executable()
    if executable is not None and not executable.exists():
        raise RuntimeError(f"CHROMIUM names {executable}, which does not exist")
    if executable is None and not Path(playwright.chromium.executable_path).exists():
        raise RuntimeError("no Chromium: install Debian's `chromium`, set CHROMIUM, or run "
                           "`.venv/bin/playwright install chromium`")
    return playwright.chromium.launch(executable_path=executable, args=ARGS)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free port of 127.0.0.1; yields its URL, ending in ``/``."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join()
