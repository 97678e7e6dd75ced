"""Metrics of a binary classifier: the confusion matrix, the metrics table, ROC and AUC.

Decisions against labels (1 = disease present) give the confusion counts TP, FP, TN, FN
(:func:`confusion_counts`); every metric of the lecture's table is a formula in them
(:func:`metrics_from_counts`), for example

.. math:: \\text{sensitivity} = \\frac{TP}{TP + FN}, \\qquad
          \\text{specificity} = \\frac{TN}{TN + FP}, \\qquad
          \\mathrm{MCC} = \\frac{TP \\cdot TN - FP \\cdot FN}
          {\\sqrt{(TP + FP)(TP + FN)(TN + FP)(TN + FN)}}.

:func:`classification_report` thresholds scores and adds the AUC; :func:`roc_curve` and
:func:`roc_auc` describe the scores over all thresholds (the AUC is the Mann-Whitney U
statistic divided by :math:`n_+ n_-`). Labels and scores have one shape, any number of
dimensions, and are flattened. References: Fawcett, "An introduction to ROC analysis", Pattern
Recognition Letters 27 (2006); Matthews, "Comparison of the predicted and observed secondary
structure of T4 phage lysozyme", Biochimica et Biophysica Acta 405 (1975); Hanley & McNeil,
"The meaning and use of the area under a ROC curve", Radiology 143 (1982).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from course._validate import integer
from course.metrics._checks import _binary, _same_shape, _to_numpy

__all__ = [
    "ConfusionCounts",
    "confusion_counts",
    "metrics_from_counts",
    "classification_report",
    "roc_curve",
    "roc_auc",
]


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
