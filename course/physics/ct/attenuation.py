"""X-ray attenuation: Beer-Lambert's law, line integrals and Hounsfield units.

A beam of ``I_0`` photons crossing a thickness ``d`` of a material of linear attenuation
coefficient ``mu`` (1/cm) comes out with ``I = I_0 exp(-mu d)`` photons; through the body ``mu``
varies along the path, the detector measures ``I = I_0 exp(-p)`` and the log transform gives
back the line integral ``p``. CT numbers rescale ``mu`` so that water is 0 HU and air -1000 HU.
"""

from __future__ import annotations

import numpy as np

from course._validate import number
from course.physics.ct._checks import _nonnegative, _real_array

#: (NIST XCOM gives 0.206 /cm at 60 keV and 0.184 /cm at 80 keV): 0 HU.
MU_WATER = 0.19
#: Attenuation of air, taken as 0 (its true value, about 2e-4 /cm, is negligible): -1000 HU.
MU_AIR = 0.0


def beer_lambert(i0, mu, length):
    """Photons left after crossing a uniform material: Beer-Lambert's law.

    .. math::

        I = I_0 \\, e^{-\\mu d}

    Parameters
    ----------
    i0 : float or array_like
        Incident intensity (photon count) ``I_0 >= 0``.
    mu : float or array_like
        Linear attenuation coefficient in 1/cm, ``mu >= 0`` (water: :data:`MU_WATER`).
    length : float or array_like
        Thickness ``d`` crossed, in cm, ``d >= 0``.

    The three arguments are broadcast against each other.

    Returns
    -------
    float or ndarray
        Transmitted intensity ``I``, same units as ``i0``.

    Raises
    ------
    TypeError
        If an argument is not real-valued.
    ValueError
        If an argument is negative, NaN or infinite.

    Examples
    --------
    20 cm of water lets through about 2% of the photons:

    >>> round(float(beer_lambert(1e5, MU_WATER, 20.0)))
    2237
    """
    i0 = _nonnegative(i0, "i0")
    mu = _nonnegative(mu, "mu")
    length = _nonnegative(length, "length")
    out = i0 * np.exp(-mu * length)
    return out[()] if isinstance(out, np.ndarray) else out


def line_integral(mu, lengths):
    """The line integral of the attenuation along a path made of uniform segments.

    .. math::

        p = \\int_{\\text{ray}} \\mu \\, ds = \\sum_i \\mu_i d_i, \\qquad I = I_0 e^{-p}

    Parameters
    ----------
    mu : array_like, shape (..., n_segments)
        Attenuation of each segment in 1/cm (non-negative).
    lengths : array_like, shape (..., n_segments)
        Length of each segment in cm (non-negative); broadcast against ``mu``.

    Returns
    -------
    float or ndarray, shape (...)
        ``p``, dimensionless (1/cm times cm), summed over the last axis.

    Raises
    ------
    TypeError
        If an argument is not real-valued.
    ValueError
        If an argument is negative, NaN or infinite, or the shapes do not broadcast.

    Examples
    --------
    2 cm of bone (0.5 /cm) and 10 cm of soft tissue (0.2 /cm):

    >>> p = line_integral([0.5, 0.2], [2.0, 10.0])
    >>> round(float(p), 6), round(float(beer_lambert(1.0, p, 1.0)), 4)
    (3.0, 0.0498)
    """
    mu = _nonnegative(mu, "mu")
    lengths = _nonnegative(lengths, "lengths")
    try:
        products = mu * lengths
    except ValueError as error:
        raise ValueError(
            f"mu of shape {mu.shape} and lengths of shape {lengths.shape} do not broadcast"
        ) from error
    out = np.sum(products, axis=-1) if products.ndim else products
    return out[()] if isinstance(out, np.ndarray) else out


def log_transform(intensity, i0):
    """From measured intensities back to line integrals: the CT "log transform".

    .. math::

        p = -\\ln \\frac{I}{I_0}

    Parameters
    ----------
    intensity : float or array_like
        Measured intensity ``I > 0`` (a zero count has no logarithm: see :func:`simulate_ct`).
    i0 : float or array_like
        Incident intensity ``I_0 > 0``, broadcast against ``intensity``.

    Returns
    -------
    float or ndarray
        The line integrals ``p`` (dimensionless).

    Raises
    ------
    TypeError
        If an argument is not real-valued.
    ValueError
        If an argument is not strictly positive, NaN or infinite.

    Examples
    --------
    >>> float(log_transform(np.exp(-2.5), 1.0))
    2.5
    """
    intensity = _real_array(intensity, "intensity")
    i0 = _real_array(i0, "i0")
    for value, name in ((intensity, "intensity"), (i0, "i0")):
        if (value <= 0).any():
            raise ValueError(
                f"{name} must be > 0 (the logarithm of 0 is -inf), got a minimum of {value.min()}"
            )
    out = -np.log(intensity / i0)
    return out[()] if isinstance(out, np.ndarray) else out


def _check_reference(mu_water, mu_air) -> tuple[float, float]:
    mu_water, mu_air = number("mu_water", mu_water), number("mu_air", mu_air)
    if not 0 <= mu_air < mu_water:
        raise ValueError(f"need 0 <= mu_air < mu_water, got mu_air={mu_air}, mu_water={mu_water}")
    return mu_water, mu_air


def hu_to_mu(hu, mu_water: float = MU_WATER, mu_air: float = MU_AIR):
    """Hounsfield units to linear attenuation coefficients (1/cm).

    .. math::

        \\mu = \\mu_{water} + \\frac{HU}{1000} (\\mu_{water} - \\mu_{air})

    so that water is 0 HU and air is -1000 HU (with the default ``mu_air = 0``, the usual
    ``HU = 1000 (mu - mu_water) / mu_water``).

    Parameters
    ----------
    hu : float or array_like
        CT numbers in HU.
    mu_water : float, default :data:`MU_WATER` (0.19 /cm, about 70 keV)
        Attenuation of water at the effective energy of the scanner.
    mu_air : float, default :data:`MU_AIR` (0)
        Attenuation of air.

    Returns
    -------
    float or ndarray
        ``mu`` in 1/cm (negative below -1000 HU: no physical material lies there).

    Raises
    ------
    TypeError
        If ``hu`` is not real-valued or a reference is not a real number.
    ValueError
        If ``hu`` holds NaN or infinity, or not ``0 <= mu_air < mu_water``.

    Examples
    --------
    >>> [round(float(m), 4) for m in hu_to_mu([-1000, 0, 1000])]
    [0.0, 0.19, 0.38]
    """
    mu_water, mu_air = _check_reference(mu_water, mu_air)
    out = mu_water + _real_array(hu, "hu") / 1000.0 * (mu_water - mu_air)
    return out[()] if isinstance(out, np.ndarray) else out


def mu_to_hu(mu, mu_water: float = MU_WATER, mu_air: float = MU_AIR):
    """Linear attenuation coefficients (1/cm) to Hounsfield units; the inverse of :func:`hu_to_mu`.

    .. math::

        HU = 1000 \\, \\frac{\\mu - \\mu_{water}}{\\mu_{water} - \\mu_{air}}

    Parameters
    ----------
    mu : float or array_like
        Attenuation in 1/cm.
    mu_water, mu_air : float
        The references, as in :func:`hu_to_mu`.

    Returns
    -------
    float or ndarray
        CT numbers in HU.

    Raises
    ------
    TypeError
        If ``mu`` is not real-valued or a reference is not a real number.
    ValueError
        If ``mu`` holds NaN or infinity, or not ``0 <= mu_air < mu_water``.

    Examples
    --------
    >>> round(float(mu_to_hu(0.2)), 1)
    52.6
    """
    mu_water, mu_air = _check_reference(mu_water, mu_air)
    out = 1000.0 * (_real_array(mu, "mu") - mu_water) / (mu_water - mu_air)
    return out[()] if isinstance(out, np.ndarray) else out
