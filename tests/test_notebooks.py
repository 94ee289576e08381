"""Every notebook runs with its smoke profile, with its site profile under other seeds and
another CPU code path, and those that can on a CPU with their full profile; one runs alone as it
would in Colab.

The site build (tests/test_site.py) runs every notebook with seed 0 on this machine's native
CPU code path. Its claims must hold anywhere, so here each notebook runs its site profile once
more for every entry of ``ELSEWHERE``: another seed, together with another SIMD code path of
torch's kernels (``ATEN_CPU_CAPABILITY``) and of MKL's (``MKL_ENABLE_INSTRUCTIONS``) and
another thread count, which change the rounding of sums and products.
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

import chapters  # tools/chapters.py

NOTEBOOKS = chapters.notebooks()
IDS = [nb.stem for nb in NOTEBOOKS]
SMOKE_BUDGET_S = 15
#: Other machines, as (seed, environment of the kernel). ``default`` is torch's scalar code path
#: and SSE4_2 MKL's narrowest; AVX2 is what most laptops and Colab's CPUs run (on a CPU with
#: AVX-512, the site build runs that and this runs AVX2).
ELSEWHERE = {
    "seed1-scalar-1thread": (1, {"ATEN_CPU_CAPABILITY": "default",
                                 "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "OMP_NUM_THREADS": "1"}),
    "seed2-avx2": (2, {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}),
}
#: Chapters whose full profile runs in about two minutes or less on two CPU cores: the tests run
#: it too. The full profiles of the others are sized for a GPU machine (`make full`).
FULL_ON_CPU = ("02_step_size_stability", "03_early_stopping", "04_momentum", "06_operators",
               "07_ridge", "11_relu_elbows", "12_linear_networks", "13_memorisation",
               "14_first_classifier")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_smoke_profile_runs(path: Path, tmp_path: Path, record_property):
    seconds = chapters.run(path, "smoke", tmp_path)
    record_property("seconds", round(seconds, 1))
    print(f"{path.stem}: {seconds:.1f} s with the smoke profile (budget {SMOKE_BUDGET_S} s)")


@pytest.mark.slow
@pytest.mark.parametrize("where", ELSEWHERE)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_site_profile_holds_for_another_seed_and_cpu(path: Path, where: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     record_property):
    seed, environment = ELSEWHERE[where]
    for name, value in environment.items():
        monkeypatch.setenv(name, value)  # the kernel papermill starts inherits them
    seconds = chapters.run(path, "site", tmp_path, seed=seed)
    record_property("seconds", round(seconds, 1))
    print(f"{path.stem}: {seconds:.1f} s with the site profile, {where}")


@pytest.mark.slow
@pytest.mark.parametrize("stem", FULL_ON_CPU)
def test_full_profile_runs(stem: str, tmp_path: Path, record_property):
    seconds = chapters.run(chapters.BOOK / f"{stem}.ipynb", "full", tmp_path)
    record_property("seconds", round(seconds, 1))
    print(f"{stem}: {seconds:.1f} s with the full profile")


def output_text(cell: dict) -> str:
    """What a code cell printed or returned, as text."""
    parts = []
    for output in cell.get("outputs", []):
        text = output.get("text") or output.get("data", {}).get("text/plain", "")
        parts.append(text if isinstance(text, str) else "".join(text))
    return "".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_copy_runs_and_its_checkers_reject_the_first_attempts(path: Path,
                                                                       tmp_path: Path):
    """`make student`'s copy runs (smoke profile) without the solutions, and the checker of
    every exercise says "not yet" to the attempt the cell starts with."""
    student = tmp_path / "student"
    student.mkdir()
    shutil.copy(chapters.PROFILES_FILE, student)
    notebook = chapters.without_solutions(json.loads(path.read_text(encoding="utf-8")))
    (student / path.name).write_text(json.dumps(notebook), encoding="utf-8")
    chapters.run(student / path.name, "smoke", tmp_path / "out")
    executed = json.loads((tmp_path / "out" / path.name).read_text(encoding="utf-8"))
    said = {e.label: "".join(output_text(cell) for cell in e.attempt)
            for e in chapters.exercises(executed)}
    accepted = {label: text for label, text in said.items() if "✘ Not yet" not in text}
    assert said and not accepted, f"{path.name}: checkers that did not say 'not yet': {accepted}"


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
    env = dict(os.environ, JUPYTER_PATH=str(root / "jupyter"), DLMATH_SOURCE=chapters.ROOT.as_uri())
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
