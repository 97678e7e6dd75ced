"""Shared plumbing of the explorers: argument checks, layout helpers and the notebook display.

Every explorer of :mod:`course.widgets` is built the same way: its controls are passed to
:func:`_explorer`, which wires them to a ``draw(**values) -> Figure`` function through
:func:`ipywidgets.interactive_output`. A figure is only *displayed* when a notebook kernel runs
the code (:func:`_in_ipython`); in a script, a test or a doctest the explorer is built and its
figures are drawn and closed, but nothing is printed (no figure reprs, no terminal escape codes).

Every explorer also has a **static view** (:func:`_static_grid`): the same figure drawn at 3 or 4
fixed settings, one figure with one row (or cell) per setting. :func:`_present` displays it with
a one-line caption before returning the interactive widget, so that a stored notebook shows the
explorer's figures on GitHub and wherever widgets cannot run; without :mod:`ipywidgets` the
explorer returns the static figure alone. The figure functions therefore draw into a figure
they are given (a subfigure of the grid) or into a new one (:func:`_figure`).
Images are drawn pixel by pixel (``interpolation="nearest"``): what the data hold, and PNGs
that stay small in a stored notebook.

Slider steps are "round" numbers, 1, 2 or 5 times a power of ten (:func:`_round_step`):

.. math:: \\Delta = \\min \\{ m \\cdot 10^e : m \\in \\{1, 2, 5\\},\\ m \\cdot 10^e \\ge
          \\mathrm{span} / \\mathrm{count} \\}
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course._validate import integer, nonempty, numeric, to_numpy


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------
def _real_image(image, name: str, ndims: tuple[int, ...]) -> np.ndarray:
    """A finite real, non-empty NumPy array with one of the allowed numbers of dimensions."""
    x = numeric(name, to_numpy(name, image))
    if x.ndim not in ndims:
        expected = " or ".join(f"{n}D" for n in ndims)
        raise ValueError(f"{name} must be {expected}, got shape {x.shape}")
    nonempty(name, x)
    return x.astype(np.float64 if x.dtype == np.float64 else np.float32, copy=False)


# ---------------------------------------------------------------------------------------------
# Display helpers (explorers only)
# ---------------------------------------------------------------------------------------------
def _in_ipython() -> bool:
    """Whether a notebook kernel runs this code (a terminal IPython shell cannot show widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def _display(obj) -> None:
    """Display an object in the running notebook (IPython's ``display``)."""
    from IPython.display import display

    display(obj)


def _show(fig) -> None:
    """Display a figure in the running notebook (if any), then free it."""
    import matplotlib.pyplot as plt

    if _in_ipython():
        _display(fig)
    plt.close(fig)


def _figure(fig, size: tuple[float, float]):
    """``fig`` (a figure or a subfigure of a static grid) or, if None, a new pyplot figure."""
    if fig is not None:
        return fig
    import matplotlib.pyplot as plt

    return plt.figure(figsize=size, layout="constrained")


def _static_grid(
    draw: Callable,
    settings: Sequence[dict],
    ncols: int = 1,
    size: tuple[float, float] = (9.0, 2.4),
    caption: str = "",
):
    """The figure of an explorer at fixed settings, drawn into one figure.

    ``draw(fig=subfigure, **setting)`` draws each setting into one cell of a grid of ``ncols``
    columns (row by row). Built without :mod:`matplotlib.pyplot`, the figure is not shown by
    the notebook's automatic display: the caller displays or returns it.

    Parameters
    ----------
    draw : callable
        ``draw(fig=..., **setting)`` draws into the given (sub)figure.
    settings : sequence of dict
        One dict of keyword arguments per cell, at least one.
    ncols : int, default 1
        Cells per row.
    size : (float, float), default (9.0, 2.4)
        Width and height of one cell in inches.
    caption : str, optional
        A one-line title above the grid.

    Returns
    -------
    matplotlib.figure.Figure
        With one subfigure per setting (``fig.subfigs``).

    Examples
    --------
    >>> def draw(fig, value):
    ...     fig.subplots().plot([0, value])
    >>> grid = _static_grid(draw, [{"value": 1}, {"value": 2}, {"value": 3}], ncols=2)
    >>> len(grid.subfigs), len(grid.axes)
    (3, 3)
    """
    from matplotlib.figure import Figure

    settings = list(settings)
    if not settings:
        raise ValueError("settings is empty: give at least one setting to draw")
    ncols = min(integer("ncols", ncols, minimum=1), len(settings))
    nrows = -(-len(settings) // ncols)
    grid = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    layout = grid.add_gridspec(nrows, ncols)
    for i, setting in enumerate(settings):
        draw(fig=grid.add_subfigure(layout[i // ncols, i % ncols]), **setting)
    if caption:
        grid.suptitle(caption, fontsize="medium")
    return grid


def _present(
    build: Callable,
    draw: Callable,
    settings: Sequence[dict],
    *,
    static: bool,
    what: str,
    ncols: int = 1,
    size: tuple[float, float] = (9.0, 2.4),
):
    """Show an explorer: its static grid (in a notebook), then the interactive widget.

    In a notebook kernel, with ``static`` true, the :func:`_static_grid` of ``draw`` at
    ``settings`` is displayed first, captioned "Static view: <what> ..."; ``build(lazy)`` then
    makes the widget, which is returned. ``lazy`` is true when the static view was shown: its
    settings include the controls' starting values, so the widget draws nothing until a control
    moves (the same figure twice would double what a stored notebook keeps). Without
    :mod:`ipywidgets` the grid itself is returned (a notebook displays it as the cell's value; a
    script can save it).
    """
    try:
        import ipywidgets  # noqa: F401 - only whether the widgets can be built
    except ImportError:
        caption = f"Static view: {what} (install ipywidgets for the interactive controls)"
        return _static_grid(draw, settings, ncols, size, caption)
    shown = static and _in_ipython()
    if shown:
        caption = f"Static view: {what} (the controls below redraw any other setting)"
        _display(_static_grid(draw, settings, ncols, size, caption))
    return build(shown)


#: What a lazy explorer's output says until a control moves.
_LAZY_HINT = "The static view above shows the starting setting: move a control to redraw here."


def _explorer(controls: dict, draw, rows: list, lazy: bool = False) -> Any:
    """``VBox(rows + [output])`` whose output redraws ``draw(**values)`` on every change.

    With ``lazy`` the first call (made when the widget is built) prints :data:`_LAZY_HINT`
    instead of drawing.
    """
    import ipywidgets as widgets

    pending = {"first": lazy}

    def update(**values):
        if pending.pop("first", False):
            print(_LAZY_HINT)
            return
        try:
            fig = draw(**values)
        except (ValueError, TypeError) as error:  # e.g. a centre wider than the budget
            print(f"cannot show this setting: {error}")
            return
        _show(fig)

    if _in_ipython():
        output = widgets.interactive_output(update, controls)
    else:  # a script or a test: no notebook to draw in, and IPython's clear_output would
        # print terminal escape codes
        with contextlib.redirect_stdout(io.StringIO()):
            output = widgets.interactive_output(update, controls)
    return widgets.VBox([*rows, output])


def _style():
    """The whole description is shown (ipywidgets cuts long ones by default)."""
    return {"description_width": "initial"}


def _wide(width: str = "95%"):
    """The layout of a slider with many values: a track long enough to pick each by dragging."""
    import ipywidgets as widgets

    return widgets.Layout(width=width)


def _row(controls: list):
    """A row of controls that wraps onto the next line when the notebook is narrow."""
    import ipywidgets as widgets

    return widgets.HBox(controls, layout=widgets.Layout(flex_flow="row wrap"))


def _round_step(span: float, count: int = 500) -> float:
    """The smallest 1, 2 or 5 times a power of ten that splits ``span`` into at most ``count``.

    >>> _round_step(4024.0), _round_step(1.0), _round_step(300.0)
    (10.0, 0.002, 1.0)
    """
    raw = span / count
    exponent = math.floor(math.log10(raw))
    for mantissa in (1, 2, 5, 10):
        step = float(f"{mantissa}e{exponent}")
        if step >= raw * (1 - 1e-9):
            return step
    return float(f"1e{exponent + 1}")  # pragma: no cover - the loop always returns
