"""Visible checks of lab08_detection: box formats, box IoU, non-maximum suppression, AP.

Each function takes the student's answer (a function) and calls it on small teaching examples
(the lecture's boxes, a box that touches another, two boxes of zero area, a chain of three
overlapping boxes, a duplicate detection ...), comparing with :mod:`course.detection` (whose
own tests compare it with :mod:`torchvision.ops` and with brute-force loops). A wrong answer
raises :class:`AssertionError` with a message that names the input, the expected result and
what came out, and for the common mistakes says which one it is.
"""

from __future__ import annotations

import sys

import numpy as np

from course.checks._common import as_array, as_float, assert_close, call, guard
from course.checks._feedback import reporting
from course.checks._own_work import forbid
from course.detection import average_precision as library_ap
from course.detection import box_convert
from course.detection import box_iou as library_iou
from course.detection import nms as library_nms
from course.detection.evaluation import interpolated_ap, match_detections

# What this lab asks students to write themselves: in a notebook, these library functions
# refuse calls from the student's code (course.checks._own_work); the rest of the library is
# allowed. Each maps to the part that asks for it.
OWN_WORK = {
    "course.detection.boxes.box_convert": "q1",
    "torchvision.ops.boxes.box_convert": "q1",
    "course.detection.boxes.box_iou": "q2",
    "torchvision.ops.boxes.box_iou": "q2",
    "course.detection.nms.nms": "q3",
    "course.detection.nms.batched_nms": "q3",
    "torchvision.ops.boxes.nms": "q3",
    "torchvision.ops.boxes.batched_nms": "q3",
    "course.detection.evaluation.average_precision": "q4",
    "course.detection.evaluation.precision_recall_curve": "q4",
    "course.detection.evaluation.interpolated_ap": "q4",
    "course.detection.evaluation.match_detections": "q4",
}
forbid(OWN_WORK)

# The points of each part, as in the lab's notebook (tests/test_own_work.py keeps them equal).
POINTS = {"q1": 1, "q2": 2, "q3": 2, "q4": 3}

__all__ = [
    "call",
    "as_boxes",
    "q1_cxcywh_to_xyxy",
    "q2_box_iou",
    "q3_nms",
    "q4_average_precision",
]

ATOL = 1e-9
LECTURE_BOXES = np.array([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0]])


def _text(array) -> str:
    """A short, exact text of a small array (for the messages)."""
    return np.array2string(np.asarray(array), precision=4, separator=", ")


def as_boxes(value, name: str, n: int) -> np.ndarray:
    """A student's boxes as a float ``(n, 4)`` array, or an AssertionError that says why."""
    return as_array(value, name, shape=(n, 4))


def _random_boxes(rng, n: int, low=0.0, high=40.0, size=(1.0, 15.0)) -> np.ndarray:
    corners = rng.uniform(low, high, size=(n, 2))
    return np.concatenate([corners, corners + rng.uniform(*size, size=(n, 2))], axis=1)


# --- q1 --------------------------------------------------------------------------------------
def _check_conversion(fn, boxes: np.ndarray, what: str) -> None:
    expected = box_convert(boxes, "cxcywh", "xyxy")
    given = boxes.copy()
    name = f"cxcywh_to_xyxy({what})"
    got = as_boxes(call(fn, (given,), name), name, len(boxes))
    if len(boxes) and np.allclose(got, box_convert(boxes, "cxcywh", "xywh"), atol=ATOL):
        raise AssertionError(
            f"{name} returned (x1, y1, w, h) (the xywh format): the xyxy format wants the "
            "second corner, x2 = cx + w/2 and y2 = cy + h/2"
        )
    doubled = np.c_[boxes[:, :2] - boxes[:, 2:], boxes[:, :2] + boxes[:, 2:]]
    if len(boxes) and np.allclose(got, doubled, atol=ATOL):
        raise AssertionError(
            f"{name}: your boxes are twice too large: (cx, cy) is the centre, so each corner is "
            "half a width away from it (x1 = cx - w/2)"
        )
    assert_close(got, expected, name, atol=ATOL, rtol=0)
    assert_close(given, boxes, f"the input of {name} (it must not be modified)", atol=0, rtol=0)


def q1_cxcywh_to_xyxy(cxcywh_to_xyxy) -> None:
    """Check ``cxcywh_to_xyxy(boxes)``: (cx, cy, w, h) rows -> (x1, y1, x2, y2) rows."""
    guard()
    _check_conversion(cxcywh_to_xyxy, np.array([[12.0, 23.0, 4.0, 6.0]]), "[[12, 23, 4, 6]]")
    rng = np.random.default_rng(8)
    boxes = np.c_[rng.uniform(0, 60, (5, 2)), rng.uniform(0, 9, (5, 2))]
    _check_conversion(cxcywh_to_xyxy, boxes, "5 random boxes")
    _check_conversion(cxcywh_to_xyxy, np.zeros((0, 4)), "np.zeros((0, 4)), no box at all")


# --- q2 --------------------------------------------------------------------------------------
def _check_iou(fn, a: np.ndarray, b: np.ndarray, what: str, hint: str = "") -> None:
    name = f"box_iou({what})"
    given_a, given_b = a.copy(), b.copy()
    got = as_array(call(fn, (given_a, given_b), name), name)
    expected = library_iou(a, b)
    if got.shape != expected.shape:
        transposed = (
            " (you returned (M, N): rows must follow boxes1)"
            if got.shape == (len(b), len(a)) and len(a) != len(b)
            else ""
        )
        raise AssertionError(
            f"{name} should be an (N, M) = {expected.shape} matrix, one row per box of boxes1 "
            f"and one column per box of boxes2; got shape {got.shape}{transposed}"
        )
    if np.isnan(got).any():
        raise AssertionError(
            f"{name} contains NaN: two boxes of zero area have a union of area 0, and their "
            "IoU is defined as 0 here (divide only where the union is positive)"
        )
    assert_close(got, expected, name + hint, atol=ATOL, rtol=0)
    assert_close(given_a, a, f"boxes1 after {name} (it must not be modified)", atol=0, rtol=0)
    assert_close(given_b, b, f"boxes2 after {name} (it must not be modified)", atol=0, rtol=0)


def q2_box_iou(box_iou) -> None:
    """Check ``box_iou(boxes1, boxes2)``: the (N, M) IoU matrix of xyxy boxes."""
    guard()
    a = np.array([[0.0, 0.0, 2.0, 2.0]])
    far = np.array([[10.0, 10.0, 12.0, 12.0]])
    name = "box_iou([[0, 0, 2, 2]], [[10, 10, 12, 12]])"
    got = as_float(as_array(call(box_iou, (a.copy(), far.copy()), name), name), name)
    if got != 0:
        raise AssertionError(
            f"{name} should be 0 (the boxes are far apart), got {got}: clip the width and the "
            "height of the intersection at 0 before multiplying (two negative sides would give "
            "a positive area)"
        )
    b = np.array([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]])
    _check_iou(
        box_iou,
        a,
        b,
        "[[0, 0, 2, 2]], the lecture's three boxes",
        " (overlap 1 of 4 + 4 - 1; identical; disjoint)",
    )
    touching = np.array([[2.0, 0.0, 4.0, 2.0], [0.0, 2.0, 2.0, 4.0]])
    _check_iou(
        box_iou,
        a,
        touching,
        "[[0, 0, 2, 2]], two boxes that touch it",
        " (a shared edge has no area: IoU 0)",
    )
    flat = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 1.0, 2.0], [0.0, 0.0, 2.0, 2.0]])
    _check_iou(
        box_iou,
        flat,
        flat,
        "three boxes, two of zero area, with themselves",
        " (zero-area boxes have IoU 0 with everything, also with themselves)",
    )
    rng = np.random.default_rng(2)
    _check_iou(box_iou, _random_boxes(rng, 4), _random_boxes(rng, 7), "4 and 7 random boxes")
    _check_iou(box_iou, np.zeros((0, 4)), _random_boxes(rng, 3), "no box, 3 boxes")


# --- q3 --------------------------------------------------------------------------------------
def _check_nms(fn, boxes, scores, threshold, what: str, hint: str = "") -> None:
    name = f"nms({what}, iou_threshold={threshold})"
    given_boxes, given_scores = boxes.copy(), scores.copy()
    result = call(fn, (given_boxes, given_scores, threshold), name)
    got = as_array(result, name, dtype=np.float64).reshape(-1)
    expected = library_nms(boxes, scores, threshold)
    same_set = got.shape == expected.shape and set(got.tolist()) == set(expected.tolist())
    if same_set and not np.array_equal(got, expected):
        raise AssertionError(
            f"{name} kept the right boxes but should list them by decreasing score: "
            f"{expected.tolist()}, got {_text(got)}"
        )
    if not np.array_equal(got, expected):
        raise AssertionError(
            f"{name} should keep the boxes {expected.tolist()} (indices into boxes, by "
            f"decreasing score){hint}; got {_text(got)}"
        )
    assert_close(given_boxes, boxes, f"boxes after {name} (it must not be modified)", atol=0)
    assert_close(given_scores, scores, f"scores after {name} (it must not be modified)", atol=0)


def q3_nms(nms) -> None:
    """Check ``nms(boxes, scores, iou_threshold)``: kept indices by decreasing score."""
    guard()
    scores = np.array([0.9, 0.8, 0.7])
    _check_nms(
        nms,
        LECTURE_BOXES,
        scores,
        0.5,
        "the lecture's three boxes",
        " (box 1 overlaps box 0 with IoU 0.68 > 0.5)",
    )
    _check_nms(
        nms,
        LECTURE_BOXES,
        scores,
        0.7,
        "the lecture's three boxes",
        " (IoU 0.68 is below 0.7: nothing is removed)",
    )
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [21, 20, 31, 30]], float)
    _check_nms(
        nms,
        boxes,
        np.array([0.6, 0.9, 0.8, 0.7]),
        0.9,
        "four boxes with scores [0.6, 0.9, 0.8, 0.7]",
        " (by decreasing score)",
    )
    half = np.array([[0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 4.0, 2.0]])  # IoU exactly 0.5
    _check_nms(
        nms,
        half,
        np.array([0.9, 0.8]),
        0.5,
        "two boxes with IoU exactly 0.5",
        ": a box is removed only if its IoU is greater than the threshold",
    )
    chain = np.array([[0.0, 0.0, 10.0, 10.0], [4.0, 0.0, 14.0, 10.0], [8.0, 0.0, 18.0, 10.0]])
    _check_nms(
        nms,
        chain,
        np.array([0.9, 0.8, 0.7]),
        0.3,
        "a chain of three boxes",
        ": box 1 is removed by box 0, and a removed box removes nothing, so box 2 (IoU "
        "0.11 with box 0) stays",
    )
    rng = np.random.default_rng(3)
    many = _random_boxes(rng, 12, high=20.0, size=(3.0, 12.0))
    _check_nms(nms, many, rng.permutation(12) / 12 + 0.01, 0.4, "12 random boxes")
    _check_nms(nms, np.zeros((0, 4)), np.zeros(0), 0.5, "no box at all")


# --- q4 --------------------------------------------------------------------------------------
def _hits(boxes, scores, gt, threshold) -> np.ndarray:
    """True positive or not, for all detections sorted by decreasing score."""
    pairs = zip(boxes, scores, gt, strict=True)
    tp = np.concatenate([match_detections(b, s, g, threshold) for b, s, g in pairs])
    return tp[np.argsort(-np.concatenate(scores), kind="stable")]


def _step_ap(boxes, scores, gt, threshold) -> float:
    """AP without interpolation (precision at each hit, as sklearn's): a common mistake."""
    tp = _hits(boxes, scores, gt, threshold)
    precision = np.cumsum(tp) / np.arange(1, len(tp) + 1)
    return float(np.sum(precision[tp]) / sum(len(g) for g in gt))


def _found_only_ap(boxes, scores, gt, threshold) -> float:
    """AP with recall divided by the lesions found instead of all lesions: a common mistake."""
    tp = _hits(boxes, scores, gt, threshold)
    if not tp.any():
        return 0.0
    precision = np.cumsum(tp) / np.arange(1, len(tp) + 1)
    return interpolated_ap(precision, np.cumsum(tp) / tp.sum())


def _pooled_ap(boxes, scores, gt, threshold) -> float:
    """AP with all images' boxes matched as one image: a common mistake."""
    return library_ap(
        [np.concatenate(boxes)], [np.concatenate(scores)], [np.concatenate(gt)], threshold
    )


def _copy_set(boxes, scores, gt):
    return [b.copy() for b in boxes], [s.copy() for s in scores], [g.copy() for g in gt]


def _check_ap(fn, boxes, scores, gt, threshold, what: str, hint: str = "") -> None:
    name = f"average_precision({what}, iou_threshold={threshold})"
    given = _copy_set(boxes, scores, gt)
    got = as_float(call(fn, (*given, threshold), name), name)
    expected = library_ap(boxes, scores, gt, threshold)
    if abs(got - expected) <= 1e-9:
        for before, after in zip(_copy_set(boxes, scores, gt), given, strict=True):
            for k, (x, y) in enumerate(zip(before, after, strict=True)):
                assert_close(y, x, f"input [{k}] after {name} (it must not be modified)", atol=0)
        return
    mistakes = [
        (
            _step_ap,
            "the precision is not interpolated: use p_interp(r) = the largest precision "
            "at recall r or beyond (scan the precisions from the end, keeping the running max)",
        ),
        (
            _found_only_ap,
            "the recall must divide by all the ground-truth boxes, including the "
            "lesions never detected",
        ),
        (_pooled_ap, "match each image's detections to that image's ground truth only"),
    ]
    for variant, why in mistakes:
        if abs(got - variant(boxes, scores, gt, threshold)) <= 1e-9:
            raise AssertionError(f"{name} should be {expected:.6f}, got {got:.6f}: {why}")
    raise AssertionError(f"{name} should be {expected:.6f}{hint}, got {got:.6f}")


def _simulated_detections(rng, n_images: int):
    """Ground truth and noisy detections: most lesions found (jittered), some false alarms."""
    boxes, scores, gt = [], [], []
    for _ in range(n_images):
        g = _random_boxes(rng, int(rng.integers(0, 4)), high=50.0, size=(4.0, 10.0))
        found = g[rng.random(len(g)) < 0.8]
        near = found + rng.normal(0, 1.0, size=found.shape)
        near[:, 2:] = np.maximum(near[:, 2:], near[:, :2] + 0.5)
        b = np.concatenate([near, _random_boxes(rng, int(rng.integers(0, 3)), high=55.0)])
        boxes.append(b)
        scores.append(rng.uniform(0.05, 1.0, size=len(b)))
        gt.append(g)
    gt[0] = np.concatenate([gt[0], [[30.0, 30.0, 36.0, 36.0]]])  # at least one lesion
    return boxes, scores, gt


def toy_detections():
    """The lab's example: two images, three lesions, five detections (AP 0.8333 at 0.5)."""
    gt = [np.array([[0.0, 0, 10, 10], [20, 20, 30, 30]]), np.array([[0.0, 0, 10, 10]])]
    boxes = [
        np.array([[0.0, 0, 10, 10], [40, 40, 50, 50], [20, 20, 30, 30]]),
        np.array([[0.0, 0, 10, 10], [1, 1, 11, 11]]),
    ]
    scores = [np.array([0.9, 0.8, 0.6]), np.array([0.7, 0.5])]
    return boxes, scores, gt


def q4_average_precision(average_precision) -> None:
    """Check ``average_precision(boxes, scores, gt_boxes, iou_threshold=0.5)``."""
    guard()
    _check_ap(
        average_precision,
        *toy_detections(),
        0.5,
        "the example of the task",
        " (TP, FP, TP, TP, duplicate FP: 1/3 * 1 + 1/3 * 3/4 + 1/3 * 3/4)",
    )
    one = [np.array([[0.0, 0.0, 10.0, 10.0]])]
    shifted = [np.array([[3.0, 0.0, 13.0, 10.0]])]  # IoU 7/13 = 0.54 with the lesion
    _check_ap(
        average_precision,
        shifted,
        [np.array([0.9])],
        one,
        0.5,
        "one detection with IoU 0.54",
        " (a match at IoU >= 0.5)",
    )
    _check_ap(
        average_precision,
        shifted,
        [np.array([0.9])],
        one,
        0.6,
        "one detection with IoU 0.54",
        " (no match at IoU >= 0.6: AP 0)",
    )
    _check_ap(
        average_precision,
        [np.zeros((0, 4))],
        [np.zeros(0)],
        one,
        0.5,
        "no detection at all",
        " (nothing found: AP 0)",
    )
    lesion = np.array([[0.0, 0.0, 10.0, 10.0]])
    boxes = [np.array([[30.0, 30.0, 40.0, 40.0]]), np.array([[0.0, 0.0, 10.0, 10.0]])]
    _check_ap(
        average_precision,
        boxes,
        [np.array([0.9]), np.array([0.8])],
        [lesion, np.zeros((0, 4))],
        0.5,
        "a detection on image 1 where image 0 has its lesion",
        " (image 1 has no lesion: its detection is a false positive)",
    )
    rng = np.random.default_rng(4)
    for k in range(3):
        data = _simulated_detections(rng, 6)
        _check_ap(average_precision, *data, 0.5, f"simulated detections on 6 images (set {k})")


reporting(sys.modules[__name__])  # a check that passes says so, with its points
