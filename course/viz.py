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
