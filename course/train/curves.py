"""Plots of training runs: learning curves as mean +/- SD over seeds, and the LR range test.

A learning curve from one seed is one draw of a random process (initial weights, batch order,
dropout). :func:`plot_mean_sd` draws the curves of several seeds as their mean with a band of
one sample standard deviation (``ddof=1``), point by point: for runs ``r = 1..R`` of the value
:math:`v_{r,t}` at epoch (or step) ``t``,

.. math:: \\bar v_t = \\frac{1}{R} \\sum_r v_{r,t}, \\qquad
          s_t = \\sqrt{\\frac{1}{R - 1} \\sum_r (v_{r,t} - \\bar v_t)^2}.

:func:`plot_lr_range` draws the result of :func:`course.train.lr_range_test` (Smith 2017) on a
logarithmic learning-rate axis, with the suggested learning rate marked. Both draw on a given
:class:`matplotlib.axes.Axes` (or a new one) and return it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from course._validate import numeric, to_numpy
from course.train.lr_range import LRRangeResult

if TYPE_CHECKING:  # pyplot is imported when a plot is drawn: `import course.train` stays light
    from matplotlib.axes import Axes

__all__ = ["mean_sd", "plot_lr_range", "plot_mean_sd"]


def mean_sd(runs) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample SD over runs (axis 0) of equally long curves.

    Parameters
    ----------
    runs : array-like of shape (R, T)
        One curve of ``T`` values per run (a list of lists, e.g. one history key per seed).

    Returns
    -------
    mean, sd : ndarray of shape (T,)
        ``sd`` is 0 for a single run.

    Raises
    ------
    TypeError
        If ``runs`` does not hold numbers (or the curves differ in length).
    ValueError
        If it is not 2D, is empty, or holds NaN or infinite values.

    Examples
    --------
    >>> mean, sd = mean_sd([[1.0, 0.5], [3.0, 0.5]])
    >>> mean.tolist(), sd.round(3).tolist()
    ([2.0, 0.5], [1.414, 0.0])
    """
    array = numeric("runs", to_numpy("runs", runs), bool_ok=False).astype(float)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"runs must be a non-empty (runs, points) array, got shape {array.shape}")
    sd = array.std(axis=0, ddof=1) if len(array) > 1 else np.zeros(array.shape[1])
    return array.mean(axis=0), sd


def plot_mean_sd(
    curves: Mapping[str, Sequence[Sequence[float]]],
    ax: Axes | None = None,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    log: bool = False,
    start: int = 1,
) -> Axes:
    """Plot each named set of curves as its mean over runs with a +/- 1 SD band.

    Parameters
    ----------
    curves : dict of str to array-like of shape (R, T)
        E.g. ``{"SGD": [history["train_loss"] for history in sgd_runs], ...}``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    xlabel, ylabel : str
        Axis labels (with units).
    log : bool, default False
        Logarithmic y axis.
    start : int, default 1
        The x value of the first point (epochs count from 1).

    Returns
    -------
    matplotlib.axes.Axes
        With one line (the mean) and one band per name, and a legend saying the number of runs.

    Raises
    ------
    TypeError
        If ``curves`` is not a dict (see :func:`mean_sd` for its values).
    ValueError
        If ``curves`` is empty (see :func:`mean_sd`).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_mean_sd({"SGD": [[1.0, 0.6, 0.4], [1.2, 0.7, 0.5]]})
    >>> ax.lines[0].get_ydata().tolist()
    [1.1, 0.6499999999999999, 0.45]
    >>> plt.close(ax.figure)
    """
    if not isinstance(curves, Mapping):
        raise TypeError(f"curves must be a dict {{name: runs}}, got {type(curves).__name__}")
    if not curves:
        raise ValueError("curves must hold at least one named set of runs, got {}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    for name, runs in curves.items():
        mean, sd = mean_sd(runs)
        x = np.arange(start, start + len(mean))
        (line,) = ax.plot(x, mean, label=f"{name} ({len(runs)} seeds)")
        ax.fill_between(x, mean - sd, mean + sd, color=line.get_color(), alpha=0.25, lw=0)
    ax.set(xlabel=xlabel, ylabel=ylabel, yscale="log" if log else "linear")
    ax.grid(alpha=0.3)
    ax.legend(title="mean +/- SD")
    return ax


def plot_lr_range(result: LRRangeResult, ax: Axes | None = None) -> Axes:
    """Plot the loss of an LR range test against the learning rate, the suggestion marked.

    The raw loss of every step is drawn thin, the smoothed loss thick, the suggested learning
    rate as a vertical dashed line. The vertical axis shows the smoothed loss up to the step
    before the explosion (if the test diverged); the explosion itself leaves the axes.

    Parameters
    ----------
    result : LRRangeResult
        What :func:`course.train.lr_range_test` returned.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        If ``result`` is not an :class:`~course.train.lr_range.LRRangeResult`.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> result = LRRangeResult(np.array([1e-3, 1e-2, 1e-1]), np.array([1.0, 0.5, 2.0]),
    ...                        np.array([1.0, 0.7, 1.2]), 1e-3, False)
    >>> ax = plot_lr_range(result)
    >>> ax.get_xscale(), len(ax.lines)
    ('log', 3)
    >>> plt.close(ax.figure)
    """
    if not isinstance(result, LRRangeResult):
        raise TypeError(f"result must be an LRRangeResult, got {type(result).__name__}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    ax.plot(result.lrs, result.losses, color="0.7", lw=0.8, label="loss of each step")
    ax.plot(result.lrs, result.smoothed, color="C0", lw=2, label="smoothed")
    label = f"suggested {result.suggested_lr:.2g}"
    ax.axvline(result.suggested_lr, color="C3", ls="--", label=label)
    ax.set(xscale="log", xlabel="learning rate", ylabel="training loss")
    shown = result.smoothed[:-1] if result.diverged else result.smoothed
    shown = shown[np.isfinite(shown)]
    if shown.size:  # the explosion at the end would squash the interesting part
        low, high = float(shown.min()), float(shown.max())
        ax.set_ylim(low - 0.1 * (high - low), high + 0.25 * (high - low) + 1e-12)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax
