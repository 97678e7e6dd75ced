"""Self-checks of lecture 02: right answers pass, typical mistakes get a hint that does not give
the expected value away, an open gap (``...``) is "not attempted yet"; nothing ever raises.
"""

import math

import numpy as np
import pytest
from skimage.transform import iradon, radon

from course.checks import lecture02 as check
from course.physics.ct import backproject, beer_lambert, fbp


def verdict(capsys, question, answer) -> str:
    question(answer)
    return capsys.readouterr().out


def assert_not_yet(text: str, *secrets: str) -> None:
    assert "not yet." in text, text
    for secret in secrets:
        assert secret not in text, f"the hint gives the answer away ({secret!r}): {text}"


# ---------------------------------------------------------------------------------------------
# q1: Beer-Lambert through layers
# ---------------------------------------------------------------------------------------------
def surviving_fraction(mu, d, steps=20000):
    """Photons left after crossing the layers in small steps (a loop, not the closed form)."""
    left = 1.0
    for m, t in zip(mu, d, strict=True):
        dx = t / steps
        left *= (1 - m * dx) ** steps  # -> exp(-m t) as the steps shrink
    return left


def test_q1_rays_against_a_step_by_step_loop():
    for mu, d in check._RAYS:
        assert math.exp(-np.sum(mu * d)) == pytest.approx(surviving_fraction(mu, d), rel=1e-3)


@pytest.mark.parametrize(
    "answer",
    [
        lambda mu, d: np.exp(-np.sum(mu * d)),
        lambda mu, d: float(np.prod(np.exp(-mu * d))),
        lambda mu, d: beer_lambert(1.0, float(np.dot(mu, d)), 1.0),
    ],
)
def test_q1_right(capsys, answer):
    assert verdict(capsys, check.q1, answer).startswith("Exercise 1: correct.")


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda mu, d: np.exp(-mu * d), "one fraction for the whole ray"),
        (lambda mu, d: np.exp(np.sum(mu * d)), "sign of the exponent"),
        (lambda mu, d: 1 - np.exp(-np.sum(mu * d)), "absorbed"),
        (lambda mu, d: np.exp(-np.sum(mu / d)), "mu times d"),
        (lambda mu, d: np.exp(-np.sum(mu) * np.sum(d)), "water"),
        (lambda mu, d: "half", "one number"),
        (lambda mu, d: mu.nothing, "AttributeError"),
    ],
)
def test_q1_wrong(capsys, answer, hint):
    text = verdict(capsys, check.q1, answer)
    assert_not_yet(text, "0.0224", "0.0498")
    assert hint in text


def test_q1_not_attempted(capsys):
    def transmitted_fraction(mu, d):
        return ...

    for answer in (..., transmitted_fraction):
        assert "not attempted yet" in verdict(capsys, check.q1, answer)


# ---------------------------------------------------------------------------------------------
# q2: reconstruct the mystery sinogram
# ---------------------------------------------------------------------------------------------
def test_mystery_sinogram_against_skimage():
    sinogram, angles = check.mystery_sinogram()
    truth = check._mystery_object()
    assert sinogram.shape == (64, 90) and np.allclose(angles, np.arange(0, 180, 2))
    np.testing.assert_allclose(sinogram, radon(truth, angles, circle=True), atol=1e-3)
    sinogram[:] = 0  # a copy: the check's own data stay intact
    assert check.mystery_sinogram()[0].any()


@pytest.mark.parametrize("filter_name", ["ramp", "shepp-logan", "hann"])
def test_q2_right(capsys, filter_name):
    sinogram, angles = check.mystery_sinogram()
    for image in (
        fbp(sinogram, angles, filter_name=filter_name),
        iradon(sinogram, angles, filter_name=filter_name, circle=True),
    ):
        assert verdict(capsys, check.q2, image).startswith("Exercise 2: correct.")


def test_q2_wrong(capsys):
    sinogram, angles = check.mystery_sinogram()
    good = fbp(sinogram, angles)
    wrong = {
        "back-projection": backproject(sinogram, angles),
        "rescale": 3 * good,
        "degrees": fbp(sinogram, np.radians(angles)),
        "shape": good[:-1],
        "NaN": np.where(good > 0.5, np.nan, good),
        "str": "the object",
    }
    for hint, image in wrong.items():
        text = verdict(capsys, check.q2, image)
        assert_not_yet(text)
        assert hint in text, (hint, text)


def test_q2_not_attempted(capsys):
    assert "not attempted yet" in verdict(capsys, check.q2, ...)


# ---------------------------------------------------------------------------------------------
# q3: number of angles for N = 256
# ---------------------------------------------------------------------------------------------
def test_q3_rule_by_search(capsys):
    """The smallest K whose rays at the edge (radius 128) are at most one pixel apart."""
    k = 1
    while 128 * math.pi / k > 1:
        k += 1
    assert k == 403
    assert "correct" in verdict(capsys, check.q3, k)


@pytest.mark.parametrize("answer", [402, 403, 400, 402.0, np.int64(402)])
def test_q3_right(capsys, answer):
    assert verdict(capsys, check.q3, answer).startswith("Exercise 3: correct.")


@pytest.mark.parametrize(
    "answer, hint",
    [
        (804, "180"),
        (201, "128-pixel"),
        (256, "radians"),
        (180, "radians"),
        (402.1, "whole number"),
        (1000, "angular step"),
        ("many", "one number"),
    ],
)
def test_q3_wrong(capsys, answer, hint):
    text = verdict(capsys, check.q3, answer)
    assert_not_yet(text, "402", "403")
    assert hint in text


def test_q3_not_attempted(capsys):
    assert "not attempted yet" in verdict(capsys, check.q3, ...)
