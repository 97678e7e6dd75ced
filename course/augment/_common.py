"""Shared pieces of :mod:`course.augment`: input checks, random parameters and resampling.

Every transform ``f(image, mask=None, rng=None, **params) -> (image, mask)`` starts with
:func:`_inputs`: the image is a finite real array with 2 or 3 spatial axes (``(H, W)`` or
``(D, H, W)``) plus an optional ``channel_axis``, the mask has the spatial shape only, and
``rng`` becomes a :class:`numpy.random.Generator`. A random parameter given as ``(low, high)``
is drawn by :func:`_draw`,

.. math:: \\theta \\sim \\mathcal{U}[\\text{low}, \\text{high}),

a single number is used as it is. :func:`_resample` applies one warp to the image (spline order
``order``) and to the mask (order 0, nearest neighbour, so labels are never blended).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course._validate import float_dtype, generator, numeric, numpy_array

Pair = tuple[np.ndarray, "np.ndarray | None"]
Transform = Callable[..., Pair]
_MODES = ("constant", "grid-constant", "nearest", "reflect", "mirror", "wrap", "grid-wrap")

# ---------------------------------------------------------------------------------------------
# Checks and random parameters
# ---------------------------------------------------------------------------------------------
_NON_NEGATIVE = (lambda v: v >= 0, ">= 0")
_POSITIVE = (lambda v: v > 0, "positive")


def _draw(
    value: Any,
    rng: np.random.Generator,
    name: str,
    valid: tuple[Callable[[float], bool], str] | None = None,
) -> float:
    """A number is used as is; a ``(low, high)`` pair is drawn uniformly from that range.

    ``valid = (predicate, description)`` is checked on both ends of the range before drawing
    (the allowed sets are intervals), so a bad range fails every time, not only on bad draws.
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        low = high = float(value)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        low, high = (float(v) for v in value)
    else:
        raise ValueError(f"{name} must be a number or a (low, high) pair, got {value!r}")
    if not (np.isfinite(low) and np.isfinite(high)) or low > high:
        raise ValueError(f"{name} must be finite with low <= high, got {value!r}")
    if valid is not None and not (valid[0](low) and valid[0](high)):
        raise ValueError(f"{name} must be {valid[1]}, got {value!r}")
    return low if low == high else float(rng.uniform(low, high))


def _check_image(image: Any, channel_axis: int | None) -> tuple[np.ndarray, int | None]:
    """A finite real array with 2 or 3 spatial axes (plus an optional channel axis)."""
    image = numpy_array("image", image, tensor_hint="use augment_batch for torch tensors")
    numeric("image", image)
    if channel_axis is not None:
        if not -image.ndim <= channel_axis < image.ndim:
            raise ValueError(
                f"channel_axis={channel_axis} is out of range for an image of shape {image.shape}"
            )
        channel_axis %= image.ndim
    spatial = image.ndim - (channel_axis is not None)
    if spatial not in (2, 3):
        hint = "" if channel_axis is not None else "; for a multi-channel image set channel_axis"
        raise ValueError(
            f"image must have 2 or 3 spatial axes ((H, W) or (D, H, W)), got shape "
            f"{image.shape}{hint}"
        )
    return image, channel_axis


def _spatial_shape(image: np.ndarray, channel_axis: int | None) -> tuple[int, ...]:
    return tuple(n for axis, n in enumerate(image.shape) if axis != channel_axis)


def _check_mask(mask: Any, spatial_shape: tuple[int, ...]) -> np.ndarray | None:
    if mask is None:
        return None
    if isinstance(mask, (list, tuple)):
        mask = np.asarray(mask)
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"mask must be a NumPy array or None, got {type(mask).__name__}")
    if mask.dtype.kind not in "biuf":
        raise TypeError(f"mask must hold labels (integers or booleans), got dtype {mask.dtype}")
    if mask.shape != spatial_shape:
        raise ValueError(
            f"mask must have the spatial shape of the image {spatial_shape}, got {mask.shape}"
        )
    if mask.dtype.kind == "f" and not np.isfinite(mask).all():
        raise ValueError("mask contains NaN or infinite values")
    return mask


def _inputs(image, mask, rng, channel_axis):
    image, channel_axis = _check_image(image, channel_axis)
    mask = _check_mask(mask, _spatial_shape(image, channel_axis))
    return image, mask, generator(rng, "rng"), channel_axis


def _per_channel(image: np.ndarray, channel_axis: int | None, fn: Callable) -> np.ndarray:
    """Apply a spatial function to every channel (or to the whole image if no channels)."""
    if channel_axis is None:
        return fn(image)
    channels = [fn(c) for c in np.moveaxis(image, channel_axis, 0)]
    return np.moveaxis(np.stack(channels), 0, channel_axis)


def _spatial_axis(axis: Any, ndim: int, name: str = "axes") -> int:
    if (
        isinstance(axis, bool)
        or not isinstance(axis, (int, np.integer))
        or not -ndim <= axis < ndim
    ):
        raise ValueError(f"{name} must hold spatial axes in [-{ndim}, {ndim}), got {axis!r}")
    return int(axis) % ndim


def _check_order_mode(order: int, mode: str) -> None:
    if order not in range(6):
        raise ValueError(f"order must be an int from 0 to 5 (spline order), got {order!r}")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")


def _resample(image, mask, channel_axis, order, mode, cval, mask_cval, warp):
    """Resample image (``order``) and mask (order 0) with ``warp(array, order, mode, cval)``."""
    dtype = image.dtype if order == 0 else float_dtype(image)
    source = image.astype(np.uint8 if dtype == np.bool_ else dtype, copy=False)  # ndimage: no bool
    image = _per_channel(source, channel_axis, lambda a: warp(a, order, mode, cval)).astype(dtype)
    if mask is not None:
        source = mask.astype(np.uint8) if mask.dtype == bool else mask
        mask = warp(source, 0, mode, mask_cval).astype(mask.dtype)
    return image, mask


def _as_float(image: np.ndarray) -> np.ndarray:
    return image.astype(float_dtype(image))
