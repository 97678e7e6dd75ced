"""Evaluating a detector: matching, precision-recall, average precision (AP), FROC.

A detector returns, for every image, boxes with scores; the ground truth is a set of boxes per
image. Evaluation has two steps.

**Matching** (:func:`match_detections`, one image): the detections are taken in order of
decreasing score; each one is a **true positive** if some ground-truth box not matched yet
overlaps it with :math:`\\mathrm{IoU} \\ge t` (it then takes the one with the highest IoU),
and a **false positive** otherwise (a miss, or a second detection of an object already found).
Ground-truth boxes left unmatched are the **false negatives**. This greedy rule is that of the
COCO evaluation; PASCAL VOC differs only when a detection's best box is already taken.

**Curves over a set of images**: all detections of all images are sorted by score; lowering a
threshold ``s`` through the distinct scores keeps the detections with score :math:`\\ge s`, and

.. math::

    \\text{precision}(s) = \\frac{TP(s)}{TP(s) + FP(s)}, \\qquad
    \\text{recall}(s) = \\text{sensitivity}(s) = \\frac{TP(s)}{G},

with ``G`` the number of ground-truth boxes. Equal scores are counted together, so nothing
depends on the order of the input (as in :func:`sklearn.metrics.precision_recall_curve`).

* **Average precision** is the area under the precision-recall curve after making precision
  non-increasing (the *interpolated* precision :math:`p_{interp}(r) = \\max_{r' \\ge r} p(r')`):
  all-point interpolation as PASCAL VOC since 2010 (Everingham et al., IJCV 88, 2010,
  section 4.2; the 2012 development kit), :math:`AP = \\sum_k (r_k - r_{k-1})\\,
  p_{interp}(r_k)`; or the mean of :math:`p_{interp}` at 101 recalls 0, 0.01, ..., 1 (COCO,
  Lin et al., ECCV 2014) or at 11 recalls 0, 0.1, ..., 1 (VOC 2007).
* **FROC** (free-response ROC; Chakraborty, Medical Physics 16, 1989; Bandos et al.,
  Biometrics 65, 2009) plots the sensitivity against the mean number of false positives per
  image, a scale a radiologist can read ("one false alarm every second scan"). The LUNA16
  lung-nodule challenge (Setio et al., Medical Image Analysis 42, 2017) scores a detector by its
  mean sensitivity at 1/8, 1/4, 1/2, 1, 2, 4 and 8 false positives per scan
  (:func:`froc_score`).

Boxes are ``(N, 4)`` xyxy arrays in pixels (:mod:`course.detection.boxes`); a set of images is
a list with one array per image.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course._validate import choice, describe, number
from course.detection.boxes import box_iou, check_boxes
from course.detection.nms import _check_scores

__all__ = [
    "LUNA16_FP_RATES",
    "AP_METHODS",
    "match_detections",
    "precision_recall_curve",
    "interpolated_ap",
    "average_precision",
    "froc_curve",
    "sensitivity_at",
    "froc_score",
]

#: The false-positive rates per image at which LUNA16 averages the sensitivity.
LUNA16_FP_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
#: The interpolations of :func:`average_precision`.
AP_METHODS = ("all-point", "101-point", "11-point")


def match_detections(
    boxes: Any, scores: Any, gt_boxes: Any, iou_threshold: float = 0.5
) -> np.ndarray:
    """Which detections of one image are true positives (greedy matching by score).

    Parameters
    ----------
    boxes : array_like or torch.Tensor of shape (N, 4), xyxy
        The detections.
    scores : array_like or torch.Tensor of shape (N,)
        Their scores; equal scores are taken in the input order.
    gt_boxes : array_like or torch.Tensor of shape (M, 4), xyxy
        The ground truth.
    iou_threshold : float in [0, 1], default 0.5
        A detection matches a ground-truth box if their IoU is at least this.

    Returns
    -------
    ndarray of bool, shape (N,)
        True for a true positive, in the order of ``boxes``. At most ``M`` are True.

    Raises
    ------
    TypeError, ValueError
        Invalid boxes or scores, or a threshold outside [0, 1].

    Examples
    --------
    >>> gt = [[0, 0, 10, 10]]
    >>> match_detections([[0, 0, 10, 9], [1, 0, 10, 10], [50, 50, 60, 60]], [0.8, 0.9, 0.7], gt)
    array([False,  True, False])
    """
    boxes, gt_boxes = check_boxes(boxes), check_boxes(gt_boxes, "gt_boxes")
    scores = _check_scores(scores, len(boxes))
    iou_threshold = number("iou_threshold", iou_threshold, low=0, high=1)
    order = np.argsort(-scores, kind="stable")
    iou = box_iou(boxes[order], gt_boxes)  # (N, M), rows in score order
    taken = np.zeros(len(gt_boxes), dtype=bool)
    is_tp = np.zeros(len(boxes), dtype=bool)
    for row, k in enumerate(order):
        candidates = np.where(taken, -1.0, iou[row])  # matched boxes are out of the race
        if candidates.size and candidates.max() >= iou_threshold:
            taken[int(np.argmax(candidates))] = True
            is_tp[k] = True
    return is_tp


def _check_set(boxes: Any, scores: Any, gt_boxes: Any) -> int:
    """Check that the three arguments are lists with one entry per image; return their length."""
    for name, value in (("boxes", boxes), ("scores", scores), ("gt_boxes", gt_boxes)):
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise TypeError(
                f"{name} must be a list with one entry per image, got {describe(value)} "
                f"(for a single image, wrap it: [{name}])"
            )
    if not len(boxes) == len(scores) == len(gt_boxes) > 0:
        raise ValueError(
            "boxes, scores and gt_boxes must hold one entry per image, as many for each and at "
            f"least one; got {len(boxes)}, {len(scores)} and {len(gt_boxes)}"
        )
    return len(boxes)


def _counts(boxes, scores, gt_boxes, iou_threshold):
    """Cumulative TP and FP at each distinct score (decreasing), the scores, G, the images."""
    n_images = _check_set(boxes, scores, gt_boxes)
    all_scores, all_tp, n_gt = [], [], 0
    for k in range(n_images):
        name = f"[{k}]"
        b, g = check_boxes(boxes[k], f"boxes{name}"), check_boxes(gt_boxes[k], f"gt_boxes{name}")
        s = _check_scores(scores[k], len(b), f"scores{name}")
        all_tp.append(match_detections(b, s, g, iou_threshold))
        all_scores.append(s)
        n_gt += len(g)
    if n_gt == 0:
        raise ValueError("gt_boxes holds no box in any image: recall (TP / G) is undefined")
    s, tp = np.concatenate(all_scores), np.concatenate(all_tp)
    order = np.argsort(-s, kind="stable")
    s, tp = s[order], tp[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1] if len(s) else np.zeros(0, int)
    tp_cum, fp_cum = np.cumsum(tp)[last], np.cumsum(~tp)[last]
    return tp_cum, fp_cum, s[last], n_gt, n_images


def precision_recall_curve(
    boxes: Sequence, scores: Sequence, gt_boxes: Sequence, iou_threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall of a detector at each of its distinct scores, over a set of images.

    Parameters
    ----------
    boxes : list of (N_i, 4) arrays, xyxy
        The detections of each image.
    scores : list of (N_i,) arrays
    gt_boxes : list of (M_i, 4) arrays, xyxy
        The ground truth of each image (an image may have none).
    iou_threshold : float in [0, 1], default 0.5
        The matching rule of :func:`match_detections`.

    Returns
    -------
    precision, recall : ndarray of shape (T,)
        At the thresholds, from the highest (few detections) to the lowest (all of them).
    thresholds : ndarray of shape (T,)
        The distinct scores, decreasing. ``T = 0`` if there is no detection.

    Raises
    ------
    TypeError
        If an argument is not a list (one entry per image).
    ValueError
        Lists of different lengths, invalid boxes or scores, or no ground-truth box at all.

    Examples
    --------
    >>> gt = [[[0, 0, 10, 10]], [[0, 0, 10, 10]]]  # one lesion in each of two images
    >>> det = [[[0, 0, 10, 10], [30, 30, 40, 40]], [[20, 20, 30, 30]]]
    >>> precision, recall, t = precision_recall_curve(det, [[0.9, 0.8], [0.7]], gt)
    >>> precision, recall
    (array([1.        , 0.5       , 0.33333333]), array([0.5, 0.5, 0.5]))
    """
    tp, fp, thresholds, n_gt, _ = _counts(boxes, scores, gt_boxes, iou_threshold)
    return tp / (tp + fp), tp / n_gt, thresholds


def interpolated_ap(precision: Any, recall: Any, method: str = "all-point") -> float:
    """Average precision from the points of a precision-recall curve (recall non-decreasing).

    The interpolated precision at recall ``r`` is the best precision at any recall
    :math:`\\ge r`; ``"all-point"`` sums it over the recall steps (PASCAL VOC 2010+),
    ``"101-point"`` and ``"11-point"`` average it at 101 (COCO) or 11 (VOC 2007) equally spaced
    recalls, counting 0 where the curve does not reach that recall.

    Parameters
    ----------
    precision, recall : array_like of shape (T,)
        As returned by :func:`precision_recall_curve`.
    method : {"all-point", "101-point", "11-point"}, default "all-point"

    Returns
    -------
    float
        In [0, 1]; 0 for an empty curve.

    Raises
    ------
    ValueError
        Different lengths, values outside [0, 1], a decreasing recall, or an unknown method.

    Examples
    --------
    >>> interpolated_ap([1.0, 0.5, 2 / 3], [0.5, 0.5, 1.0])  # 0.5 * 1 + 0.5 * 2/3
    0.8333333333333333
    """
    method = choice("method", method, AP_METHODS)
    p, r = np.asarray(precision, dtype=float), np.asarray(recall, dtype=float)
    if p.shape != r.shape or p.ndim != 1:
        raise ValueError(f"precision and recall must be 1D of one length, got {p.shape}, {r.shape}")
    if p.size and not ((0 <= p) & (p <= 1) & (0 <= r) & (r <= 1)).all():
        raise ValueError("precision and recall must lie in [0, 1]")
    if np.any(np.diff(r) < 0):
        raise ValueError("recall must be non-decreasing (points ordered by decreasing threshold)")
    if p.size == 0:
        return 0.0
    envelope = np.maximum.accumulate(p[::-1])[::-1]  # best precision at this recall or beyond
    if method == "all-point":
        steps = np.diff(np.r_[0.0, r])
        return float(np.sum(steps * envelope))
    levels = np.linspace(0.0, 1.0, 101 if method == "101-point" else 11)
    first = np.searchsorted(r, levels, side="left")  # first point reaching each recall level
    reached = first < len(r)
    return float(np.sum(envelope[first[reached]]) / len(levels))


def average_precision(
    boxes: Sequence,
    scores: Sequence,
    gt_boxes: Sequence,
    iou_threshold: float = 0.5,
    method: str = "all-point",
) -> float:
    """Average precision of a detector over a set of images (one class).

    :func:`precision_recall_curve`, then :func:`interpolated_ap`.

    Parameters
    ----------
    boxes, scores, gt_boxes : lists, one entry per image
        As in :func:`precision_recall_curve`.
    iou_threshold : float in [0, 1], default 0.5
        0.5 is PASCAL VOC's "AP50"; COCO's AP averages the AP at 0.5, 0.55, ..., 0.95.
    method : {"all-point", "101-point", "11-point"}, default "all-point"

    Returns
    -------
    float
        In [0, 1]; 0 if there is no detection.

    Raises
    ------
    TypeError, ValueError
        As :func:`precision_recall_curve` and :func:`interpolated_ap`.

    Examples
    --------
    >>> gt = [[[0, 0, 10, 10]], [[0, 0, 10, 10]]]
    >>> det = [[[0, 0, 10, 10], [30, 30, 40, 40]], [[0, 0, 10, 10]]]
    >>> average_precision(det, [[0.9, 0.8], [0.7]], gt)  # TP, FP, TP: 0.5 * 1 + 0.5 * 2/3
    0.8333333333333333
    """
    method = choice("method", method, AP_METHODS)
    precision, recall, _ = precision_recall_curve(boxes, scores, gt_boxes, iou_threshold)
    return interpolated_ap(precision, recall, method)


def froc_curve(
    boxes: Sequence, scores: Sequence, gt_boxes: Sequence, iou_threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The FROC curve: sensitivity against mean false positives per image, at each threshold.

    Parameters
    ----------
    boxes, scores, gt_boxes : lists, one entry per image
        As in :func:`precision_recall_curve`. Every image counts in the mean, also those
        without detections or without lesions.
    iou_threshold : float in [0, 1], default 0.5
        The matching rule of :func:`match_detections`. (LUNA16 counts a hit when the candidate
        lies within the nodule's radius, a lenient rule for small objects.)

    Returns
    -------
    fp_per_image : ndarray of shape (T,)
        ``FP(s) / n_images``, non-decreasing.
    sensitivity : ndarray of shape (T,)
        ``TP(s) / G``, non-decreasing.
    thresholds : ndarray of shape (T,)
        The distinct scores, decreasing.

    Raises
    ------
    TypeError, ValueError
        As :func:`precision_recall_curve`.

    Examples
    --------
    >>> gt = [[[0, 0, 10, 10]], [[0, 0, 10, 10]]]
    >>> det = [[[0, 0, 10, 10], [30, 30, 40, 40]], [[0, 0, 10, 10]]]
    >>> fp, sensitivity, _ = froc_curve(det, [[0.9, 0.8], [0.7]], gt)
    >>> fp, sensitivity
    (array([0. , 0.5, 0.5]), array([0.5, 0.5, 1. ]))
    """
    tp, fp, thresholds, n_gt, n_images = _counts(boxes, scores, gt_boxes, iou_threshold)
    return fp / n_images, tp / n_gt, thresholds


def sensitivity_at(fp_per_image: Any, sensitivity: Any, fp_rates: Any) -> np.ndarray:
    """The sensitivity of the best operating point with at most a given rate of false positives.

    A step function, no interpolation: at rate ``f`` the detector may use any threshold whose
    mean false positives per image is ``<= f``; the best of them has the largest sensitivity.
    Below the first point of the curve the sensitivity is 0; beyond its last point it stays at
    the last value (the detector makes no more false positives). The LUNA16 evaluation script
    interpolates linearly between the points instead.

    Parameters
    ----------
    fp_per_image, sensitivity : array_like of shape (T,)
        As returned by :func:`froc_curve`.
    fp_rates : float or array_like
        Non-negative rates of false positives per image.

    Returns
    -------
    ndarray
        One sensitivity per rate.

    Raises
    ------
    ValueError
        Curves of different lengths, or a negative or non-finite rate.

    Examples
    --------
    >>> sensitivity_at([0.0, 0.5, 0.5, 2.0], [0.4, 0.5, 0.7, 0.9], [0.25, 0.5, 1.0, 8.0])
    array([0.4, 0.7, 0.7, 0.9])
    """
    fp, sens = np.asarray(fp_per_image, dtype=float), np.asarray(sensitivity, dtype=float)
    if fp.shape != sens.shape or fp.ndim != 1:
        raise ValueError(
            f"fp_per_image and sensitivity must be 1D of one length, got {fp.shape}, {sens.shape}"
        )
    rates = np.atleast_1d(np.asarray(fp_rates, dtype=float))
    if not np.isfinite(rates).all() or (rates < 0).any():
        raise ValueError(f"fp_rates must be non-negative numbers, got {rates.tolist()}")
    best = np.maximum.accumulate(np.r_[0.0, sens])  # points with more FP are reached later
    count = np.searchsorted(fp, rates, side="right")  # points with fp <= rate
    return best[count]


def froc_score(
    boxes: Sequence,
    scores: Sequence,
    gt_boxes: Sequence,
    iou_threshold: float = 0.5,
    fp_rates: Any = LUNA16_FP_RATES,
) -> float:
    """The mean sensitivity at given false-positive rates per image (the LUNA16 FROC score).

    Parameters
    ----------
    boxes, scores, gt_boxes : lists, one entry per image
        As in :func:`froc_curve`.
    iou_threshold : float in [0, 1], default 0.5
    fp_rates : sequence of float, default (1/8, 1/4, 1/2, 1, 2, 4, 8)
        The rates of :data:`LUNA16_FP_RATES`.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    TypeError, ValueError
        As :func:`froc_curve` and :func:`sensitivity_at`.

    Examples
    --------
    >>> gt = [[[0, 0, 10, 10]], [[0, 0, 10, 10]]]
    >>> det = [[[0, 0, 10, 10], [30, 30, 40, 40]], [[0, 0, 10, 10]]]
    >>> froc_score(det, [[0.9, 0.8], [0.7]], gt, fp_rates=[0.25, 1.0])  # (0.5 + 1) / 2
    0.75
    """
    fp, sensitivity, _ = froc_curve(boxes, scores, gt_boxes, iou_threshold)
    return float(np.mean(sensitivity_at(fp, sensitivity, fp_rates)))
