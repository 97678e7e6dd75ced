"""Simulated CT acquisition: line integrals, Poisson photon noise at a given dose, log transform."""

from __future__ import annotations

import numpy as np

from course._validate import generator, is_tensor, number
from course.physics.ct._checks import _check_operand
from course.physics.ct.projection import radon


def simulate_ct(image_mu, theta=None, photons=None, seed=None, pixel_size_cm: float = 0.1):
    """Simulate a CT acquisition of an attenuation map: line integrals, photon noise, log.

    .. math::

        p = \\Delta x \\cdot \\mathrm{radon}(\\mu), \\qquad
        N \\sim \\mathrm{Poisson}(I_0 e^{-p}), \\qquad
        \\tilde p = -\\ln \\frac{\\max(N, 1)}{I_0}

    ``I_0`` (``photons``) is the number of photons sent along each ray: the dose. The noise of
    ``\\tilde p`` has variance about ``e^{p} / I_0``, so 10 times the dose gives about
    ``sqrt(10)`` times less noise, and rays through dense or long paths (large ``p``) are the
    noisiest. A ray that detects no photon at all would give ``-ln 0 = inf``; its count is set
    to 1 (it reads ``ln I_0``, the largest measurable value: photon starvation).

    Parameters
    ----------
    image_mu : ndarray, shape (..., N, N)
        Linear attenuation coefficients in 1/cm (non-negative; e.g. from
        :func:`course.physics.phantoms.random_phantom` or :func:`hu_to_mu`), zero outside the
        inscribed circle.
    theta : array_like, shape (n_angles,), optional
        Angles in degrees; default ``np.arange(180)``.
    photons : float, optional
        Incident photons per ray ``I_0 > 0``. None (default) returns the noiseless sinogram.
    seed : int or numpy.random.Generator, optional
        Seed of the Poisson noise: the same seed gives the same sinogram. None draws fresh
        entropy (not reproducible).
    pixel_size_cm : float, default 0.1
        Pixel size in cm (1 mm), turning sums over pixels into line integrals.

    Returns
    -------
    ndarray, shape (..., N, n_angles)
        The (noisy) sinogram of line integrals, dimensionless; ``fbp(result) / pixel_size_cm``
        reconstructs ``mu`` in 1/cm.

    Raises
    ------
    TypeError
        If ``image_mu`` is not a real NumPy array, ``seed`` is not an int or Generator, or a
        number argument has the wrong type.
    ValueError
        If ``image_mu`` is negative, NaN, not square, ``photons``/``pixel_size_cm`` are not
        positive, or ``seed`` is negative.

    Examples
    --------
    >>> from course.physics.ct import MU_WATER, fbp
    >>> yy, xx = np.mgrid[:64, :64] - 32
    >>> water = np.where(xx**2 + yy**2 <= 25**2, MU_WATER, 0.0)  # a 5 cm water cylinder
    >>> clean = simulate_ct(water)
    >>> noisy = simulate_ct(water, photons=1e4, seed=0)
    >>> bool(np.array_equal(noisy, simulate_ct(water, photons=1e4, seed=0)))
    True
    >>> mu = fbp(noisy) / 0.1
    >>> bool(abs(mu[28:36, 28:36].mean() - MU_WATER) < 0.01)
    True
    """
    if is_tensor(image_mu):
        raise TypeError(
            "image_mu must be a NumPy array (use tensor.cpu().numpy()); the noise "
            "is drawn with NumPy so that a seed gives the same sinogram everywhere"
        )
    image_mu, _ = _check_operand(image_mu, "image_mu", "(..., N, N)")
    if (image_mu < 0).any():
        raise ValueError(
            f"image_mu must be non-negative attenuation in 1/cm, got a minimum of {image_mu.min()}"
        )
    number("pixel_size_cm", pixel_size_cm, low=0, low_open=True)
    if photons is not None:
        number("photons", photons, low=0, low_open=True)
    rng = generator(seed)
    sinogram = radon(image_mu, theta) * pixel_size_cm
    if photons is None:
        return sinogram
    counts = rng.poisson(photons * np.exp(-sinogram.astype(np.float64)))
    counts = np.maximum(counts, 1)  # no photon at all: read as one (photon starvation)
    return (-np.log(counts / photons)).astype(sinogram.dtype)
