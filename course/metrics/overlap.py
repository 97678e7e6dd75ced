"""Overlap metrics of segmentation masks: Dice and IoU, per mask and per class of a label map.

For a predicted mask ``P`` and a ground truth ``G`` (binary arrays of one shape, any number of
dimensions):

.. math:: \\mathrm{Dice}(P, G) = \\frac{2 |P \\cap G|}{|P| + |G|}, \\qquad
          \\mathrm{IoU}(P, G) = \\frac{|P \\cap G|}{|P \\cup G|}, \\qquad
          \\mathrm{Dice} = \\frac{2\\,\\mathrm{IoU}}{1 + \\mathrm{IoU}}.

:func:`dice_per_class` and :func:`iou_per_class` apply them to every class ``c`` of two integer
label maps (:math:`P_c = \\{i : P_i = c\\}`); their means are the "mean Dice" and the mIoU of
multi-class segmentation. Two empty masks give 0/0, which ``empty_score`` (1.0 by default)
decides. References: Dice, "Measures of the amount of ecologic association between species",
Ecology 26 (1945); Jaccard, "The distribution of the flora in the alpine zone", New Phytologist
11 (1912); Taha & Hanbury, "Metrics for evaluating 3D medical image segmentation", BMC Medical
Imaging 15 (2015).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course._validate import integer
from course.metrics._checks import _binary_pair, _labels, _same_shape

__all__ = ["dice", "iou", "dice_per_class", "iou_per_class"]


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
