"""Figures of detection: boxes on an image, the precision-recall curve, the FROC curve.

Each function draws on the Axes it is given (or a new one) and returns it; it never calls
``plt.show()``. Boxes are xyxy in pixels (:mod:`course.detection.boxes`), where pixel ``(i, j)``
covers ``[j, j + 1] x [i, i + 1]``; Matplotlib's ``imshow`` centres that pixel on ``(j, i)``, so
a box is drawn shifted by half a pixel, exactly around its pixels.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from course.detection.boxes import check_boxes
from course.detection.evaluation import LUNA16_FP_RATES, sensitivity_at

__all__ = ["show_boxes", "plot_pr_curve", "plot_froc"]


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def show_boxes(
    image: Any,
    boxes: Any = None,
    scores: Any = None,
    gt_boxes: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """An image in grey with ground-truth boxes (green, dashed) and detections (orange).

    Parameters
    ----------
    image : array_like or torch.Tensor of shape (H, W) or (1, H, W)
    boxes : (N, 4) array, xyxy, optional
        Detections, labelled with their score when ``scores`` is given.
    scores : (N,) array, optional
    gt_boxes : (M, 4) array, xyxy, optional
        The ground truth.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError, ValueError
        An image that is not 2D, invalid boxes, or scores not one per box.

    Examples
    --------
    >>> ax = show_boxes(np.zeros((8, 8)), [[1, 1, 4, 3]], [0.9], gt_boxes=[[1, 1, 4, 4]])
    >>> len(ax.patches)
    2
    >>> plt.close(ax.figure)
    """
    from course.viz._common import _as_image

    image = _as_image(image)
    if image.ndim != 2:
        raise ValueError(f"image must be 2D (H, W) or (1, H, W), got shape {image.shape}")
    ax = _axes(ax, (3.2, 3.2))
    ax.imshow(image, cmap="gray", vmin=0, vmax=1 if image.max() <= 1 else None)
    for x1, y1, x2, y2 in check_boxes([] if gt_boxes is None else gt_boxes, "gt_boxes"):
        ax.add_patch(
            Rectangle(
                (x1 - 0.5, y1 - 0.5),
                x2 - x1,
                y2 - y1,
                fill=False,
                edgecolor="limegreen",
                linestyle="--",
                linewidth=1.2,
            )
        )
    boxes = check_boxes([] if boxes is None else boxes)
    if scores is not None:
        scores = np.asarray(scores, dtype=float).reshape(-1)
        if scores.shape != (len(boxes),):
            raise ValueError(f"scores must have shape ({len(boxes)},), got {scores.shape}")
    for k, (x1, y1, x2, y2) in enumerate(boxes):
        ax.add_patch(
            Rectangle(
                (x1 - 0.5, y1 - 0.5),
                x2 - x1,
                y2 - y1,
                fill=False,
                edgecolor="orange",
                linewidth=1.2,
            )
        )
        if scores is not None:
            ax.text(x1 - 0.5, y1 - 1.0, f"{scores[k]:.2f}", color="orange", fontsize=7)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_pr_curve(
    precision: Any,
    recall: Any,
    ax: Axes | None = None,
    label: str | None = None,
    interpolated: bool = True,
) -> Axes:
    """The precision-recall curve (points), and its interpolated envelope as a step line.

    Parameters
    ----------
    precision, recall : array_like of shape (T,)
        From :func:`course.detection.evaluation.precision_recall_curve`.
    ax : matplotlib Axes, optional
    label : str, optional
        Legend entry of the curve.
    interpolated : bool, default True
        Also draw :math:`p_{interp}(r) = \\max_{r' \\ge r} p(r')`, whose area is the
        all-point AP.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_pr_curve([1.0, 0.5, 2 / 3], [0.5, 0.5, 1.0], label="toy")
    >>> ax.get_xlabel()
    'recall (sensitivity)'
    >>> plt.close(ax.figure)
    """
    p, r = np.asarray(precision, dtype=float), np.asarray(recall, dtype=float)
    if p.shape != r.shape:
        raise ValueError(f"precision and recall must have one shape, got {p.shape}, {r.shape}")
    ax = _axes(ax, (4.0, 3.4))
    (line,) = ax.plot(r, p, ".", markersize=3, alpha=0.6, label=label)
    if interpolated and p.size:
        envelope = np.maximum.accumulate(p[::-1])[::-1]
        ax.step(np.r_[0.0, r], np.r_[envelope[0], envelope], where="pre", color=line.get_color())
    ax.set(xlabel="recall (sensitivity)", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02))
    if label:
        ax.legend(loc="lower left")
    return ax


def plot_froc(
    fp_per_image: Any,
    sensitivity: Any,
    ax: Axes | None = None,
    label: str | None = None,
    fp_rates: Any = LUNA16_FP_RATES,
) -> Axes:
    """The FROC curve on a logarithmic FP axis, with the sensitivities at ``fp_rates`` marked.

    Parameters
    ----------
    fp_per_image, sensitivity : array_like of shape (T,)
        From :func:`course.detection.evaluation.froc_curve`.
    ax : matplotlib Axes, optional
    label : str, optional
    fp_rates : sequence of float, default LUNA16's 1/8 ... 8
        Marked with dots (:func:`~course.detection.evaluation.sensitivity_at`).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_froc([0.0, 0.5, 2.0], [0.4, 0.7, 0.9])
    >>> ax.get_xscale()
    'log'
    >>> plt.close(ax.figure)
    """
    fp, sens = np.asarray(fp_per_image, dtype=float), np.asarray(sensitivity, dtype=float)
    rates = np.asarray(fp_rates, dtype=float)
    ax = _axes(ax, (4.0, 3.4))
    lowest = rates.min() / 2  # the curve starts at 0 FP: show that part at the left edge
    (line,) = ax.step(
        np.maximum(np.r_[fp, rates.max() * 1.5], lowest),
        np.r_[sens, sens[-1] if sens.size else 0.0],
        where="post",
        label=label,
    )
    ax.plot(rates, sensitivity_at(fp, sens, rates), "o", color=line.get_color(), markersize=4)
    ax.set_xscale("log")
    ax.set_xticks(rates, [f"{r:g}" for r in rates])
    ax.set(
        xlabel="mean false positives per image",
        ylabel="sensitivity",
        ylim=(0, 1.02),
        xlim=(lowest, rates.max() * 1.5),
    )
    if label:
        ax.legend(loc="lower right")
    return ax
