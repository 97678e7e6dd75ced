"""Hidden checks of lab08_detection (grader only): other inputs, independent references.

References: :func:`torchvision.ops.box_convert`, :func:`torchvision.ops.box_iou` and
:func:`torchvision.ops.nms` in float64, each cross-checked on every case with a loop written
here (so that a replaced torchvision function is noticed, torchvision not being watched by the
guard); average precision by a brute-force loop written here, which matches the detections
again from scratch at every threshold and integrates the interpolated precision recall level by
recall level. Inputs: float32 and integer-valued boxes, many boxes, boxes sharing edges, zero
area, images without lesions or without detections, other IoU thresholds.
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision.ops as tvops

from course.checks import as_array, as_float, assert_close, guard
from course.checks.lab08 import call

ATOL = 1e-9


def _t(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def _iou_pair(a, b) -> float:
    """The IoU of two xyxy boxes, one pair at a time (0 when the union has no area)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _iou_loops(a, b) -> np.ndarray:
    return np.array([[_iou_pair(x, y) for y in b] for x in a], dtype=float).reshape(len(a), len(b))


def _reference_iou(a, b) -> np.ndarray:
    expected = np.nan_to_num(tvops.box_iou(_t(a), _t(b)).numpy(), nan=0.0)
    if not np.allclose(expected, _iou_loops(a, b), atol=1e-12):
        raise AssertionError("torchvision.ops.box_iou was replaced in this kernel")
    return expected


def _nms_loops(boxes, scores, threshold) -> list[int]:
    order = sorted(range(len(scores)), key=lambda k: (-scores[k], k))
    kept: list[int] = []
    for k in order:
        if all(_iou_pair(boxes[k], boxes[j]) <= threshold for j in kept):
            kept.append(k)
    return kept


def _boxes(rng, n, high=60.0, size=(0.5, 20.0), integer=False) -> np.ndarray:
    if integer:
        xy = rng.integers(0, 10, size=(n, 2)).astype(float)
        wh = rng.integers(0, 6, size=(n, 2)).astype(float)
    else:
        xy = rng.uniform(-10, high, size=(n, 2))
        wh = rng.uniform(*size, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


# --- q1 --------------------------------------------------------------------------------------
def q1_cxcywh_to_xyxy(cxcywh_to_xyxy) -> None:
    guard()
    rng = np.random.default_rng(1081)
    cases = [
        ("one box", np.array([[0.5, 0.5, 1.0, 1.0]])),
        ("40 random boxes", np.c_[rng.uniform(-50, 50, (40, 2)), rng.uniform(0, 30, (40, 2))]),
        ("boxes of zero width", np.array([[3.0, 4.0, 0.0, 2.0], [1.0, 1.0, 0.0, 0.0]])),
        (
            "float32 boxes",
            np.c_[rng.uniform(0, 9, (6, 2)), rng.uniform(0, 9, (6, 2))].astype(np.float32),
        ),
    ]
    for what, boxes in cases:
        expected = tvops.box_convert(_t(boxes), "cxcywh", "xyxy").numpy()
        by_hand = np.c_[boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2]
        if not np.allclose(expected, by_hand, atol=1e-6):
            raise AssertionError("torchvision.ops.box_convert was replaced in this kernel")
        given = boxes.copy()
        name = f"cxcywh_to_xyxy({what})"
        got = as_array(call(cxcywh_to_xyxy, (given,), name), name, shape=boxes.shape)
        assert_close(got, expected, name, atol=1e-5, rtol=1e-6)
        assert_close(given, boxes, f"the input of {name} (it must not be modified)", atol=0)


# --- q2 --------------------------------------------------------------------------------------
def q2_box_iou(box_iou) -> None:
    guard()
    rng = np.random.default_rng(1082)
    cases = [
        ("60 x 45 random boxes", _boxes(rng, 60), _boxes(rng, 45)),
        (
            "integer boxes: shared edges, zero areas, duplicates",
            _boxes(rng, 25, integer=True),
            _boxes(rng, 30, integer=True),
        ),
        (
            "a box inside another",
            np.array([[0.0, 0.0, 10.0, 10.0]]),
            np.array([[2.0, 3.0, 5.0, 7.0], [0.0, 0.0, 10.0, 10.0]]),
        ),
        ("1 box and no box", _boxes(rng, 1), np.zeros((0, 4))),
        ("200 x 150 boxes", _boxes(rng, 200), _boxes(rng, 150)),
        ("float32 boxes", _boxes(rng, 5).astype(np.float32), _boxes(rng, 4).astype(np.float32)),
    ]
    for what, a, b in cases:
        name = f"box_iou({what})"
        given_a, given_b = a.copy(), b.copy()
        got = as_array(call(box_iou, (given_a, given_b), name), name, shape=(len(a), len(b)))
        assert_close(got, _reference_iou(a, b), name, atol=1e-6, rtol=1e-5)
        assert_close(given_a, a, f"boxes1 after {name} (it must not be modified)", atol=0)
        assert_close(given_b, b, f"boxes2 after {name} (it must not be modified)", atol=0)


# --- q3 --------------------------------------------------------------------------------------
def _nms_case(nms, boxes, scores, threshold, what: str) -> None:
    expected = tvops.nms(_t(boxes), _t(scores), threshold).numpy()
    if expected.tolist() != _nms_loops(boxes, scores, threshold):
        raise AssertionError("torchvision.ops.nms was replaced in this kernel")
    name = f"nms({what}, iou_threshold={threshold})"
    given_boxes, given_scores = boxes.copy(), scores.copy()
    got = as_array(call(nms, (given_boxes, given_scores, threshold), name), name).reshape(-1)
    if got.shape != expected.shape or not np.array_equal(got, expected):
        raise AssertionError(
            f"{name} should keep {len(expected)} boxes, {expected.tolist()[:12]}"
            f"{' ...' if len(expected) > 12 else ''} (by decreasing score); got "
            f"{len(got)}: {got.astype(int).tolist()[:12]}"
        )
    assert_close(given_boxes, boxes, f"boxes after {name} (it must not be modified)", atol=0)
    assert_close(given_scores, scores, f"scores after {name} (it must not be modified)", atol=0)


def q3_nms(nms) -> None:
    guard()
    rng = np.random.default_rng(1083)
    for k, (n, threshold) in enumerate([(30, 0.5), (30, 0.0), (30, 1.0), (60, 0.3), (8, 0.7)]):
        boxes = _boxes(rng, n, high=25.0, size=(2.0, 15.0))
        scores = rng.permutation(n) / n + rng.uniform(0, 0.01)  # distinct scores
        if k == 4:
            boxes = np.repeat(boxes[:2], 4, axis=0) + rng.normal(0, 0.5, size=(8, 4)) * [0, 0, 1, 1]
            boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])
        _nms_case(nms, boxes, scores, threshold, f"{n} boxes")
    for threshold in (0.5, 1 / 3):  # integer boxes: IoUs exactly at the threshold
        boxes = _boxes(rng, 40, integer=True)
        _nms_case(nms, boxes, rng.permutation(40) / 40 + 0.01, threshold, "40 integer boxes")
    empty = call(nms, (np.zeros((0, 4)), np.zeros(0), 0.5), "nms(no box)")
    if as_array(empty, "nms(no box)").size != 0:
        raise AssertionError("nms(no box) should return an empty array of indices")


# --- q4 --------------------------------------------------------------------------------------
def _brute_force_ap(boxes, scores, gt, threshold) -> float:
    """Match from scratch at every distinct threshold, then integrate recall level by level."""
    n_gt = sum(len(g) for g in gt)
    points = []
    for s_min in sorted({float(s) for image in scores for s in image}, reverse=True):
        tp = fp = 0
        for b, s, g in zip(boxes, scores, gt, strict=True):
            free = list(range(len(g)))
            for k in sorted((k for k in range(len(s)) if s[k] >= s_min), key=lambda k: -s[k]):
                best = max(free, key=lambda m: _iou_pair(b[k], g[m]), default=None)
                if best is not None and _iou_pair(b[k], g[best]) >= threshold:
                    free.remove(best)
                    tp += 1
                else:
                    fp += 1
        points.append((tp / n_gt, tp / (tp + fp)))
    ap, previous = 0.0, 0.0
    for level in sorted({r for r, _ in points}):
        ap += (level - previous) * max(p for r, p in points if r >= level)
        previous = level
    return ap


def _detection_set(rng, n_images, lesions=(0, 5), far=(0, 4), jitter=1.5):
    boxes, scores, gt = [], [], []
    for _ in range(n_images):
        g = _boxes(rng, int(rng.integers(*lesions)), high=80.0, size=(3.0, 14.0))
        hits = g[rng.integers(0, len(g), size=int(rng.integers(0, 6)))] if len(g) else g
        hits = hits + rng.normal(0, jitter, size=hits.shape)
        hits[:, 2:] = np.maximum(hits[:, 2:], hits[:, :2] + 0.5)
        b = np.concatenate([hits, _boxes(rng, int(rng.integers(*far)), high=90.0, size=(2, 12))])
        boxes.append(b)
        gt.append(g)
    values = rng.permutation(sum(len(b) for b in boxes)) + 1.0  # distinct scores
    values = values / values.max()
    start = 0
    for b in boxes:
        scores.append(values[start : start + len(b)])
        start += len(b)
    if sum(len(g) for g in gt) == 0:
        gt[0] = np.array([[5.0, 5.0, 12.0, 12.0]])
    return boxes, scores, gt


def _same_places(rng, n_images):
    """Lesions and detections at a few shared places: each image's own matches matter."""
    places = _boxes(rng, 4, high=40.0, size=(5.0, 9.0))
    boxes, gt = [], []
    for _ in range(n_images):
        gt.append(places[rng.random(4) < 0.5])
        boxes.append(places[rng.random(4) < 0.6] + rng.normal(0, 0.3, size=(1, 4)))
    boxes = [np.c_[b[:, :2], np.maximum(b[:, 2:], b[:, :2] + 0.5)] for b in boxes]
    values = (rng.permutation(sum(map(len, boxes))) + 1.0) / sum(map(len, boxes))
    splits = np.cumsum([len(b) for b in boxes])[:-1]
    if sum(map(len, gt)) == 0:
        gt[0] = places[:1]
    return boxes, list(np.split(values, splits)), gt


def q4_average_precision(average_precision) -> None:
    guard()
    rng = np.random.default_rng(1084)
    cases = [(_detection_set(rng, 8), 0.5, "8 images") for _ in range(3)]
    cases += [
        (_detection_set(rng, 10), 0.3, "10 images"),
        (_detection_set(rng, 6), 0.7, "6 images"),
        (_detection_set(rng, 12, lesions=(0, 2), far=(0, 2)), 0.5, "12 images, few lesions"),
        (_detection_set(rng, 5, far=(0, 1), jitter=0.3), 0.5, "5 images, precise detections"),
        (_detection_set(rng, 4, lesions=(3, 6), far=(5, 8)), 0.5, "4 images, many false alarms"),
        (_same_places(rng, 8), 0.5, "8 images with lesions at the same few places"),
    ]
    for (boxes, scores, gt), threshold, what in cases:
        expected = _brute_force_ap(boxes, scores, gt, threshold)
        name = f"average_precision({what}, iou_threshold={threshold})"
        given = ([b.copy() for b in boxes], [s.copy() for s in scores], [g.copy() for g in gt])
        got = as_float(call(average_precision, (*given, threshold), name), name)
        if not abs(got - expected) <= 1e-9:
            raise AssertionError(f"{name} should be {expected:.6f}, got {got:.6f}")
        for k, (before, after) in enumerate(zip(boxes, given[0], strict=True)):
            assert_close(
                after, before, f"boxes[{k}] after {name} (it must not be modified)", atol=0
            )
