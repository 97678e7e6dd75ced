"""Geometric transforms (lecture 08): one random draw, the same geometry for image and mask.

* exact transforms: :func:`random_flip`, :func:`random_rotate90` (quarter turns, as
  :func:`numpy.rot90`), :func:`random_crop`;
* resampled transforms: :func:`random_affine` (rotation, scale, shear, translation about the
  centre), :func:`elastic_deform` (Simard et al., 2003) and :func:`resize`.

A resampled transform computes, for every output position :math:`x'`, the input position
:math:`x = T^{-1}(x')` it comes from and interpolates there: the image with a spline of order
``order``, the mask always with order 0 (nearest neighbour), so a lesion stays a lesion and
background stays background. Shapes: image ``(H, W)`` or ``(D, H, W)`` (plus an optional
``channel_axis``, every channel gets the same geometry), mask of the spatial shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from course.augment._common import (
    _NON_NEGATIVE,
    _POSITIVE,
    Pair,
    _check_order_mode,
    _draw,
    _inputs,
    _per_channel,
    _resample,
    _spatial_axis,
    _spatial_shape,
)

__all__ = [
    "random_flip",
    "random_rotate90",
    "random_affine",
    "elastic_deform",
    "random_crop",
    "resize",
]


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
