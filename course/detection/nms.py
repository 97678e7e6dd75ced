"""Non-maximum suppression (NMS): one box per object out of many overlapping candidates.

A detector fires several times around each object (neighbouring anchors or positions all see
it). Greedy NMS keeps the best-scoring box, removes every remaining box that overlaps it by
more than a threshold, and repeats with the best of what is left:

1. sort the boxes by decreasing score;
2. keep the first box ``b``; drop every later box ``c`` with :math:`\\mathrm{IoU}(b, c) >
   t` (strictly greater, as :func:`torchvision.ops.nms`);
3. repeat step 2 on the boxes not yet kept or dropped.

The result is the indices of the kept boxes, by decreasing score; ties in score keep the
order of the input (a stable sort). :func:`batched_nms` runs it per class, so that boxes of
different classes never suppress each other. Boxes are ``(N, 4)`` xyxy arrays in pixels
(:mod:`course.detection.boxes`). NMS was popularised for detection by the deformable part
models (Felzenszwalb et al., IEEE TPAMI 32, 2010) and kept in R-CNN (Girshick et al., CVPR
2014) and its successors; CenterNet (Zhou et al., 2019) replaces it with a 3 x 3 max-pooling
of its heatmap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course._validate import number, numeric, to_numpy
from course.detection.boxes import box_iou, check_boxes

__all__ = ["nms", "batched_nms"]


def _check_scores(scores: Any, n: int, name: str = "scores") -> np.ndarray:
    """``scores`` as a finite float ``(N,)`` array matching ``n`` boxes."""
    array = numeric(name, to_numpy(name, scores), bool_ok=False).astype(float)
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) (one per box), got {array.shape}")
    return array


def nms(boxes: Any, scores: Any, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression: the indices of the boxes to keep.

    Parameters
    ----------
    boxes : array_like or torch.Tensor of shape (N, 4), xyxy
    scores : array_like or torch.Tensor of shape (N,)
    iou_threshold : float in [0, 1]
        A box is removed if its IoU with a kept, better-scoring box is **greater** than this.
        0 removes every box that touches a kept one with any overlap; 1 removes nothing.

    Returns
    -------
    ndarray of int64, shape (K,)
        Indices into ``boxes``, sorted by decreasing score (input order among equal scores).

    Raises
    ------
    TypeError, ValueError
        Invalid boxes (see :func:`~course.detection.boxes.check_boxes`), scores of the wrong
        shape, or a threshold outside [0, 1].

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]
    >>> nms(boxes, [0.9, 0.8, 0.7], iou_threshold=0.5)  # box 1 overlaps box 0 (IoU 0.68)
    array([0, 2])
    >>> nms(boxes, [0.9, 0.8, 0.7], iou_threshold=0.7)
    array([0, 1, 2])
    """
    boxes = check_boxes(boxes)
    scores = _check_scores(scores, len(boxes))
    iou_threshold = number("iou_threshold", iou_threshold, low=0, high=1)
    order = np.argsort(-scores, kind="stable")
    iou = box_iou(boxes[order], boxes[order])  # in score order
    removed = np.zeros(len(order), dtype=bool)
    keep = []
    for k in range(len(order)):
        if removed[k]:
            continue
        keep.append(order[k])
        removed |= iou[k] > iou_threshold  # later boxes that overlap the kept one too much
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes: Any, scores: Any, labels: Any, iou_threshold: float) -> np.ndarray:
    """Non-maximum suppression per class: boxes of different labels never suppress each other.

    Parameters
    ----------
    boxes : array_like or torch.Tensor of shape (N, 4), xyxy
    scores : array_like or torch.Tensor of shape (N,)
    labels : array_like or torch.Tensor of int, shape (N,)
        The class of each box.
    iou_threshold : float in [0, 1]
        As in :func:`nms`.

    Returns
    -------
    ndarray of int64, shape (K,)
        Indices of the kept boxes, all classes together, by decreasing score (input order
        among equal scores), like :func:`torchvision.ops.batched_nms`.

    Raises
    ------
    TypeError, ValueError
        As :func:`nms`; labels that are not integers or not one per box.

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11]]
    >>> batched_nms(boxes, [0.9, 0.8], [0, 1], 0.5)  # two classes: both stay
    array([0, 1])
    """
    boxes = check_boxes(boxes)
    scores = _check_scores(scores, len(boxes))
    labels = numeric("labels", to_numpy("labels", labels), bool_ok=False)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must hold integers (class indices), got dtype {labels.dtype}")
    if labels.shape != (len(boxes),):
        raise ValueError(f"labels must have shape ({len(boxes)},), got {labels.shape}")
    keep = [
        np.flatnonzero(labels == c)[nms(boxes[labels == c], scores[labels == c], iou_threshold)]
        for c in np.unique(labels)
    ]
    if not keep:
        number("iou_threshold", iou_threshold, low=0, high=1)
        return np.zeros(0, dtype=np.int64)
    kept = np.concatenate(keep)
    order = np.lexsort((kept, -scores[kept]))  # by decreasing score, then input order
    return kept[order].astype(np.int64)
