"""Helpers shared by the plotting modules (private)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from course._validate import to_numpy


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


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax
