"""Data augmentation for medical images: joint image + mask transforms (lecture 08).

Every transform has the same form ``f(image, mask=None, rng=None, **params) -> (image, mask)``:

* **geometric** transforms (:func:`random_flip`, :func:`random_rotate90`,
  :func:`random_affine`, :func:`elastic_deform`, :func:`random_crop`, :func:`resize`) draw
  their random parameters **once** and apply the same geometry to the image and to the mask.
  The mask is always resampled with nearest-neighbour interpolation (order 0), so its labels
  are never blended into new values: a lesion stays a lesion, background stays background.
* **intensity** transforms (:func:`adjust_brightness`, :func:`adjust_contrast`,
  :func:`adjust_gamma`, :func:`add_gaussian_noise`, :func:`gaussian_blur`,
  :func:`histogram_equalize`, :func:`random_erasing`) change only the image and return the
  mask object untouched.
* :func:`mixup` and :func:`cutmix` mix a *batch* of images and their (one-hot or soft)
  classification labels.

Arrays and axes. Images are NumPy arrays of shape ``(H, W)`` or ``(D, H, W)``: every axis is
spatial. A multi-channel image passes ``channel_axis`` (e.g. ``channel_axis=0`` for
``(C, H, W)``): each channel gets the same transform. A mask has the spatial shape only.
NumPy in, NumPy out; :func:`augment_batch` runs a transform over a batch of torch tensors.

Parameters and randomness. A random parameter given as a pair ``(low, high)`` is drawn
uniformly from that range at every call; a single number is used as it is (so
``random_affine(img, degrees=30)`` always rotates by 30 degrees). ``rng`` is a
:class:`numpy.random.Generator` or an int seed; the same seed gives the same result.
``rng=None`` draws fresh randomness, as in NumPy and scikit-image. :class:`Compose` passes one
generator through a whole pipeline:

>>> from functools import partial
>>> pipeline = Compose([
...     random_flip,
...     partial(random_affine, degrees=(-10, 10), scale=(0.9, 1.1)),
...     RandomApply(partial(adjust_gamma, gamma=(0.7, 1.5)), p=0.5),
... ])
>>> image = np.random.default_rng(0).random((32, 32))
>>> mask = (image > 0.5).astype(np.uint8)
>>> new_image, new_mask = pipeline(image, mask, rng=np.random.default_rng(42))
>>> new_image.shape, new_mask.dtype, set(np.unique(new_mask)) <= {0, 1}
((32, 32), dtype('uint8'), True)

Augmentations must stay anatomically plausible: a left-right flip of a chest X-ray puts the
heart on the wrong side, and strong elastic deformation can change what a lesion looks like.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from course._validate import float_dtype, generator, integer, is_tensor, numeric, numpy_array

__all__ = [
    "random_flip",
    "random_rotate90",
    "random_affine",
    "elastic_deform",
    "random_crop",
    "resize",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_gamma",
    "add_gaussian_noise",
    "gaussian_blur",
    "histogram_equalize",
    "random_erasing",
    "mixup",
    "cutmix",
    "Compose",
    "RandomApply",
    "augment_batch",
]

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


# ---------------------------------------------------------------------------------------------
# Geometric transforms: one draw, applied to image and mask
# ---------------------------------------------------------------------------------------------
def random_flip(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    axes: Sequence[int] | None = None,
    p: float = 0.5,
    channel_axis: int | None = None,
) -> Pair:
    """Mirror the image and mask along each of ``axes`` independently with probability ``p``.

    .. math:: x'_{\\ldots, i, \\ldots} = x_{\\ldots, n - 1 - i, \\ldots}

    Parameters
    ----------
    image : ndarray, shape (H, W) or (D, H, W) (plus a channel axis if ``channel_axis``)
    mask : ndarray of the spatial shape, optional
    rng : numpy.random.Generator or int, optional
    axes : sequence of int, optional
        Spatial axes that may be flipped; default all. For a 3D CT, ``axes=(2,)`` flips
        left-right only (mind anatomy: the heart is on the left).
    p : float in [0, 1], default 0.5
        Probability of flipping each axis (``p=1`` always flips).
    channel_axis : int, optional

    Returns
    -------
    (image, mask) : the flipped copies (``mask`` is None if it was None)

    Raises
    ------
    ValueError
        Wrong number of dimensions, mask shape, bad ``axes`` or ``p``.

    Examples
    --------
    >>> image = np.arange(6).reshape(2, 3)
    >>> random_flip(image, axes=[1], p=1.0)[0]
    array([[2, 1, 0],
           [5, 4, 3]])
    """
    image, mask, rng, channel_axis = _inputs(image, mask, rng, channel_axis)
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    ndim = len(_spatial_shape(image, channel_axis))
    axes = range(ndim) if axes is None else [_spatial_axis(a, ndim) for a in axes]
    flipped = [a for a, draw in zip(axes, rng.random(len(axes)), strict=True) if draw < p]
    image = _per_channel(image, channel_axis, lambda a: np.flip(a, flipped).copy())
    if mask is not None:
        mask = np.flip(mask, flipped).copy()
    return image, mask


def random_rotate90(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    k: int | None = None,
    axes: tuple[int, int] = (-2, -1),
    channel_axis: int | None = None,
) -> Pair:
    """Rotate by ``k`` quarter turns in the plane of two spatial ``axes`` (exact, no
    interpolation), ``k`` drawn from {0, 1, 2, 3} when not given.

    Same direction as :func:`numpy.rot90`: counter-clockwise on screen for ``k = 1`` and the
    default axes. A non-square plane swaps its side lengths.

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`random_flip`.
    k : int, optional
        Number of quarter turns; random if None.
    axes : (int, int), default (-2, -1)
        The rotation plane, as spatial axes (for a volume ``(D, H, W)``: the axial H-W plane).

    Returns
    -------
    (image, mask)

    Raises
    ------
    ValueError
        Bad ``axes`` (not two different spatial axes), wrong shapes.

    Examples
    --------
    >>> random_rotate90(np.array([[1, 2], [3, 4]]), k=1)[0]
    array([[2, 4],
           [1, 3]])
    """
    image, mask, rng, channel_axis = _inputs(image, mask, rng, channel_axis)
    ndim = len(_spatial_shape(image, channel_axis))
    if len(axes) != 2:
        raise ValueError(f"axes must be two spatial axes, got {axes!r}")
    plane = tuple(_spatial_axis(a, ndim) for a in axes)
    if plane[0] == plane[1]:
        raise ValueError(f"axes must be two different spatial axes, got {axes!r}")
    k = int(rng.integers(0, 4)) if k is None else int(k) % 4
    image = _per_channel(image, channel_axis, lambda a: np.rot90(a, k, plane).copy())
    if mask is not None:
        mask = np.rot90(mask, k, plane).copy()
    return image, mask


def _plane_matrix(ndim: int, i: int, j: int, values: tuple[float, float, float, float]):
    m = np.eye(ndim)
    m[i, i], m[i, j], m[j, i], m[j, j] = values
    return m


def random_affine(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    degrees: Any = (-15.0, 15.0),
    scale: Any = (0.9, 1.1),
    translate: Any = (-0.1, 0.1),
    shear: Any = 0.0,
    order: int = 1,
    mode: str = "constant",
    cval: float = 0.0,
    mask_cval: int = 0,
    channel_axis: int | None = None,
) -> Pair:
    """Random rotation, scaling, translation and shear about the image centre.

    With :math:`c = (n - 1)/2` the centre, the transform maps an input position :math:`x` to

    .. math:: x' = A\\,(x - c) + c + t, \\qquad A = R\\, H\\, s

    where ``R`` rotates by the drawn angle in every plane of two spatial axes (one plane in 2D;
    the planes (0, 1), (0, 2), (1, 2) in 3D, each with its own angle), ``H`` is a shear with
    :math:`\\tan(\\text{shear angle})` above the diagonal, ``s`` an isotropic scale and ``t`` a
    shift of ``translate`` times the size of each axis. The output is computed by
    :func:`scipy.ndimage.affine_transform`, which samples the input at
    :math:`A^{-1}(x' - c - t) + c` for every output position.

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`random_flip`.
    degrees : float or (low, high), default (-15, 15)
        Rotation angle(s) in degrees; positive is counter-clockwise on screen in 2D, as in
        :func:`skimage.transform.rotate`.
    scale : float or (low, high), default (0.9, 1.1)
        Zoom factor (> 1 enlarges the content).
    translate : float or (low, high), default (-0.1, 0.1)
        Shift as a fraction of each axis' length, drawn per axis (positive: towards higher
        indices).
    shear : float or (low, high), default 0
        Shear angle(s) in degrees, in (-90, 90).
    order : int, default 1
        Spline order for the image (1: linear); the mask always uses 0 (nearest neighbour).
    mode : str, default "constant"
        How positions outside the input are filled (:mod:`scipy.ndimage` modes): "constant"
        fills the image with ``cval`` and the mask with ``mask_cval``; "nearest" repeats the
        edge, so no new mask label can appear even if the mask has no background.
    cval : float, default 0.0
    mask_cval : int, default 0
        The label for outside the field of view (background).

    Returns
    -------
    (image, mask)
        Same shapes; the image is float (unless ``order=0``), the mask keeps its dtype.

    Raises
    ------
    ValueError
        Bad ranges (e.g. scale <= 0, shear outside (-90, 90)), order, mode or shapes.

    Examples
    --------
    >>> image = np.zeros((5, 5))
    >>> image[2, 3] = 1.0  # one pixel to the right of the centre
    >>> rotated, _ = random_affine(image, degrees=90, scale=1, translate=0)
    >>> np.argwhere(rotated > 0.5)  # a quarter turn counter-clockwise: now above the centre
    array([[1, 2]])
    """
    image, mask, rng, channel_axis = _inputs(image, mask, rng, channel_axis)
    _check_order_mode(order, mode)
    shape = np.array(_spatial_shape(image, channel_axis), dtype=float)
    ndim = shape.size
    planes = [(i, j) for i in range(ndim) for j in range(i + 1, ndim)]
    angles = [np.deg2rad(_draw(degrees, rng, "degrees")) for _ in planes]
    zoom = _draw(scale, rng, "scale", _POSITIVE)
    shift = np.array([_draw(translate, rng, "translate") for _ in range(ndim)]) * shape
    shears = [
        _draw(shear, rng, "shear", (lambda v: abs(v) < 90, "in (-90, 90) degrees")) for _ in planes
    ]

    rotation, shearing = np.eye(ndim), np.eye(ndim)
    for (i, j), theta in zip(planes, angles, strict=True):
        # With rows pointing down the screen, (row, col) -> (row cos - col sin, ...) turns
        # counter-clockwise as seen on screen.
        c, s = np.cos(theta), np.sin(theta)
        rotation = rotation @ _plane_matrix(ndim, i, j, (c, -s, s, c))
    for (i, j), phi in zip(planes, shears, strict=True):
        shearing = shearing @ _plane_matrix(ndim, i, j, (1.0, np.tan(np.deg2rad(phi)), 0.0, 1.0))
    forward = rotation @ shearing * zoom
    inverse = np.linalg.inv(forward)
    centre = (shape - 1) / 2
    offset = centre - inverse @ (centre + shift)

    def warp(a, k, m, fill):
        return ndimage.affine_transform(a, inverse, offset, order=k, mode=m, cval=fill)

    return _resample(image, mask, channel_axis, order, mode, cval, mask_cval, warp)


def elastic_deform(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    alpha: Any = 34.0,
    sigma: Any = 4.0,
    order: int = 1,
    mode: str = "constant",
    cval: float = 0.0,
    mask_cval: int = 0,
    channel_axis: int | None = None,
) -> Pair:
    """Elastic deformation (Simard et al., 2003): a smooth random displacement of every voxel.

    For every spatial axis ``k`` a random field :math:`u_k(x) \\sim \\mathcal{U}[-1, 1]` is
    smoothed with a Gaussian of width :math:`\\sigma` and scaled by :math:`\\alpha`:

    .. math:: \\Delta_k = \\alpha\\, (G_\\sigma * u_k), \\qquad
              x'(x) = x_{\\text{input}}\\big(x + \\Delta(x)\\big)

    and the output samples the input at the displaced positions
    (:func:`scipy.ndimage.map_coordinates`). Small ``sigma`` gives local, noisy warps; large
    ``sigma`` smooth, rubber-sheet warps, whose amplitude shrinks roughly like
    :math:`\\alpha / \\sigma^{d/2}`, so ``alpha`` must grow with ``sigma``.

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`random_flip`.
    alpha : float or (low, high), default 34
        Displacement scale in voxels, ``>= 0``.
    sigma : float or (low, high), default 4
        Smoothing width in voxels, ``>= 0``.
    order, mode, cval, mask_cval
        As :func:`random_affine`.

    Returns
    -------
    (image, mask)

    Raises
    ------
    ValueError
        Negative ``alpha`` or ``sigma``, bad order, mode or shapes.

    Examples
    --------
    >>> image = np.zeros((32, 32))
    >>> image[8:24, 8:24] = 1.0
    >>> mask = (image > 0).astype(np.uint8)
    >>> warped, warped_mask = elastic_deform(image, mask, rng=0)
    >>> warped.shape, np.unique(warped_mask)
    ((32, 32), array([0, 1], dtype=uint8))
    """
    image, mask, rng, channel_axis = _inputs(image, mask, rng, channel_axis)
    _check_order_mode(order, mode)
    strength = _draw(alpha, rng, "alpha", _NON_NEGATIVE)
    width = _draw(sigma, rng, "sigma", _NON_NEGATIVE)
    shape = _spatial_shape(image, channel_axis)
    grid = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    coordinates = np.stack(
        [
            axis + strength * ndimage.gaussian_filter(rng.uniform(-1, 1, shape), width)
            for axis in grid
        ]
    )

    def warp(a, k, m, fill):
        return ndimage.map_coordinates(a, coordinates, order=k, mode=m, cval=fill)

    return _resample(image, mask, channel_axis, order, mode, cval, mask_cval, warp)


def random_crop(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    *,
    size: Sequence[int],
    channel_axis: int | None = None,
) -> Pair:
    """Cut out a random box of the given spatial ``size`` (the same box from image and mask).

    Each corner index is uniform in :math:`\\{0, \\ldots, n - \\text{size}\\}`, so every box
    that fits is equally likely.

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`random_flip`.
    size : sequence of int
        The crop's length along every spatial axis, at most the image's.

    Returns
    -------
    (image, mask) : copies of the crops

    Raises
    ------
    ValueError
        ``size`` of the wrong length, not positive, or larger than the image.

    Examples
    --------
    >>> image = np.arange(16).reshape(4, 4)
    >>> crop, _ = random_crop(image, size=(2, 3), rng=0)
    >>> crop.shape
    (2, 3)
    """
    image, mask, rng, channel_axis = _inputs(image, mask, rng, channel_axis)
    shape = _spatial_shape(image, channel_axis)
    size = tuple(int(s) for s in np.atleast_1d(size))
    if len(size) != len(shape) or any(not 0 < s <= n for s, n in zip(size, shape, strict=True)):
        raise ValueError(
            f"size must give a positive length no larger than the image for each of the "
            f"{len(shape)} spatial axes {shape}, got {size}"
        )
    starts = [int(rng.integers(0, n - s + 1)) for s, n in zip(size, shape, strict=True)]
    box = tuple(slice(a, a + s) for a, s in zip(starts, size, strict=True))
    image = _per_channel(image, channel_axis, lambda a: a[box].copy())
    return image, None if mask is None else mask[box].copy()


def resize(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    *,
    shape: Sequence[int],
    order: int = 1,
    channel_axis: int | None = None,
) -> Pair:
    """Resample image and mask to a new spatial ``shape`` (deterministic; ``rng`` is unused).

    Pixel centres are aligned (as :func:`skimage.transform.resize` and PyTorch's
    ``align_corners=False``): output index :math:`i` samples the input at

    .. math:: x = (i + \\tfrac12)\\, \\frac{n_{in}}{n_{out}} - \\tfrac12

    with the edge value repeated beyond the border. No anti-aliasing: smooth the image first
    (:func:`gaussian_blur`) before shrinking it a lot.

    Parameters
    ----------
    image, mask, channel_axis
        As :func:`random_flip`.
    rng : ignored
        Present so that every transform can be called the same way in :class:`Compose`.
    shape : sequence of int
        The new spatial shape.
    order : int, default 1
        Spline order for the image; the mask uses 0.

    Returns
    -------
    (image, mask)

    Raises
    ------
    ValueError
        ``shape`` of the wrong length or not positive; bad ``order``.

    Examples
    --------
    >>> image = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> resize(image, shape=(4, 4))[0][0]
    array([0.  , 0.25, 0.75, 1.  ])
    """
    image, mask, _, channel_axis = _inputs(image, mask, 0, channel_axis)
    _check_order_mode(order, "nearest")
    old = _spatial_shape(image, channel_axis)
    new = tuple(int(s) for s in np.atleast_1d(shape))
    if len(new) != len(old) or min(new) < 1:
        raise ValueError(f"shape must give {len(old)} positive lengths, got {shape!r}")
    axes = [(np.arange(m) + 0.5) * (n / m) - 0.5 for m, n in zip(new, old, strict=True)]
    coordinates = np.stack(np.meshgrid(*axes, indexing="ij"))

    def warp(a, k, m, fill):
        return ndimage.map_coordinates(a, coordinates, order=k, mode=m, cval=fill)

    return _resample(image, mask, channel_axis, order, "nearest", 0.0, 0, warp)


# ---------------------------------------------------------------------------------------------
# Intensity transforms: the mask is returned untouched
# ---------------------------------------------------------------------------------------------
def _as_float(image: np.ndarray) -> np.ndarray:
    return image.astype(float_dtype(image))


def adjust_brightness(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    delta: Any = (-0.1, 0.1),
    channel_axis: int | None = None,
) -> Pair:
    """Add a constant to every voxel: :math:`x' = x + \\delta`.

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`random_flip`; ``mask`` is returned as it is (the same object).
    delta : float or (low, high), default (-0.1, 0.1)
        The offset, in image units (e.g. for an image scaled to [0, 1]).

    Returns
    -------
    (image, mask) : a float image

    Examples
    --------
    >>> adjust_brightness(np.array([[0.0, 0.5]]), delta=0.25)[0]
    array([[0.25, 0.75]])
    """
    image, mask, rng, _ = _inputs(image, mask, rng, channel_axis)
    return _as_float(image) + _draw(delta, rng, "delta"), mask


def adjust_contrast(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    factor: Any = (0.75, 1.25),
    channel_axis: int | None = None,
) -> Pair:
    """Stretch intensities about their mean: :math:`x' = \\bar x + f\\,(x - \\bar x)`.

    ``f > 1`` increases the contrast, ``f < 1`` decreases it; the mean intensity (over the
    whole array) is kept.

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`adjust_brightness`.
    factor : float or (low, high), default (0.75, 1.25)
        ``f >= 0``.

    Returns
    -------
    (image, mask)

    Examples
    --------
    >>> adjust_contrast(np.array([[0.0, 1.0]]), factor=2.0)[0]
    array([[-0.5,  1.5]])
    """
    image, mask, rng, _ = _inputs(image, mask, rng, channel_axis)
    f = _draw(factor, rng, "factor", _NON_NEGATIVE)
    image = _as_float(image)
    mean = image.mean()
    return mean + f * (image - mean), mask


def adjust_gamma(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    gamma: Any = (0.7, 1.5),
    gain: float = 1.0,
    intensity_range: tuple[float, float] | None = None,
    channel_axis: int | None = None,
) -> Pair:
    """Gamma correction: a power law on intensities rescaled to [0, 1].

    .. math:: x' = a + (b - a)\\; g \\left(\\frac{x - a}{b - a}\\right)^{\\gamma}

    with :math:`[a, b]` the ``intensity_range`` (default: the image's minimum and maximum),
    gain ``g``. ``gamma > 1`` darkens the mid-tones, ``gamma < 1`` brightens them; with
    ``gain=1`` (the default) the extremes stay in place. For an image in [0, 1] with
    ``intensity_range=(0, 1)`` this is :func:`skimage.exposure.adjust_gamma`.

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`adjust_brightness`.
    gamma : float or (low, high), default (0.7, 1.5)
        ``gamma > 0``.
    gain : float, default 1.0
    intensity_range : (float, float), optional
        The values mapped to 0 and 1; every voxel must lie inside.

    Returns
    -------
    (image, mask)

    Raises
    ------
    ValueError
        ``gamma <= 0``, a bad ``intensity_range`` or voxels outside it.

    Examples
    --------
    >>> adjust_gamma(np.array([[0.0, 0.25, 1.0]]), gamma=0.5)[0]
    array([[0. , 0.5, 1. ]])
    """
    image, mask, rng, _ = _inputs(image, mask, rng, channel_axis)
    g = _draw(gamma, rng, "gamma", _POSITIVE)
    image = _as_float(image)
    if intensity_range is None:
        low, high = float(image.min()), float(image.max())
    else:
        low, high = (float(v) for v in intensity_range)
        if not low < high:
            raise ValueError(
                f"intensity_range must be (low, high) with low < high, got {intensity_range!r}"
            )
        if image.min() < low or image.max() > high:
            raise ValueError(
                f"image values [{image.min()}, {image.max()}] lie outside intensity_range "
                f"{intensity_range!r}"
            )
    if high == low:  # a constant image has no contrast to reshape
        return image, mask
    normalised = (image - low) / (high - low)
    return (low + (high - low) * gain * normalised**g).astype(image.dtype), mask


def add_gaussian_noise(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    std: Any = (0.0, 0.05),
    mean: float = 0.0,
    channel_axis: int | None = None,
) -> Pair:
    """Add independent Gaussian noise to every voxel: :math:`x' = x + \\varepsilon`,
    :math:`\\varepsilon \\sim \\mathcal{N}(\\mu, \\sigma^2)`.

    (Real CT noise after reconstruction is correlated and dose-dependent; see the physics
    lectures. This is the simple, additive model.)

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`adjust_brightness`.
    std : float or (low, high), default (0, 0.05)
        Standard deviation :math:`\\sigma \\ge 0` in image units.
    mean : float, default 0.0

    Returns
    -------
    (image, mask)

    Raises
    ------
    ValueError
        Negative ``std``.

    Examples
    --------
    >>> noisy, _ = add_gaussian_noise(np.zeros((100, 100)), std=0.1, rng=0)
    >>> round(float(noisy.std()), 2)
    0.1
    """
    image, mask, rng, _ = _inputs(image, mask, rng, channel_axis)
    sigma = _draw(std, rng, "std", _NON_NEGATIVE)
    image = _as_float(image)
    return image + rng.normal(mean, sigma, image.shape).astype(image.dtype), mask


def gaussian_blur(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    sigma: Any = (0.5, 1.5),
    mode: str = "reflect",
    channel_axis: int | None = None,
) -> Pair:
    """Smooth with an isotropic Gaussian of standard deviation ``sigma`` voxels,
    :func:`scipy.ndimage.gaussian_filter` along the spatial axes (channels are not mixed).

    .. math:: x' = G_\\sigma * x, \\qquad G_\\sigma(u) \\propto e^{-\\|u\\|^2 / 2\\sigma^2}

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`adjust_brightness`.
    sigma : float or (low, high), default (0.5, 1.5)
        ``sigma >= 0`` (0 leaves the image unchanged).
    mode : str, default "reflect"
        Border handling (:mod:`scipy.ndimage` modes).

    Returns
    -------
    (image, mask)

    Raises
    ------
    ValueError
        Negative ``sigma``, unknown ``mode``.

    Examples
    --------
    >>> image = np.zeros((5, 5))
    >>> image[2, 2] = 1.0
    >>> blurred, _ = gaussian_blur(image, sigma=1.0)
    >>> round(float(blurred.sum()), 6), bool(blurred[2, 2] < 1)
    (1.0, True)
    """
    image, mask, rng, channel_axis = _inputs(image, mask, rng, channel_axis)
    _check_order_mode(0, mode)
    s = _draw(sigma, rng, "sigma", _NON_NEGATIVE)
    sigmas = [0.0 if axis == channel_axis else s for axis in range(image.ndim)]
    return ndimage.gaussian_filter(_as_float(image), sigmas, mode=mode), mask


def histogram_equalize(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    nbins: int = 256,
    channel_axis: int | None = None,
) -> Pair:
    """Histogram equalisation: map every intensity to its cumulative frequency.

    .. math:: x' = \\mathrm{CDF}(x) = \\frac{\\#\\{\\text{voxels} \\le x\\}}{\\#\\text{voxels}}

    computed from an ``nbins``-bin histogram between the image's minimum and maximum and
    interpolated linearly between bin centres, as :func:`skimage.exposure.equalize_hist` does
    for float images. The output lies in (0, 1] and has a roughly flat histogram: contrast is
    spread over the intensities that actually occur. Deterministic (``rng`` unused); the
    histogram is taken over the whole array, all channels together.

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`adjust_brightness`. ``mask`` is passed through: unlike scikit-image's
        ``mask`` argument it does not restrict the histogram.
    nbins : int, default 256

    Returns
    -------
    (image, mask) : a float image with values in (0, 1]

    Raises
    ------
    ValueError
        ``nbins < 1``.

    Examples
    --------
    >>> histogram_equalize(np.array([[0.0, 0.0, 0.0, 1.0]]), nbins=2)[0]
    array([[0.75, 0.75, 0.75, 1.  ]])
    """
    image, mask, _, _ = _inputs(image, mask, 0, channel_axis)
    nbins = integer("nbins", nbins, minimum=1)
    image = _as_float(image)
    counts, edges = np.histogram(image, bins=nbins, range=(image.min(), image.max()))
    centres = (edges[:-1] + edges[1:]) / 2
    cdf = np.cumsum(counts) / image.size
    return np.interp(image, centres, cdf).astype(image.dtype), mask


def _random_box(shape, fractions, rng) -> tuple[slice, ...]:
    """A box with sides ``round(f_k n_k)`` (at least 1) at a uniformly random position."""
    sides = [min(n, max(1, int(round(f * n)))) for f, n in zip(fractions, shape, strict=True)]
    starts = [int(rng.integers(0, n - s + 1)) for s, n in zip(sides, shape, strict=True)]
    return tuple(slice(a, a + s) for a, s in zip(starts, sides, strict=True))


def random_erasing(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    size: Any = (0.1, 0.4),
    value: float | str = 0.0,
    channel_axis: int | None = None,
) -> Pair:
    """Random erasing (Zhong et al., 2020): overwrite a random box of the image.

    The box's side along every spatial axis is a fraction of that axis drawn from ``size``;
    its position is uniform among the positions where it fits. The network must then use
    the rest of the image (robustness to occlusion). The mask is unchanged: the anatomy is
    still there, only hidden.

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`adjust_brightness`.
    size : float or (low, high), default (0.1, 0.4)
        Side fractions in (0, 1], drawn per axis.
    value : float or "random", default 0.0
        The fill value, or "random" for uniform noise between the image's minimum and maximum.

    Returns
    -------
    (image, mask)

    Raises
    ------
    ValueError
        Fractions outside (0, 1], an unknown ``value`` string.

    Examples
    --------
    >>> erased, _ = random_erasing(np.ones((10, 10)), size=0.3, rng=0)
    >>> int((erased == 0).sum())  # a 3 x 3 box
    9
    """
    image, mask, rng, channel_axis = _inputs(image, mask, rng, channel_axis)
    if isinstance(value, str) and value != "random":
        raise ValueError(f"value must be a number or 'random', got {value!r}")
    shape = _spatial_shape(image, channel_axis)
    fractions = [
        _draw(size, rng, "size", (lambda v: 0 < v <= 1, "fractions in (0, 1]")) for _ in shape
    ]
    box = _random_box(shape, fractions, rng)
    out = _as_float(image)
    low, high = out.min(), out.max()
    if channel_axis is not None:
        box = box[:channel_axis] + (slice(None),) + box[channel_axis:]
    region = out[box]
    out[box] = rng.uniform(low, high, region.shape) if value == "random" else value
    return out, mask


# ---------------------------------------------------------------------------------------------
# MixUp and CutMix: batches of images with classification labels
# ---------------------------------------------------------------------------------------------
def _soft_labels(labels: Any, num_classes: int | None, n: int):
    """Labels as an (N, K) float array or tensor (one-hot for integer class indices)."""
    if is_tensor(labels):
        import torch

        if labels.ndim == 1 and not labels.is_floating_point():
            if num_classes is None:
                raise ValueError("integer labels need num_classes to be one-hot encoded")
            labels = torch.nn.functional.one_hot(labels.long(), num_classes).float()
        soft = labels.float() if not labels.is_floating_point() else labels
    else:
        labels = np.asarray(labels)
        if labels.ndim == 1 and labels.dtype.kind in "iu":
            if num_classes is None:
                raise ValueError("integer labels need num_classes to be one-hot encoded")
            if labels.min() < 0 or labels.max() >= num_classes:
                raise ValueError(f"labels must be in [0, num_classes={num_classes})")
            labels = np.eye(num_classes)[labels]
        soft = labels.astype(float) if labels.dtype.kind != "f" else labels
    if soft.ndim != 2 or soft.shape[0] != n:
        raise ValueError(
            f"labels must be class indices of shape ({n},) or one-hot/soft labels of shape "
            f"({n}, K), got shape {tuple(soft.shape)}"
        )
    return soft


def _mixing_inputs(images, labels, rng, alpha, num_classes):
    if not (is_tensor(images) or isinstance(images, np.ndarray)):
        raise TypeError(f"images must be a NumPy array or torch tensor, got {type(images)}")
    if images.ndim < 2:
        raise ValueError(f"images must be a batch (N, ...), got shape {tuple(images.shape)}")
    if not alpha > 0:
        raise ValueError(f"alpha must be positive (Beta(alpha, alpha)), got {alpha}")
    rng = generator(rng, "rng")
    soft = _soft_labels(labels, num_classes, images.shape[0])
    return rng, soft, rng.permutation(images.shape[0])


def _take(x: Any, order: np.ndarray) -> Any:
    """``x[order]`` along the batch axis, for an array or a tensor."""
    if is_tensor(x):
        import torch

        return x[torch.as_tensor(order, device=x.device)]
    return x[order]


def mixup(
    images: Any,
    labels: Any,
    rng: Any = None,
    alpha: float = 0.4,
    num_classes: int | None = None,
) -> tuple[Any, Any]:
    """MixUp (Zhang et al., 2018): blend every sample with another one of the batch.

    With :math:`\\lambda \\sim \\mathrm{Beta}(\\alpha, \\alpha)` (one draw per batch) and a
    random permutation :math:`\\pi` of the batch:

    .. math:: \\tilde x_i = \\lambda x_i + (1 - \\lambda) x_{\\pi(i)}, \\qquad
              \\tilde y_i = \\lambda y_i + (1 - \\lambda) y_{\\pi(i)}

    so the mixed labels still sum to 1. Train with a soft-label cross-entropy
    (``F.cross_entropy`` accepts probabilities as targets).

    Parameters
    ----------
    images : ndarray or torch.Tensor, shape (N, ...)
    labels : shape (N,) integer class indices (with ``num_classes``) or (N, K) one-hot/soft
    rng : numpy.random.Generator or int, optional
    alpha : float > 0, default 0.4
        Small ``alpha`` keeps :math:`\\lambda` near 0 or 1 (mild mixing).
    num_classes : int, optional
        Needed for integer labels.

    Returns
    -------
    (images, labels)
        The mixed batch (same type as the input) and (N, K) float labels.

    Raises
    ------
    ValueError
        ``alpha <= 0``, labels of the wrong shape, integer labels without ``num_classes``.

    Examples
    --------
    >>> images = np.stack([np.zeros((4, 4)), np.ones((4, 4))])
    >>> mixed, soft = mixup(images, np.array([0, 1]), rng=0, num_classes=2)
    >>> soft.sum(axis=1)
    array([1., 1.])
    >>> bool(np.allclose(mixed[:, 0, 0], soft[:, 1]))  # pixel value = weight of image 1
    True
    """
    rng, soft, order = _mixing_inputs(images, labels, rng, alpha, num_classes)
    lam = float(rng.beta(alpha, alpha))
    mixed = lam * images + (1 - lam) * _take(images, order)
    return mixed, lam * soft + (1 - lam) * _take(soft, order)


def cutmix(
    images: Any,
    labels: Any,
    rng: Any = None,
    alpha: float = 1.0,
    num_classes: int | None = None,
    spatial_dims: int = 2,
) -> tuple[Any, Any]:
    """CutMix (Yun et al., 2019): paste a box from another sample of the batch.

    Draw :math:`\\lambda \\sim \\mathrm{Beta}(\\alpha, \\alpha)` and a box whose sides are the
    fraction :math:`(1 - \\lambda)^{1/d}` of the ``d`` spatial axes (so it covers about
    :math:`1 - \\lambda` of the image) at a random position where it fits; inside the box
    sample ``i`` takes the pixels of sample :math:`\\pi(i)`. The labels are mixed by the area
    actually pasted:

    .. math:: \\tilde y_i = \\lambda' y_i + (1 - \\lambda') y_{\\pi(i)}, \\qquad
              \\lambda' = 1 - \\frac{|\\text{box}|}{|\\text{image}|}

    Parameters
    ----------
    images : ndarray or torch.Tensor, shape (N, ..., *spatial)
        The last ``spatial_dims`` axes are spatial, e.g. (N, C, H, W).
    labels, rng, num_classes
        As :func:`mixup`.
    alpha : float > 0, default 1.0
        ``alpha = 1`` draws :math:`\\lambda` uniformly.
    spatial_dims : int, default 2
        2 for images, 3 for volumes (N, C, D, H, W).

    Returns
    -------
    (images, labels)

    Raises
    ------
    ValueError
        As :func:`mixup`; ``spatial_dims`` not in {2, 3} or more than the image has.

    Examples
    --------
    >>> images = np.stack([np.zeros((1, 8, 8)), np.ones((1, 8, 8))])  # (N, C, H, W)
    >>> mixed, soft = cutmix(images, np.array([0, 1]), rng=1, num_classes=2)
    >>> bool(np.allclose(mixed.mean(axis=(1, 2, 3)), soft[:, 1]))  # area = label weight
    True
    """
    if spatial_dims not in (2, 3) or getattr(images, "ndim", 0) < spatial_dims + 1:
        raise ValueError(
            f"spatial_dims must be 2 or 3 and images must be (N, ..., *spatial), got "
            f"spatial_dims={spatial_dims} and shape {tuple(getattr(images, 'shape', ()))}"
        )
    rng, soft, order = _mixing_inputs(images, labels, rng, alpha, num_classes)
    lam = float(rng.beta(alpha, alpha))
    shape = tuple(images.shape[-spatial_dims:])
    side = (1 - lam) ** (1 / spatial_dims)
    box = (Ellipsis, *_random_box(shape, [side] * spatial_dims, rng))
    pasted = float(np.prod([s.stop - s.start for s in box[1:]]) / np.prod(shape))
    mixed = images.clone() if is_tensor(images) else images.copy()
    mixed[box] = _take(images, order)[box]
    lam_area = 1.0 - pasted  # the label weight follows the area actually pasted
    return mixed, lam_area * soft + (1 - lam_area) * _take(soft, order)


# ---------------------------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------------------------
class Compose:
    """Apply transforms one after the other, sharing one random generator.

    ``Compose([t1, t2])(image, mask, rng)`` is ``t2(*t1(image, mask, rng), rng)``. Set a
    transform's parameters with :func:`functools.partial`.

    Parameters
    ----------
    transforms : sequence of callables ``t(image, mask, rng=...) -> (image, mask)``

    Raises
    ------
    TypeError
        An element that is not callable.

    Examples
    --------
    >>> from functools import partial
    >>> flip_rows = partial(random_flip, axes=[0], p=1.0)
    >>> Compose([flip_rows, flip_rows])(np.arange(4).reshape(2, 2))[0]
    array([[0, 1],
           [2, 3]])
    """

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"every transform must be callable, got {t!r}")

    def __call__(self, image: np.ndarray, mask: np.ndarray | None = None, rng: Any = None) -> Pair:
        rng = generator(rng, "rng")
        for t in self.transforms:
            image, mask = t(image, mask, rng=rng)
        return image, mask

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


class RandomApply:
    """Apply ``transform`` with probability ``p``, otherwise pass image and mask through.

    Parameters
    ----------
    transform : callable ``t(image, mask, rng=...) -> (image, mask)``
    p : float in [0, 1], default 0.5

    Raises
    ------
    ValueError
        ``p`` outside [0, 1].
    TypeError
        ``transform`` not callable.

    Examples
    --------
    >>> never = RandomApply(adjust_brightness, p=0.0)
    >>> never(np.zeros((2, 2)), rng=0)[0]
    array([[0., 0.],
           [0., 0.]])
    """

    def __init__(self, transform: Transform, p: float = 0.5) -> None:
        if not callable(transform):
            raise TypeError(f"transform must be callable, got {transform!r}")
        if not 0 <= p <= 1:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.transform = transform
        self.p = float(p)

    def __call__(self, image: np.ndarray, mask: np.ndarray | None = None, rng: Any = None) -> Pair:
        rng = generator(rng, "rng")
        if rng.random() < self.p:
            return self.transform(image, mask, rng=rng)
        return image, mask

    def __repr__(self) -> str:
        return f"RandomApply({self.transform!r}, p={self.p})"


def augment_batch(images: Any, masks: Any, transform: Transform, rng: Any = None):
    """Run a NumPy transform on every sample of a batch of torch tensors.

    Each sample gets its own random draw (from one generator). A single channel is squeezed
    for the transform and put back; with several channels the transform receives
    ``(C, *spatial)`` and must be built with ``channel_axis=0``.

    Parameters
    ----------
    images : torch.Tensor, shape (N, C, *spatial)
    masks : torch.Tensor of shape (N, *spatial) or (N, 1, *spatial), or None
    transform : callable ``t(image, mask, rng=...) -> (image, mask)``
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    (images, masks) : tensors on the input's device, images in the input dtype, masks in theirs

    Raises
    ------
    TypeError
        Non-tensor input.
    ValueError
        Masks whose batch or spatial shape does not match; transforms giving samples of
        different shapes.

    Examples
    --------
    >>> import torch
    >>> from functools import partial
    >>> images = torch.rand(4, 1, 16, 16)
    >>> masks = (images[:, 0] > 0.5).long()
    >>> out, out_masks = augment_batch(images, masks, partial(random_affine, degrees=10), rng=0)
    >>> out.shape, out_masks.shape, out_masks.dtype
    (torch.Size([4, 1, 16, 16]), torch.Size([4, 16, 16]), torch.int64)
    """
    import torch

    if not isinstance(images, torch.Tensor) or images.ndim < 4:
        raise TypeError("images must be a torch.Tensor of shape (N, C, *spatial)")
    rng = generator(rng, "rng")
    n, channels = images.shape[:2]
    spatial = tuple(images.shape[2:])
    mask_channel = False
    if masks is not None:
        if not isinstance(masks, torch.Tensor):
            raise TypeError(f"masks must be a torch.Tensor or None, got {type(masks).__name__}")
        mask_channel = masks.ndim == images.ndim and masks.shape[1] == 1
        mask_spatial = tuple(masks.shape[2:] if mask_channel else masks.shape[1:])
        if masks.shape[0] != n or mask_spatial != spatial:
            raise ValueError(
                f"masks must have shape (N, *spatial) = {(n, *spatial)} (or with a channel of "
                f"1), got {tuple(masks.shape)}"
            )
    out_images, out_masks = [], []
    for i in range(n):
        image = images[i].detach().cpu().numpy()
        image = image[0] if channels == 1 else image
        mask = None
        if masks is not None:
            mask = masks[i].detach().cpu().numpy()
            mask = mask[0] if mask_channel else mask
        image, mask = transform(image, mask, rng=rng)
        out_images.append(image[None] if channels == 1 else image)
        out_masks.append(None if mask is None else (mask[None] if mask_channel else mask))
    if len({a.shape for a in out_images}) > 1:
        raise ValueError("the transform gave samples of different shapes: they cannot be stacked")
    result = torch.from_numpy(np.stack(out_images)).to(images.device, images.dtype)
    if masks is None:
        return result, None
    return result, torch.from_numpy(np.stack(out_masks)).to(masks.device, masks.dtype)
