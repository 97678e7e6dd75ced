"""Lecture 08's self-checks: right answers pass, typical mistakes get a hint without the answer.

The side labels are checked by applying each transform to a map with a lesion on each side
(NumPy's flips and rotations); the gamma transform against scikit-image's ``adjust_gamma`` on
the image rescaled to [0, 1].
"""

import numpy as np
import pytest
from skimage.exposure import adjust_gamma

from course.checks import lecture08 as check

TRANSFORMS = {
    "flip left-right": np.fliplr,
    "flip up-down": np.flipud,
    "rotate 90": np.rot90,
    "rotate 180": lambda a: np.rot90(a, 2),
    "gamma 0.7": lambda a: a,  # intensity transforms move no pixel
    "Gaussian noise": lambda a: a,
}


def verdict(capsys, question, answer) -> str:
    question(answer)
    return capsys.readouterr().out


def keeps_sides(transform) -> bool:
    """Whether every lesion labelled 2 (image right) stays on the right, and 1 on the left.

    One lesion in each quadrant: those on the image's left are right-sided (1).
    """
    side = np.zeros((8, 8), int)
    side[1:3, 1:3], side[5:7, 1:3], side[1:3, 5:7], side[5:7, 5:7] = 1, 1, 2, 2
    moved = transform(side)
    columns = np.arange(8)[None, :].repeat(8, 0)
    return bool(np.all(columns[moved == 2] >= 4) and np.all(columns[moved == 1] < 4))


SAFE = {name for name, transform in TRANSFORMS.items() if keeps_sides(transform)}


def gamma_reference(x, gamma):
    a, b = x.min(), x.max()
    return a + (b - a) * adjust_gamma((x - a) / (b - a), gamma)


def test_the_options_are_the_transforms_tested_here():
    assert set(check.Q1_OPTIONS) == set(TRANSFORMS)


def test_open_gaps_are_not_attempted(capsys):
    assert "not attempted yet" in verdict(capsys, check.q1, ...)
    assert "not attempted yet" in verdict(capsys, check.q2, ...)

    def gamma_transform(x, gamma):
        a, b = x.min(), x.max()  # noqa: F841 - the template of the notebook
        return ...

    assert "not attempted yet" in verdict(capsys, check.q2, gamma_transform)


def test_right_answers_are_correct(capsys):
    assert ": correct." in verdict(capsys, check.q1, SAFE)
    assert ": correct." in verdict(capsys, check.q1, sorted(SAFE))
    assert ": correct." in verdict(capsys, check.q2, gamma_reference)


@pytest.mark.parametrize(
    "answer",
    [
        SAFE | {"flip left-right"},
        SAFE | {"rotate 180", "rotate 90"},
        SAFE - {"flip up-down"},
        {"gamma 0.7"},
        set(),
        ["flip sideways"],
        "flip up-down",
        3,
    ],
)
def test_q1_wrong_sets_get_a_hint_without_the_answer(capsys, answer):
    out = verdict(capsys, check.q1, answer)
    assert "not yet" in out
    if "choose from" not in out:  # listing the options is not giving the answer
        assert not any(name in out for name in TRANSFORMS)


GAMMA_WRONG = [
    lambda x, g: x**g,
    lambda x, g: ((x - x.min()) / (x.max() - x.min())) ** g,
    lambda x, g: gamma_reference(x, 1 / g),
    lambda x, g: gamma_reference(x, g)[:2],
    lambda x, g: x,
]


@pytest.mark.parametrize("gamma_transform", GAMMA_WRONG)
def test_q2_typical_mistakes_get_a_hint_without_the_answer(capsys, gamma_transform):
    out = verdict(capsys, check.q2, gamma_transform)
    assert "not yet" in out and "[[" not in out
