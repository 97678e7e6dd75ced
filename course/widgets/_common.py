"""Shared plumbing of the explorers: argument checks, layout helpers and the notebook display.

Every explorer of :mod:`course.widgets` is built the same way: its controls are passed to
:func:`_explorer`, which wires them to a ``draw(**values) -> Figure`` function through
:func:`ipywidgets.interactive_output`. A figure is only *displayed* when a notebook kernel runs
the code (:func:`_in_ipython`); in a script, a test or a doctest the explorer is built and its
figures are drawn and closed, but nothing is printed (no figure reprs, no terminal escape codes).

Slider steps are "round" numbers, 1, 2 or 5 times a power of ten (:func:`_round_step`):

.. math:: \\Delta = \\min \\{ m \\cdot 10^e : m \\in \\{1, 2, 5\\},\\ m \\cdot 10^e \\ge
          \\mathrm{span} / \\mathrm{count} \\}
"""

from __future__ import annotations

import contextlib
import io
import math
from typing import Any

import numpy as np

from course._validate import nonempty, numeric, to_numpy


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


def _show(fig) -> None:
    """Display a figure in the running notebook (if any), then free it."""
    import matplotlib.pyplot as plt

    if _in_ipython():
        from IPython.display import display

        display(fig)
    plt.close(fig)


def _explorer(controls: dict, draw, rows: list) -> Any:
    """``VBox(rows + [output])`` whose output redraws ``draw(**values)`` on every change."""
    import ipywidgets as widgets

    def update(**values):
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
