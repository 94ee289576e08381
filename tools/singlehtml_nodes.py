"""Sphinx extension: the single-page HTML builder renders every node the HTML builder renders.

Sphinx looks up how to render an extension's node under the builder's name and falls back to
its format ("html") only when no extension registered anything under that name. One extension
of the book registers nodes for "singlehtml", so the nodes of all the others would be unknown
to the single-page build (`make pdf`): this copies their HTML handlers over.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _copy_html_handlers(app: Sphinx) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, pair in handlers.get("html", {}).items():
        single.setdefault(node, pair)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _copy_html_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
