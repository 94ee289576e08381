"""Print the single-page build of the book to a PDF (what `make pdf` runs).

    python tools/pdf.py _build/singlehtml _build/pdf/book.pdf

Opens the page in headless Chromium, waits until MathJax has typeset every formula and every
figure is in, and prints it: each chapter starts a new page, the PDF's outline (bookmarks) is
the book's table of contents, and cross-references are links inside the PDF.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from chromium import launch, serve  # tools/ is on the path: the script's folder, or pytest's

#: Chapters (the documents the table of contents inlines) start on a new page; their titles
#: become the size of a page title again; the screen-only buttons go; the text uses the page's
#: width, and long code lines wrap instead of being cut off.
PRINT_CSS = """
div.toctree-wrapper > section { break-before: page; }
div.toctree-wrapper > section > h3 { font-size: 2em; }
.headerlink, .header-article, .prev-next-area, button { display: none !important; }
.bd-page-width, .bd-article-container { max-width: 100% !important; }
pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
img, mjx-container[display="true"] { break-inside: avoid; }
"""
FOOTER = ('<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def print_pdf(browser: Browser, site: Path, out: Path, root_page: str = "book/intro.html") -> Path:
    """Print ``root_page`` of the single-page build in ``site`` to ``out`` with ``browser``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    # The single page is written as book/intro.html (the root document's name) but refers to
    # _static/ and _images/ as if it lay at the top of the build: put a copy there.
    shutil.copy(site / root_page, site / "book.html")
    with serve(site) as url:
        page = browser.new_page()
        page.set_default_timeout(300_000)  # typesetting a whole book takes a while
        page.goto(url + "book.html", wait_until="load")
        page.wait_for_function("() => window.MathJax?.startup?.promise")
        page.evaluate("() => MathJax.startup.promise.then(() => true)")
        page.wait_for_function("() => [...document.images].every(img => img.complete)")
        page.add_style_tag(content=PRINT_CSS)
        page.pdf(path=out, format="A4", print_background=True, outline=True, tagged=True,
                 margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"},
                 display_header_footer=True, header_template="<span></span>",
                 footer_template=FOOTER)
        page.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="the single-page build (_build/singlehtml)")
    parser.add_argument("out", type=Path, help="the PDF to write")
    args = parser.parse_args(argv)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        out = print_pdf(browser, args.site, args.out)
        browser.close()
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
