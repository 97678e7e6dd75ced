"""Lecture 07's self-checks: right answers pass, typical mistakes get a hint without the answer.

The expected answers come from independent references: scikit-learn's Jaccard and F1 scores on
random masks (Dice = F1 of the pixels), halvings counted by a U-Net of PyTorch layers that
must run without padding, and the soft Dice loss written out with NumPy sums.
"""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, jaccard_score
from torch import nn

from course.checks import lecture07 as check
from course.losses import soft_dice_loss


def verdict(capsys, question, answer) -> str:
    question(answer)
    return capsys.readouterr().out


def dice_from_iou(j):
    return 2 * j / (1 + j)


def test_the_right_formula_agrees_with_scikit_learn_on_random_masks():
    rng = np.random.default_rng(0)
    for _ in range(20):
        truth, pred = rng.random(200) < rng.random(), rng.random(200) < rng.random()
        if not (truth.any() or pred.any()):
            continue
        j, d = jaccard_score(truth, pred, zero_division=1), f1_score(truth, pred, zero_division=1)
        assert math.isclose(dice_from_iou(j), d)


def poolings_without_padding(size: int) -> int:
    """The most 2x2 poolings after which a U-Net skeleton still concatenates every skip."""
    depth = 0
    while True:
        x, skips = torch.zeros(1, 1, size, size), []
        try:
            for _ in range(depth + 1):
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
            for skip in reversed(skips):
                x = nn.functional.interpolate(x, scale_factor=2)
                torch.cat([x, skip], dim=1)
        except RuntimeError:
            return depth
        depth += 1


def soft_dice_loss_numpy(p, g, s=1.0):
    return 1 - (2 * np.sum(p * g) + s) / (np.sum(p) + np.sum(g) + s)


def test_open_gaps_are_not_attempted(capsys):
    for question in (check.q1, check.q2, check.q3):
        assert "not attempted yet" in verdict(capsys, question, ...)
    assert "not attempted yet" in verdict(capsys, check.q1, lambda iou: ...)


def test_right_answers_are_correct(capsys):
    assert ": correct." in verdict(capsys, check.q1, dice_from_iou)
    assert ": correct." in verdict(capsys, check.q2, poolings_without_padding(check.Q2_SIZE))
    expected = soft_dice_loss_numpy(check.Q3_PROBABILITIES, check.Q3_TARGET)
    assert ": correct." in verdict(capsys, check.q3, expected)
    assert ": correct." in verdict(capsys, check.q3, round(expected, 3))
    assert ": correct." in verdict(capsys, check.q3, torch.tensor(expected))


def test_the_q3_reference_is_the_course_loss():
    p, g = (
        torch.tensor(check.Q3_PROBABILITIES)[None, None],
        torch.tensor(check.Q3_TARGET)[None, None],
    )
    loss = soft_dice_loss(p.double(), g.double(), from_logits=False)
    assert math.isclose(loss.item(), soft_dice_loss_numpy(check.Q3_PROBABILITIES, check.Q3_TARGET))


@pytest.mark.parametrize(
    "mistake",
    [
        lambda j: j / (2 - j),
        lambda j: 2 * j,
        lambda j: (1 + j) / 2,
        lambda j: j,
        lambda j: 2 * j / (1 - j + 1e-9),
    ],
)
def test_q1_typical_mistakes_get_a_hint_without_the_answer(capsys, mistake):
    out = verdict(capsys, check.q1, mistake)
    assert "not yet" in out and "0.3333" not in out and "0.6667" not in out


def test_q2_typical_mistakes_get_a_hint_without_the_answer(capsys):
    expected = poolings_without_padding(check.Q2_SIZE)
    for answer in (int(math.log2(check.Q2_SIZE)), expected + 1, expected - 1, -1, 4.5, "4"):
        out = verdict(capsys, check.q2, answer)
        assert "not yet" in out and f" {expected} " not in out


def test_q3_typical_mistakes_get_a_hint_without_the_answer(capsys):
    p, g = check.Q3_PROBABILITIES, check.Q3_TARGET
    expected = soft_dice_loss_numpy(p, g)
    hard = (p >= 0.5).astype(float)
    mistakes = {
        "no smoothing": soft_dice_loss_numpy(p, g, s=0),
        "the Dice itself": 1 - expected,
        "thresholded": soft_dice_loss_numpy(hard, g),
        "soft IoU": 1 - (np.sum(p * g) + 1) / (np.sum(p) + np.sum(g) - np.sum(p * g) + 1),
        "unknown": 0.5,
    }
    for answer in mistakes.values():
        out = verdict(capsys, check.q3, answer)
        assert "not yet" in out and f"{expected:.3f}" not in out and f"{expected:.2f}" not in out
