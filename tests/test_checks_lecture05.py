"""Lecture 05's self-checks: right answers pass, typical mistakes get a hint without the answer.

The expected answers come from independent references: PyTorch's max pooling, the support of an
input gradient through a PyTorch stack, and the parameter count of an ``nn.Linear``.
"""

import numpy as np
import pytest
import torch
from torch import nn

from course.checks import lecture05 as check


def verdict(capsys, question, answer) -> str:
    question(answer)
    return capsys.readouterr().out


def max_pooled() -> np.ndarray:
    x = torch.from_numpy(check.Q1_INPUT)[None, None]
    return nn.functional.max_pool2d(x, 2)[0, 0].numpy()


def gradient_support() -> int:
    """The receptive field of check.Q2_LAYERS, measured: the input pixels one output sees.

    Average pooling has the geometry of max pooling and passes a gradient to every pixel.
    """
    layers = [nn.Conv2d(1, 1, k) if s == 1 else nn.AvgPool2d(k, s) for k, s in check.Q2_LAYERS]
    stack = nn.Sequential(*layers)
    for layer in layers:
        if isinstance(layer, nn.Conv2d):
            nn.init.ones_(layer.weight)
    x = torch.rand(1, 1, 64, 64, requires_grad=True)
    out = stack(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = np.nonzero(x.grad[0, 0].numpy().any(axis=1))[0]
    return int(rows.max() - rows.min() + 1)


def linear_count(c, h, w, n) -> int:
    return sum(p.numel() for p in nn.Linear(c * h * w, n).parameters())


@pytest.mark.parametrize("question", [check.q1, check.q2, check.q3])
def test_an_open_gap_is_not_attempted(capsys, question):
    assert "not attempted yet" in verdict(capsys, question, ...)


def test_q3_a_function_still_returning_ellipsis_is_not_attempted(capsys):
    def dense_params(channels, height, width, units):
        inputs = ...  # noqa: F841 - the template of the notebook
        return ...

    assert "not attempted yet" in verdict(capsys, check.q3, dense_params)


def test_right_answers_are_correct(capsys):
    assert ": correct." in verdict(capsys, check.q1, max_pooled().tolist())
    assert ": correct." in verdict(capsys, check.q1, torch.from_numpy(max_pooled()))
    assert ": correct." in verdict(capsys, check.q2, gradient_support())
    assert ": correct." in verdict(capsys, check.q2, np.int64(gradient_support()))
    assert ": correct." in verdict(capsys, check.q3, linear_count)


Q1_WRONG = {
    "average pooling": lambda w: w.mean(-1),
    "the minimum": lambda w: w.min(-1),
    "transposed": lambda w: w.max(-1).T,
    "one value off": lambda w: w.max(-1) + np.array([[0, 0], [0, 1]]),
}


@pytest.mark.parametrize("mistake", Q1_WRONG)
def test_q1_typical_mistakes_get_a_hint_without_the_answer(capsys, mistake):
    windows = check.Q1_INPUT.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(2, 2, 4)
    out = verdict(capsys, check.q1, Q1_WRONG[mistake](windows).tolist())
    assert "not yet" in out
    assert str(max_pooled().tolist()) not in out and "6, 7" not in out


@pytest.mark.parametrize("answer", [[1, 2, 3], "8", [[1, 2], [3]], np.zeros((4, 4))])
def test_q1_wrong_shapes_and_types_get_a_hint(capsys, answer):
    assert "not yet" in verdict(capsys, check.q1, answer)


def test_q2_typical_mistakes_get_a_hint_without_the_answer(capsys):
    expected = gradient_support()
    no_strides = 1 + sum(k - 1 for k, _ in check.Q2_LAYERS)
    with_own_stride = 1 + sum(
        (k - 1) * int(np.prod([s for _, s in check.Q2_LAYERS[: i + 1]]))
        for i, (k, _) in enumerate(check.Q2_LAYERS)
    )
    for answer in (no_strides, sum(k for k, _ in check.Q2_LAYERS), with_own_stride, 1, 2.5):
        out = verdict(capsys, check.q2, answer)
        assert "not yet" in out and str(expected) not in out


DENSE_WRONG = {
    "no bias": lambda c, h, w, n: c * h * w * n,
    "channels only": lambda c, h, w, n: (c + 1) * n,
    "a bias per input": lambda c, h, w, n: c * h * w * n + c * h * w,
    "added": lambda c, h, w, n: c * h * w + n,
    "unknown": lambda c, h, w, n: 7,
}


@pytest.mark.parametrize("mistake", DENSE_WRONG)
def test_q3_typical_mistakes_get_a_hint_without_the_answer(capsys, mistake):
    out = verdict(capsys, check.q3, DENSE_WRONG[mistake])
    assert "not yet" in out
    expected = linear_count(*check.Q3_CASES[0])
    assert f"{expected:,}" not in out and str(expected) not in out


def test_q3_errors_and_non_functions_get_a_hint(capsys):
    assert "ZeroDivisionError" in verdict(capsys, check.q3, lambda c, h, w, n: 1 / 0)
    assert "asks for a function" in verdict(capsys, check.q3, 204900)
