"""Object detection: boxes, IoU, non-maximum suppression, a tiny CenterNet, AP and FROC.

Detection answers "where are the lesions, and how many?" with one **bounding box** and one
**score** per object, where segmentation labels every pixel and classification gives one label
per image. The convention of the whole package: a set of boxes is an ``(N, 4)`` float array in
**xyxy** format ``(x1, y1, x2, y2)``, pixel coordinates, ``x`` the column and ``y`` the row
(that of :mod:`torchvision.ops`); a set of images is a list with one such array per image.

* :mod:`~course.detection.boxes` - :func:`box_convert` (xyxy, xywh, cxcywh),
  :func:`box_area`, the pairwise :func:`box_iou`, :func:`anchor_grid`;
* :mod:`~course.detection.nms` - greedy :func:`nms` and the per-class :func:`batched_nms`;
* :mod:`~course.detection.evaluation` - :func:`match_detections`,
  :func:`precision_recall_curve`, :func:`average_precision` (all-point, 101-point, 11-point),
  :func:`froc_curve`, :func:`froc_score` (LUNA16);
* :mod:`~course.detection.data` - simulated CT slices with lesion boxes
  (:func:`lesion_boxes_dataset`, :func:`mask_to_boxes`);
* :mod:`~course.detection.centernet` - :class:`TinyCenterNet`, its targets, focal loss and
  peak decoding;
* :mod:`~course.detection.plots` - :func:`show_boxes`, :func:`plot_pr_curve`,
  :func:`plot_froc`.

>>> box_iou([[0, 0, 2, 2]], [[1, 0, 3, 2]])
array([[0.33333333]])
"""

from course.detection.boxes import FORMATS, anchor_grid, box_area, box_convert, box_iou, check_boxes
from course.detection.centernet import (
    STRIDE,
    CenterNetLoss,
    TinyCenterNet,
    centernet_loss,
    centernet_targets,
    decode_centernet,
    heatmap_focal_loss,
)
from course.detection.data import LesionBoxes, lesion_boxes_dataset, mask_to_boxes
from course.detection.evaluation import (
    AP_METHODS,
    LUNA16_FP_RATES,
    average_precision,
    froc_curve,
    froc_score,
    interpolated_ap,
    match_detections,
    precision_recall_curve,
    sensitivity_at,
)
from course.detection.nms import batched_nms, nms
from course.detection.plots import plot_froc, plot_pr_curve, show_boxes

__all__ = [
    "FORMATS",
    "check_boxes",
    "box_convert",
    "box_area",
    "box_iou",
    "anchor_grid",
    "nms",
    "batched_nms",
    "AP_METHODS",
    "LUNA16_FP_RATES",
    "match_detections",
    "precision_recall_curve",
    "interpolated_ap",
    "average_precision",
    "froc_curve",
    "sensitivity_at",
    "froc_score",
    "mask_to_boxes",
    "LesionBoxes",
    "lesion_boxes_dataset",
    "STRIDE",
    "TinyCenterNet",
    "centernet_targets",
    "heatmap_focal_loss",
    "centernet_loss",
    "CenterNetLoss",
    "decode_centernet",
    "show_boxes",
    "plot_pr_curve",
    "plot_froc",
]
