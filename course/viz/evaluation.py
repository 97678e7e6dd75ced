"""Training and evaluation plots: loss curves, confusion matrices, ROC curves, scores by class."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course._validate import integer, to_numpy
from course.viz._common import _new_axes


def plot_history(history: dict[str, Sequence[float]], size: float = 4.0) -> Figure:
    """Plot a training history (the dict returned by :func:`course.train.fit`) against epochs.

    The first panel shows the losses (keys ending in ``loss``); a second panel, if any, shows
    the other metrics (``val_dice``...). The learning rate (``"lr"``) is not plotted.

    Parameters
    ----------
    history : dict of str to sequence of float
    size : float, default 4.0
        Height of the figure in inches (each panel is ``1.4 * size`` wide).

    Returns
    -------
    matplotlib.figure.Figure
        With one or two Axes.

    Raises
    ------
    ValueError
        If the history has no loss key or is empty.

    Examples
    --------
    >>> history = {"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "val_dice": [0.2, 0.6]}
    >>> fig = plot_history(history)
    >>> len(fig.axes)
    2
    >>> plt.close(fig)
    """
    if not isinstance(history, dict):
        raise TypeError(f"history must be a dict of lists, got {type(history).__name__}")
    losses = [k for k in history if k.endswith("loss") and len(history[k])]
    others = [k for k in history if k not in losses and k != "lr" and len(history[k])]
    if not losses:
        raise ValueError(f"history has no non-empty '...loss' entry, got keys {sorted(history)}")
    groups = [("loss", losses)] + ([("metric", others)] if others else [])
    fig, axes = plt.subplots(
        1, len(groups), figsize=(1.4 * size * len(groups), size), squeeze=False
    )
    for ax, (label, keys) in zip(axes[0], groups, strict=True):
        for key in keys:
            values = np.asarray(history[key], dtype=float)
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    counts,
    class_names: Sequence[str],
    ax: Axes | None = None,
    cell_names: Sequence[str] | None = None,
    cmap: str = "cividis",
) -> Axes:
    """Draw a confusion matrix: true class down the rows, predicted class along the columns.

    Cell :math:`(i, j)` holds the number of cases of true class :math:`i` predicted as class
    :math:`j`, written in the cell and coded by colour (with a colour bar).

    Parameters
    ----------
    counts : array of shape (K, K), non-negative counts
    class_names : sequence of K str
    ax : matplotlib Axes, optional
    cell_names : sequence of K * K str, optional
        A name per cell, row by row, written above its count (``["TP", "FN", "FP", "TN"]``).
    cmap : str, default "cividis"

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        ``counts`` not square or negative, or names of the wrong length.

    Examples
    --------
    >>> ax = plot_confusion_matrix([[5, 1], [2, 7]], ["lesion", "none"])
    >>> [t.get_text() for t in ax.texts]
    ['5', '1', '2', '7']
    >>> plt.close(ax.figure)
    """
    counts = to_numpy("counts", counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or np.any(counts < 0):
        raise ValueError(f"counts must be a square (K, K) array of counts >= 0, got {counts!r}")
    k = counts.shape[0]
    if len(class_names) != k or (cell_names is not None and len(cell_names) != k * k):
        raise ValueError(f"give {k} class names and, optionally, {k * k} cell names")
    ax = _new_axes(ax, (3.6, 3.0))
    shown = ax.imshow(counts, cmap=cmap, vmin=0)
    ax.figure.colorbar(shown, ax=ax, label="cases")
    bright = plt.get_cmap(cmap)(shown.norm(counts))[..., :3] @ [0.299, 0.587, 0.114] > 0.5
    for (i, j), count in np.ndenumerate(counts):
        text = f"{count:g}" if cell_names is None else f"{cell_names[i * k + j]}\n{count:g}"
        ax.text(j, i, text, ha="center", va="center", color="black" if bright[i, j] else "white")
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted class", ylabel="true class")
    ax.set_xticklabels(class_names)
    ax.set_yticklabels(class_names)
    return ax


def plot_roc(fpr, tpr, ax: Axes | None = None, label: str | None = None, point=None) -> Axes:
    """Draw a ROC curve (sensitivity against 1 - specificity) with the chance diagonal.

    Parameters
    ----------
    fpr, tpr : 1D arrays of the same length
        False and true positive rates, e.g. from :func:`course.metrics.roc_curve`.
    ax : matplotlib Axes, optional
    label : str, optional
        Legend entry of the curve.
    point : (fpr, tpr), optional
        One operating point (a threshold) to mark.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        Rates of different lengths or outside [0, 1].

    Examples
    --------
    >>> ax = plot_roc([0, 0.2, 1], [0, 0.7, 1], label="model", point=(0.2, 0.7))
    >>> len(ax.lines)
    3
    >>> plt.close(ax.figure)
    """
    fpr, tpr = to_numpy("fpr", fpr).astype(float), to_numpy("tpr", tpr).astype(float)
    if (
        fpr.shape != tpr.shape
        or fpr.ndim != 1
        or np.any((fpr < 0) | (fpr > 1) | (tpr < 0) | (tpr > 1))
    ):
        raise ValueError(
            f"fpr and tpr must be 1D rates in [0, 1] of the same length, got shapes "
            f"{fpr.shape} and {tpr.shape}"
        )
    ax = _new_axes(ax, (4.0, 4.0))
    ax.plot(fpr, tpr, label=label)
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="chance")
    if point is not None:
        ax.plot(*point, "o", color="tab:red", label="operating point")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), aspect="equal")
    ax.set(
        xlabel="false positive rate (1 - specificity)", ylabel="true positive rate (sensitivity)"
    )
    ax.legend(loc="lower right")
    return ax


def plot_scores_by_class(
    labels, scores, ax: Axes | None = None, threshold: float | None = None, bins: int = 20
) -> Axes:
    """Overlaid histograms of a classifier's scores in [0, 1], one per true class (0 and 1).

    Parameters
    ----------
    labels : 1D array of 0/1
    scores : 1D array of the same length, in [0, 1]
    ax : matplotlib Axes, optional
    threshold : float, optional
        Drawn as a dashed vertical line.
    bins : int, default 20

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        Lengths that differ, labels other than 0/1, scores outside [0, 1].

    Examples
    --------
    >>> ax = plot_scores_by_class([0, 0, 1, 1], [0.1, 0.4, 0.6, 0.9], threshold=0.5)
    >>> len(ax.patches) > 0
    True
    >>> plt.close(ax.figure)
    """
    labels, scores = to_numpy("labels", labels).ravel(), to_numpy("scores", scores).ravel()
    if labels.shape != scores.shape or not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0/1, one per score")
    if np.any((scores < 0) | (scores > 1)):
        raise ValueError("scores must lie in [0, 1]")
    bins = integer("bins", bins, minimum=1)
    ax = _new_axes(ax, (4.5, 3.0))
    for value, colour, name in ((0, "tab:green", "no lesion"), (1, "tab:red", "lesion")):
        ax.hist(
            scores[labels == value],
            bins=bins,
            range=(0, 1),
            alpha=0.6,
            color=colour,
            label=f"truth: {name}",
        )
    if threshold is not None:
        ax.axvline(threshold, color="k", ls="--", label=f"threshold {threshold:g}")
    ax.set(xlabel="predicted probability of a lesion", ylabel="cases")
    ax.legend()
    return ax
