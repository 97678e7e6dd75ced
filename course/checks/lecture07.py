"""Self-checks of lecture 07 (segmentation with U-Net): a verdict and a hint, never the answer.

Three exercises of ``notebooks/lectures/07_segmentation_unet.ipynb``:

1. :func:`q1`: a two-line function, the Dice score from the IoU (Jaccard index),
   :math:`D = 2 J / (1 + J)`;
2. :func:`q2`: how many :math:`2 \\times 2` poolings a U-Net can apply to a
   :data:`Q2_SIZE` :math:`\\times` :data:`Q2_SIZE` input, each halving an even size exactly, so that
   every decoder level matches its skip connection without padding or cropping;
3. :func:`q3`: the soft Dice loss of the small case :data:`Q3_PROBABILITIES`,
   :data:`Q3_TARGET` with smoothing :math:`s = 1`,
   :math:`1 - (2 \\sum_i p_i g_i + s) / (\\sum_i p_i + \\sum_i g_i + s)`.

Each check prints "not attempted yet", "correct" or "not yet" with a hint (see
:mod:`course.checks._selfcheck`). References: Dice (1945), Measures of the amount of ecologic
association between species, Ecology 26, 297-302; Jaccard (1912), New Phytologist 11, 37-50;
Ronneberger et al. (2015), U-Net, MICCAI, LNCS 9351, 234-241; Milletari et al. (2016), V-Net,
3DV (the soft Dice loss).

>>> q2(...)
Exercise 2: not attempted yet. Replace the ... with your answer, run again.
"""

from __future__ import annotations

import math

import numpy as np

from course.checks._common import as_float, as_int
from course.checks._selfcheck import Wrong, attempt, converted, exercise

__all__ = ["Q2_SIZE", "Q3_PROBABILITIES", "Q3_TARGET", "q1", "q2", "q3"]

#: Exercise 1's IoU values.
Q1_CASES = [0.0, 0.2, 1 / 3, 0.5, 0.8, 1.0]
#: Exercise 2: the side of the input image, in pixels.
Q2_SIZE = 112
#: Exercise 3: predicted probabilities of six pixels, and their truth.
Q3_PROBABILITIES = np.array([[0.9, 0.7, 0.2], [0.6, 0.1, 0.05]])
Q3_TARGET = np.array([[1, 1, 0], [1, 0, 0]])


@exercise(1, correct="Dice >= IoU, equal only at 0 and 1; both rank predictions the same way.")
def q1(dice_from_iou) -> None:
    """Check ``dice_from_iou(j)`` on :data:`Q1_CASES`."""
    for j in Q1_CASES:
        got = converted(as_float, attempt(dice_from_iou, j), f"dice_from_iou({j:.3g})")
        if math.isclose(got, 2 * j / (1 + j), rel_tol=1e-9, abs_tol=1e-12):
            continue
        case = f"dice_from_iou({j:.3g}) returned {got:.4g}"
        if j > 0 and math.isclose(got, j / (2 - j)):
            raise Wrong(f"{case}: that formula turns a Dice into an IoU; you need the inverse")
        if got > 1:
            raise Wrong(f"{case}: a Dice score is never above 1 (divide by 1 + IoU)")
        raise Wrong(
            f"{case}: write TP, FP, FN for both: IoU = TP / (TP + FP + FN), Dice = "
            "2 TP / (2 TP + FP + FN); express Dice with IoU"
        )


@exercise(2, correct="the input side must be divisible by 2 to the power of the depth.")
def q2(answer) -> None:
    """Check the number of exact halvings of :data:`Q2_SIZE` (one int)."""
    got = converted(as_int, answer, "the number of poolings")
    size, expected = Q2_SIZE, 0
    while size % 2 == 0:
        size, expected = size // 2, expected + 1
    if got == expected:
        return
    if got == int(math.log2(Q2_SIZE)):
        raise Wrong(
            "halving until the size reaches 1 or 2 counts poolings of odd sizes too: an "
            "odd size rounds down, and the decoder's upsampled map then misses a row "
            "and a column of its skip connection"
        )
    if got < 0:
        raise Wrong("a number of poolings is 0 or more")
    raise Wrong(f"halve {Q2_SIZE} step by step and stop when the size is odd")


@exercise(3, correct="the soft Dice uses probabilities, so it has a gradient for every pixel.")
def q3(answer) -> None:
    """Check the soft Dice loss (s = 1) of :data:`Q3_PROBABILITIES` against :data:`Q3_TARGET`."""
    got = converted(as_float, answer, "the soft Dice loss")
    p, g = Q3_PROBABILITIES, Q3_TARGET
    overlap, total = float((p * g).sum()), float(p.sum() + g.sum())
    expected = 1 - (2 * overlap + 1) / (total + 1)
    if math.isclose(got, expected, abs_tol=1e-3):
        return
    if math.isclose(got, 1 - 2 * overlap / total, abs_tol=1e-3):
        raise Wrong("without the smoothing: add s = 1 to the numerator and the denominator")
    if math.isclose(got, 1 - expected, abs_tol=1e-3):
        raise Wrong("that is the soft Dice itself; the loss is 1 minus it")
    hard = (p >= 0.5).astype(float)
    hard_loss = 1 - (2 * (hard * g).sum() + 1) / (hard.sum() + g.sum() + 1)
    if math.isclose(got, hard_loss, abs_tol=1e-3):
        raise Wrong("you thresholded the probabilities: the soft Dice uses them as they are")
    if math.isclose(got, 1 - (overlap + 1) / (total - overlap + 1), abs_tol=1e-3):
        raise Wrong(
            "that is a soft IoU (Jaccard) loss: the Dice has 2 sum(p g) on top and "
            "sum(p) + sum(g) below"
        )
    raise Wrong("compute sum(p g), sum(p) and sum(g) over the six pixels, then the formula")
