"""Back-projection and filtered back-projection (FBP), the classical CT reconstruction.

:func:`backproject` smears every projection back across the image, as one product with the
cached matrix ``B`` (:func:`~course.physics.ct.backprojection_matrix`); :func:`fbp` filters the
projections first (:mod:`course.physics.ct.filtering`), which removes the ``1/r`` blur.
"""

from __future__ import annotations

import numpy as np

from course.physics.ct._checks import _check_circle, _check_sinogram, _output_size
from course.physics.ct.filtering import _check_filter_name, _filter
from course.physics.ct.matrices import _run


def _backproject(sinogram, theta, output_size, tensor, circle: bool = True):
    n_det, n_angles = sinogram.shape[-2:]
    out = _output_size(output_size, n_det, circle)
    key = (n_det, theta, out, circle)
    image = _run("backprojection", key, sinogram, tensor, n_det * n_angles, (out, out))
    return image * (np.pi / n_angles)


def backproject(sinogram, theta=None, output_size: int | None = None, circle: bool = True):
    """Unfiltered back-projection: smear every projection back across the image.

    .. math::

        b(x, y) = \\int_0^{\\pi} p(x \\cos\\theta + y \\sin\\theta, \\theta)\\, d\\theta
        \\approx \\frac{\\pi}{K} \\sum_{k=1}^{K} p(x \\cos\\theta_k + y \\sin\\theta_k, \\theta_k)

    for ``K`` angles evenly covering 180 degrees, reading each projection by linear interpolation
    (:func:`~course.physics.ct.backprojection_matrix`). The result is the true image blurred by
    ``1/r``: a point becomes a star of lines; :func:`fbp` removes the blur by filtering first.
    Pixels outside the circle of radius ``output_size // 2`` are zero, unless ``circle=False``.

    Parameters
    ----------
    sinogram : ndarray or torch.Tensor, shape (..., n_detectors, n_angles)
        One sinogram or a batch. A tensor is processed with PyTorch on its device.
    theta : array_like, shape (n_angles,), optional
        Angles in degrees; default ``n_angles`` angles evenly spread over [0, 180).
    output_size : int, optional
        Size of the square image, at most ``n_detectors``; default ``n_detectors``, or
        ``floor(n_detectors / sqrt(2))`` when ``circle=False``.
    circle : bool, default True
        False: fill the whole square, for a sinogram from ``radon(image, circle=False)``.

    Returns
    -------
    ndarray or torch.Tensor, shape (..., output_size, output_size)
        float32 for float16 or float32 input, else float64.

    Raises
    ------
    TypeError
        If ``sinogram`` is not a real array or tensor, ``output_size`` not an int, or ``circle``
        not a bool.
    ValueError
        If ``sinogram`` has fewer than 2 dimensions, no detector or angle, or holds NaN/inf,
        ``theta`` does not have one angle per column, or ``output_size`` is not in
        ``[1, n_detectors]``.

    Examples
    --------
    Back-projecting a constant sinogram gives pi inside the circle:

    >>> b = backproject(np.ones((9, 90)))
    >>> round(float(b[4, 4]), 4), float(b[0, 0])
    (3.1416, 0.0)
    """
    sinogram, tensor, theta = _check_sinogram(sinogram, theta)
    return _backproject(sinogram, theta, output_size, tensor, _check_circle(circle))


def fbp(
    sinogram,
    theta=None,
    filter_name: str = "ramp",
    output_size: int | None = None,
    circle: bool = True,
):
    """Filtered back-projection: the classical CT reconstruction.

    .. math::

        \\hat\\mu(x, y) = \\frac{\\pi}{K} \\sum_{k=1}^{K}
            q(x \\cos\\theta_k + y \\sin\\theta_k,\\ \\theta_k), \\qquad
        q = \\mathrm{IDFT}(H\\, W\\, \\mathrm{DFT}(p))

    i.e. ``backproject(filter_sinogram(sinogram, filter_name), theta)``: with the same sinogram,
    angles and filter it gives :func:`skimage.transform.iradon` (``circle=True``, linear
    interpolation) up to float32 rounding, the slightly shorter zero-padding of the filter and,
    for ``"hamming"`` and ``"hann"``, scikit-image's symmetric windows (``np.hamming(size)``,
    slightly different from the periodic ones used here),
    except on the outermost ring of pixels of an even-sized image, which scikit-image reads
    partly from one detector beyond the last (from its zero-padding, where the filtered
    projection is not zero) and this function reads as zero. A batch
    ``(B, n_detectors, n_angles)`` is reconstructed with one sparse matrix product; a tensor
    with PyTorch on its device.

    With ``circle=False`` (a sinogram from ``radon(image, circle=False)``, ``ceil(sqrt(2) N)``
    detectors) the whole ``N x N`` square is reconstructed, ``N = floor(n_detectors / sqrt(2))``
    by default: :func:`skimage.transform.iradon` with ``circle=False``, same padding of the
    filter, up to float32 rounding, except on the very corners (at most a few pixels), whose
    detector position falls beyond the last detector at some angles: scikit-image reads zero
    there, this function interpolates towards zero.

    Parameters
    ----------
    sinogram : ndarray or torch.Tensor, shape (..., n_detectors, n_angles)
        Projections (e.g. from :func:`~course.physics.ct.radon` or
        :func:`~course.physics.ct.simulate_ct`).
    theta : array_like, shape (n_angles,), optional
        Angles in degrees; default ``n_angles`` angles evenly spread over [0, 180).
    filter_name : str, default "ramp"
        One of :data:`~course.physics.ct.FILTERS` (see
        :func:`~course.physics.ct.reconstruction_filter`).
    output_size : int, optional
        Size of the square image, at most ``n_detectors``; default ``n_detectors``, or
        ``floor(n_detectors / sqrt(2))`` when ``circle=False``.
    circle : bool, default True
        True: the image is zero outside its inscribed circle. False: reconstruct the whole
        square.

    Returns
    -------
    ndarray or torch.Tensor, shape (..., output_size, output_size)
        float32 for float16 or float32 input, else float64 (computed in float32); zero
        outside the inscribed circle when ``circle=True``.

    Raises
    ------
    TypeError
        If ``sinogram`` is not a real array or tensor, ``output_size`` not an int, or ``circle``
        not a bool.
    ValueError
        If ``sinogram`` has fewer than 2 dimensions, no detector or angle, or holds NaN/inf,
        ``theta`` does not have one angle per column, ``filter_name`` is unknown (the message
        lists the valid names), or ``output_size`` is not in ``[1, n_detectors]``.

    Examples
    --------
    >>> from course.physics.ct import radon
    >>> yy, xx = np.mgrid[:33, :33] - 16
    >>> disk = (xx**2 + yy**2 <= 10**2).astype(float)
    >>> reconstruction = fbp(radon(disk, np.arange(180)), np.arange(180))
    >>> bool(abs(reconstruction[yy**2 + xx**2 <= 6**2].mean() - 1.0) < 0.02)
    True
    >>> square = np.ones((33, 33))  # non-zero up to its corners
    >>> fbp(radon(square, np.arange(180), circle=False), np.arange(180), circle=False).shape
    (33, 33)
    """
    sinogram, tensor, theta = _check_sinogram(sinogram, theta)
    filter_name = _check_filter_name(filter_name)
    circle = _check_circle(circle)
    filtered = _filter(sinogram, filter_name, tensor)
    return _backproject(filtered, theta, output_size, tensor, circle)
