"""The self-checks of lecture 11 accept the right answers, hint at wrong ones, never reveal."""

import numpy as np
import pytest
import torch
import torchvision.ops as tvops

from course.checks import lecture11 as check

# The expected values, computed here independently of the checks (torchvision, a loop).
A, B = [2.0, 2.0, 8.0, 6.0], [5.0, 3.0, 11.0, 9.0]
IOU = float(tvops.box_iou(torch.tensor([A]), torch.tensor([B]))[0, 0])
BOXES = torch.tensor(
    [[10, 10, 30, 30], [12, 12, 32, 32], [20, 10, 40, 30], [50, 50, 60, 60], [52, 50, 62, 60]],
    dtype=torch.float64,
)
SCORES = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.3], dtype=torch.float64)
KEPT = len(tvops.nms(BOXES, SCORES, 0.3))
FLAGS = np.array([True, True, False, True, False, True])[:5]  # the detections scoring >= 0.5
PRECISION, RECALL = FLAGS.mean(), FLAGS.sum() / 6


# How an expected value could be written in a hint (none of it may appear).
REVEALING = {
    check.q1: [f"{IOU:.3f}", f"{IOU:.2f}", "9/51", "9 / 51", "3/17", "3 / 17", "51"],
    check.q2: [str(KEPT), "two"],
    check.q3: [f"{PRECISION:.1f}", f"{PRECISION:.2f}", "3/5", "3 / 5", "3/6", "1/2", "half"],
}


def verdict(capsys, function, *args):
    function(*args)
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "function, args",
    [
        (check.q1, (IOU,)),
        (check.q1, (np.float32(IOU),)),
        (check.q2, (KEPT,)),
        (check.q2, (np.int64(KEPT),)),
        (check.q3, (PRECISION, RECALL)),
    ],
)
def test_right_answers_are_correct(capsys, function, args):
    assert "correct" in verdict(capsys, function, *args)


@pytest.mark.parametrize(
    "function, args",
    [(check.q1, (...,)), (check.q2, (...,)), (check.q3, (..., ...)), (check.q3, (0.5, ...))],
)
def test_gaps_are_not_attempted(capsys, function, args):
    assert "not attempted yet" in verdict(capsys, function, *args)


@pytest.mark.parametrize(
    "function, args, hint",
    [
        (check.q1, (9 / 60,), "overlap twice"),
        (check.q1, (9 / 24,), "area of one box"),
        (check.q1, (9 / 36,), "area of one box"),
        (check.q1, (16 / 68,), "without + 1"),
        (check.q1, (0.3,), "larger x1"),
        (check.q1, (1.7,), "between 0 and 1"),
        (check.q1, ("0.18",), "number"),
        (check.q2, (KEPT + 1,), "above 0.3"),
        (check.q2, (5,), "above 0.3"),
        (check.q2, (KEPT - 1,), "never suppress"),
        (check.q2, (0,), "always kept"),
        (check.q2, (2.5,), "whole number"),
        (check.q3, (RECALL, PRECISION), "swapped"),
        (check.q3, (4 / 6, 4 / 6), "at least 0.5"),
        (check.q3, (PRECISION, 3 / 5), "recall: among all the lesions"),
        (check.q3, (0.9, RECALL), "precision: among the detections kept"),
    ],
)
def test_wrong_answers_get_a_hint_without_the_answer(capsys, function, args, hint):
    out = verdict(capsys, function, *args)
    assert "not yet" in out and hint in out
    hint_text = out.split("not yet.", 1)[1]
    for revealed in REVEALING[function]:
        assert revealed not in hint_text
