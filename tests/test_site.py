"""The built site, opened in headless Chromium.

Builds the book as `make book` does, serves `_build/html` on 127.0.0.1 and checks every page:
it loads without console or page errors, its math is typeset by the MathJax the site ships
itself, its images load, and nothing is fetched from outside the machine (the site must work
offline). Every chapter's Colab link must open its notebook; the first chapter is checked for
exercises and theorems; screenshots and the build log are left in `_build/test-artifacts/`
for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Route
from pypdf import PdfReader

from chromium import serve
from pdf import print_pdf

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "_build" / "test-artifacts"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))

CHAPTER = "book/01_matrix_calculus.html"
# Pages Sphinx and its extensions write besides the ones in _toc.yml (prf-prf: sphinx-proof's
# index of theorems), and the root page Jupyter Book writes as a redirect to the first page.
GENERATED_PAGES = ["search.html", "genindex.html", "prf-prf.html"]
REDIRECTS = {"index.html": TOC["root"] + ".html"}

# Sphinx reports "path:line: WARNING: ..." / "ERROR: ..."; a failing cell leaves myst-nb's
# ExecutionError and a traceback. (The kernel's own "[IPKernelApp] WARNING | ..." line about
# unencrypted local TCP is not a problem of the book.)
BUILD_PROBLEM = re.compile(
    r"\bWARNING:|\bERROR:|ExecutionError|Traceback \(most recent call last\)"
)
# Upstream defects that break nothing a reader uses; each entry says why and where it is fixed.
KNOWN_PAGE_ERRORS = {
    # Sphinx 7 (what Jupyter Book 1 allows) writes sphinx-thebe's inline settings script twice,
    # so its second `const THEBE_JS_URL` throws; live code (thebe) is not enabled in this book.
    # Fixed in Sphinx 8 by sphinx-doc/sphinx#13402.
    "Identifier 'THEBE_JS_URL' has already been declared",
}
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
RAW_TEX = ("$$", r"\(", r"\[", r"\begin{")
MATH_IN_SOURCE = re.compile(r"\$|\\begin\{|\{math\}")

# Text a reader sees, without code (where TeX is literal) and without typeset math.
VISIBLE_TEXT_JS = r"""() => {
  const skip = "pre, code, script, style, noscript, textarea, mjx-container";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode())
    if (!node.parentElement.closest(skip)) parts.push(node.data);
  return parts.join(" ").replace(/\s+/g, " ");
}"""
# Share of pixels of each figure in the article that are not opaque: a transparent background
# shows the page through it, and black text on the dark theme's background does not read.
TRANSPARENCY_JS = """images => images.filter(img => img.naturalWidth > 0).map(img => {
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [img.naturalWidth, img.naturalHeight];
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let transparent = 0;
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] < 255) transparent++;
  return [img.getAttribute("src"), transparent / (rgba.length / 4)];
})"""


def _toc_files(node: object) -> Iterator[str]:
    """Every `file:` entry of _toc.yml, in reading order."""
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        for value in node.values():
            yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def _stem(toc_file: str) -> str:
    return re.sub(r"\.(md|ipynb)$", "", toc_file)


def source_of(page: str) -> Path | None:
    """The .md or .ipynb file a page of the book is built from (None for generated pages)."""
    stem = page.removesuffix(".html")
    return next((p for p in (ROOT / f"{stem}.md", ROOT / f"{stem}.ipynb") if p.exists()), None)


def source_has_math(page: str) -> bool:
    """Whether the Markdown of the source of a page contains math."""
    source = source_of(page)
    if source is None:
        return False
    text = source.read_text(encoding="utf-8")
    if source.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return bool(MATH_IN_SOURCE.search(text))


BOOK_PAGES = [_stem(f) + ".html" for f in [TOC["root"], *_toc_files(TOC)]]
PAGES = BOOK_PAGES + GENERATED_PAGES
NOTEBOOK_PAGES = [p for p in BOOK_PAGES if str(source_of(p)).endswith(".ipynb")]


def colab_url(notebook: str) -> str:
    """Where the Colab button must point, from `repository:` in _config.yml."""
    repository = CONFIG["repository"]
    owner, name = urlparse(repository["url"]).path.strip("/").removesuffix(".git").split("/")[:2]
    branch = repository.get("branch", "main")
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/{notebook}"


def report(page: str, problems: list[str]) -> str:
    """An assertion message: the page, then one problem a line."""
    return f"{page}: {len(problems)} problem(s)\n  - " + "\n  - ".join(problems)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def site() -> Path:
    """Build the book as `make book` does; fail on a non-zero exit, a warning or a cell error."""
    # Sphinx re-reads (and so re-executes) only sources that changed since its last build, which
    # misses changes in dlmath and hides the warnings of pages it does not re-read; and the pages
    # on disk must be this build's, no others. So: no previous build.
    for stale in (SITE, ROOT / "_build" / ".doctrees"):
        shutil.rmtree(stale, ignore_errors=True)
    build_book("build.log")
    return SITE


def build_book(log_name: str, *options: str) -> None:
    """Run `jupyter-book build . -n -W --keep-going` with ``options``; keep its log in
    ARTIFACTS/``log_name``; fail on a non-zero exit, a warning or a cell error."""
    command = ["build", ".", *options, "-n", "-W", "--keep-going"]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=30 * 60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    log = ANSI_COLOUR.sub("", result.stdout)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / log_name).write_text(log, encoding="utf-8")
    problems = [line for line in log.splitlines() if BUILD_PROBLEM.search(line)]
    if result.returncode != 0 or problems:
        tail = "\n".join(log.splitlines()[-60:])
        pytest.fail(
            f"`jupyter-book {' '.join(command)}` exited with {result.returncode}.\n"
            + "Problems:\n  "
            + "\n  ".join(problems[:30])
            + f"\n--- last lines of the log (all of it: {ARTIFACTS / log_name}) ---\n{tail}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    """The built site, served on a free port of 127.0.0.1."""
    with serve(site) as url:
        yield url


# --------------------------------------------------------------------------- a visit


@dataclass
class Visit:
    """One page opened in a fresh browser context, and what went wrong while it was open."""

    page: Page
    status: int | None = None
    errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        """Let requests to this machine through; abort and record every other."""
        url = urlparse(route.request.url)
        if url.scheme == "data" or url.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.outside_requests.append(route.request.url)
            route.abort()

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location.get('url')})")

    def on_page_error(self, error: Error) -> None:
        if error.message not in KNOWN_PAGE_ERRORS:
            self.errors.append(f"page error: {error.message}")

    def problems(self) -> list[str]:
        problems = [f"request leaving the machine (aborted): {u}" for u in self.outside_requests]
        if self.status != 200:
            problems.insert(0, f"HTTP status {self.status}, expected 200")
        return problems + self.errors


@contextmanager
def visit(browser: Browser, url: str, *, theme: str | None = None) -> Iterator[Visit]:
    """Open `url` as a first-time reader, or one who chose the colour `theme` ("light", "dark"),
    and wait until the math is typeset and the images are in."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if theme:  # pydata-sphinx-theme keeps the reader's choice in localStorage
        context.add_init_script(
            f"localStorage.setItem('mode', '{theme}'); localStorage.setItem('theme', '{theme}');"
        )
    context.set_default_timeout(60_000)
    page = context.new_page()
    result = Visit(page)
    context.route("**/*", result.route)
    page.on("console", result.on_console)
    page.on("pageerror", result.on_page_error)
    try:
        response = page.goto(url, wait_until="load")
        result.status = response.status if response else None
        if page.locator("script[src*='mathjax']").count():
            page.wait_for_function("() => window.MathJax?.startup?.promise")
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
        page.wait_for_function("() => [...document.images].every(img => img.complete)")
        yield result
    finally:
        context.close()


def rendering_problems(page: Page, site_url: str, *, expects_math: bool) -> list[str]:
    """What is wrong with the math and the images of an open page."""
    problems = []
    math_nodes = page.locator(".math").count()
    typeset = page.locator("mjx-container").count()
    if expects_math and typeset == 0:
        problems.append(f"the source has math but MathJax typeset nothing ({math_nodes} .math)")
    if untypeset := page.locator(".math:not(:has(mjx-container))").count():
        problems.append(f"{untypeset} of {math_nodes} math elements were not typeset")
    if math_nodes:
        sources = page.eval_on_selector_all("script[src*='mathjax']", "s => s.map(e => e.src)")
        if not any(s.startswith(f"{site_url}_static/mathjax/") for s in sources):
            problems.append(f"MathJax is not served by the site from _static/mathjax: {sources}")
    text = page.evaluate(VISIBLE_TEXT_JS)
    for delimiter in RAW_TEX:
        if (at := text.find(delimiter)) >= 0:
            problems.append(
                f"raw TeX {delimiter!r} in the text: {text[max(0, at - 40) : at + 60]!r}"
            )
    broken = page.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => i.naturalWidth === 0).map(i => i.getAttribute('src'))"
    )
    problems += [f"image did not load: {src}" for src in broken]
    unnamed = page.eval_on_selector_all(
        "article img", "imgs => imgs.filter(i => !i.alt || i.alt.endsWith(i.getAttribute('src')))"
        ".map(i => i.getAttribute('src'))")
    problems += [f"image without an alternative text: {src}" for src in unnamed]
    if not page.locator("img.logo__image").count():
        problems.append("the page shows no logo")
    icons = page.eval_on_selector_all("link[rel~='icon']", "links => links.map(l => l.href)")
    if not icons:
        problems.append("the page declares no favicon")
    for icon in icons:
        if (status := page.evaluate("async url => (await fetch(url)).status", icon)) != 200:
            problems.append(f"favicon {icon}: HTTP status {status}")
    figures = page.eval_on_selector_all("article img", TRANSPARENCY_JS)
    problems += [
        f"figure has a transparent background ({share:.0%} of its pixels): {src}"
        for src, share in figures
        if share > 0
    ]
    return problems


# --------------------------------------------------------------------------- tests


def test_the_build_writes_exactly_the_pages_under_test(site: Path) -> None:
    built = {
        path.relative_to(site).as_posix()
        for path in site.rglob("*.html")
        if path.relative_to(site).parts[0] not in ("_static", "_sources")
    }
    expected = set(PAGES) | set(REDIRECTS)
    assert built == expected, (
        f"pages built but not checked here: {sorted(built - expected)}; "
        f"pages expected but not built: {sorted(expected - built)}"
    )


@pytest.mark.parametrize("path", PAGES)
def test_page_works_offline(browser: Browser, site_url: str, path: str) -> None:
    with visit(browser, site_url + path) as opened:
        rendering = rendering_problems(opened.page, site_url, expects_math=source_has_math(path))
    problems = opened.problems() + rendering
    assert not problems, report(path, problems)


@pytest.mark.parametrize(("path", "target"), REDIRECTS.items())
def test_redirect_reaches_the_first_page(
    browser: Browser, site_url: str, path: str, target: str
) -> None:
    with visit(browser, site_url + path) as opened:
        opened.page.wait_for_url(site_url + target)
    problems = opened.problems()
    assert not problems, report(path, problems)


@pytest.mark.parametrize("path", NOTEBOOK_PAGES)
def test_launch_link_opens_the_notebook_in_colab(
    browser: Browser, site_url: str, path: str
) -> None:
    expected = colab_url(path.removesuffix(".html") + ".ipynb")
    with visit(browser, site_url + path) as opened:
        links = opened.page.eval_on_selector_all(
            "a[href*='colab.research.google.com']", "links => links.map(a => a.href)"
        )
    assert set(links) == {expected}, f"{path}: Colab links {links}, expected {expected}"


def test_chapter_exercises_and_theorems(browser: Browser, site_url: str) -> None:
    with visit(browser, site_url + CHAPTER) as opened:
        page = opened.page
        solutions = page.locator("div.solution")
        blocks = {
            "exercise (sphinx-exercise)": page.locator("div.exercise"),
            "solution (sphinx-exercise)": solutions,
            "theorem (sphinx-proof)": page.locator("div.proof.theorem"),
            # a {proof} block has exactly these classes; a typed one adds its type (theorem, ...)
            "proof (sphinx-proof)": page.locator('div[class="proof admonition"]'),
        }
        problems = [f"no {name} block on the page" for name, b in blocks.items() if not b.count()]
        for solution in solutions.all():
            title = solution.locator(".admonition-title").inner_text().strip()
            body = solution.locator(":scope > section")
            if "dropdown" not in (solution.get_attribute("class") or "").split():
                problems.append(f"{title!r} is not a dropdown")
            elif body.is_visible():
                problems.append(f"{title!r} is not collapsed when the page opens")
            else:
                solution.locator(".toggle-button").click()
                if not body.is_visible():
                    problems.append(f"{title!r} does not open when its button is clicked")
    problems += opened.problems()
    assert not problems, report(CHAPTER, problems)


@pytest.mark.parametrize(
    ("name", "path", "theme"),
    [
        ("intro", BOOK_PAGES[0], "light"),
        ("01_matrix_calculus", CHAPTER, "light"),
        ("01_matrix_calculus-dark", CHAPTER, "dark"),
    ],
)
def test_screenshot(browser: Browser, site_url: str, name: str, path: str, theme: str) -> None:
    """Full-page screenshots in _build/test-artifacts/, for a person to look at."""
    with visit(browser, site_url + path, theme=theme) as opened:
        shown = opened.page.evaluate("() => document.documentElement.dataset.theme")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        opened.page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    problems = opened.problems()
    if shown != theme:
        problems.append(f"the page shows the {shown!r} theme, not {theme!r}")
    assert not problems, report(path, problems)


def plain(text: str) -> str:
    """``text`` as PDF text and source compare: ligatures undone, typographic apostrophes
    straight, runs of white space one space."""
    return " ".join(unicodedata.normalize("NFKC", text).replace("\u2019", "'").split())


def test_pdf_has_every_chapter_on_a_page_of_its_own(browser: Browser, site: Path) -> None:
    """`make pdf`: the single-page build (reusing the site build's executed notebooks), printed;
    every chapter's title opens a page of its own."""
    build_book("build-singlehtml.log", "--builder", "singlehtml")
    out = print_pdf(browser, ROOT / "_build" / "singlehtml", ROOT / "_build" / "pdf" / "book.pdf")
    pages = [plain(page.extract_text()) for page in PdfReader(out).pages]
    titles = [plain(json.loads(source_of(p).read_text(encoding="utf-8"))["cells"][0]["source"][0]
                    .removeprefix("# ")) for p in NOTEBOOK_PAGES]
    missing = [title for title in titles if not any(page.startswith(title) for page in pages)]
    assert not missing, f"no page of {out} starts with these chapter titles: {missing}"
    print(f"{out}: {len(pages)} pages, {out.stat().st_size / 1e6:.1f} MB")


ANIMATED_PAGES = [p for p in NOTEBOOK_PAGES
                  if "plot.animation(" in source_of(p).read_text(encoding="utf-8")]


def test_moving_figures_in_at_least_four_chapters() -> None:
    assert len(ANIMATED_PAGES) >= 4, f"chapters with an animation: {ANIMATED_PAGES}"


@pytest.mark.parametrize("path", ANIMATED_PAGES)
def test_moving_figure_plays(browser: Browser, site_url: str, path: str) -> None:
    """Every animation player on the page shows a frame and moves on when asked."""
    problems = []
    with visit(browser, site_url + path) as opened:
        players = opened.page.locator("div.animation")
        if not players.count():
            problems.append("the source makes an animation, the page shows no player")
        for k in range(players.count()):
            image = players.nth(k).locator("img").first
            before = image.get_attribute("src")
            players.nth(k).locator("button[title='Next frame']").click()
            if not before or image.get_attribute("src") == before:
                problems.append(f"player {k + 1} does not advance to its next frame")
    problems += opened.problems()
    assert not problems, report(path, problems)
