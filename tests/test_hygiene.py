"""Hygiene of the committed notebooks, the table of contents and the profiles."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import sys
from pathlib import Path

import papermill
import pytest
import tomllib
import yaml

import chapters  # tools/chapters.py
import dlmath.answers  # noqa: F401  (registers the answer keys)
from dlmath import check

ROOT = chapters.ROOT
NOTEBOOKS = chapters.notebooks()
IDS = [nb.stem for nb in NOTEBOOKS]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def source(cell: dict) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks found in book/"


def test_every_notebook_is_a_numbered_chapter():
    stray = [p.name for p in (ROOT / "book").glob("*.ipynb") if p not in NOTEBOOKS]
    assert not stray, f"notebooks must be named NN_topic.ipynb: {stray}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path: Path):
    dirty = [i for i, cell in enumerate(code_cells(load(path)))
             if cell.get("outputs") or cell.get("execution_count")]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs (clear them before commit)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_kernelspec_is_python3(path: Path):
    assert load(path)["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_is_the_bootstrap_cell(path: Path):
    first = code_cells(load(path))[0]
    assert source(first) == chapters.bootstrap_cell(), (
        f"{path.name}: the first code cell must be the bootstrap cell of tools/chapters.py, "
        "filled in from _config.yml")
    assert "hide-output" in tags(first)


#: What a cell calls to show a figure.
SHOWS_FIGURE = ("plt.show()", "image_grid(", "plot.figure(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_figure_has_an_alternative_text(path: Path):
    """A cell that shows a figure says in words what it shows (myst-nb puts the text of its
    metadata ``mystnb.image.alt`` into the ``alt`` of the figure on the site)."""
    missing = [i for i, cell in enumerate(load(path)["cells"])
               if cell["cell_type"] == "code" and any(s in source(cell) for s in SHOWS_FIGURE)
               and len(cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")) < 40]
    assert not missing, f"{path.name}: cells {missing} show a figure without an alternative text"


def parameters_cell(path: Path) -> dict:
    cells = [cell for cell in code_cells(load(path)) if "parameters" in tags(cell)]
    assert len(cells) == 1, f"{path.name}: expected one 'parameters' cell, found {len(cells)}"
    return cells[0]


def parameter_names(path: Path) -> set[str]:
    tree = ast.parse(source(parameters_cell(path)))
    names: set[str] = set()
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"{path.name}: the parameters cell only assigns"
        for target in node.targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            names.update(e.id for e in elements if isinstance(e, ast.Name))
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_parameters_cell_follows_the_bootstrap_cell(path: Path):
    assert "parameters" in tags(code_cells(load(path))[1]), (
        f"{path.name}: the second code cell must be the parameters cell")
    assert parameter_names(path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_papermill_reads_every_parameter(path: Path):
    """papermill can only override what it parses: one name a line, no '=' in comments."""
    inferred = set(papermill.inspect_notebook(str(path)))
    assert inferred == parameter_names(path), (
        f"{path.name}: papermill reads {sorted(inferred)} from the parameters cell, which "
        f"assigns {sorted(parameter_names(path))}")


@pytest.mark.parametrize("profile", ["smoke", "full"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_profiles_override_only_parameters(path: Path, profile: str):
    overrides = chapters.parameters(path.stem, profile)
    unknown = set(overrides) - parameter_names(path)
    assert not unknown, (f"book/profiles.yml sets {sorted(unknown)} for {path.stem} ({profile}), "
                         "which its parameters cell does not define")


def test_profiles_name_only_existing_notebooks():
    assert set(chapters.load()) <= set(IDS), "book/profiles.yml names notebooks that do not exist"


def test_toc_lists_every_notebook_and_every_entry_exists():
    entries = toc_files()
    missing = [nb.stem for nb in NOTEBOOKS if f"book/{nb.stem}" not in entries]
    assert not missing, f"chapters missing from _toc.yml: {missing}"
    absent = [e for e in entries
              if not any((ROOT / f"{e}{suffix}").exists() for suffix in (".md", ".ipynb"))]
    assert not absent, f"_toc.yml entries without a file: {absent}"


def exercise_call(label: str) -> re.Pattern[str]:
    return re.compile(rf"check\.exercise\(\s*[\"']{re.escape(label)}[\"']")


def compact(code: str) -> str:
    return re.sub(r"\s+", "", code)


def test_every_exercise_has_one_answer_key():
    labels = [e.label for path in NOTEBOOKS for e in chapters.exercises(load(path))]
    assert len(labels) == len(set(labels)), "two exercises share a label"
    assert set(labels) == set(check.KEYS), (
        f"exercises without a key: {sorted(set(labels) - set(check.KEYS))}; keys without an "
        f"exercise: {sorted(set(check.KEYS) - set(labels))}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_exercise_cells_check_by_label_and_keep_the_answer(path: Path):
    """The cell a reader edits asks its key by label and shows no expected value: it calls no
    other checker (which would take the expected value as an argument) and contains none of
    the key's leaks. The folded solution asserts the same check."""
    problems = []
    for exercise in chapters.exercises(load(path)):
        label, call = exercise.label, exercise_call(exercise.label)
        attempt = "\n".join(source(cell) for cell in exercise.attempt)
        solution = "\n".join(source(cell) for cell in exercise.solution)
        if not call.search(attempt):
            problems.append(f"{label}: no cell to edit ends in check.exercise({label!r}, ...)")
        others = {name for name in re.findall(r"\bcheck\.(\w+)\(", attempt) if name != "exercise"}
        if others:
            problems.append(f"{label}: the cell to edit calls check.{sorted(others)}")
        shown = [leak for leak in check.LEAKS.get(label, ()) if compact(leak) in compact(attempt)]
        if shown:
            problems.append(f"{label}: the cell to edit shows the answer: {shown}")
        if not (call.search(solution) and "assert" in solution):
            problems.append(f"{label}: the solution does not assert check.exercise({label!r})")
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_the_student_copy_keeps_every_question_and_no_solution():
    for path in NOTEBOOKS:
        notebook = load(path)
        student = chapters.without_solutions(notebook)
        text = "\n".join(source(cell) for cell in student["cells"])
        assert "{solution" not in text, path.name
        kept = chapters.exercises(student)
        assert [e.label for e in kept] == [e.label for e in chapters.exercises(notebook)]
        assert all(e.attempt and not e.solution for e in kept), path.name


def imported_modules(code: str) -> set[str]:
    """The top-level names of the modules that ``code`` imports (IPython magics skipped)."""
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    names = set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def canonical(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()



def test_every_third_party_import_is_declared():
    """A chapter run alone installs dlmath[book] (its bootstrap cell): that must bring every
    module a notebook or dlmath imports."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra]
    declared = {canonical(re.match(r"[A-Za-z0-9_.-]+", r).group()) for r in requirements}
    sources = [(path.name, "\n".join(source(cell) for cell in code_cells(load(path))))
               for path in NOTEBOOKS]
    sources += [(path.name, path.read_text(encoding="utf-8"))
                for path in (ROOT / "book" / "dlmath").rglob("*.py")]
    distributions = importlib.metadata.packages_distributions()
    missing: dict[str, set[str]] = {}
    for where, code in sources:
        for module in imported_modules(code) - set(sys.stdlib_module_names) - {"dlmath"}:
            if not {canonical(d) for d in distributions.get(module, [module])} & declared:
                missing.setdefault(module, set()).add(where)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


#: The set-up line of every chapter (after the imports of its third code cell).
SETUP = "dev, f64 = env.setup(seed)"
#: What env.setup and env's helpers do, which no chapter does again on its own.
DONE_BY_ENV = ("plot.use_style(", "env.device(", "env.seed(", "env.summary(",
               "torch.set_num_threads(", "def randn(", "time.perf_counter(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_chapter_sets_up_with_one_call(path: Path):
    cells = code_cells(load(path))
    lines = source(cells[2]).splitlines()
    assert lines.count(SETUP) == 1, f"{path.name}: the third code cell must contain {SETUP!r}"
    before = lines[:lines.index(SETUP)]
    assert all(not line or line.startswith(("import ", "from ")) for line in before), (
        f"{path.name}: only imports come before {SETUP!r}")
    again = sorted({call for cell in cells for call in DONE_BY_ENV if call in source(cell)})
    assert not again, f"{path.name}: does again what env.setup or env's helpers do: {again}"
