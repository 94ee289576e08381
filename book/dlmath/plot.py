"""One figure style for the whole book.

Figures have an opaque white background with dark text, so they read the same in the site's
light and dark themes, in JupyterLab and in Colab. Colours are the Okabe–Ito palette, which
stays distinguishable for colour-blind readers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from cycler import cycler
from matplotlib.animation import FuncAnimation

from dlmath._validate import positive, positive_int

#: Okabe–Ito colours, in the order lines are drawn.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000")

STYLE: dict[str, Any] = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.edgecolor": "white",
    "text.color": "#222222",
    "axes.labelcolor": "#222222",
    "axes.edgecolor": "#444444",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.framealpha": 0.9,
    "figure.dpi": 100,
    "figure.figsize": (6.4, 3.8),
    "figure.constrained_layout.use": True,
    "image.cmap": "viridis",
    "lines.linewidth": 1.6,
}


def use_style() -> None:
    """Apply the book's figure style to every figure made after this call."""
    mpl.style.use(STYLE)


def figure(nrows: int = 1, ncols: int = 1, *, width: float | None = None,
           height: float | None = None, **kwargs):
    """Switch the book's style on and make a figure of ``nrows`` × ``ncols`` panels, in
    matplotlib's order: ``fig, axes = figure(ncols=2)`` gives two panels side by side.

    ``width`` and ``height`` are in inches; by default a panel is 4.2 × 3.6 inches. Other
    keywords go to ``plt.subplots``.
    """
    positive_int(ncols, "ncols")
    positive_int(nrows, "nrows")
    width = positive(width, "width") if width is not None else 4.2 * ncols
    height = positive(height, "height") if height is not None else 3.6 * nrows
    use_style()
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)


#: Text symbols for the icons of matplotlib's animation player.
_PLAYER_SYMBOLS = {
    "fa-minus": "\u2212", "fa-fast-backward": "\u00ab", "fa-step-backward": "\u2039",
    "fa-play fa-flip-horizontal": "\u25c0", "fa-pause": "||", "fa-play": "\u25b6",
    "fa-step-forward": "\u203a", "fa-fast-forward": "\u00bb", "fa-plus": "+",
}


def animation(fig, update: Callable[[int], Iterable[Any] | None], frames: int, *, alt: str,
              interval: float = 120.0, dpi: float = 60.0):
    """A moving figure that plays anywhere: on the static site (offline), in JupyterLab and in
    Colab. ``update(i)`` draws frame ``i`` of ``frames`` on ``fig``; ``alt`` says in words what
    the animation shows. Returns self-contained HTML (matplotlib's ``to_jshtml``: every frame a
    PNG of ``dpi`` dots per inch, played by a small script); display it as a cell's last value.
    The figure itself is closed, so that it is not shown a second time as a still image.
    """
    from IPython.display import HTML  # there wherever a notebook runs

    positive_int(frames, "frames")
    positive(interval, "interval")
    positive(dpi, "dpi")
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must say in words what the animation shows")
    try:
        with mpl.rc_context({"savefig.dpi": dpi}):  # the frames are saved at savefig.dpi
            html = FuncAnimation(fig, update, frames=frames, interval=interval).to_jshtml(
                default_mode="once")
    finally:
        plt.close(fig)
    # The player's buttons draw their icons from a font fetched from a CDN: no network is
    # needed for text symbols, so the page keeps working offline.
    html = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">', "", html)
    html = re.sub(r'<i class="fa ([a-z -]+)"></i>',
                  lambda icon: _PLAYER_SYMBOLS[icon.group(1)], html)
    described = html.replace("<img ", f'<img alt="{escape(alt.strip(), quote=True)}" ', 1)
    if described == html or "://" in described:
        raise RuntimeError("matplotlib's player changed: no <img> to describe, or a link out")
    return HTML(described)
