"""Tests of tools/chapters.py: the bootstrap cell, the parameter profiles and the runner."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import chapters  # tools/chapters.py

PROFILES = """\
01_calculus:
  smoke: {n: 8, steps: 2}
  full: {n: 4096, steps: 10000, device: cuda}
02_kernels:
  smoke:
03_empty:
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    return write(tmp_path / "profiles.yml", PROFILES)


# --- load and parameters -------------------------------------------------------------------

def test_load_reads_the_overrides_of_every_notebook(profiles: Path) -> None:
    data = chapters.load(profiles)
    assert list(data) == ["01_calculus", "02_kernels", "03_empty"]
    assert data["01_calculus"]["full"] == {"n": 4096, "steps": 10000, "device": "cuda"}


def test_load_of_an_empty_file_is_empty(tmp_path: Path) -> None:
    assert chapters.load(write(tmp_path / "profiles.yml", "")) == {}


@pytest.mark.parametrize("text", ["- 01_calculus\n- 02_kernels\n", "just text\n"])
def test_load_rejects_a_file_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValueError, match="profiles.yml must map notebook names to profiles"):
        chapters.load(write(tmp_path / "profiles.yml", text))


@pytest.mark.parametrize(("notebook", "profile", "expected"), [
    ("01_calculus", "smoke", {"n": 8, "steps": 2}),
    ("01_calculus", "full", {"n": 4096, "steps": 10000, "device": "cuda"}),
    ("02_kernels", "smoke", {}),
])
def test_parameters_returns_the_overrides(profiles: Path, notebook: str, profile: str,
                                          expected: dict) -> None:
    assert chapters.parameters(notebook, profile, profiles) == expected


@pytest.mark.parametrize("notebook", ["01_calculus", "99_not_there"])
def test_parameters_of_the_site_profile_are_the_notebook_defaults(tmp_path: Path,
                                                                  notebook: str) -> None:
    """{} without reading any file: the parameters cell already holds the site profile."""
    assert chapters.parameters(notebook, "site", tmp_path / "missing.yml") == {}


def test_parameters_returns_a_copy(profiles: Path) -> None:
    chapters.parameters("01_calculus", "smoke", profiles)["n"] = -1
    assert chapters.parameters("01_calculus", "smoke", profiles)["n"] == 8


@pytest.mark.parametrize("profile", ["fast", "Smoke", "", "SITE"])
def test_parameters_rejects_an_unknown_profile(profiles: Path, profile: str) -> None:
    with pytest.raises(ValueError, match=rf"unknown profile '{profile}'; expected one of "
                                         r"\('smoke', 'site', 'full'\)"):
        chapters.parameters("01_calculus", profile, profiles)


@pytest.mark.parametrize(("notebook", "profile"), [
    ("02_kernels", "full"), ("03_empty", "smoke"), ("99_not_there", "smoke"),
])
def test_parameters_rejects_a_missing_entry(profiles: Path, notebook: str, profile: str) -> None:
    with pytest.raises(KeyError, match=f"profiles.yml has no '{profile}' profile for notebook "
                                       f"'{notebook}'"):
        chapters.parameters(notebook, profile, profiles)


# --- bootstrap_cell ------------------------------------------------------------------------

@pytest.mark.parametrize(("repository", "source"), [
    ("url: https://github.com/someone/book\n  branch: dev", "git+https://github.com/someone/book@dev"),
    ("url: https://example.org/a/b/\n  branch: v1.2", "git+https://example.org/a/b@v1.2"),
    ("url: https://github.com/someone/book", "git+https://github.com/someone/book@main"),
])
def test_bootstrap_cell_installs_from_the_configured_repository(tmp_path: Path, repository: str,
                                                                source: str) -> None:
    config = write(tmp_path / "_config.yml", f"title: T\nrepository:\n  {repository}\n")
    cell = chapters.bootstrap_cell(config)
    assert cell == chapters.BOOTSTRAP.replace("{source}", source)
    assert f'os.environ.get("DLMATH_SOURCE", "{source}")' in cell
    compile(cell, "bootstrap", "exec")


@pytest.fixture
def pip(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the commands the bootstrap cell runs instead of running them."""
    commands: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: commands.append(command))
    return commands


def run_cell(tmp_path: Path) -> None:
    config = write(tmp_path / "_config.yml", "repository:\n  url: https://h/x\n  branch: b\n")
    exec(chapters.bootstrap_cell(config), {})


def test_bootstrap_cell_does_nothing_where_dlmath_imports(tmp_path: Path, pip: list) -> None:
    run_cell(tmp_path)
    assert pip == []


@pytest.mark.parametrize(("environ", "source"), [({}, "git+https://h/x@b"),
                                                 ({"DLMATH_SOURCE": "file:///src/book"},
                                                  "file:///src/book")])
def test_bootstrap_cell_installs_dlmath_where_it_is_missing(
        tmp_path: Path, pip: list, monkeypatch: pytest.MonkeyPatch, environ: dict,
        source: str) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.delenv("DLMATH_SOURCE", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    run_cell(tmp_path)
    assert pip == [[sys.executable, "-m", "pip", "install", "--quiet", f"dlmath[book] @ {source}"]]


def test_the_repository_config_names_a_repository() -> None:
    assert "git+https://" in chapters.bootstrap_cell()


# --- notebooks, run and main ---------------------------------------------------------------

def test_notebooks_lists_the_chapters_in_reading_order(tmp_path: Path) -> None:
    for name in ["02_b.ipynb", "10_j.ipynb", "01_a.ipynb", "intro.ipynb", "1_x.ipynb",
                 "03_c.md", "ab_c.ipynb"]:
        write(tmp_path / name, "{}")
    assert [p.name for p in chapters.notebooks(tmp_path)] == ["01_a.ipynb", "02_b.ipynb",
                                                              "10_j.ipynb"]


@pytest.fixture
def papermill(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """A stand-in for papermill that records how it was called."""
    calls: list[dict] = []
    module = types.ModuleType("papermill")
    module.execute_notebook = lambda source, target, **kwargs: calls.append(  # type: ignore
        {"source": source, "target": target, **kwargs})
    monkeypatch.setitem(sys.modules, "papermill", module)
    return calls


@pytest.mark.parametrize(("profile", "expected"), [("smoke", {"n": 8, "steps": 2}),
                                                   ("site", {})])
def test_run_executes_the_notebook_with_its_profile(tmp_path: Path, papermill: list[dict],
                                                    profile: str, expected: dict) -> None:
    book = tmp_path / "book"
    write(book / "profiles.yml", PROFILES)
    notebook = write(book / "01_calculus.ipynb", "{}")
    out = tmp_path / "out" / "nested"
    seconds = chapters.run(notebook, profile, out)
    assert isinstance(seconds, float) and seconds >= 0
    assert out.is_dir()
    assert papermill == [{"source": str(notebook), "target": str(out / "01_calculus.ipynb"),
                          "parameters": expected, "cwd": str(book), "kernel_name": "python3",
                          "progress_bar": False}]


@pytest.mark.parametrize("profile", ["smoke", "site"])
def test_run_overrides_the_seed_on_top_of_the_profile(tmp_path: Path, papermill: list[dict],
                                                      profile: str) -> None:
    book = tmp_path / "book"
    write(book / "profiles.yml", PROFILES)
    notebook = write(book / "01_calculus.ipynb", "{}")
    chapters.run(notebook, profile, tmp_path / "out", seed=7)
    expected = {"n": 8, "steps": 2} if profile == "smoke" else {}
    assert papermill[0]["parameters"] == {**expected, "seed": 7}


@pytest.fixture
def fake_book(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Path, int | None]]:
    """Two chapters and a runner that records what main asked it to run."""
    ran: list[tuple[str, str, Path, int | None]] = []

    def run(notebook: Path, profile: str, out: Path, seed: int | None = None) -> float:
        ran.append((notebook.stem, profile, out, seed))
        return 1.5

    monkeypatch.setattr(chapters, "notebooks",
                        lambda: [Path("01_calculus.ipynb"), Path("02_kernels.ipynb")])
    monkeypatch.setattr(chapters, "run", run)
    return ran


@pytest.mark.parametrize("out_first", [False, True])  # the README writes --out first
@pytest.mark.parametrize(("names", "expected"), [([], ["01_calculus", "02_kernels"]),
                                                 (["02_kernels"], ["02_kernels"])])
def test_main_runs_the_chosen_notebooks_and_prints_their_time(
        fake_book: list, capsys: pytest.CaptureFixture[str], names: list[str],
        expected: list[str], out_first: bool) -> None:
    out = ["--out", "/tmp/x"]
    chapters.main(["smoke", *out, *names] if out_first else ["smoke", *names, *out])
    assert fake_book == [(stem, "smoke", Path("/tmp/x"), None) for stem in expected]
    assert capsys.readouterr().out.splitlines() == [f"{stem}: 1.5 s (smoke profile)"
                                                    for stem in expected]


def test_main_passes_the_seed_and_names_it(fake_book: list,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    chapters.main(["site", "02_kernels", "--seed", "3", "--out", "/tmp/x"])
    assert fake_book == [("02_kernels", "site", Path("/tmp/x"), 3)]
    assert capsys.readouterr().out.splitlines() == ["02_kernels: 1.5 s (site profile, seed 3)"]


@pytest.mark.parametrize(("argv", "message"), [
    (["smoke", "99_nope", "--out", "o"], r"no notebook matches \['99_nope'\]"),
    (["fast", "--out", "o"], "invalid choice: 'fast'"),
    (["smoke"], "the following arguments are required: --out"),
])
def test_main_rejects_bad_command_lines(fake_book: list, capsys: pytest.CaptureFixture[str],
                                        argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        chapters.main(argv)
    assert exit_info.value.code == 2
    assert fake_book == []
    assert re.search(message, capsys.readouterr().err)


def markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": []}


#: Two exercises; the first solution ends in the cell that asks the second question.
EXERCISES = {"cells": [
    markdown("## Exercises\n\n```{exercise} One\n:label: ex-one\n\nQuestion one.\n```"),
    code("answer = ...\ncheck.exercise('ex-one', answer)"),
    markdown("```{solution-start} ex-one\n:class: dropdown\n```\n\nThe derivation."),
    code("answer = 1\nassert check.exercise('ex-one', answer)"),
    markdown("```{solution-end}\n```\n\n```{exercise} Two\n:label: ex-two\n\nQuestion two.\n```"),
    code("check.exercise('ex-two', ...)"),
    markdown("```{solution-start} ex-two\n:class: dropdown\n```"),
    code("assert check.exercise('ex-two', 2)"),
    markdown("```{solution-end}\n```\n"),
    markdown("## Summary"),
]}


def test_exercises_sorts_the_code_cells_by_role() -> None:
    found = chapters.exercises(EXERCISES)
    assert [e.label for e in found] == ["ex-one", "ex-two"]
    assert [[c["source"] for c in e.attempt] for e in found] == [
        ["answer = ...\ncheck.exercise('ex-one', answer)"], ["check.exercise('ex-two', ...)"]]
    assert [len(e.solution) for e in found] == [1, 1]


def test_without_solutions_keeps_the_questions_and_drops_the_solutions() -> None:
    student = chapters.without_solutions(EXERCISES)
    texts = ["".join(cell["source"]) for cell in student["cells"]]
    assert not any("solution" in text or "assert" in text for text in texts)
    assert texts[2].startswith("```{exercise} Two") and texts[-1] == "## Summary"
    assert [e.label for e in chapters.exercises(student)] == ["ex-one", "ex-two"]
    assert len(EXERCISES["cells"]) == 10  # the notebook given is not changed
