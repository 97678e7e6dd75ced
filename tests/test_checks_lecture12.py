"""The self-checks of lecture 12: right answers are correct, typical mistakes get a hint that does
not give the answer away, an open exercise is "not attempted yet".
"""

import math

import numpy as np
import pytest
import torch

from course.attention import softmax
from course.checks import lecture12 as check
from course.models import count_parameters

EXPECTED_SHAPE = (197, 197)
EXPECTED_COUNT = count_parameters(torch.nn.MultiheadAttention(64, num_heads=8))  # independent


def verdict(capsys, function, answer) -> str:
    function(answer)
    return capsys.readouterr().out


def attention_weights(q, k):
    return softmax(q @ k.T / math.sqrt(q.shape[-1]))


def attention_weights_torch(q, k):
    return torch.softmax(torch.from_numpy(q) @ torch.from_numpy(k).T / q.shape[1] ** 0.5, dim=-1)


@pytest.mark.parametrize(
    "function, answer",
    [
        (check.q3, (197, 197)),
        (check.q3, [197, 197]),
        (check.q3, np.array([197, 197])),
        (check.q1, attention_weights),
        (check.q1, attention_weights_torch),
        (check.q2, 4 * 64 * 64 + 4 * 64),
        (check.q2, EXPECTED_COUNT),
    ],
)
def test_right_answers_are_correct(capsys, function, answer):
    out = verdict(capsys, function, answer)
    assert ": correct." in out, out


@pytest.mark.parametrize("function", [check.q3, check.q1, check.q2])
def test_open_exercises_are_not_attempted(capsys, function):
    assert "not attempted yet" in verdict(capsys, function, ...)


def test_a_function_still_returning_ellipsis_is_not_attempted(capsys):
    assert "not attempted yet" in verdict(capsys, check.q1, lambda q, k: ...)


WRONG_SHAPE = {
    (196, 196): "class token",
    (14, 14): "one row per token",
    (224, 224): "not a pixel",
    (50176, 50176): "not a pixel",
    (197, 768): "square",
    (100, 100): "count the 16 x 16 patches",
    (197,): "2 axes",
    "197": "3",
    None: "pair of ints",
}


@pytest.mark.parametrize("answer, hint", list(WRONG_SHAPE.items()))
def test_shape_mistakes_get_a_hint(capsys, answer, hint):
    out = verdict(capsys, check.q3, answer)
    assert "not yet" in out and hint in out, out
    assert "197" not in out.replace("(197,)", "")  # the hint never gives the answer


def _weights(scale, transpose=False, axis=-1):
    def attention(q, k):
        scores = (k @ q.T if transpose else q @ k.T) / scale(q.shape[-1])
        return softmax(scores, axis=axis)

    return attention


WRONG_WEIGHTS = [
    (_weights(lambda d: 1.0), "not scaled"),
    (_weights(lambda d: d), "not by d_k itself"),
    (_weights(math.sqrt, transpose=True), "not k @ q.T"),
    (_weights(math.sqrt, axis=0), "sum to 1"),
    (_weights(lambda d: 2.0), "differ from softmax"),
    (lambda q, k: q @ k.T, "sum to 1"),
    (lambda q, k: np.zeros((3, 3)), "got shape (3, 3)"),
    (lambda q, k: "weights", "array of numbers"),
    (lambda q, k: 1 / 0, "ZeroDivisionError"),
    (3, "a function"),
]


@pytest.mark.parametrize("answer, hint", WRONG_WEIGHTS)
def test_weights_mistakes_get_a_hint(capsys, answer, hint):
    out = verdict(capsys, check.q1, answer)
    assert "not yet" in out and hint in out, out


WRONG_COUNT = {
    4 * 64 * 64: "bias",
    3 * 64 * 64 + 3 * 64: "concatenated output",
    3 * 64 * 64: "concatenated output",
    EXPECTED_COUNT * 8: "heads split",
    EXPECTED_COUNT // 8: "heads split",
    12345: "count the query, key, value and output",
    16640.0: "as an int",
    True: "as an int",
}


@pytest.mark.parametrize("answer, hint", list(WRONG_COUNT.items()))
def test_count_mistakes_get_a_hint(capsys, answer, hint):
    out = verdict(capsys, check.q2, answer)
    assert "not yet" in out and hint in out, out
    assert str(EXPECTED_COUNT) not in out
