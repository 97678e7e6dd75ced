"""Self-checks of lecture 02 (X-ray and CT physics): Beer-Lambert, angular sampling, FBP.

Each check prints a verdict (see :mod:`course.checks._selfcheck`) and never the expected value:

- :func:`q1`: the fraction of photons that crosses layers of attenuation ``mu_i`` (1/cm) and
  thickness ``d_i`` (cm), :math:`I / I_0 = \\exp(-\\sum_i \\mu_i d_i)` (Beer-Lambert);
- :func:`q2`: the reconstruction of the sinogram given by :func:`mystery_sinogram`;
- :func:`q3`: the number of angles ``K`` that a ``256 x 256`` image needs, from the rule of the
  lecture: neighbouring rays at the edge of the field of view one pixel apart,
  :math:`\\frac{N}{2} \\frac{\\pi}{K} \\approx 1` (Kak & Slaney, *Principles of Computerized
  Tomographic Imaging*, ch. 5).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from course.checks._common import as_array
from course.checks._selfcheck import Wrong, answered, attempt, converted, exercise, number

__all__ = ["mystery_sinogram", "q1", "q2", "q3"]

#: The rays of :func:`q1`: attenuation coefficients (1/cm) and thicknesses (cm) of the layers.
_RAYS = (
    (np.array([0.19]), np.array([20.0])),
    (np.array([0.5, 0.2]), np.array([2.0, 10.0])),
    (np.array([0.171, 0.201, 0.323, 0.201]), np.array([1.5, 8.0, 3.0, 12.0])),
    (np.array([0.0, 0.19]), np.array([30.0, 5.0])),
)

#: The image size of :func:`q3` (pixels).
_N = 256

#: The size of the object hidden in :func:`mystery_sinogram` (pixels).
_MYSTERY_SIZE = 64


@exercise(1, correct="the exponents of the layers add up: I / I0 = exp(-sum of mu_i d_i).")
def q1(transmitted_fraction) -> None:
    """Check ``transmitted_fraction(mu, d)`` on rays through one to four layers."""
    for mu, d in _RAYS:
        got = attempt(transmitted_fraction, mu.copy(), d.copy())
        if np.size(got) != 1:
            raise Wrong(
                f"{len(mu)} layers gave {np.size(got)} values: one fraction for the whole ray "
                "(the attenuations of the layers add up in one exponent)"
            )
        value = number(got, "the fraction")
        expected = math.exp(-float(np.sum(mu * d)))
        if math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-12):
            continue
        if value > 1:
            raise Wrong("more photons come out than went in: check the sign of the exponent")
        if math.isclose(value, 1 - expected, rel_tol=1e-6):
            raise Wrong("that is the fraction absorbed; the question asks for the fraction left")
        products = [math.exp(-m / t) if t else math.nan for m, t in zip(mu, d, strict=True)]
        if len(mu) == 1 and math.isclose(value, products[0], rel_tol=1e-6):
            raise Wrong("the exponent is mu times d (1/cm x cm: no unit left)")
        raise Wrong(
            "test your function on one layer of water (mu = 0.19 /cm, d = 3.65 cm): half of "
            "the photons should get through"
        )


def _mystery_object(n: int = _MYSTERY_SIZE) -> np.ndarray:
    """A body (0.2) with three bright round lesions (1.0), on an ``(n, n)`` grid."""
    yy, xx = (np.mgrid[:n, :n] - (n - 1) / 2) / (n / 2)
    image = np.where(xx**2 + yy**2 < 0.75**2, 0.2, 0.0)
    for cx, cy, r in ((-0.35, -0.2, 0.12), (0.3, -0.3, 0.09), (0.05, 0.4, 0.15)):
        image[(xx - cx) ** 2 + (yy - cy) ** 2 < r**2] = 1.0
    return image


@functools.cache
def _mystery() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hidden object, its sinogram and the angles (degrees), computed once."""
    from course.physics.ct import radon

    image = _mystery_object()
    angles = np.arange(0.0, 180.0, 2.0)
    sinogram = radon(image, angles)
    for array in (image, angles, sinogram):
        array.setflags(write=False)
    return image, sinogram, angles


def mystery_sinogram() -> tuple[np.ndarray, np.ndarray]:
    """The sinogram of an object that exercise 2 asks you to reconstruct, and its angles.

    Returns
    -------
    sinogram : ndarray, shape (64, 90)
        Detectors along the rows, one projection per column.
    angles : ndarray, shape (90,)
        The projection angles, in degrees.

    Examples
    --------
    >>> sinogram, angles = mystery_sinogram()
    >>> sinogram.shape, angles[:3]
    ((64, 90), array([0., 2., 4.]))
    """
    _, sinogram, angles = _mystery()
    return sinogram.copy(), angles.copy()


def _relative_error(image: np.ndarray, truth: np.ndarray, inside: np.ndarray) -> float:
    """RMSE inside the field of view divided by the RMS of the object there."""
    return float(
        np.sqrt(np.mean((image[inside] - truth[inside]) ** 2) / np.mean(truth[inside] ** 2))
    )


@exercise(2, correct="FBP recovers the body and its three lesions: look with plt.imshow(image).")
def q2(image) -> None:
    """Check a reconstruction of :func:`mystery_sinogram` against the hidden object."""
    from course.physics.ct import backproject, circle_mask

    image = converted(as_array, image, "your image")
    truth, sinogram, angles = _mystery()
    if image.shape != truth.shape:
        raise Wrong(
            f"got shape {image.shape}: the image is N x N, N the number of detectors (the "
            "rows of the sinogram)"
        )
    if not np.isfinite(image).all():
        raise Wrong("your image contains NaN or inf values")
    inside = circle_mask(truth.shape[0])
    if _relative_error(image, truth, inside) < 0.3:  # FBP with any of the filters
        return
    blurred = backproject(sinogram, angles)
    if np.corrcoef(image[inside], blurred[inside])[0, 1] > 0.99:
        raise Wrong(
            "this is the blurred back-projection: filter each projection first (fbp does both)"
        )
    if np.corrcoef(image[inside], truth[inside])[0, 1] > 0.9:
        raise Wrong("the right shapes with the wrong values: did you rescale the image?")
    raise Wrong(
        "far from the object: reconstruct with the angles that come with the sinogram, in "
        "degrees, as returned by mystery_sinogram()"
    )


@exercise(3, correct="K = pi N / 2: an image twice as wide needs twice the angles.")
def q3(answer) -> None:
    """Check the number of angles for a 256-pixel image (rays one pixel apart at the edge)."""
    value = number(answered(answer), "the number of angles")
    if value != round(value):
        raise Wrong("a number of projections is a whole number: round your result")
    expected = math.pi * _N / 2
    if abs(value - expected) <= 3:  # rounding up or to the nearest, or 400
        return
    if abs(value - 2 * expected) <= 6:
        raise Wrong("the rays at the edge are N / 2 from the centre, and the angles span 180°")
    if abs(value - expected / 2) <= 3:
        raise Wrong("that is the count for a 128-pixel image: this one is twice as wide")
    if value in (_N, 180, 360):
        raise Wrong(
            "at radius r neighbouring rays are r x (angular step in radians) apart: set "
            "that to one pixel at the edge, r = N / 2, and solve for the number of angles"
        )
    raise Wrong("angular step = pi / K radians; arc at the edge = (N / 2) pi / K pixels = 1")
