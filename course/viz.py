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

__all__ = ["show_images", "overlay_mask", "plot_history", "show_grad_cam"]


def _to_numpy(a, name: str) -> np.ndarray:
    if hasattr(a, "detach"):  # a torch tensor
        a = a.detach().cpu().numpy()
    try:
        return np.asarray(a)
    except Exception as err:
        raise TypeError(f"{name} must be array-like, got {type(a).__name__}") from err


def _as_image(a, name: str = "image") -> np.ndarray:
    """A displayable 2D ``(H, W)`` or RGB ``(H, W, 3|4)`` array."""
    a = _to_numpy(a, name)
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
        images = list(_to_numpy(images, "images"))
    images = [_as_image(im, f"images[{i}]") for i, im in enumerate(images)]
    if not images:
        raise ValueError("images is empty: nothing to show")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles has {len(titles)} entries for {len(images)} images")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
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
    mask = _to_numpy(mask, "mask")
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
    heatmap = _to_numpy(heatmap, "heatmap").astype(float)
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
