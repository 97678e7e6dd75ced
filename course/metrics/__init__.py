"""Evaluation metrics for segmentation and classification (lectures 06-07).

One module per topic, every name importable from :mod:`course.metrics`. Segmentation compares
a predicted mask ``P`` with a ground-truth mask ``G``:

* :mod:`course.metrics.overlap` - overlap: :func:`dice` :math:`= 2|P \\cap G| / (|P| + |G|)`
  and :func:`iou` (Jaccard) :math:`= |P \\cap G| / |P \\cup G|`, plus :func:`dice_per_class`
  and :func:`iou_per_class` for label maps;
* :mod:`course.metrics.distance` - boundary: :func:`hausdorff_distance` (HD, and HD95 with
  ``percentile=95``), in millimetres when the voxel ``spacing`` is given.

Classification starts from the confusion matrix:

* :mod:`course.metrics.classification` - :func:`confusion_counts`; the table of the lecture
  notes (accuracy, sensitivity, specificity, PPV, NPV, F1, MCC, AUC) is
  :func:`classification_report`; :func:`roc_curve` and :func:`roc_auc` describe a score over
  all thresholds;
* :mod:`course.metrics.bootstrap` - :func:`bootstrap_ci` puts a confidence interval on any
  metric;
* :mod:`course.metrics.calibration` - whether probabilities mean what they say:
  :func:`reliability_curve` and :func:`expected_calibration_error` (lecture 13).

Every function accepts NumPy arrays or PyTorch tensors (tensors are detached and copied to
the CPU) and returns plain Python floats or NumPy arrays.

>>> pred = np.array([[0, 1, 1], [0, 1, 0]])
>>> target = np.array([[0, 1, 0], [0, 1, 1]])
>>> dice(pred, target), iou(pred, target)
(0.6666666666666666, 0.5)
"""

from __future__ import annotations

from course.metrics.bootstrap import BootstrapResult, bootstrap_ci
from course.metrics.calibration import (
    ReliabilityCurve,
    expected_calibration_error,
    reliability_curve,
)
from course.metrics.classification import (
    ConfusionCounts,
    classification_report,
    confusion_counts,
    metrics_from_counts,
    roc_auc,
    roc_curve,
)
from course.metrics.distance import hausdorff_distance
from course.metrics.overlap import dice, dice_per_class, iou, iou_per_class

__all__ = [
    "dice",
    "iou",
    "dice_per_class",
    "iou_per_class",
    "hausdorff_distance",
    "ConfusionCounts",
    "confusion_counts",
    "metrics_from_counts",
    "classification_report",
    "roc_curve",
    "roc_auc",
    "BootstrapResult",
    "bootstrap_ci",
    "ReliabilityCurve",
    "reliability_curve",
    "expected_calibration_error",
]
