# make book | make pdf | make test | make lab | make full | make student   (each first installs what it needs into .venv)
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JB     := $(VENV)/bin/jupyter-book
# Sphinx options: nitpicky, warnings are errors, but report them all.
JBFLAGS := -n -W --keep-going
# Test processes (pytest-xdist). Each test file is one unit of work, so the site tests share one
# build, except that every notebook run is one of its own (tests/conftest.py). JOBS=0: one process.
JOBS    ?= 2

.PHONY: venv book pdf test lab full student lint clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $(STAMP)

book: $(STAMP)
	$(JB) build . --all $(JBFLAGS)
	@echo
	@echo "The book is built. Open file://$(CURDIR)/_build/html/index.html"

# The whole book as one PDF: the single-page build (it reuses the executed notebooks of a
# previous `make book`), printed by headless Chromium; a copy goes beside the site.
pdf: $(STAMP)
	$(JB) build . --builder singlehtml $(JBFLAGS)
	$(PY) tools/pdf.py _build/singlehtml _build/pdf/book.pdf
	if [ -d _build/html ]; then cp _build/pdf/book.pdf _build/html/book.pdf; fi

test: $(STAMP)
	$(PY) -m pytest -n $(JOBS) --dist loadfile --durations=30 tests

lint: $(STAMP)
	$(VENV)/bin/ruff check book tests tools bench
	$(VENV)/bin/mypy

# --allow-root: JupyterLab refuses to start as root (containers, cloud VMs) without it.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=book --allow-root

full: $(STAMP)
	$(PY) tools/chapters.py full --out _build/full

# The notebooks without their solutions, checkers still working: what an instructor hands out.
student: $(STAMP)
	$(PY) tools/student.py _build/student

clean:
	rm -rf _build
