"""One figure style for the whole book.

Figures have an opaque white background with dark text, so they read the same in the site's
light and dark themes, in JupyterLab and in Colab. Colours are the Okabe–Ito palette, which
stays distinguishable for colour-blind readers.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
from cycler import cycler

from dlmath._validate import positive, positive_int

#: Okabe–Ito colours, in the order lines are drawn.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000")

STYLE = {
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
    mpl.rcParams.update(STYLE)


def figure(ncols: int = 1, nrows: int = 1, *, width: float | None = None,
           height: float | None = None, **kwargs):
    """Switch the book's style on and make a figure: ``fig, axes = figure(2)`` gives two panels.

    ``width`` and ``height`` are in inches; by default a panel is 4.2 × 3.6 inches.
    """
    positive_int(ncols, "ncols")
    positive_int(nrows, "nrows")
    width = positive(width, "width") if width is not None else 4.2 * ncols
    height = positive(height, "height") if height is not None else 3.6 * nrows
    use_style()
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)
