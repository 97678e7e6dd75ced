"""Plotting helpers for the notebooks: image grids, mask overlays, training curves, Grad-CAM.

Every function draws with Matplotlib and returns the :class:`~matplotlib.figure.Figure` or
:class:`~matplotlib.axes.Axes` it drew on (it never calls ``plt.show()``: notebooks display the
figure themselves, and tests can inspect it). Images may be NumPy arrays or torch tensors
(moved to the CPU); a single-channel ``(1, H, W)`` image is squeezed, a ``(3, H, W)`` tensor is
turned into ``(H, W, 3)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

from course._validate import integer, to_numpy

__all__ = [
    "use_style",
    "show_images",
    "overlay_mask",
    "show_overlap",
    "plot_history",
    "show_grad_cam",
    "plot_unet",
]


def use_style(dpi: int = 110) -> None:
    """Set the course's figure defaults for this session (each lecture calls it once).

    ``figure.dpi`` sets both the size on screen and the resolution of the stored PNG: 110 dpi
    keeps the text of a figure sharp on a high-resolution screen while a lecture notebook stays
    below its size budget. Colour maps stay Matplotlib's default ``viridis`` (perceptually
    uniform and readable with the common colour-vision deficiencies) where colour carries a
    value; images are drawn in grey by :func:`show_images`.

    Parameters
    ----------
    dpi : int
        Dots per inch of the figures, >= 50.

    Examples
    --------
    >>> use_style()
    >>> plt.rcParams["figure.dpi"]
    110.0
    """
    dpi = integer("dpi", dpi, minimum=50)
    plt.rcParams.update(
        {
            "figure.dpi": dpi,
            "image.cmap": "viridis",
            "axes.titlesize": "medium",
        }
    )


def _as_image(a, name: str = "image") -> np.ndarray:
    """A displayable 2D ``(H, W)`` or RGB ``(H, W, 3|4)`` array."""
    a = to_numpy(name, a)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[-1] not in (3, 4):
        a = a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)  # channels first -> last
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[-1] in (3, 4))):
        raise ValueError(
            f"{name} must be a 2D image (H, W), (1, H, W) or RGB (H, W, 3)/(3, H, W), "
            f"got shape {a.shape}"
        )
    if a.dtype == bool:
        a = a.astype(np.uint8)
    return a


def _window_limits(window) -> tuple[float | None, float | None]:
    """``(vmin, vmax) = (L - W/2, L + W/2)`` for a ``(level, width)`` window."""
    if window is None:
        return None, None
    if len(window) != 2 or not window[1] > 0:
        raise ValueError(f"window must be a (level, width) pair with width > 0, got {window!r}")
    level, width = float(window[0]), float(window[1])
    return level - width / 2, level + width / 2


def show_images(
    images,
    titles: Sequence[str] | None = None,
    ncols: int = 4,
    cmap: str = "gray",
    window: tuple[float, float] | None = None,
    size: float = 2.5,
) -> Figure:
    """Show images in a grid of ``ncols`` columns, one Axes per image, without ticks.

    Parameters
    ----------
    images : sequence of 2D/RGB arrays or tensors, or an array (N, H, W), (N, 1, H, W), (N, 3, H, W)
    titles : sequence of str, optional
        One per image.
    ncols : int, default 4
        Columns of the grid (fewer if there are fewer images).
    cmap : str, default "gray"
        Colour map for single-channel images.
    window : (level, width), optional
        Display window, e.g. ``(40, 400)`` for a soft-tissue CT in HU: grey values from
        ``L - W/2`` (black) to ``L + W/2`` (white). By default each image uses its own range.
    size : float, default 2.5
        Width and height of one panel in inches.

    Returns
    -------
    matplotlib.figure.Figure
        With exactly one Axes per image.

    Raises
    ------
    ValueError
        No images, a wrong number of titles, an image that is not 2D or RGB, a bad window.

    Examples
    --------
    >>> fig = show_images(np.zeros((5, 8, 8)), titles=list("abcde"), ncols=3)
    >>> len(fig.axes)
    5
    >>> plt.close(fig)
    """
    if hasattr(images, "detach") or isinstance(images, np.ndarray):
        images = list(to_numpy("images", images))
    images = [_as_image(im, f"images[{i}]") for i, im in enumerate(images)]
    if not images:
        raise ValueError("images is empty: nothing to show")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles has {len(titles)} entries for {len(images)} images")
    ncols = integer("ncols", ncols, minimum=1)
    vmin, vmax = _window_limits(window)
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= len(images):
            fig.delaxes(ax)  # an empty grid cell
            continue
        ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(str(titles[i]))
    fig.tight_layout()
    return fig


def overlay_mask(
    image,
    mask,
    ax: Axes | None = None,
    alpha: float = 0.4,
    color="red",
    contour: bool = True,
    cmap: str = "gray",
    window: tuple[float, float] | None = None,
) -> Axes:
    """Draw a segmentation mask over an image: a transparent fill and/or its contour.

    A binary mask is drawn in ``color``; a label map with several labels draws label ``l`` in
    the ``l``-th colour of Matplotlib's ``tab10`` cycle. Background (0) stays transparent. Call
    it twice on the same ``ax`` to compare a prediction with the ground truth (e.g. ground truth
    in green with ``alpha=0``, prediction in red).

    Parameters
    ----------
    image : array or tensor, 2D (or (1, H, W))
    mask : array or tensor of the same spatial shape, bool or integer labels
    ax : matplotlib Axes, optional
        Draw there; a new figure otherwise.
    alpha : float in [0, 1], default 0.4
        Opacity of the fill (0: contour only).
    color : Matplotlib colour, default "red"
        Colour of a binary mask.
    contour : bool, default True
        Also draw the mask's boundary (the 0.5 level line of each label).
    cmap, window
        As in :func:`show_images`; the image is drawn only when ``ax`` is new or empty.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        Shapes that differ, an image that is not 2D, ``alpha`` outside [0, 1].

    Examples
    --------
    >>> mask = np.zeros((16, 16), bool)
    >>> mask[4:10, 5:12] = True
    >>> ax = overlay_mask(np.random.default_rng(0).random((16, 16)), mask)
    >>> plt.close(ax.figure)
    """
    image = _as_image(image)
    mask = to_numpy("mask", mask)
    if mask.ndim == 3 and mask.shape[0] == 1:
        mask = mask[0]
    if mask.shape != image.shape[:2]:
        raise ValueError(f"mask has shape {mask.shape} but the image is {image.shape[:2]}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    if not ax.images:
        vmin, vmax = _window_limits(window)
        ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_axis_off()
    labels = mask.astype(np.int64) if mask.dtype == bool else np.rint(mask).astype(np.int64)
    present = [int(v) for v in np.unique(labels) if v != 0]
    if len(present) <= 1 and set(present) <= {1}:
        colours = {1: to_rgba(color)}
    else:
        tab10 = plt.get_cmap("tab10")
        colours = {v: tab10((v - 1) % 10) for v in present}
    for value, rgba in colours.items():
        region = labels == value
        if not region.any():
            continue
        if alpha > 0:
            fill = np.ma.masked_where(~region, region.astype(float))
            ax.imshow(fill, cmap=ListedColormap([rgba]), alpha=alpha, vmin=0, vmax=1)
        if contour:
            ax.contour(region.astype(float), levels=[0.5], colors=[rgba], linewidths=1.5)
    return ax


#: Colours of :func:`show_overlap`: true positives, false positives, false negatives.
OVERLAP_COLOURS = {"TP": "limegreen", "FP": "red", "FN": "dodgerblue"}


def show_overlap(pred, target, image=None, ax: Axes | None = None, alpha: float = 0.7) -> Axes:
    """Colour the pixels of a binary prediction by what they are: TP, FP or FN.

    True positives (``pred`` and ``target``) are green, false positives (``pred`` only) red,
    false negatives (``target`` only) blue; true negatives stay transparent. The title gives
    the counts and the two overlap scores
    :math:`\\mathrm{Dice} = 2TP / (2TP + FP + FN)` and :math:`\\mathrm{IoU} = TP / (TP + FP + FN)`
    (both 1.0 when the two masks are empty).

    Parameters
    ----------
    pred, target : array or tensor, 2D (or (1, H, W)), bool or 0/1
        The predicted and the true mask, same shape.
    image : array or tensor, optional
        Drawn in grey underneath (same spatial shape); a black background otherwise.
    ax : matplotlib Axes, optional
        Draw there; a new figure otherwise.
    alpha : float in [0, 1], default 0.7
        Opacity of the colours over ``image``.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        Masks of different shapes, not 2D, with values other than 0/1; an image of another size.

    Examples
    --------
    >>> truth = np.zeros((8, 8), bool)
    >>> truth[2:6, 2:6] = True
    >>> ax = show_overlap(np.roll(truth, 1, axis=1), truth)
    >>> ax.get_title()
    'TP 12, FP 4, FN 4: Dice 0.750, IoU 0.600'
    >>> plt.close(ax.figure)
    """
    masks = []
    for name, m in (("pred", pred), ("target", target)):
        m = to_numpy(name, m)
        if m.ndim == 3 and m.shape[0] == 1:
            m = m[0]
        if m.ndim != 2:
            raise ValueError(f"{name} must be a 2D mask (H, W), got shape {m.shape}")
        if not np.isin(m, (0, 1)).all():
            raise ValueError(f"{name} must be binary (bool or 0/1), got values {np.unique(m)[:5]}")
        masks.append(m.astype(bool))
    pred, target = masks
    if pred.shape != target.shape:
        raise ValueError(f"pred has shape {pred.shape} but target has shape {target.shape}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    if image is not None:
        image = _as_image(image)
        if image.shape[:2] != pred.shape:
            raise ValueError(f"image has shape {image.shape[:2]} but the masks are {pred.shape}")
        ax.imshow(image, cmap="gray")
    else:
        ax.imshow(np.zeros(pred.shape), cmap="gray", vmin=0, vmax=1)
    regions = {"TP": pred & target, "FP": pred & ~target, "FN": ~pred & target}
    rgba = np.zeros((*pred.shape, 4))
    for key, region in regions.items():
        rgba[region] = to_rgba(OVERLAP_COLOURS[key], alpha if image is not None else 1.0)
    ax.imshow(rgba)
    tp, fp, fn = (int(r.sum()) for r in regions.values())
    score = 2 * tp + fp + fn
    dice, iou = (2 * tp / score, tp / (tp + fp + fn)) if score else (1.0, 1.0)
    ax.set_title(f"TP {tp}, FP {fp}, FN {fn}: Dice {dice:.3f}, IoU {iou:.3f}")
    ax.legend(
        handles=[Patch(color=c, label=k) for k, c in OVERLAP_COLOURS.items()],
        loc="upper right",
        fontsize="small",
    )
    ax.set_axis_off()
    return ax


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


def show_grad_cam(
    image, heatmap, ax: Axes | None = None, alpha: float = 0.5, cmap: str = "jet"
) -> Axes:
    """Show a Grad-CAM heatmap (values in [0, 1]) semi-transparently over its image.

    Parameters
    ----------
    image : array or tensor, 2D, (1, H, W) or RGB
    heatmap : array of shape (H, W), e.g. one image of :func:`course.explain.grad_cam`
    ax : matplotlib Axes, optional
    alpha : float in [0, 1], default 0.5
    cmap : str, default "jet"

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        A heatmap that is not 2D or does not match the image size; ``alpha`` outside [0, 1].

    Examples
    --------
    >>> ax = show_grad_cam(np.zeros((8, 8)), np.linspace(0, 1, 64).reshape(8, 8))
    >>> len(ax.images)
    2
    >>> plt.close(ax.figure)
    """
    image = _as_image(image)
    heatmap = to_numpy("heatmap", heatmap).astype(float)
    if heatmap.ndim != 2 or heatmap.shape != image.shape[:2]:
        raise ValueError(
            f"heatmap must be 2D with the image's size {image.shape[:2]}, got {heatmap.shape}"
        )
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(image, cmap="gray")
    ax.imshow(heatmap, cmap=cmap, alpha=alpha, vmin=0, vmax=1)
    ax.set_axis_off()
    return ax


def plot_unet(model, size: int = 64, ax: Axes | None = None) -> Axes:
    """Draw a U-Net as the letter U: its levels, feature-map shapes and connections.

    Level :math:`l` of the encoder works at :math:`H / 2^l` pixels per side with
    :math:`C_l = C_0 \\cdot 2^l` channels (:math:`C_0` = ``base_channels``); the bottleneck is
    level ``depth``. Each box is one block (two convolutions); its height is proportional to
    the side length and its label is ``channels x side``. Arrows: 2x2 max pooling (down),
    upsampling (up), skip connections (dashed, concatenated to the decoder's input).

    Parameters
    ----------
    model : course.models.UNet
        The network (2D or 3D); its ``depth``, channels and ``dims`` are read.
    size : int, default 64
        Side length of the input, ``>= 2**depth`` (the U-Net pads it up to a multiple of
        ``2**depth``: the drawn sizes are after that padding).
    ax : matplotlib Axes, optional
        Draw there; a new figure otherwise.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        ``model`` is not a :class:`course.models.UNet`.
    ValueError
        ``size < 2**depth``.

    Examples
    --------
    >>> from course.models import UNet
    >>> ax = plot_unet(UNet(1, 1, depth=2, base_channels=8), size=32)
    >>> [t.get_text() for t in ax.texts][:6]  # level 0: encoder, decoder; level 1: encoder
    ['8', '32x32', '8', '32x32', '16', '16x16']
    >>> plt.close(ax.figure)
    """
    from course.models.unet import UNet

    if not isinstance(model, UNet):
        raise TypeError(f"model must be a course.models.UNet, got {type(model).__name__}")
    depth = model.depth
    if integer("size", size) < 2**depth:
        raise ValueError(f"size must be an int >= 2**depth = {2**depth}, got {size!r}")
    padded = -(-int(size) // 2**depth) * 2**depth
    base = model.head.in_channels
    channels = [base * 2**level for level in range(depth + 1)]
    sides = [padded // 2**level for level in range(depth + 1)]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * (2 * depth + 1) + 1, 1.1 * (depth + 1) + 1.2))
    spatial = "x".join(["{s}"] * model.dims)

    def box(x, level, colour):  # centre (x, y) and height of the block at this level
        y, h = -level, 0.25 + 0.55 * sides[level] / sides[0]
        ax.add_patch(Rectangle((x - 0.35, y - h / 2), 0.7, h, color=colour, alpha=0.8))
        ax.text(x, y, f"{channels[level]}", ha="center", va="center", fontsize=9, weight="bold")
        ax.text(x, y - h / 2 - 0.08, spatial.format(s=sides[level]), ha="center", va="top",
                fontsize=8)  # fmt: skip
        return y, h

    def arrow(start, end, **style):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, **style))

    last = 2 * depth
    for level in range(depth + 1):
        x_enc, x_dec = level, last - level
        y, h = box(x_enc, level, "tab:blue" if level < depth else "tab:purple")
        if level < depth:
            box(x_dec, level, "tab:orange")
            arrow((x_enc + 0.36, y), (x_dec - 0.36, y), linestyle="--", color="grey")
            arrow((x_enc + 0.2, y - h / 2), (x_enc + 0.8, -level - 0.75), color="tab:blue")
            arrow((x_dec - 0.8, -level - 0.75), (x_dec - 0.2, y - h / 2), color="tab:orange")
    ax.text(-0.45, 0, f"input\n{model.in_channels}", ha="right", va="center", fontsize=9)
    ax.text(last + 0.45, 0, f"1x1 conv\n-> {model.out_channels}", ha="left", va="center",
            fontsize=9)  # fmt: skip
    ax.legend(
        handles=[
            Patch(color="tab:blue", label="encoder block, then max pooling (sides / 2)"),
            Patch(color="tab:purple", label="bottleneck"),
            Patch(color="tab:orange", label="upsampling (sides x 2), then decoder block"),
            Patch(color="grey", label="skip connection (concatenate)"),
        ],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    ax.set_xlim(-1.3, last + 1.3)
    ax.set_ylim(-depth - 0.9, 0.9)
    ax.set_axis_off()
    return ax


# --- lectures 05-09: confusion matrices, ROC curves, parameter counts, registration, restoration
__all__ += [
    "plot_confusion_matrix",
    "plot_roc",
    "plot_scores_by_class",
    "plot_layer_parameters",
    "plot_parameter_split",
    "plot_displacement",
    "show_restoration",
]


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


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


def plot_layer_parameters(rows, ax: Axes | None = None, outputs: bool = False) -> Axes:
    """Bar chart of a network's layers: the parameters of each (dense layers in red).

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`course.models.layer_table` (keys ``type``, ``params`` and ``numel``), in
        the order of the layers.
    ax : matplotlib Axes, optional
    outputs : bool, default False
        Also draw, behind the parameters, the number of values each layer outputs, and name
        every bar by its layer type.

    Returns
    -------
    matplotlib.axes.Axes
        The counts on a log scale.

    Raises
    ------
    ValueError
        No rows, or rows without the keys of :func:`~course.models.layer_table`.

    Examples
    --------
    >>> rows = [{"type": "Conv2d", "params": 156, "numel": 4704},
    ...         {"type": "Linear", "params": 48120, "numel": 120}]
    >>> ax = plot_layer_parameters(rows, outputs=True)
    >>> len(ax.patches)
    4
    >>> plt.close(ax.figure)
    """
    if not rows or not all({"type", "params", "numel"} <= set(r) for r in rows):
        raise ValueError("rows must be a non-empty list of layer_table rows (type, params, numel)")
    ax = _new_axes(ax, (8.0, 3.0))
    x = np.arange(len(rows))
    handles = []
    if outputs:
        ax.bar(x, [r["numel"] for r in rows], color="tab:blue")
        handles.append(Patch(color="tab:blue", label="values in the layer's output"))
    colours = ["tab:red" if r["type"] == "Linear" else "tab:orange" for r in rows]
    ax.bar(x, [r["params"] for r in rows], width=0.4 if outputs else 0.8, color=colours)
    handles += [
        Patch(color="tab:orange", label="parameters: convolution, batch norm"),
        Patch(color="tab:red", label="parameters: fully connected"),
    ]
    ax.set(yscale="log", ylabel="count (log scale)", xlim=(-0.6, len(rows) - 0.4))
    if outputs:
        ax.set_xticks(x, [r["type"] for r in rows], rotation=45, ha="right")
    else:
        ax.set_xlabel("layer with parameters, from input to output")
    ax.legend(handles=handles, fontsize="small")
    return ax


def plot_parameter_split(
    totals: dict[str, int], dense: dict[str, int], ax: Axes | None = None, notes=None
) -> Axes:
    """Stacked bars per network: parameters of the convolutions and of the dense layers.

    Parameters
    ----------
    totals : dict of str to int
        All parameters of each network, in the order to draw.
    dense : dict of str to int
        The parameters of its fully connected layers (same keys, at most the total).
    ax : matplotlib Axes, optional
    notes : dict of str to str, optional
        A second line under a network's name (e.g. its year).

    Returns
    -------
    matplotlib.axes.Axes
        In millions of parameters, each bar labelled with its total.

    Raises
    ------
    ValueError
        Keys that differ, or a dense count above the total.

    Examples
    --------
    >>> ax = plot_parameter_split({"A": 2_000_000, "B": 500_000}, {"A": 1_500_000, "B": 0})
    >>> [t.get_text() for t in ax.texts]
    ['2 M', '0.5 M']
    >>> plt.close(ax.figure)
    """
    if set(totals) != set(dense) or any(dense[n] > totals[n] for n in totals):
        raise ValueError("totals and dense must have the same networks, dense <= total")
    names, notes = list(totals), notes or {}
    ax = _new_axes(ax, (8.0, 3.0))
    conv = np.array([totals[n] - dense[n] for n in names]) / 1e6
    fc = np.array([dense[n] for n in names]) / 1e6
    ax.bar(names, conv, color="tab:orange", label="convolutions (and batch norm)")
    ax.bar(names, fc, bottom=conv, color="tab:red", label="fully connected layers")
    for i, n in enumerate(names):
        ax.text(i, (conv + fc)[i], f"{totals[n] / 1e6:.2g} M", ha="center", va="bottom")
    ax.set_xticks(range(len(names)), [f"{n}\n{notes[n]}" if n in notes else n for n in names])
    ax.set(ylabel="parameters (millions)")
    ax.legend()
    return ax


def plot_displacement(
    image, displacement, ax: Axes | None = None, step: int = 8, magnify: float = 1.0
) -> Axes:
    """Draw a displacement field as arrows over its image (registration, lecture 09).

    Parameters
    ----------
    image : array or tensor, 2D (H, W)
    displacement : array or tensor of shape (2, H, W)
        :math:`(u_x, u_y)` in pixels at every pixel: ``u_x`` along the columns, ``u_y`` along
        the rows.
    ax : matplotlib Axes, optional
    step : int, default 8
        One arrow every ``step`` pixels along each axis.
    magnify : float, default 1.0
        Arrows drawn ``magnify`` times longer than the displacement (for small fields).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        A field whose shape is not ``(2, H, W)`` for the image, a ``step`` below 1.

    Examples
    --------
    >>> ax = plot_displacement(np.zeros((16, 16)), np.ones((2, 16, 16)), step=4)
    >>> len(ax.collections)
    1
    >>> plt.close(ax.figure)
    """
    image = _as_image(image)
    field = to_numpy("displacement", displacement).astype(float)
    if field.shape != (2, *image.shape[:2]):
        raise ValueError(
            f"displacement must have shape (2, {image.shape[0]}, {image.shape[1]}), "
            f"got {field.shape}"
        )
    step = integer("step", step, minimum=1)
    ax = _new_axes(ax, (3.5, 3.5))
    ax.imshow(image, cmap="gray")
    rows, cols = np.mgrid[0 : image.shape[0] : step, 0 : image.shape[1] : step]
    ax.quiver(
        cols,
        rows,
        field[0, ::step, ::step],
        field[1, ::step, ::step],
        color="yellow",
        angles="xy",
        scale_units="xy",
        scale=1 / magnify,
    )
    ax.set_axis_off()
    return ax


def show_restoration(
    reference,
    estimates: dict,
    window: tuple[float, float],
    error_max: float,
    reference_title: str = "reference",
    unit: str = "",
    size: float = 2.0,
) -> Figure:
    """Images restored by several methods beside their reference, and their absolute errors.

    Row 1: each estimate, then the reference, in grey on the same ``window``. Row 2: under each
    estimate its error :math:`|\\hat x - x|`, in viridis from 0 to ``error_max``.

    Parameters
    ----------
    reference : 2D array or tensor
    estimates : dict of str to 2D array or tensor
        Title (e.g. the method and its PSNR) to image, each of the reference's shape.
    window : (vmin, vmax)
        Grey range of row 1, in the images' unit.
    error_max : float
        Top of the error colour bar.
    reference_title : str, default "reference"
    unit : str, optional
        The images' unit, for the colour bars (e.g. "HU").
    size : float, default 2.0
        Side of one panel in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No estimates, shapes that differ, ``error_max <= 0``.

    Examples
    --------
    >>> ref = np.zeros((8, 8))
    >>> fig = show_restoration(ref, {"noisy": ref + 0.1}, window=(0, 1), error_max=0.2)
    >>> len(fig.axes)  # 2 x 2 panels (one empty, hidden), 2 colour bars
    6
    >>> plt.close(fig)
    """
    reference = _as_image(reference, "reference")
    images = {t: _as_image(e, f"estimates[{t!r}]") for t, e in estimates.items()}
    if not images or any(e.shape != reference.shape for e in images.values()):
        raise ValueError(f"give at least one estimate of the reference's shape {reference.shape}")
    if not error_max > 0:
        raise ValueError(f"error_max must be > 0, got {error_max!r}")
    n = len(images) + 1
    fig, axes = plt.subplots(2, n, figsize=(size * n + 1, 2 * size), layout="constrained")
    for ax, (title, img) in zip(
        axes[0], [*images.items(), (reference_title, reference)], strict=True
    ):
        grey = ax.imshow(img, cmap="gray", vmin=window[0], vmax=window[1])
        ax.set_title(title)
    for ax, img in zip(axes[1], images.values(), strict=False):  # the last panel stays empty
        error = ax.imshow(np.abs(img - reference), cmap="viridis", vmin=0, vmax=error_max)
        ax.set_title("|estimate - reference|")
    for ax in axes.flat:
        ax.set_axis_off()
    suffix = f" ({unit})" if unit else ""
    fig.colorbar(grey, ax=axes[0], fraction=0.03, label=f"intensity{suffix}")
    fig.colorbar(error, ax=axes[1], fraction=0.03, label=f"absolute error{suffix}")
    return fig


# --- lectures 01-04: where a convolution's kernel goes, one image through several filters
__all__ += ["plot_conv_positions", "show_filtered"]


def plot_conv_positions(
    width: int, kernel: int, stride: int = 1, padding: int = 0, ax: Axes | None = None
) -> Axes:
    """Draw where a ``kernel x kernel`` window goes on a ``width x width`` input.

    The input (white) sits inside ``padding`` rings of zeros (grey); the window starts in the
    top-left corner (shaded red) and moves by ``stride``. Each blue dot is the centre of one
    position, one per output pixel, :math:`W_{out} \\times W_{out}` with

    .. math:: W_{out} = \\left\\lfloor \\frac{W - K + 2P}{S} \\right\\rfloor + 1

    (:func:`course.arithmetic.conv_output_size`; Dumoulin & Visin, "A guide to convolution
    arithmetic for deep learning", arXiv:1603.07285, 2016).

    Parameters
    ----------
    width, kernel : int
        Input side ``W >= 1`` and kernel side ``K >= 1``, in pixels.
    stride : int, default 1
        Step ``S >= 1`` between positions.
    padding : int, default 0
        Rings of zeros ``P >= 0`` around the input.
    ax : matplotlib Axes, optional
        Draw there; a new figure otherwise.

    Returns
    -------
    matplotlib.axes.Axes
        The blue dots are ``ax.lines[0]``.

    Raises
    ------
    TypeError
        A non-integer argument.
    ValueError
        A negative or zero size, or a kernel larger than the padded input.

    Examples
    --------
    >>> ax = plot_conv_positions(7, 3, stride=2)
    >>> len(ax.lines[0].get_xdata()), ax.get_title()
    (9, 'W=7, K=3, S=2, P=0: 3x3 output')
    >>> plt.close(ax.figure)
    """
    width = integer("width", width, minimum=1)
    kernel = integer("kernel", kernel, minimum=1)
    stride = integer("stride", stride, minimum=1)
    padding = integer("padding", padding, minimum=0)
    size = width + 2 * padding
    if kernel > size:
        raise ValueError(f"kernel ({kernel}) is larger than the padded input ({size} pixels)")
    n_out = (size - kernel) // stride + 1
    grid = np.full((size, size), 0.35)
    grid[padding : padding + width, padding : padding + width] = 0
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.4), layout="constrained")
    ax.imshow(grid, cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(np.arange(-0.5, size), minor=True)
    ax.set_yticks(np.arange(-0.5, size), minor=True)
    ax.grid(which="minor", color="grey", lw=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    centres = np.arange(n_out) * stride + (kernel - 1) / 2
    columns, rows = np.meshgrid(centres, centres)
    ax.plot(columns.ravel(), rows.ravel(), "o", color="tab:blue", ms=5)
    ax.add_patch(Rectangle((-0.5, -0.5), kernel, kernel, facecolor="red", alpha=0.3))
    ax.set_title(f"W={width}, K={kernel}, S={stride}, P={padding}: {n_out}x{n_out} output")
    ax.set_xlabel("column (one square = one pixel)")
    ax.set_ylabel("row")
    return ax


def show_filtered(
    image,
    filtered: dict,
    title: str = "input",
    ncols: int = 4,
    size: float = 2.2,
    signed: Sequence[str] | None = None,
):
    """Show an image and filtered versions of it, each in the colour map its values call for.

    The first panel is the input in grey; then one panel per entry of ``filtered`` (its key is
    the title), drawn by the kind of its values:

    - boolean (e.g. an edge map): grey, black = False, white = True, no colour bar;
    - signed (by default: some value < 0, e.g. a Sobel or Laplacian response): the diverging
      ``RdBu_r`` centred on 0 (blue < 0 < red), clipped at the 99th percentile of ``|value|``
      so that a few extreme pixels do not wash out the rest;
    - non-negative (a blurred image, a gradient magnitude): grey from 0 to the 99th
      percentile (the input: grey over its own range).

    Parameters
    ----------
    image : array_like or tensor, shape (H, W)
    filtered : dict of str to array_like, each (H, W)
        The filtered images, by title.
    title : str, default "input"
        Title of the first panel.
    ncols : int, default 4
        Panels per row.
    size : float, default 2.2
        Width of one panel in inches.
    signed : sequence of str, optional
        The keys to draw as signed responses; by default those with a negative value (a
        sharpened image overshoots below 0 at edges but is still an image: leave it out).

    Returns
    -------
    matplotlib.figure.Figure
        With one Axes per panel, and one colour bar per panel that is not boolean.

    Raises
    ------
    ValueError
        ``filtered`` empty, or an image that is not 2D.

    Examples
    --------
    >>> x = np.zeros((8, 8)); x[:, 4:] = 1.0
    >>> fig = show_filtered(x, {"edge": np.diff(x, axis=1, prepend=0), "mask": x > 0})
    >>> [ax.get_title() for ax in fig.axes[:3]], len(fig.axes)  # 3 panels, 2 colour bars
    (['input', 'edge', 'mask'], 5)
    >>> plt.close(fig)
    """
    panels, boolean = {title: _as_image(image, "image")}, {title: False}
    for key, value in dict(filtered).items():
        array = to_numpy(f"filtered[{key!r}]", value)
        panels[str(key)], boolean[str(key)] = (
            _as_image(array, f"filtered[{key!r}]"),
            array.dtype == bool,
        )
    if len(panels) < 2:
        raise ValueError("filtered is empty: give at least one filtered image")
    if any(p.ndim != 2 for p in panels.values()):
        raise ValueError("show_filtered shows 2D (H, W) images only")
    ncols = min(integer("ncols", ncols, minimum=1), len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, 0.95 * size * nrows), layout="constrained"
    )
    axes = np.atleast_1d(axes).ravel()
    for ax, (name, data) in zip(axes, panels.items(), strict=False):
        ax.set_title(name)
        ax.set_axis_off()
        if boolean[name]:
            ax.imshow(data, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            continue
        top = float(np.percentile(np.abs(data), 99)) or 1.0
        diverging = bool(data.min() < 0) if signed is None else name in signed
        limits = (-top, top) if diverging else (None, None) if name == title else (0, top)
        shown = ax.imshow(
            data,
            cmap="RdBu_r" if diverging else "gray",
            vmin=limits[0],
            vmax=limits[1],
            interpolation="nearest",
        )
        fig.colorbar(shown, ax=ax, fraction=0.046, label="response" if diverging else "value")
    for ax in axes[len(panels) :]:
        fig.delaxes(ax)
    return fig
