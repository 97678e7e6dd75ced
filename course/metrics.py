"""Evaluation metrics for segmentation and classification (lectures 06-07).

Segmentation compares a predicted mask ``P`` with a ground-truth mask ``G``:

* overlap: :func:`dice` :math:`= 2|P \\cap G| / (|P| + |G|)` and :func:`iou` (Jaccard)
  :math:`= |P \\cap G| / |P \\cup G|`, plus :func:`dice_per_class` and :func:`iou_per_class`
  for label maps;
* boundary: :func:`hausdorff_distance` (HD, and HD95 with ``percentile=95``), in millimetres
  when the voxel ``spacing`` is given.

Classification starts from the confusion matrix (:func:`confusion_counts`): the table of
the lecture notes (accuracy, sensitivity, specificity, PPV, NPV, F1, MCC, AUC) is
:func:`classification_report`; :func:`roc_curve` and :func:`roc_auc` describe a score over
all thresholds, and :func:`bootstrap_ci` puts a confidence interval on any metric.

Every function accepts NumPy arrays or PyTorch tensors (tensors are detached and copied to
the CPU) and returns plain Python floats or NumPy arrays.

>>> pred = np.array([[0, 1, 1], [0, 1, 0]])
>>> target = np.array([[0, 1, 0], [0, 1, 1]])
>>> dice(pred, target), iou(pred, target)
(0.6666666666666666, 0.5)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from scipy import ndimage, stats

from course._validate import binary, generator, integer, number, numeric, to_numpy

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
]


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------
def _to_numpy(x: Any, name: str) -> np.ndarray:
    """A NumPy view of ``x`` (array, tensor, list or scalar) holding finite reals or booleans."""
    return numeric(name, to_numpy(name, x))


def _same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}"
        )


def _binary(x: Any, name: str) -> np.ndarray:
    """A boolean array from a boolean or 0/1 array; anything else is a ``ValueError``."""
    hint = (
        f"; threshold probabilities first, e.g. {name} > 0.5, or use the per-class version "
        "for label maps"
    )
    return binary(name, x, hint)


def _binary_pair(pred: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    pred, target = _binary(pred, "pred"), _binary(target, "target")
    _same_shape(pred, target, "pred", "target")
    return pred, target


def _labels(x: Any, name: str, num_classes: int) -> np.ndarray:
    """An integer label map with values in ``[0, num_classes)``."""
    x = _to_numpy(x, name)
    if x.dtype.kind == "f":
        raise TypeError(
            f"{name} must be an integer label map, got dtype {x.dtype}; for scores of shape "
            f"(C, ...) take {name}.argmax(axis=0) first"
        )
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(
            f"{name} must hold labels in [0, {num_classes}) (num_classes={num_classes}), "
            f"got values from {x.min()} to {x.max()}"
        )
    return x


# ---------------------------------------------------------------------------------------------
# Overlap metrics
# ---------------------------------------------------------------------------------------------
def dice(pred: Any, target: Any, empty_score: float = 1.0) -> float:
    """Dice similarity coefficient (DSC, equal to the F1 score) of two binary masks.

    .. math:: \\mathrm{Dice}(P, G) = \\frac{2 |P \\cap G|}{|P| + |G|}
              = \\frac{2\\,TP}{2\\,TP + FP + FN} = \\frac{2\\,\\mathrm{IoU}}{1 + \\mathrm{IoU}}

    It is 1 for a perfect overlap and 0 for disjoint masks.

    Parameters
    ----------
    pred, target : ndarray or torch.Tensor, same shape (any number of dimensions)
        Binary masks: booleans or the values 0 and 1.
    empty_score : float, default 1.0
        The value when **both** masks are empty (0/0): by default a correct "nothing there"
        counts as a perfect score. Use ``np.nan`` to leave such cases out of a mean with
        ``np.nanmean``. When only one mask is empty the Dice is 0.0.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Different shapes; values other than 0/1 (threshold probabilities first); NaN.
    TypeError
        Not an array or tensor of real numbers.

    Examples
    --------
    >>> dice(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))  # 2 * 1 / (2 + 1)
    0.6666666666666666
    >>> dice(np.zeros(4), np.zeros(4)), dice(np.zeros(4), np.ones(4))
    (1.0, 0.0)
    """
    pred, target = _binary_pair(pred, target)
    total = int(pred.sum()) + int(target.sum())
    if total == 0:
        return float(empty_score)
    return 2.0 * int(np.count_nonzero(pred & target)) / total


def iou(pred: Any, target: Any, empty_score: float = 1.0) -> float:
    """Intersection over union (Jaccard index) of two binary masks.

    .. math:: \\mathrm{IoU}(P, G) = \\frac{|P \\cap G|}{|P \\cup G|} = \\frac{TP}{TP + FP + FN}
              = \\frac{\\mathrm{Dice}}{2 - \\mathrm{Dice}}

    so that :math:`\\mathrm{Dice} = 2\\,\\mathrm{IoU} / (1 + \\mathrm{IoU}) \\ge \\mathrm{IoU}`.

    Parameters
    ----------
    pred, target : ndarray or torch.Tensor, same shape
        Binary masks: booleans or the values 0 and 1.
    empty_score : float, default 1.0
        The value when both masks are empty; one empty mask gives 0.0.

    Returns
    -------
    float

    Raises
    ------
    ValueError, TypeError
        As :func:`dice`.

    Examples
    --------
    >>> iou(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))  # 1 / 2
    0.5
    """
    pred, target = _binary_pair(pred, target)
    union = int(np.count_nonzero(pred | target))
    if union == 0:
        return float(empty_score)
    return int(np.count_nonzero(pred & target)) / union


def _per_class(metric, pred, target, num_classes, ignore_background, empty_score) -> np.ndarray:
    num_classes = integer("num_classes", num_classes, minimum=1)
    pred, target = _labels(pred, "pred", num_classes), _labels(target, "target", num_classes)
    _same_shape(pred, target, "pred", "target")
    first = 1 if ignore_background else 0
    scores = [metric(pred == c, target == c, empty_score) for c in range(first, num_classes)]
    return np.array(scores, dtype=float)


def dice_per_class(
    pred: Any,
    target: Any,
    num_classes: int,
    ignore_background: bool = False,
    empty_score: float = 1.0,
) -> np.ndarray:
    """Dice of every class of two label maps (class ``c`` versus the rest).

    .. math:: \\mathrm{Dice}_c = \\frac{2 |P_c \\cap G_c|}{|P_c| + |G_c|}, \\qquad
              P_c = \\{i : P_i = c\\},\\; G_c = \\{i : G_i = c\\}

    The mean over classes (``scores.mean()``) is the usual "mean Dice" of multi-organ
    segmentation; with ``empty_score=np.nan`` absent classes are dropped by ``np.nanmean``.

    Parameters
    ----------
    pred, target : integer ndarray or torch.Tensor, same shape
        Label maps with values in ``[0, num_classes)``, for example ``logits.argmax(1)``.
    num_classes : int
    ignore_background : bool, default False
        Leave out class 0.
    empty_score : float, default 1.0
        The score of a class absent from both maps.

    Returns
    -------
    ndarray of shape (num_classes,), or (num_classes - 1,) with ``ignore_background``

    Raises
    ------
    ValueError
        Different shapes, labels outside ``[0, num_classes)``, ``num_classes < 1``.
    TypeError
        Float label maps (take the argmax first), non-integer ``num_classes``.

    Examples
    --------
    >>> pred = np.array([0, 1, 1, 2])
    >>> target = np.array([0, 1, 2, 2])
    >>> dice_per_class(pred, target, 3)
    array([1.        , 0.66666667, 0.66666667])
    >>> dice_per_class(pred, target, 3, ignore_background=True)
    array([0.66666667, 0.66666667])
    """
    return _per_class(dice, pred, target, num_classes, ignore_background, empty_score)


def iou_per_class(
    pred: Any,
    target: Any,
    num_classes: int,
    ignore_background: bool = False,
    empty_score: float = 1.0,
) -> np.ndarray:
    """IoU of every class of two label maps; ``scores.mean()`` is the mean IoU (mIoU).

    .. math:: \\mathrm{IoU}_c = \\frac{|P_c \\cap G_c|}{|P_c \\cup G_c|}

    Parameters, returns and errors as :func:`dice_per_class`.

    Examples
    --------
    >>> iou_per_class(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3)
    array([1. , 0.5, 0.5])
    """
    return _per_class(iou, pred, target, num_classes, ignore_background, empty_score)


# ---------------------------------------------------------------------------------------------
# Boundary metric
# ---------------------------------------------------------------------------------------------
def _surface(mask: np.ndarray) -> np.ndarray:
    """Boundary voxels: the mask minus its erosion (face connectivity; the array edge counts
    as outside, so a mask touching the edge has a boundary there).
    """
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    return mask & ~ndimage.binary_erosion(mask, structure=structure, border_value=0)


def _spacing(spacing: Any, ndim: int) -> tuple[float, ...]:
    if spacing is None:
        return (1.0,) * ndim
    values = to_numpy("spacing", spacing)
    if values.dtype.kind not in "iuf":
        raise TypeError(
            f"spacing must be one positive number or {ndim} positive numbers (one per axis), "
            f"got {spacing!r}"
        )
    values = np.atleast_1d(values.astype(float))
    if values.size == 1:
        values = np.repeat(values, ndim)
    if values.shape != (ndim,) or not np.isfinite(values).all() or (values <= 0).any():
        raise ValueError(
            f"spacing must be one positive number or {ndim} positive numbers (one per axis), "
            f"got {spacing!r}"
        )
    return tuple(float(v) for v in values)


def hausdorff_distance(
    pred: Any, target: Any, spacing: Any = None, percentile: float = 100
) -> float:
    """Symmetric Hausdorff distance between the surfaces of two binary masks (HD, HD95).

    The surface :math:`\\partial P` of a mask is its set of boundary voxels (the mask minus its
    binary erosion). With :math:`d(x, \\partial G)` the Euclidean distance from voxel ``x`` to
    the nearest surface voxel of ``G`` (computed with
    :func:`scipy.ndimage.distance_transform_edt`, scaled by the voxel ``spacing``):

    .. math:: \\mathrm{HD}_q(P, G) = \\max\\Big( \\operatorname{perc}_q \\{ d(x, \\partial G)
              : x \\in \\partial P \\},\\; \\operatorname{perc}_q \\{ d(y, \\partial P)
              : y \\in \\partial G \\} \\Big)

    ``percentile=100`` is the classical Hausdorff distance (the largest surface error);
    ``percentile=95`` is HD95, which ignores the worst 5% of boundary voxels and is less
    sensitive to a single outlier. (This takes the larger of the two directed percentiles, as
    MONAI does; MedPy takes the percentile of both distance sets pooled, which can be smaller.)

    Parameters
    ----------
    pred, target : ndarray or torch.Tensor, same shape (2D or 3D, any number of dimensions)
        Binary masks.
    spacing : float or sequence of float, optional
        Voxel size per axis (e.g. ``(slice_thickness, row_spacing, col_spacing)`` in mm), so
        that anisotropic volumes are measured in physical units. Default: 1 per axis (voxels).
    percentile : float in [0, 100], default 100
        A number (a NumPy scalar or 0-d array holding one counts as a number).

    Returns
    -------
    float
        0.0 when both masks are empty (nothing to miss) and ``inf`` when exactly one is empty
        (the distance to an empty set is infinite): filter or cap these before averaging.

    Raises
    ------
    TypeError
        A ``percentile`` that is not a real number (``"95"``), a ``spacing`` that is not
        numbers (``"1.0"``).
    ValueError
        Different shapes, non-binary values, a ``spacing`` that is not positive or has the
        wrong length, a ``percentile`` outside ``[0, 100]``.

    Examples
    --------
    >>> target = np.zeros((7, 7), bool)
    >>> target[2:5, 2:5] = True
    >>> pred = np.roll(target, 2, axis=1)  # shifted two columns to the right
    >>> hausdorff_distance(pred, target)
    2.0
    >>> hausdorff_distance(pred, target, spacing=(1.0, 0.5))  # columns 0.5 mm apart
    1.0
    """
    pred, target = _binary_pair(pred, target)
    percentile = number("percentile", percentile, low=0, high=100)
    sampling = _spacing(spacing, pred.ndim)
    if not pred.any() and not target.any():
        return 0.0
    if not pred.any() or not target.any():
        return float("inf")
    surface_pred, surface_target = _surface(pred), _surface(target)
    # distance_transform_edt gives each nonzero voxel its distance to the nearest zero voxel,
    # so passing "not the surface" gives the distance to the nearest surface voxel.
    to_target = ndimage.distance_transform_edt(~surface_target, sampling=sampling)
    to_pred = ndimage.distance_transform_edt(~surface_pred, sampling=sampling)
    pred_to_target = to_target[surface_pred]
    target_to_pred = to_pred[surface_target]
    return float(
        max(np.percentile(pred_to_target, percentile), np.percentile(target_to_pred, percentile))
    )


# ---------------------------------------------------------------------------------------------
# Classification metrics
# ---------------------------------------------------------------------------------------------
class ConfusionCounts(NamedTuple):
    """The four cells of a binary confusion matrix (true/false positives/negatives)."""

    TP: int
    FP: int
    TN: int
    FN: int


def confusion_counts(y_true: Any, y_pred: Any) -> ConfusionCounts:
    """Count true positives, false positives, true negatives and false negatives.

    ============  ===============  ===============
    \\             predicted 1      predicted 0
    ============  ===============  ===============
    truth 1       TP               FN
    truth 0       FP               TN
    ============  ===============  ===============

    Parameters
    ----------
    y_true, y_pred : ndarray or torch.Tensor, same shape (flattened)
        Binary labels (booleans or 0/1); 1 is the positive class (disease present).

    Returns
    -------
    ConfusionCounts
        A named tuple ``(TP, FP, TN, FN)`` of ints.

    Raises
    ------
    ValueError
        Different shapes or non-binary values.

    Examples
    --------
    >>> confusion_counts([1, 1, 0, 0, 1], [1, 0, 0, 1, 1])
    ConfusionCounts(TP=2, FP=1, TN=1, FN=1)
    """
    y_true, y_pred = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    _same_shape(y_true, y_pred, "y_true", "y_pred")
    tp = int(np.count_nonzero(y_true & y_pred))
    fp = int(np.count_nonzero(~y_true & y_pred))
    fn = int(np.count_nonzero(y_true & ~y_pred))
    return ConfusionCounts(TP=tp, FP=fp, TN=y_true.size - tp - fp - fn, FN=fn)


def _ratio(numerator: float, denominator: float, zero_division: float) -> float:
    return float(numerator / denominator) if denominator else float(zero_division)


def metrics_from_counts(
    TP: int, FP: int, TN: int, FN: int, zero_division: float = 0.0
) -> dict[str, float]:
    """The metrics of the confusion matrix, each a formula in the four counts.

    ==============================  ========================================================
    accuracy                        :math:`(TP + TN) / (TP + FP + TN + FN)`
    sensitivity (recall, TPR)       :math:`TP / (TP + FN)`: the fraction of sick found
    specificity (TNR)               :math:`TN / (TN + FP)`: the fraction of healthy cleared
    ppv (precision)                 :math:`TP / (TP + FP)`: how often a positive call is right
    npv                             :math:`TN / (TN + FN)`: how often a negative call is right
    f1 (= Dice)                     :math:`2 TP / (2 TP + FP + FN)`
    mcc (Matthews correlation)      :math:`\\frac{TP \\cdot TN - FP \\cdot FN}
                                    {\\sqrt{(TP + FP)(TP + FN)(TN + FP)(TN + FN)}}`
    ==============================  ========================================================

    PPV and NPV depend on the prevalence; sensitivity and specificity do not. MCC (in
    [-1, 1]) stays informative when the classes are imbalanced.

    Parameters
    ----------
    TP, FP, TN, FN : int
        Non-negative counts, not all zero.
    zero_division : float, default 0.0
        The value of a ratio whose denominator is 0 (e.g. PPV when nothing is called
        positive). The default 0.0 is what scikit-learn returns (with a warning) for
        precision, recall, F1 and MCC; pass ``np.nan`` to mark such values as undefined.

    Returns
    -------
    dict
        Keys ``accuracy, sensitivity, specificity, ppv, npv, f1, mcc``, values in [0, 1]
        (MCC in [-1, 1]).

    Raises
    ------
    TypeError
        A count that is not an int.
    ValueError
        Negative counts or all counts zero.

    Examples
    --------
    The first row of the lecture's metrics table (VGG19+CNN: TP 251, FP 4, TN 764, FN 5):

    >>> m = metrics_from_counts(251, 4, 764, 5)
    >>> {k: round(100 * v, 2) for k, v in m.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'accuracy': 99.12, 'sensitivity': 98.05, 'specificity': 99.48, 'ppv': 98.43,
     'npv': 99.35, 'f1': 98.24, 'mcc': 97.65}

    (The table's ACC column, 98.05, is the accuracy over its four classes, which equals the
    micro-averaged sensitivity; 99.12 is the accuracy of this one-versus-rest problem.)
    """
    counts = {"TP": TP, "FP": FP, "TN": TN, "FN": FN}
    for name, value in counts.items():
        integer(name, value, accepts="a non-negative integer count")
        if value < 0:
            raise ValueError(f"{name} must be a non-negative integer count, got {value!r}")
    tp, fp, tn, fn = (int(v) for v in (TP, FP, TN, FN))  # Python ints: no overflow
    total = tp + fp + tn + fn
    if total == 0:
        raise ValueError("TP, FP, TN and FN are all zero: there is nothing to evaluate")
    mcc_denominator = np.sqrt(float((tp + fp) * (tp + fn)) * float((tn + fp) * (tn + fn)))
    return {
        "accuracy": (tp + tn) / total,
        "sensitivity": _ratio(tp, tp + fn, zero_division),
        "specificity": _ratio(tn, tn + fp, zero_division),
        "ppv": _ratio(tp, tp + fp, zero_division),
        "npv": _ratio(tn, tn + fn, zero_division),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn, zero_division),
        "mcc": _ratio(tp * tn - fp * fn, mcc_denominator, zero_division),
    }


def _scores(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Flattened boolean labels and float scores of the same length."""
    y_true = _binary(y_true, "y_true")
    y_score = _to_numpy(y_score, "y_score")
    _same_shape(y_true, y_score, "y_true", "y_score")
    if y_true.size == 0:
        raise ValueError("y_true and y_score are empty")
    return y_true.ravel(), y_score.ravel().astype(float)


def _check_both_classes(y_true: np.ndarray, what: str) -> None:
    if y_true.all() or not y_true.any():
        raise ValueError(
            f"{what} needs both classes in y_true, got only "
            f"{'positives' if y_true.any() else 'negatives'}"
        )


def classification_report(
    y_true: Any, y_score: Any, threshold: float = 0.5, zero_division: float = 0.0
) -> dict[str, float]:
    """All metrics of the seed-000 table for a binary classifier's scores.

    The scores are turned into decisions with :math:`\\hat y = [\\,s \\ge t\\,]` and the
    confusion counts give the metrics of :func:`metrics_from_counts`; the ROC AUC
    (:func:`roc_auc`) uses the scores themselves and so does not depend on ``threshold``.

    Parameters
    ----------
    y_true : ndarray or torch.Tensor
        Binary labels (booleans or 0/1), any shape (flattened).
    y_score : ndarray or torch.Tensor, same shape
        Scores, higher meaning "more likely positive": probabilities (then the default
        ``threshold=0.5`` applies) or logits (then use ``threshold=0``).
    threshold : float, default 0.5
    zero_division : float, default 0.0
        See :func:`metrics_from_counts`.

    Returns
    -------
    dict
        ``accuracy, sensitivity, specificity, ppv, npv, f1, mcc, auc`` (floats) and the counts
        ``TP, FP, TN, FN`` (ints). ``auc`` is ``nan`` when ``y_true`` has a single class.

    Raises
    ------
    ValueError
        Different shapes, non-binary labels, NaN scores, empty input.

    Examples
    --------
    >>> report = classification_report([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> report["sensitivity"], report["specificity"], report["auc"]
    (0.5, 0.5, 0.75)
    >>> report["TP"], report["FP"], report["TN"], report["FN"]
    (1, 1, 1, 1)
    """
    y_true, y_score = _scores(y_true, y_score)
    counts = confusion_counts(y_true, y_score >= threshold)
    report: dict[str, float] = metrics_from_counts(*counts, zero_division=zero_division)
    single_class = y_true.all() or not y_true.any()
    report["auc"] = float("nan") if single_class else roc_auc(y_true, y_score)
    report.update(counts._asdict())
    return report


def roc_curve(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic: (FPR, TPR) at every distinct threshold.

    For each threshold ``t`` (the distinct scores, decreasing) a sample is called positive
    when its score is ``>= t``; then :math:`\\mathrm{TPR} = TP / P` (sensitivity) and
    :math:`\\mathrm{FPR} = FP / N = 1 - \\text{specificity}`. A first point (0, 0) with
    threshold ``+inf`` (nothing called positive) is added, as scikit-learn does. This equals
    ``sklearn.metrics.roc_curve(..., drop_intermediate=False)``.

    Parameters
    ----------
    y_true : ndarray or torch.Tensor
        Binary labels, both classes present.
    y_score : ndarray or torch.Tensor, same shape

    Returns
    -------
    fpr, tpr, thresholds : ndarray, each of shape (number of distinct scores + 1,)

    Raises
    ------
    ValueError
        A single class in ``y_true``, different shapes, NaN scores.

    Examples
    --------
    >>> fpr, tpr, thresholds = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr
    array([0. , 0. , 0.5, 0.5, 1. ])
    >>> tpr
    array([0. , 0.5, 0.5, 1. , 1. ])
    >>> thresholds
    array([ inf, 0.8 , 0.4 , 0.35, 0.1 ])
    """
    y_true, y_score = _scores(y_true, y_score)
    _check_both_classes(y_true, "roc_curve")
    order = np.argsort(-y_score, kind="stable")
    scores, labels = y_score[order], y_true[order]
    # Index of the last sample of every run of equal scores: the threshold includes the run.
    last_of_run = np.flatnonzero(np.diff(scores) != 0)
    last_of_run = np.append(last_of_run, scores.size - 1)
    tps = np.cumsum(labels)[last_of_run]
    fps = (last_of_run + 1) - tps
    tpr = np.concatenate([[0.0], tps / labels.sum()])
    fpr = np.concatenate([[0.0], fps / (~labels).sum()])
    thresholds = np.concatenate([[np.inf], scores[last_of_run]])
    return fpr, tpr, thresholds


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve: the probability that a random positive outscores a random
    negative (ties count one half).

    .. math:: \\mathrm{AUC} = \\frac{1}{n_+ n_-} \\sum_{i: y_i = 1} \\sum_{j: y_j = 0}
              \\Big( [s_i > s_j] + \\tfrac12 [s_i = s_j] \\Big)
              = \\frac{R_+ - n_+ (n_+ + 1) / 2}{n_+ n_-}

    where :math:`R_+` is the sum of the ranks of the positives (tied scores share their mean
    rank): the Mann-Whitney U statistic divided by :math:`n_+ n_-`. It equals the trapezoid
    area under :func:`roc_curve`. 0.5 is chance, 1.0 a perfect ranking.

    Parameters
    ----------
    y_true : ndarray or torch.Tensor
        Binary labels, both classes present.
    y_score : ndarray or torch.Tensor, same shape

    Returns
    -------
    float

    Raises
    ------
    ValueError
        A single class in ``y_true`` (the AUC is undefined), different shapes, NaN scores.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])  # 3 of the 4 pairs ranked right
    0.75
    >>> roc_auc([0, 1], [0.5, 0.5])  # a tie counts one half
    0.5
    """
    from scipy.stats import rankdata

    y_true, y_score = _scores(y_true, y_score)
    _check_both_classes(y_true, "roc_auc")
    n_pos = int(y_true.sum())
    n_neg = y_true.size - n_pos
    rank_sum = rankdata(y_score)[y_true].sum()  # average ranks for ties
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


# ---------------------------------------------------------------------------------------------
# Confidence intervals
# ---------------------------------------------------------------------------------------------
class BootstrapResult(NamedTuple):
    """A metric on the full data and the bounds of its bootstrap confidence interval."""

    estimate: float
    low: float
    high: float


def bootstrap_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: Any,
    y_score: Any,
    n: int = 1000,
    seed: int | np.random.Generator = 0,
    alpha: float = 0.05,
) -> BootstrapResult:
    """Percentile bootstrap confidence interval of a metric of ``(y_true, y_score)``.

    Draw ``n`` resamples of the cases with replacement (pairs ``(y_i, s_i)`` stay together),
    evaluate the metric on each, and report the :math:`\\alpha/2` and :math:`1 - \\alpha/2`
    quantiles of those ``n`` values (Efron & Tibshirani 1993, ch. 13): a :math:`(1 - \\alpha)`
    interval that shows how much the metric would move on another test set of the same size.
    The resampling is :func:`scipy.stats.bootstrap`'s (``paired=True, method="percentile"``);
    this function adds the input checks and leaves out the resamples where the metric is
    undefined, which SciPy would turn into a NaN interval.

    Parameters
    ----------
    metric : callable ``metric(y_true, y_score) -> float``
        For example :func:`roc_auc`, or ``lambda t, s: dice(s > 0.5, t)``.
    y_true, y_score : ndarray or torch.Tensor, same length along the first axis
        The cases to resample (first axis).
    n : int, default 1000
        Number of bootstrap resamples.
    seed : int or numpy.random.Generator, default 0
        The same seed gives the same interval.
    alpha : float in (0, 1), default 0.05
        0.05 gives a 95% interval.

    Returns
    -------
    BootstrapResult
        ``(estimate, low, high)``: the metric on all the data and the interval bounds.
        Resamples on which the metric is undefined (it raises ``ValueError`` or returns NaN,
        e.g. an AUC on a resample with one class) are left out.

    Raises
    ------
    TypeError
        ``n`` not an int, ``alpha`` not a number, ``seed`` not an int or Generator.
    ValueError
        ``n < 1``, ``alpha`` outside (0, 1), a negative ``seed``, different lengths, or the
        metric undefined on more than half of the resamples.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y_true = rng.integers(0, 2, 200)
    >>> y_score = y_true + rng.normal(0, 1, 200)
    >>> estimate, low, high = bootstrap_ci(roc_auc, y_true, y_score, n=200, seed=0)
    >>> bool(low < estimate < high)
    True
    """
    n = integer("n", n, minimum=1)
    number("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
    y_true, y_score = _to_numpy(y_true, "y_true"), _to_numpy(y_score, "y_score")
    if y_true.ndim == 0 or y_score.ndim == 0 or len(y_true) != len(y_score):
        raise ValueError(
            "y_true and y_score must have the same length along their first axis, got shapes "
            f"{y_true.shape} and {y_score.shape}"
        )
    rng = generator(seed)
    estimate = float(metric(y_true, y_score))

    def defined(index):  # the metric on one resample of case indices, NaN where undefined
        try:
            return float(metric(y_true[index], y_score[index]))
        except ValueError:
            return np.nan

    # resample the case indices (all axes of y_true and y_score follow), one metric each
    cases = np.arange(len(y_true))
    with warnings.catch_warnings():  # NaNs (undefined resamples) are left out below
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        values = stats.bootstrap(
            (cases,), defined, vectorized=False, n_resamples=n, method="percentile", rng=rng
        ).bootstrap_distribution
    values = values[~np.isnan(values)]
    if values.size < n / 2:
        raise ValueError(
            f"the metric was undefined on {n - values.size} of {n} resamples; "
            "is one class very rare?"
        )
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return BootstrapResult(estimate, float(low), float(high))
