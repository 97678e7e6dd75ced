"""The Radon transform: the sinogram of an image, as one product with the cached matrix ``A``."""

from __future__ import annotations

import warnings

import numpy as np

from course.physics.ct._checks import _angles, _check_circle, _check_operand
from course.physics.ct.geometry import _diagonal_size, circle_mask
from course.physics.ct.matrices import _run


def radon(image, theta=None, circle: bool = True):
    """The Radon transform: line integrals of the image along every ray, the sinogram.

    .. math::

        p(s, \\theta) = \\sum_{t} \\mathrm{image}\\big(c - s \\sin\\theta + t \\cos\\theta,\\;
            c + s \\cos\\theta + t \\sin\\theta\\big)

    with ``c = N // 2``, detector offset ``s = d - c`` for detector ``d = 0..N-1``, and unit
    steps ``t`` along the ray, the image being read by bilinear interpolation: exactly
    :func:`skimage.transform.radon` (computed as ``A @ image.ravel()`` with the cached
    :func:`~course.physics.ct.projection_matrix`). Sums are per pixel; multiply by the pixel size
    in cm to get line integrals of an attenuation map in 1/cm (:func:`simulate_ct` does).

    With ``circle=False`` the whole square is projected, corners included: the image is first
    zero-padded (centred, as scikit-image does) to ``M = ceil(sqrt(2) N)`` pixels, the length of
    its diagonal, so the sinogram has ``M`` detectors.

    Parameters
    ----------
    image : ndarray or torch.Tensor, shape (..., N, N)
        One square image or a batch of them. A tensor is transformed with PyTorch on its device.
    theta : array_like, shape (n_angles,), optional
        Projection angles in degrees; default ``np.arange(180)``.
    circle : bool, default True
        True: the image is zero outside the inscribed circle (:func:`circle_mask`) and the
        sinogram has ``N`` detectors. False: any square image; ``ceil(sqrt(2) N)`` detectors.

    Returns
    -------
    ndarray or torch.Tensor, shape (..., N, n_angles) or (..., ceil(sqrt(2) N), n_angles)
        The sinogram(s), float32 for float16 or float32 input, else float64 (always computed
        in float32, so float16 input cannot overflow).

    Raises
    ------
    TypeError
        If ``image`` is not a real array or tensor, or ``circle`` is not a bool.
    ValueError
        If ``image`` has fewer than 2 dimensions, is empty (``N = 0``), is not square, or holds
        NaN/inf, or ``theta`` is not a non-empty 1D array of finite angles.

    Warns
    -----
    UserWarning
        If ``circle=True`` and the image is not zero outside the inscribed circle: rays then miss
        part of the object and the sinogram is inconsistent (as in scikit-image).

    Examples
    --------
    A centred point projects onto the central detector at every angle:

    >>> image = np.zeros((9, 9)); image[4, 4] = 1.0
    >>> sinogram = radon(image, [0, 30, 60])
    >>> sinogram[:, 0]
    array([0., 0., 0., 0., 1., 0., 0., 0., 0.])
    >>> sinogram.argmax(axis=0)
    array([4, 4, 4])

    The whole square, corners included, needs a longer detector:

    >>> radon(np.ones((9, 9)), [0, 45], circle=False).shape
    (13, 2)
    """
    image, tensor = _check_operand(image, "image", "(..., N, N)")
    if image.shape[-1] != image.shape[-2]:
        raise ValueError(
            f"image must be square (..., N, N), got shape {tuple(image.shape)}; "
            "pad or crop it first"
        )
    theta = _angles(np.arange(180.0) if theta is None else theta)
    if _check_circle(circle):
        _warn_outside_circle(image, tensor)
    else:
        image = _pad_to_diagonal(image, tensor)
    n = image.shape[-1]
    return _run("projection", (n, theta), image, tensor, n * n, (n, len(theta)))


def _warn_outside_circle(image, tensor: bool) -> None:
    """Warn if the image is not zero outside its inscribed circle (radon with circle=True)."""
    outside = ~circle_mask(image.shape[-1])
    if tensor:
        import torch

        nonzero_outside = bool((image[..., torch.from_numpy(outside).to(image.device)] != 0).any())
    else:
        nonzero_outside = bool(np.any(image[..., outside]))
    if nonzero_outside:
        warnings.warn(
            "radon: image must be zero outside the inscribed circle of radius N // 2 "
            "(multiply it by circle_mask(N), or pass circle=False); the sinogram misses what "
            "lies outside",
            UserWarning,
            stacklevel=3,
        )


def _pad_to_diagonal(image, tensor: bool):
    """Zero-pad ``(..., N, N)`` to ``(..., M, M)``, ``M = ceil(sqrt(2) N)``, keeping the centre.

    The centre pixel ``N // 2`` goes to ``M // 2`` (scikit-image's ``radon(circle=False)``), so
    the whole square lies in the inscribed circle of the padded image (up to its very corners).
    """
    n = image.shape[-1]
    size = _diagonal_size(n)
    before = size // 2 - n // 2
    after = size - n - before
    if tensor:
        import torch

        return torch.nn.functional.pad(image, (before, after, before, after))
    pad_width = [(0, 0)] * (image.ndim - 2) + [(before, after), (before, after)]
    return np.pad(image, pad_width)
