"""The book's chapters as files: their bootstrap cell, their parameter profiles, a runner.

Each notebook's ``parameters`` cell holds the *site* profile (what the published book runs).
``book/profiles.yml`` holds, per notebook, the overrides of the *smoke* profile (tiny, for the
tests) and of the *full* profile (the experiments at the sizes the source problems ask for,
meant for a GPU). Run a profile from the repository root::

    python tools/chapters.py full --out _build/full          # every notebook
    python tools/chapters.py smoke --out /tmp/smoke 01_matrix_calculus
    python tools/chapters.py site --seed 3 --out /tmp/seed3  # another seed

Every notebook's ``seed`` parameter seeds all its random draws, so ``--seed`` runs a profile on
other data, other initialisations and other noise; its claims must hold for every seed.

Each exercise is a ``{exercise}`` block with a ``:label:``, the code cells a reader edits, and
a folded solution between ``{solution-start}`` and ``{solution-end}``; :func:`exercises` finds
them and :func:`without_solutions` removes the solutions (``tools/student.py``).

This is repository tooling, not part of the package: it works in a checkout of the book's
repository, with requirements.txt installed (papermill, PyYAML).
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
PROFILES_FILE = BOOK / "profiles.yml"
PROFILES = ("smoke", "site", "full")

#: The first code cell of every notebook. ``{source}`` is filled in from the ``repository``
#: entry of ``_config.yml`` (see :func:`bootstrap_cell`); the tests keep every copy equal.
BOOTSTRAP = """\
# Set-up: make the book's helper package `dlmath` importable. In a checkout of the book this
# does nothing; run alone (Colab, a downloaded notebook) it installs dlmath with pip.
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("dlmath") is None:
    source = os.environ.get("DLMATH_SOURCE", "{source}")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "dlmath[book] @ " + source],
                   check=True)
    importlib.invalidate_caches()"""


def bootstrap_cell(config: Path = ROOT / "_config.yml") -> str:
    """The text of the bootstrap cell, with the repository and branch named in ``config``."""
    import yaml

    with open(config, encoding="utf-8") as stream:
        repository = yaml.safe_load(stream)["repository"]
    url, branch = repository["url"].rstrip("/"), repository.get("branch", "main")
    return BOOTSTRAP.format(source=f"git+{url}@{branch}")


def load(path: Path = PROFILES_FILE) -> dict[str, dict[str, dict[str, Any]]]:
    """The profile overrides: ``{notebook stem: {"smoke": {...}, "full": {...}}}``."""
    import yaml

    with open(path, encoding="utf-8") as stream:
        data = yaml.safe_load(stream) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must map notebook names to profiles")
    return data


def parameters(notebook: str, profile: str, path: Path = PROFILES_FILE) -> dict[str, Any]:
    """The parameter overrides of ``profile`` for ``notebook`` (``{}`` for the site profile)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILES}")
    if profile == "site":
        return {}
    entries = load(path)
    if notebook not in entries or profile not in (entries[notebook] or {}):
        raise KeyError(f"{path.name} has no {profile!r} profile for notebook {notebook!r}")
    return dict(entries[notebook][profile] or {})


def notebooks(book: Path = BOOK) -> list[Path]:
    """The chapter notebooks, in reading order (their names start with the chapter number)."""
    return sorted(book.glob("[0-9][0-9]_*.ipynb"))


def run(notebook: Path, profile: str, out: Path, seed: int | None = None) -> float:
    """Execute ``notebook`` with ``profile`` into the folder ``out``; return the seconds taken.

    ``seed`` overrides the notebook's ``seed`` parameter. The kernel's working directory is the
    notebook's folder, as in the built book, and it inherits this process's environment (so
    ``ATEN_CPU_CAPABILITY`` or ``OMP_NUM_THREADS`` set here apply to it).
    """
    import papermill

    values = parameters(notebook.stem, profile, notebook.parent / PROFILES_FILE.name)
    if seed is not None:
        values["seed"] = seed
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    papermill.execute_notebook(
        str(notebook), str(out / notebook.name), parameters=values,
        cwd=str(notebook.parent), kernel_name="python3", progress_bar=False)
    return time.perf_counter() - start


EXERCISE = re.compile(r"^```\{exercise\}[^\n]*\n:label: (\S+)", re.MULTILINE)
SOLUTION_START = re.compile(r"^```\{solution-start\}", re.MULTILINE)
SOLUTION_END = re.compile(r"^```\{solution-end\}\n```\n*", re.MULTILINE)


def _text(cell: dict[str, Any]) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


@dataclass
class Exercise:
    """An exercise of a notebook: its label and its code cells, by role."""

    label: str
    attempt: list[dict[str, Any]] = field(default_factory=list)   # the cells a reader edits
    solution: list[dict[str, Any]] = field(default_factory=list)  # the folded solution's cells


def exercises(notebook: dict[str, Any]) -> list[Exercise]:
    """The exercises of a notebook (its JSON), in order."""
    found: list[Exercise] = []
    role: str | None = None
    for cell in notebook["cells"]:
        text = _text(cell)
        if cell["cell_type"] == "code":
            if role is not None:
                getattr(found[-1], role).append(cell)
            continue
        if SOLUTION_END.search(text):
            role = None
        for match in EXERCISE.finditer(text):
            found.append(Exercise(match.group(1)))
            role = "attempt"
        if SOLUTION_START.search(text):
            role = "solution"
    return found


def without_solutions(notebook: dict[str, Any]) -> dict[str, Any]:
    """A copy of a notebook (its JSON) without its solution blocks; their cells are dropped."""
    cells: list[dict[str, Any]] = []
    inside = False
    for cell in notebook["cells"]:
        text = _text(cell)
        if inside:
            end = SOLUTION_END.search(text)
            if not end:
                continue
            inside, text = False, text[end.end():]
        start = SOLUTION_START.search(text) if cell["cell_type"] == "markdown" else None
        if start:
            inside, text = True, text[:start.start()]
        if text.strip():
            cells.append({**cell, "source": text.splitlines(keepends=True)})
    return {**notebook, "cells": cells}


def main(argv: list[str] | None = None) -> None:
    """Command line: execute notebooks with a profile and print the time each took."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", choices=PROFILES)
    parser.add_argument("names", nargs="*", help="notebook stems (default: all)")
    parser.add_argument("--out", type=Path, required=True, help="folder for executed notebooks")
    parser.add_argument("--seed", type=int, help="override every notebook's seed parameter")
    args = parser.parse_intermixed_args(argv)
    chosen = [nb for nb in notebooks() if not args.names or nb.stem in args.names]
    if not chosen:
        parser.error(f"no notebook matches {args.names}")
    seeded = "" if args.seed is None else f", seed {args.seed}"
    for nb in chosen:
        seconds = run(nb, args.profile, args.out, args.seed)
        print(f"{nb.stem}: {seconds:.1f} s ({args.profile} profile{seeded})", flush=True)


if __name__ == "__main__":
    main()
