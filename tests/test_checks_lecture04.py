"""Self-checks of lecture 04: right answers pass, typical mistakes get a hint that does not give
the expected value away, an open gap (``...``) is "not attempted yet"; nothing ever raises.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import signal

from course.checks import lecture04 as check


def verdict(capsys, question, answer) -> str:
    question(answer)
    return capsys.readouterr().out


def assert_not_yet(text: str, *secrets: str) -> None:
    assert "not yet." in text, text
    for secret in secrets:
        assert secret not in text, f"the hint gives the answer away ({secret!r}): {text}"


# ---------------------------------------------------------------------------------------------
# q1: a two-line cross-correlation
# ---------------------------------------------------------------------------------------------
def test_q1_reference_against_scipy_and_torch():
    rng = np.random.default_rng(5)
    for x_shape, k_shape in check._CORRELATE_SHAPES:
        x, k = rng.normal(size=x_shape), rng.normal(size=k_shape)
        ours = check._valid_correlation(x, k)
        np.testing.assert_allclose(ours, signal.correlate2d(x, k, mode="valid"), atol=1e-12)
        theirs = F.conv2d(torch.from_numpy(x)[None, None], torch.from_numpy(k)[None, None])
        np.testing.assert_allclose(ours, theirs[0, 0].numpy(), atol=1e-12)


def two_lines(x, k):
    windows = np.lib.stride_tricks.sliding_window_view(x, k.shape)
    return np.einsum("mnij,ij->mn", windows, k)


@pytest.mark.parametrize(
    "answer",
    [
        two_lines,
        lambda x, k: signal.correlate2d(x, k, mode="valid"),
        lambda x, k: F.conv2d(torch.tensor(x)[None, None], torch.tensor(k)[None, None])[0, 0],
    ],
)
def test_q1_right(capsys, answer):
    assert verdict(capsys, check.q1, answer).startswith("Exercise 1: correct.")


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda x, k: signal.convolve2d(x, k, mode="valid"), "flipped"),
        (lambda x, k: signal.correlate2d(x, k, mode="same"), "no padding"),
        (lambda x, k: signal.correlate2d(x, k, mode="full"), "no padding"),
        (lambda x, k: two_lines(x, k) + 1, "compare one output"),
        (lambda x, k: two_lines(x, k.T) if k.shape[0] == k.shape[1] else 0 * x, "wrong values"),
        (lambda x, k: "Y", "str"),
        (lambda x, k: x @ k, "ValueError"),
    ],
)
def test_q1_wrong(capsys, answer, hint):
    text = verdict(capsys, check.q1, answer)
    assert_not_yet(text)
    assert hint in text


def test_q1_not_attempted(capsys):
    def correlate(x, k):
        return ...

    for answer in (..., correlate):
        assert "not attempted yet" in verdict(capsys, check.q1, answer)


# ---------------------------------------------------------------------------------------------
# q2: parameters of Conv2d(16, 32, 5)
# ---------------------------------------------------------------------------------------------
def torch_count():
    return sum(p.numel() for p in torch.nn.Conv2d(16, 32, kernel_size=5).parameters())


@pytest.mark.parametrize("answer", [torch_count(), float(torch_count()), np.int64(torch_count())])
def test_q2_right(capsys, answer):
    assert verdict(capsys, check.q2, answer).startswith("Exercise 2: correct.")


@pytest.mark.parametrize(
    "answer, hint",
    [
        (32 * 16 * 25, "bias"),
        (16 * (25 * 32 + 1), "per output channel"),
        (25 * 16 + 1, "one filter"),
        (32 * 26, "input channel"),
        (32 * (5 * 16 + 1), "k squared"),
        (12832.5, "whole number"),
        (1, "count one filter"),
        ("many", "one number"),
    ],
)
def test_q2_wrong(capsys, answer, hint):
    text = verdict(capsys, check.q2, answer)
    assert_not_yet(text, str(torch_count()))
    assert hint in text


def test_q2_not_attempted(capsys):
    assert "not attempted yet" in verdict(capsys, check.q2, ...)


# ---------------------------------------------------------------------------------------------
# q3: output size
# ---------------------------------------------------------------------------------------------
def test_q3_positions_against_torch():
    for w, k, s, p in check._SIZES:
        out = F.conv2d(torch.zeros(1, 1, w, w), torch.zeros(1, 1, k, k), stride=s, padding=p)
        assert check._positions(w, k, s, p) == out.shape[-1]


@pytest.mark.parametrize(
    "answer",
    [
        lambda w, k, s, p: (w - k + 2 * p) // s + 1,
        lambda w, k, s, p: math.floor((w - k + 2 * p) / s) + 1,
        lambda w, k, s, p: float((w - k + 2 * p) // s + 1),
    ],
)
def test_q3_right(capsys, answer):
    assert verdict(capsys, check.q3, answer).startswith("Exercise 3: correct.")


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda w, k, s, p: (w - k + 2 * p) / s + 1, "whole number"),
        (lambda w, k, s, p: (w - k + 2 * p) // s, "fits exactly once"),
        (lambda w, k, s, p: (w - k + p) // s + 1, "both sides"),
        (lambda w, k, s, p: math.ceil((w - k + 2 * p) / s) + 1, "rounding up"),
        (lambda w, k, s, p: w, "draw the positions"),
        (lambda w, k, s, p: "W", "one number"),
    ],
)
def test_q3_wrong(capsys, answer, hint):
    text = verdict(capsys, check.q3, answer)
    assert_not_yet(text)
    assert hint in text


def test_q3_not_attempted(capsys):
    def output_size(w, k, s, p):
        return ...

    for answer in (..., output_size):
        assert "not attempted yet" in verdict(capsys, check.q3, answer)
