"""Self-checks of lecture 11 (detection): IoU by hand, NMS by prediction, one precision-recall
point.

Each check prints a verdict (not attempted / correct / not yet + a hint) and never the
expected value; see :mod:`course.checks._selfcheck`.
"""

from __future__ import annotations

import math
from numbers import Real

from course.checks._selfcheck import Wrong, answered, exercise

__all__ = ["q1", "q2", "q3"]

# Exercise 1: A = (2, 2, 8, 6), B = (5, 3, 11, 9), xyxy in pixels.
_A, _B = (2, 2, 8, 6), (5, 3, 11, 9)
# Exercise 2: the five boxes and scores of the lecture, nms(..., iou_threshold=0.3).
_NMS_BOXES = (
    (10, 10, 30, 30),
    (12, 12, 32, 32),
    (20, 10, 40, 30),
    (50, 50, 60, 60),
    (52, 50, 62, 60),
)
_NMS_SCORES = (0.9, 0.8, 0.7, 0.6, 0.3)
_NMS_THRESHOLD = 0.3
# Exercise 3: detections by decreasing score, which of them are true positives, the lesions.
_PR_SCORES = (0.95, 0.90, 0.80, 0.60, 0.55, 0.30)
_PR_TP = (True, True, False, True, False, True)
_PR_LESIONS = 6
_PR_THRESHOLD = 0.5


def _area(box, plus_one: bool = False) -> float:
    extra = 1 if plus_one else 0
    return (box[2] - box[0] + extra) * (box[3] - box[1] + extra)


def _intersection(a, b, plus_one: bool = False) -> float:
    extra = 1 if plus_one else 0
    w = min(a[2], b[2]) - max(a[0], b[0]) + extra
    h = min(a[3], b[3]) - max(a[1], b[1]) + extra
    return max(w, 0) * max(h, 0)


def _iou(a, b) -> float:
    inter = _intersection(a, b)
    return inter / (_area(a) + _area(b) - inter)


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) and not hasattr(value, "item"):
        raise Wrong(f"give {what} as a number, e.g. a fraction like 3 / 7")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Wrong(f"give {what} as a single number") from None
    if not math.isfinite(number):
        raise Wrong(f"{what} must be a finite number")
    return number


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-3


@exercise(1, correct="the union is |A| + |B| - |A ∩ B|: the overlap is counted once.")
def q1(answer) -> None:
    """Exercise 1: the IoU of A = (2, 2, 8, 6) and B = (5, 3, 11, 9)."""
    value = _number(answered(answer), "the IoU")
    inter = _intersection(_A, _B)
    if not 0 <= value <= 1:
        raise Wrong("an IoU is a ratio of two areas, between 0 and 1")
    if _close(value, _iou(_A, _B)):
        return
    if _close(value, inter / (_area(_A) + _area(_B))):
        raise Wrong("adding the two areas counts the overlap twice: subtract it once")
    if _close(value, inter / _area(_A)) or _close(value, inter / _area(_B)):
        raise Wrong("you divided by the area of one box; IoU divides by the area of the union")
    p_inter = _intersection(_A, _B, plus_one=True)
    if _close(value, p_inter / (_area(_A, True) + _area(_B, True) - p_inter)):
        raise Wrong("coordinates are continuous here: a width is x2 - x1, without + 1")
    raise Wrong(
        "the intersection runs from the larger x1 to the smaller x2 (and the same in y); "
        "compute its width and height first, then the two areas"
    )


def _kept_by_nms() -> int:
    removed, kept = set(), 0
    order = sorted(range(len(_NMS_SCORES)), key=lambda k: -_NMS_SCORES[k])
    for i, k in enumerate(order):
        if k in removed:
            continue
        kept += 1
        for other in order[i + 1 :]:
            if _iou(_NMS_BOXES[k], _NMS_BOXES[other]) > _NMS_THRESHOLD:
                removed.add(other)
    return kept


@exercise(2, correct="a box is removed only by a better-scoring box that is kept.")
def q2(answer) -> None:
    """Exercise 2: how many of the five boxes ``nms(boxes, scores, 0.3)`` keeps."""
    value = _number(answered(answer), "the number of boxes")
    if value != int(value) or not 0 <= value <= len(_NMS_BOXES):
        raise Wrong(f"give a whole number of boxes between 0 and {len(_NMS_BOXES)}")
    value = int(value)
    expected = _kept_by_nms()
    if value == expected:
        return
    if value == 0:
        raise Wrong("the best-scoring box is always kept")
    if value > expected:
        raise Wrong(
            "some box you kept overlaps a better, kept box by an IoU above 0.3: compute the "
            "IoU of the third box (score 0.7) with the first one"
        )
    raise Wrong(
        "boxes that do not overlap never suppress each other, and a box that was removed "
        "removes nothing: go through them by decreasing score"
    )


@exercise(3, correct="precision divides by what was detected, recall by what was there.")
def q3(precision, recall) -> None:
    """Exercise 3: precision and recall when the detections with score >= 0.5 are kept."""
    precision = _number(answered(precision), "the precision")
    recall = _number(answered(recall), "the recall")
    kept = [tp for s, tp in zip(_PR_SCORES, _PR_TP, strict=True) if s >= _PR_THRESHOLD]
    tp = sum(kept)
    want_p, want_r = tp / len(kept), tp / _PR_LESIONS
    if _close(precision, want_p) and _close(recall, want_r):
        return
    if _close(precision, want_r) and _close(recall, want_p):
        raise Wrong("you swapped them: precision = TP / detections kept, recall = TP / lesions")
    all_tp = sum(_PR_TP)
    if _close(precision, all_tp / len(_PR_SCORES)) or _close(recall, all_tp / _PR_LESIONS):
        raise Wrong("keep only the detections whose score is at least 0.5")
    if not _close(precision, want_p):
        raise Wrong("precision: among the detections kept, the fraction that are true positives")
    raise Wrong("recall: among all the lesions of the data set, the fraction that was found")
