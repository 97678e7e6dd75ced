"""Intensity transforms (lecture 08): change the voxel values, never the geometry.

* :func:`adjust_brightness` :math:`x' = x + \\delta`;
* :func:`adjust_contrast` :math:`x' = \\bar x + f\\,(x - \\bar x)`;
* :func:`adjust_gamma` :math:`x' = a + (b - a)\\, g\\, ((x - a)/(b - a))^{\\gamma}`;
* :func:`add_gaussian_noise` :math:`x' = x + \\varepsilon,\\ \\varepsilon \\sim
  \\mathcal{N}(\\mu, \\sigma^2)`;
* :func:`gaussian_blur` :math:`x' = G_\\sigma * x`;
* :func:`histogram_equalize` :math:`x' = \\mathrm{CDF}(x)`.

Each has the form ``f(image, mask=None, rng=None, **params) -> (image, mask)``, returns a float
image of the input's shape (``(H, W)`` or ``(D, H, W)``, plus an optional ``channel_axis``) and
the mask object untouched: the anatomy has not moved. References: scikit-image's
:mod:`skimage.exposure` for gamma and equalisation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from course._validate import integer
from course.augment._common import (
    _NON_NEGATIVE,
    _POSITIVE,
    Pair,
    _as_float,
    _check_order_mode,
    _draw,
    _inputs,
)

__all__ = [
    "adjust_brightness",
    "adjust_contrast",
    "adjust_gamma",
    "add_gaussian_noise",
    "gaussian_blur",
    "histogram_equalize",
]


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
