"""The code passes the linter and the type checker (what `make lint` runs)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chapters  # tools/chapters.py


@pytest.mark.parametrize("command", [
    ["ruff", "check", "book", "tests", "tools", "bench"],
    ["mypy"],  # book/dlmath, as configured in pyproject.toml
], ids=["ruff", "mypy"])
def test_clean(command: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", *command], cwd=chapters.ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
