"""Self-checks of lecture 03: right answers pass, typical mistakes get a hint that does not give
the expected value away, an open gap (``...``) is "not attempted yet"; nothing ever raises.
"""

import numpy as np
import pytest
import torch

from course.checks import lecture03 as check
from course.physics.mri import acceleration_of, fft2c


def verdict(capsys, question, answer) -> str:
    question(answer)
    return capsys.readouterr().out


def assert_not_yet(text: str, *secrets: str) -> None:
    assert "not yet." in text, text
    for secret in secrets:
        assert secret not in text, f"the hint gives the answer away ({secret!r}): {text}"


# ---------------------------------------------------------------------------------------------
# q1: the centred orthonormal FFT
# ---------------------------------------------------------------------------------------------
def dft_matrix(n):
    """The unitary DFT with the zero frequency and the origin both at index n // 2 (explicit)."""
    k = np.arange(n) - n // 2
    return np.exp(-2j * np.pi * np.outer(k, k) / n) / np.sqrt(n)


def test_q1_reference_is_the_centred_unitary_dft():
    for x in check._fft_inputs():
        h, w = x.shape
        explicit = dft_matrix(h) @ x @ dft_matrix(w).T
        expected = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x), norm="ortho"))
        np.testing.assert_allclose(expected, explicit, atol=1e-10)


def torch_fft2c(x):
    t = torch.fft.ifftshift(torch.from_numpy(x), dim=(-2, -1))
    return torch.fft.fftshift(torch.fft.fft2(t, norm="ortho"), dim=(-2, -1)).numpy()


@pytest.mark.parametrize(
    "answer", [fft2c, torch_fft2c, lambda x: dft_matrix(len(x)) @ x @ dft_matrix(x.shape[1]).T]
)
def test_q1_right(capsys, answer):
    assert verdict(capsys, check.q1, answer).startswith("Exercise 1: correct.")


fft, shift, unshift = np.fft.fft2, np.fft.fftshift, np.fft.ifftshift


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda x: shift(fft(unshift(x))), "Parseval"),
        (lambda x: fft(x, norm="ortho"), "centre"),
        (lambda x: shift(fft(x, norm="ortho")), "phases"),
        (lambda x: unshift(fft(shift(x), norm="ortho")), "odd sizes"),
        (lambda x: shift(np.fft.ifft2(unshift(x), norm="ortho")), "inverse"),
        (lambda x: shift(fft(unshift(x), norm="ortho")).T, "shape"),
        (lambda x: 2 * fft2c(x), "step by step"),
        (lambda x: np.abs(fft2c(x)), "complex"),
        (lambda x: "k-space", "str"),
    ],
)
def test_q1_wrong(capsys, answer, hint):
    text = verdict(capsys, check.q1, answer)
    assert_not_yet(text)
    assert hint in text


def test_q1_not_attempted(capsys):
    def my_fft2c(x):
        return ...

    for answer in (..., my_fft2c):
        assert "not attempted yet" in verdict(capsys, check.q1, answer)


# ---------------------------------------------------------------------------------------------
# q2: acceleration of a mask
# ---------------------------------------------------------------------------------------------
def test_q2_masks_against_the_library():
    for mask in check._masks():
        assert acceleration_of(mask[:1]) == pytest.approx(mask.shape[1] / mask[0].sum())


@pytest.mark.parametrize(
    "answer",
    [
        lambda mask: mask.shape[-1] / mask[0].sum(),
        lambda mask: 1 / np.mean(mask),
        lambda mask: acceleration_of(mask[:1]),
        lambda mask: mask.size / np.count_nonzero(mask),
    ],
)
def test_q2_right(capsys, answer):
    assert verdict(capsys, check.q2, answer).startswith("Exercise 2: correct.")


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda mask: mask[0].sum() / mask.shape[-1], "R > 1"),
        (lambda mask: mask.shape[-1] // mask[0].sum(), "true division"),
        (lambda mask: mask.size / mask[0].sum(), "count columns"),
        (lambda mask: 100 * mask.mean(), "by hand"),
        (lambda mask: [4.0], "by hand"),
        (lambda mask: None, "not attempted"),
    ],
)
def test_q2_wrong(capsys, answer, hint):
    text = verdict(capsys, check.q2, answer)
    assert hint in text
    if hint != "not attempted":
        assert_not_yet(text, "2.5")


def test_q2_not_attempted(capsys):
    assert "not attempted yet" in verdict(capsys, check.q2, ...)


# ---------------------------------------------------------------------------------------------
# q3: aliasing of an equispaced mask, R = 8, W = 128
# ---------------------------------------------------------------------------------------------
def test_q3_prediction_matches_the_zero_filled_image():
    from course.physics.mri import equispaced_mask, zero_filled
    from course.physics.phantoms import shepp_logan

    x = shepp_logan(128).astype(float)
    aliased = zero_filled(fft2c(x), equispaced_mask(x.shape, 8, 0.0, seed=0))
    # the zero-filled image is |mean of the 8 copies with phases|: its values repeat with period
    # W / R = 16 along the columns (axis 1), not along the rows
    np.testing.assert_allclose(aliased, np.roll(aliased, 16, axis=1), atol=1e-10)
    assert not np.allclose(aliased, np.roll(aliased, 16, axis=0), atol=1e-3)


@pytest.mark.parametrize("answer", [(1, 16), [1, 16.0], np.array([1, 16])])
def test_q3_right(capsys, answer):
    assert verdict(capsys, check.q3, answer).startswith("Exercise 3: correct.")


@pytest.mark.parametrize(
    "answer, hint",
    [
        ((0, 16), "sideways"),
        ((1, 112), "other side"),
        ((1, 8), "not R pixels"),
        ((1, 1024), "wrap around"),
        ((1, 32), "count the copies"),
        ((2, 16), "0 (rows) or 1 (columns)"),
        (16, "two numbers"),
        (("columns", 16), "one number"),
    ],
)
def test_q3_wrong(capsys, answer, hint):
    text = verdict(capsys, check.q3, answer)
    assert hint in text
    assert_not_yet(text, "16")


@pytest.mark.parametrize("answer", [..., (..., ...), (1, ...)])
def test_q3_not_attempted(capsys, answer):
    assert "not attempted yet" in verdict(capsys, check.q3, answer)
