"""Visible checks of lab02_ct: attenuation, forward projection, back-projection, ramp filter, FBP.

Each function takes the student's answer (a function), calls it on inputs made here and raises
:class:`AssertionError` with a message that says what was given, what was expected and what came
out. The references are the course library (:mod:`course.physics.ct`, whose geometry is exactly
that of :func:`skimage.transform.radon`) and :func:`skimage.transform.iradon`. The instructor's
hidden tests run the same functions on other inputs.
"""

from __future__ import annotations

import sys

import numpy as np

from course.checks._common import as_array, assert_close, call, guard
from course.checks._feedback import reporting
from course.checks._own_work import forbid
from course.physics import ct
from course.physics.phantoms import shepp_logan

# What this lab asks students to write themselves: in a notebook, these library functions
# refuse calls from the student's code (course.checks._own_work); the rest of the library is
# allowed. Each maps to the part that asks for it.
OWN_WORK = {
    "course.physics.ct.beer_lambert": "q1",
    "course.physics.ct.radon": "q2",
    "skimage.transform.radon": "q2",
    "course.physics.ct.backproject": "q3",
    "course.physics.ct.ramp_filter": "q4",
    "course.physics.ct.reconstruction_filter": "q4",
    "course.physics.ct.filter_sinogram": "q5",
    "course.physics.ct.fbp": "q6",
    "skimage.transform.iradon": "q6",
}
forbid(OWN_WORK)

# The points of each part, as in the lab's notebook (tests/test_own_work.py keeps them equal).
POINTS = {"q1": 1, "q2": 2.5, "q3": 2, "q4": 1, "q5": 1.5, "q6": 1}

__all__ = [
    "q1_transmitted_intensity",
    "q2_forward_project",
    "q3_backproject",
    "q4_ramp_filter",
    "q5_filter_sinogram",
    "q6_fbp",
]


def inner_disk(n: int) -> np.ndarray:
    """Pixels at most ``n // 2 - 1`` from the centre (the outermost ring of the circle is left
    out: there, reading one detector beyond the last is a matter of convention).
    """
    offset = np.arange(n) - n // 2
    return offset[:, None] ** 2 + offset[None, :] ** 2 <= (n // 2 - 1) ** 2


def rmse_in_circle(image, reference) -> float:
    """Root-mean-square error over the reconstruction circle (:func:`ct.circle_mask`)."""
    inside = ct.circle_mask(np.shape(reference)[0])
    return float(np.sqrt(np.mean((np.asarray(image) - np.asarray(reference))[inside] ** 2)))


def body_phantom(n: int, seed: int) -> np.ndarray:
    """A phantom with lesions in 1/cm (float64), zero outside the circle."""
    from course.physics.phantoms import random_phantom

    return random_phantom(n, seed=seed, n_lesions=2)[0].astype(np.float64)


# ---------------------------------------------------------------------------------------------
# q1: Beer-Lambert along a path given in HU
# ---------------------------------------------------------------------------------------------
def check_intensity(transmitted_intensity, i0, hu, lengths, mu_water, what: str) -> None:
    """Compare with the library (``mu_water=None``: the answer's default, 0.19 /cm, is used)."""
    hu, lengths = np.asarray(hu, dtype=np.float64), np.asarray(lengths, dtype=np.float64)
    args = (i0, hu.copy(), lengths.copy()) + (() if mu_water is None else (mu_water,))
    mu = ct.hu_to_mu(hu, ct.MU_WATER if mu_water is None else mu_water)
    expected = np.asarray(ct.beer_lambert(i0, ct.line_integral(mu, lengths), 1.0))
    name = f"transmitted_intensity({what})"
    result = call(transmitted_intensity, tuple(args), name)
    actual = as_array(result, name, shape=expected.shape)
    assert_close(actual, expected, name, rtol=1e-6, atol=1e-9 * max(float(i0), 1.0))


def q1_transmitted_intensity(transmitted_intensity) -> None:
    """``transmitted_intensity(i0, hu, lengths_cm, mu_water=0.19)``: Beer-Lambert in HU."""
    guard()
    check_intensity(transmitted_intensity, 1e5, [0.0], [20.0], None, "1e5, [0 HU], [20 cm]")
    check_intensity(
        transmitted_intensity,
        1e5,
        [-1000.0, 40.0, 1000.0, 40.0],
        [5.0, 10.0, 2.0, 10.0],
        None,
        "1e5, air, soft tissue, bone, soft tissue",
    )
    check_intensity(
        transmitted_intensity,
        1.0,
        [[0.0, 0.0], [500.0, -500.0]],
        [[1.0, 2.0], [3.0, 4.0]],
        0.2,
        "1.0, two rays of two segments, mu_water=0.2",
    )


# ---------------------------------------------------------------------------------------------
# q2: forward projection
# ---------------------------------------------------------------------------------------------
def check_projection(forward_project, image, theta, reference, what: str) -> None:
    image = np.asarray(image, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    name = f"forward_project({what}, theta of {theta.size} angles)"
    result = call(forward_project, (image.copy(), theta.copy()), name)
    actual = as_array(result, name, shape=reference.shape)
    scale = float(np.abs(reference).max()) or 1.0
    try:
        assert_close(actual, reference, name, rtol=1e-4, atol=1e-4 * scale)
    except AssertionError as error:
        hint = ""
        if image.shape[0] % 2 == 0:
            hint = (
                " (for an even N the centre of rotation is pixel (N // 2, N // 2), not "
                "((N - 1) / 2, (N - 1) / 2): a rotation about the middle of the array is off by "
                "half a pixel)"
            )
        raise AssertionError(f"{error}{hint}") from None


def q2_forward_project(forward_project) -> None:
    """``forward_project(image, theta)``: the sinogram, shape (N, n_angles)."""
    guard()
    point = np.zeros((9, 9))
    point[4, 4] = 1.0
    theta = np.array([0.0, 90.0, 180.0, 270.0])
    expected = np.zeros((9, 4))
    expected[4] = 1.0
    check_projection(forward_project, point, theta, expected, "a point at the centre of 9x9")
    off = np.zeros((9, 9))
    off[4, 6] = 1.0  # x = +2, y = 0: detector 4 + 2 cos(theta)
    check_projection(
        forward_project,
        off,
        [0.0, 90.0, 180.0],
        ct.radon(off, [0.0, 90.0, 180.0]),
        "a point 2 pixels right of the centre",
    )
    image = shepp_logan(32).astype(np.float64)
    theta = np.arange(0.0, 180.0, 15.0)
    check_projection(forward_project, image, theta, ct.radon(image, theta), "shepp_logan(32)")


# ---------------------------------------------------------------------------------------------
# q3: unfiltered back-projection
# ---------------------------------------------------------------------------------------------
def check_backprojection(backproject, sinogram, theta, reference, what: str) -> None:
    sinogram = np.asarray(sinogram, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    n = sinogram.shape[0]
    name = f"backproject({what}, theta of {theta.size} angles)"
    result = call(backproject, (sinogram.copy(), theta.copy()), name)
    actual = as_array(result, name, shape=(n, n))
    inside = inner_disk(n)
    reference = np.asarray(reference, dtype=np.float64)
    scale = float(np.abs(reference[inside]).max()) or 1.0
    ratio = float(np.sum(actual[inside] * reference[inside]) / np.sum(reference[inside] ** 2))
    try:
        assert_close(
            actual[inside],
            reference[inside],
            name + " inside the circle",
            rtol=1e-4,
            atol=1e-4 * scale,
        )
    except AssertionError as error:
        hint = ""
        if abs(ratio - 1) > 0.01 and np.allclose(
            actual[inside], ratio * reference[inside], rtol=1e-3, atol=1e-3 * scale
        ):
            hint = (
                f" Your image is the expected one times {ratio:.4g}: multiply the sum over "
                "the angles by pi / n_angles."
            )
        raise AssertionError(f"{error}.{hint}") from None


def q3_backproject(backproject) -> None:
    """``backproject(sinogram, theta)``: pi / K times the sum of the smeared projections."""
    guard()
    theta = np.arange(0.0, 180.0, 2.0)
    ones = np.ones((9, theta.size))
    check_backprojection(backproject, ones, theta, ct.backproject(ones, theta), "np.ones((9, 90))")
    image = shepp_logan(32).astype(np.float64)
    theta = np.arange(0.0, 180.0, 6.0)
    sinogram = ct.radon(image, theta).astype(np.float64)
    check_backprojection(
        backproject, sinogram, theta, ct.backproject(sinogram, theta), "radon(shepp_logan(32))"
    )


# ---------------------------------------------------------------------------------------------
# q4: the ramp filter
# ---------------------------------------------------------------------------------------------
def check_ramp(ramp_filter, size: int, reference) -> None:
    reference = np.asarray(reference, dtype=np.float64)
    name = f"ramp_filter({size})"
    result = call(ramp_filter, (size,), name)
    actual = as_array(result, name, shape=(size,))
    if abs(actual[0]) < 1e-12 and reference[0] > 1e-6:
        raise AssertionError(
            f"{name}[0] (the zero frequency) is 0, expected {reference[0]:.6g}: sampling |f| "
            "directly loses the mean of every projection; build the kernel h(k) in the spatial "
            "domain and take the real part of its FFT"
        )
    assert_close(actual, reference, name, rtol=1e-6, atol=1e-9)


def q4_ramp_filter(ramp_filter) -> None:
    """``ramp_filter(size)``: Re(FFT(h)) of the band-limited ramp kernel h(k)."""
    guard()
    for size in (8, 16, 64):
        check_ramp(ramp_filter, size, ct.ramp_filter(size))


# ---------------------------------------------------------------------------------------------
# q5: filtering the sinogram
# ---------------------------------------------------------------------------------------------
def check_filtered(filter_sinogram, sinogram, reference, what: str) -> None:
    sinogram = np.asarray(sinogram, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    name = f"filter_sinogram({what})"
    result = call(filter_sinogram, (sinogram.copy(),), name)
    actual = as_array(result, name, shape=sinogram.shape)
    scale = float(np.abs(reference).max()) or 1.0
    assert_close(actual, reference, name, rtol=1e-6, atol=1e-6 * scale)


def q5_filter_sinogram(filter_sinogram) -> None:
    """``filter_sinogram(sinogram)``: every column zero-padded, ramp-filtered, cut back."""
    guard()
    box = np.zeros((32, 1))
    box[8:24] = 1.0
    check_filtered(filter_sinogram, box, ct.filter_sinogram(box), "a box projection, 32 x 1")
    sinogram = ct.radon(shepp_logan(48).astype(np.float64), np.arange(0.0, 180.0, 10.0))
    check_filtered(
        filter_sinogram, sinogram, ct.filter_sinogram(sinogram), "radon(shepp_logan(48)), 48 x 18"
    )


# ---------------------------------------------------------------------------------------------
# q6: filtered back-projection
# ---------------------------------------------------------------------------------------------
def check_fbp(fbp, image, sinogram, theta, what: str, margin: float = 1.05) -> None:
    """The answer's RMSE to ``image`` (inside the circle) is at most ``margin`` times iradon's."""
    from skimage.transform import iradon

    image = np.asarray(image, dtype=np.float64)
    sinogram = np.asarray(sinogram, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    n = image.shape[0]
    name = f"fbp({what}, {theta.size} angles)"
    result = call(fbp, (sinogram.copy(), theta.copy()), name)
    actual = as_array(result, name, shape=(n, n))
    if not np.isfinite(actual[ct.circle_mask(n)]).all():
        raise AssertionError(f"{name} contains NaN or inf inside the circle")
    reference = iradon(sinogram, theta, output_size=n, circle=True, filter_name="ramp")
    ours, theirs = rmse_in_circle(actual, image), rmse_in_circle(reference, image)
    if not ours <= margin * theirs + 1e-9:
        scale = float(np.sum(actual * image) / max(np.sum(image**2), 1e-30))
        if 0.8 < scale < 1.2:
            hint = (
                "it is close: check that the ramp filter keeps a small positive zero frequency "
                "(Q4) and that the projections are zero-padded before filtering (Q5)"
            )
        else:
            hint = (
                f"your image is about {scale:.3g} times the true one: did you filter "
                "(filter_sinogram) before back-projecting, and scale by pi / n_angles?"
            )
        raise AssertionError(
            f"{name}: RMSE to the true image inside the circle is {ours:.4g}, but "
            f"skimage.transform.iradon reaches {theirs:.4g} (at most {margin * theirs:.4g} "
            f"expected); {hint}"
        )


def q6_fbp(fbp) -> None:
    """``fbp(sinogram, theta)``: as accurate as skimage's iradon on the Shepp-Logan phantom."""
    guard()
    from skimage.transform import radon

    image = shepp_logan(128).astype(np.float64)
    theta = np.arange(0.0, 180.0, 1.0)
    sinogram = radon(image, theta, circle=True)
    check_fbp(fbp, image, sinogram, theta, "radon(shepp_logan(128))")
    image = body_phantom(64, seed=1)
    theta = np.arange(0.0, 180.0, 2.0)
    sinogram = radon(image, theta, circle=True)
    check_fbp(fbp, image, sinogram, theta, "radon(a 64x64 body phantom in 1/cm)")


reporting(sys.modules[__name__])  # a check that passes says so, with its points
