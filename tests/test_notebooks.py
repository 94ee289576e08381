"""Every notebook runs with its smoke profile, and one runs alone as it would in Colab.

(nbval runs every notebook with the site profile: `pytest --nbval-lax book`, see the Makefile.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from dlmath import chapters

NOTEBOOKS = chapters.notebooks()
IDS = [nb.stem for nb in NOTEBOOKS]
SMOKE_BUDGET_S = 15


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_smoke_profile_runs(path: Path, tmp_path: Path, record_property):
    seconds = chapters.run(path, "smoke", tmp_path)
    record_property("seconds", round(seconds, 1))
    print(f"{path.stem}: {seconds:.1f} s with the smoke profile (budget {SMOKE_BUDGET_S} s)")


def isolated_kernel(root: Path) -> tuple[dict[str, str], Path]:
    """A python3 kernel that sees this environment's packages but not its `dlmath`.

    It runs in a new virtual environment whose only link to ours is a ``.pth`` line naming our
    site-packages: packages there import, but the ``.pth`` files there (among them the one of
    the editable `dlmath`) are not processed. Returns the environment for papermill and the new
    site-packages folder.
    """
    venv = root / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], check=True, capture_output=True,
                               text=True).stdout.strip())
    (site / "book-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    kernel = root / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (without dlmath)", "language": "python"}))
    env = dict(os.environ, JUPYTER_PATH=str(root / "jupyter"), DLMATH_SOURCE=str(chapters.ROOT))
    env.pop("PYTHONPATH", None)
    probe = subprocess.run([python, "-c", "import importlib.util as u; "
                            "print(u.find_spec('dlmath') is None, u.find_spec('torch') is None)"],
                           cwd=root, env=env, check=True, capture_output=True, text=True)
    assert probe.stdout.split() == ["True", "False"], "the isolated kernel must lack only dlmath"
    return env, site


@pytest.mark.slow
def test_notebook_runs_alone_and_installs_dlmath(tmp_path: Path):
    """The Colab path: a notebook copied alone into an empty folder installs dlmath and runs."""
    notebook = NOTEBOOKS[0]
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(notebook, alone / notebook.name)
    env, site = isolated_kernel(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "papermill", notebook.name, "executed.ipynb", "--cwd", ".",
         "--kernel", "python3", "-y", json.dumps(chapters.parameters(notebook.stem, "smoke"))],
        cwd=alone, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    installed = list(site.glob("dlmath-*.dist-info"))
    assert installed, "the bootstrap cell did not install dlmath into the isolated environment"
    assert (site / "dlmath" / "__init__.py").exists()
