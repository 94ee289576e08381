"""Tests of dlmath.plot: the figure style (readable on light and dark pages) and figure()."""

from __future__ import annotations

import io
import math

import matplotlib as mpl
import matplotlib.colors as mcolors
import matplotlib.image as mimage
import matplotlib.pyplot as plt
import numpy as np
import pytest

from dlmath import plot

mpl.use("Agg")

WHITE = (1.0, 1.0, 1.0, 1.0)


@pytest.fixture(autouse=True)
def transparent_defaults():
    """Start every test from a transparent, dark-text style, and restore rcParams after it."""
    with mpl.rc_context({"figure.facecolor": "none", "axes.facecolor": "none",
                         "savefig.facecolor": "none", "savefig.transparent": False}):
        yield
    plt.close("all")


def luminance(colour: str) -> float:
    """Relative luminance (WCAG) of a matplotlib colour."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in mcolors.to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# --- use_style -----------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["figure.facecolor", "axes.facecolor", "savefig.facecolor"])
def test_use_style_makes_backgrounds_opaque_white(key: str) -> None:
    assert mcolors.to_rgba(mpl.rcParams[key]) != WHITE  # the fixture made it transparent
    plot.use_style()
    assert mcolors.to_rgba(mpl.rcParams[key]) == WHITE


def test_figures_made_after_use_style_are_opaque_white() -> None:
    plot.use_style()
    fig, ax = plt.subplots()
    assert mcolors.to_rgba(fig.get_facecolor()) == WHITE
    assert mcolors.to_rgba(ax.get_facecolor()) == WHITE


def test_a_saved_figure_has_no_transparent_pixel() -> None:
    """What the site shows is the saved PNG: on a dark page every pixel must stay opaque."""
    fig, ax = plot.figure(width=2, height=1.5)
    ax.plot([0, 1], [1, 0], label="line")
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=30)
    buffer.seek(0)
    pixels = mimage.imread(buffer)
    assert pixels.shape[-1] == 4 and np.all(pixels[..., 3] == 1.0)
    assert np.all(pixels[0, 0, :3] == 1.0)  # the corner is the white background


@pytest.mark.parametrize("key", ["text.color", "axes.labelcolor", "axes.edgecolor",
                                 "xtick.color", "ytick.color"])
def test_text_and_axes_are_dark_on_the_white_background(key: str) -> None:
    """Contrast ratio with white at least 7:1 (WCAG AAA for text)."""
    plot.use_style()
    assert (1.0 + 0.05) / (luminance(mpl.rcParams[key]) + 0.05) >= 7


def test_lines_cycle_through_the_palette() -> None:
    plot.use_style()
    assert len(set(plot.PALETTE)) == len(plot.PALETTE)
    fig, ax = plt.subplots()
    lines = [ax.plot([0, 1], [i, i])[0] for i in range(3)]
    assert [mcolors.to_hex(line.get_color()) for line in lines] == [
        c.lower() for c in plot.PALETTE[:3]]


def test_use_style_sets_every_entry_of_the_style() -> None:
    plot.use_style()
    for key, value in plot.STYLE.items():
        assert mpl.rcParams[key] == mpl.rcParams.validate[key](value), key


# --- figure --------------------------------------------------------------------------------

@pytest.mark.parametrize(("ncols", "nrows", "shape"), [
    (1, 1, None), (2, 1, (2,)), (3, 1, (3,)), (1, 2, (2,)), (3, 2, (2, 3)),
])
def test_figure_returns_one_axes_per_panel(ncols: int, nrows: int,
                                           shape: tuple[int, ...] | None) -> None:
    fig, axes = plot.figure(ncols=ncols, nrows=nrows)
    if shape is None:
        assert isinstance(axes, mpl.axes.Axes)
    else:
        assert np.shape(axes) == shape
    assert len(fig.axes) == ncols * nrows
    assert tuple(fig.get_size_inches()) == pytest.approx((4.2 * ncols, 3.6 * nrows))


def test_figure_switches_the_style_on() -> None:
    fig, ax = plot.figure()
    assert mcolors.to_rgba(fig.get_facecolor()) == WHITE
    assert mcolors.to_rgba(ax.get_facecolor()) == WHITE


def test_figure_takes_width_height_and_subplots_options() -> None:
    fig, axes = plot.figure(ncols=2, width=7, height=2.5, sharey=True)
    assert tuple(fig.get_size_inches()) == pytest.approx((7, 2.5))
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[1])


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"ncols": 0}, ValueError, "ncols must be >= 1, got 0"),
    ({"ncols": -2}, ValueError, "ncols must be >= 1, got -2"),
    ({"ncols": 1.5}, TypeError, "ncols must be an integer, got float"),
    ({"ncols": "2"}, TypeError, "ncols must be an integer, got str"),
    ({"ncols": True}, TypeError, "ncols must be an integer, got bool"),
    ({"nrows": 0}, ValueError, "nrows must be >= 1, got 0"),
    ({"width": 0}, ValueError, "width must be a finite number > 0, got 0"),
    ({"width": -4.0}, ValueError, "width must be a finite number > 0, got -4.0"),
    ({"width": math.inf}, ValueError, "width must be a finite number > 0, got inf"),
    ({"width": math.nan}, ValueError, "width must be a finite number > 0, got nan"),
    ({"width": "6in"}, TypeError, "width must be a real number, got str"),
    ({"height": 0.0}, ValueError, "height must be a finite number > 0, got 0.0"),
    ({"height": (3,)}, TypeError, "height must be a real number, got tuple"),
])
def test_figure_rejects_bad_sizes(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        plot.figure(**kwargs)
    assert not plt.get_fignums()  # nothing half-made is left open


# --- animation -----------------------------------------------------------------------------


def moving_sine() -> tuple:
    fig, ax = plot.figure(width=2.0, height=1.5)
    x = np.linspace(0, 6, 50)
    (line,) = ax.plot(x, np.sin(x))
    return fig, lambda i: line.set_ydata(np.sin(x + i))


def test_animation_is_a_described_player_of_every_frame():
    fig, update = moving_sine()
    html = plot.animation(fig, update, 4, alt='A sine wave "moving" left.', dpi=20).data
    assert html.count("<img ") == 1
    assert 'alt="A sine wave &quot;moving&quot; left."' in html    # escaped into the attribute
    assert html.count("data:image/png;base64,") == 4                # one PNG per frame
    assert 'title="Next frame"' in html and "<script" in html
    assert "://" not in html and 'class="fa' not in html             # no icon font from a CDN
    assert not plt.fignum_exists(fig.number)                        # no still copy is shown


@pytest.mark.parametrize(("frames", "alt", "error"), [
    (0, "a caption", ValueError), (2.5, "a caption", TypeError), (3, "  ", ValueError),
    (3, None, ValueError),
])
def test_animation_rejects_bad_input(frames, alt, error):
    fig, update = moving_sine()
    with pytest.raises(error):
        plot.animation(fig, update, frames, alt=alt)


def test_figure_takes_rows_then_columns_like_matplotlib() -> None:
    fig, axes = plot.figure(2, 3)
    assert np.shape(axes) == (2, 3)
