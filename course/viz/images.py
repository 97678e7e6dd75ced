"""Images: grids, mask overlays, overlap maps, Grad-CAM, restorations, filter responses."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from course._validate import integer, to_numpy
from course.viz._common import _as_image, _window_limits


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
