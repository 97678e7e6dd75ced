"""Lecture 09's self-checks: right answers pass, typical mistakes get a hint without the answer.

The PSNR is checked against scikit-image's ``peak_signal_noise_ratio`` on an image whose error
has the exercise's MSE; the rotation matrix against the sampling grid of
``torch.nn.functional.affine_grid``, which must read the input at the rotated positions.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage.metrics import peak_signal_noise_ratio

from course.checks import lecture09 as check


def verdict(capsys, question, answer) -> str:
    question(answer)
    return capsys.readouterr().out


def psnr_by_skimage() -> float:
    reference = np.linspace(-160, 240, 400).reshape(20, 20)  # the window's range, in HU
    error = math.sqrt(check.Q1_MSE) * np.where(np.indices((20, 20)).sum(0) % 2, 1, -1)
    return peak_signal_noise_ratio(reference, reference + error, data_range=check.Q1_RANGE)


def rotation_matrix(degrees):
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return torch.tensor([[c, -s, 0.0], [s, c, 0.0]])


def test_the_right_matrix_rotates_the_sampling_grid():
    for degrees in check.Q2_ANGLES:
        grid = F.affine_grid(rotation_matrix(degrees)[None], [1, 1, 5, 5], align_corners=True)
        phi = math.radians(degrees)
        x, y = grid[0, 2, 4]  # the output pixel at normalised (1, 0) reads the input here
        assert math.isclose(x, math.cos(phi), abs_tol=1e-6)
        assert math.isclose(y, math.sin(phi), abs_tol=1e-6)


def test_open_gaps_are_not_attempted(capsys):
    assert "not attempted yet" in verdict(capsys, check.q1, ...)
    assert "not attempted yet" in verdict(capsys, check.q2, ...)
    assert "not attempted yet" in verdict(capsys, check.q2, lambda degrees: ...)


def test_right_answers_are_correct(capsys):
    assert ": correct." in verdict(capsys, check.q1, psnr_by_skimage())
    assert ": correct." in verdict(capsys, check.q1, round(psnr_by_skimage(), 2))
    assert ": correct." in verdict(capsys, check.q2, rotation_matrix)
    assert ": correct." in verdict(capsys, check.q2, lambda d: rotation_matrix(d).numpy())


@pytest.mark.parametrize(
    "answer",
    [
        10 * math.log10(check.Q1_RANGE / check.Q1_MSE),  # MAX not squared
        10 * math.log10(check.Q1_RANGE**2 / math.sqrt(check.Q1_MSE)),  # RMS for MSE
        10 * math.log10(1 / check.Q1_MSE),  # MAX = 1 in HU
        10 * math.log(check.Q1_RANGE**2 / check.Q1_MSE),  # natural log
        0.0,
        "32 dB",
        [30, 31],
    ],
)
def test_q1_typical_mistakes_get_a_hint_without_the_answer(capsys, answer):
    out = verdict(capsys, check.q1, answer)
    assert "not yet" in out and f"{psnr_by_skimage():.1f}" not in out


MATRIX_WRONG = [
    lambda d: rotation_matrix(math.degrees(d)),  # degrees used as radians
    lambda d: rotation_matrix(-d),  # the other way
    lambda d: rotation_matrix(d)[:, :2],  # 2 x 2
    lambda d: torch.eye(3),
    lambda d: rotation_matrix(d).T,
]


@pytest.mark.parametrize("matrix", MATRIX_WRONG)
def test_q2_typical_mistakes_get_a_hint_without_the_answer(capsys, matrix):
    out = verdict(capsys, check.q2, matrix)
    assert "not yet" in out and "0.866" not in out and "0.5," not in out
