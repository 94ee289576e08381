"""Write the book's notebooks without their solutions: what an instructor hands out.

    python tools/student.py _build/student        (what `make student` runs)

Each exercise keeps its question and the cell a reader edits; its checker still says right or
wrong, since the answer keys live in `dlmath`, not on the page. The folded solutions are gone.
The profiles file goes along, so `tools/chapters.py` runs the copies too.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import chapters  # tools/chapters.py, beside this script


def write_student_notebooks(out: Path) -> list[Path]:
    """Write every chapter without its solutions into ``out``; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(chapters.PROFILES_FILE, out / chapters.PROFILES_FILE.name)
    written = []
    for path in chapters.notebooks():
        notebook = chapters.without_solutions(json.loads(path.read_text(encoding="utf-8")))
        target = out / path.name
        target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder to write the notebooks into")
    out = parser.parse_args().out
    written = write_student_notebooks(out)
    print(f"{len(written)} notebooks without solutions in {out}")


if __name__ == "__main__":
    main()
