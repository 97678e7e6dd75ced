"""Calibration: whether a classifier's probabilities match how often it is right (lecture 13).

A classifier is *calibrated* when, among the cases to which it gives probability :math:`p`, a
fraction :math:`p` is positive. Modern networks are often over-confident (Guo et al. 2017), and
a model moved to another hospital can lose its calibration before it loses accuracy. A
clinician who reads "90 % lesion" needs the 90 % to mean something.

The **reliability diagram** sorts the predictions into :math:`M` bins of equal width,
:math:`B_m = \\left(\\frac{m-1}{M}, \\frac{m}{M}\\right]` (the first bin includes 0), and plots,
for each non-empty bin, the observed frequency against the mean predicted probability; a
calibrated model lies on the diagonal. The **expected calibration error** is the gap, weighted
by the share of predictions in each bin (Naeini et al. 2015; Guo et al. 2017, eq. 3):

.. math::

    \\mathrm{ECE} = \\sum_{m=1}^{M} \\frac{|B_m|}{n}
        \\left| \\mathrm{freq}(B_m) - \\mathrm{conf}(B_m) \\right| .

Two readings, chosen by the shape of ``y_prob``:

* binary, ``y_prob`` of shape ``(N,)``, the probability of the positive class:
  :math:`\\mathrm{freq}` is the fraction of positives in the bin and :math:`\\mathrm{conf}` the
  mean probability (the curve of :func:`sklearn.calibration.calibration_curve`);
* multi-class, ``y_prob`` of shape ``(N, C)``, one row of class probabilities per case: the
  top-label reading of Guo et al., :math:`\\mathrm{conf}` the mean of
  :math:`\\max_c p_c` and :math:`\\mathrm{freq}` the accuracy of the predicted classes.

References: Guo, C., Pleiss, G., Sun, Y. & Weinberger, K. Q. (2017). On calibration of modern
neural networks. ICML, PMLR 70, 1321-1330. Naeini, M. P., Cooper, G. F. & Hauskrecht, M.
(2015). Obtaining well calibrated probabilities using Bayesian binning. AAAI, 2901-2907.

>>> y_true = [0, 0, 1, 1]
>>> y_prob = [0.1, 0.3, 0.6, 0.8]
>>> round(expected_calibration_error(y_true, y_prob, n_bins=2), 3)  # |0 - 0.2| / 2 + |1 - 0.7| / 2
0.25
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from course._validate import integer
from course.metrics._checks import _to_numpy

__all__ = ["ReliabilityCurve", "reliability_curve", "expected_calibration_error"]


class ReliabilityCurve(NamedTuple):
    """The points of a reliability diagram, one per non-empty bin.

    Attributes
    ----------
    prob_true : ndarray
        Observed frequency in each bin (fraction of positives, or accuracy).
    prob_pred : ndarray
        Mean predicted probability (or confidence) in each bin.
    counts : ndarray of int
        Number of predictions in each bin.
    bin_edges : ndarray, shape (n_bins + 1,)
        All the edges, ``linspace(0, 1, n_bins + 1)`` (empty bins included).
    """

    prob_true: np.ndarray
    prob_pred: np.ndarray
    counts: np.ndarray
    bin_edges: np.ndarray


def _confidence_and_outcome(y_true: Any, y_prob: Any) -> tuple[np.ndarray, np.ndarray]:
    """(confidence in [0, 1], outcome 0/1) per case, for either reading of ``y_prob``."""
    prob = _to_numpy(y_prob, "y_prob").astype(np.float64)
    truth = _to_numpy(y_true, "y_true")
    if prob.ndim not in (1, 2) or prob.shape[0] == 0:
        raise ValueError(
            f"y_prob must have shape (N,) (probability of the positive class) or (N, C) (class "
            f"probabilities), with N >= 1, got shape {prob.shape}"
        )
    if truth.shape != prob.shape[:1]:
        raise ValueError(
            f"y_true must have shape ({prob.shape[0]},), one label per row of y_prob, got "
            f"shape {truth.shape}"
        )
    if prob.min() < 0 or prob.max() > 1:
        raise ValueError(
            "y_prob must hold probabilities in [0, 1], got values from "
            f"{prob.min():g} to {prob.max():g}; apply a sigmoid or softmax to logits first"
        )
    if prob.ndim == 1:
        if not np.isin(truth, (0, 1)).all():
            raise ValueError("y_true must hold 0/1 labels when y_prob has shape (N,)")
        return prob, truth.astype(np.float64)
    classes = prob.shape[1]
    if truth.dtype.kind not in "iub" or truth.min() < 0 or truth.max() >= classes:
        raise ValueError(f"y_true must hold class indices in [0, {classes}) for y_prob (N, C)")
    return prob.max(axis=1), (prob.argmax(axis=1) == truth).astype(np.float64)


def reliability_curve(y_true: Any, y_prob: Any, n_bins: int = 10) -> ReliabilityCurve:
    """The reliability diagram: observed frequency against mean probability, per bin.

    Parameters
    ----------
    y_true : array_like, shape (N,)
        0/1 labels (binary reading) or class indices (multi-class reading).
    y_prob : array_like, shape (N,) or (N, C)
        Probabilities of the positive class, or class probabilities (see the module).
    n_bins : int, default 10
        Number of bins of equal width on [0, 1].

    Returns
    -------
    ReliabilityCurve
        ``prob_true, prob_pred, counts`` for the non-empty bins, and all ``bin_edges``. In the
        binary reading ``prob_true, prob_pred`` equal those of
        ``sklearn.calibration.calibration_curve(y_true, y_prob, n_bins=n_bins)``.

    Raises
    ------
    TypeError
        If the inputs do not hold numbers, or ``n_bins`` is not an int.
    ValueError
        On mismatched shapes, probabilities outside [0, 1], labels that do not fit, NaN,
        ``n_bins < 1`` or empty input.

    Examples
    --------
    >>> curve = reliability_curve([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8], n_bins=2)
    >>> curve.prob_true, curve.prob_pred, curve.counts
    (array([0., 1.]), array([0.2, 0.7]), array([2, 2]))
    """
    n_bins = integer("n_bins", n_bins, minimum=1)
    confidence, outcome = _confidence_and_outcome(y_true, y_prob)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence, side="left")  # (e_{m-1}, e_m]
    counts = np.bincount(bins, minlength=n_bins)
    frequency = np.bincount(bins, weights=outcome, minlength=n_bins)
    mean_prob = np.bincount(bins, weights=confidence, minlength=n_bins)
    full = counts > 0
    return ReliabilityCurve(
        frequency[full] / counts[full], mean_prob[full] / counts[full], counts[full], edges
    )


def expected_calibration_error(y_true: Any, y_prob: Any, n_bins: int = 10) -> float:
    """Expected calibration error: the mean gap of the reliability diagram, weighted by bin size.

    .. math::

        \\mathrm{ECE} = \\sum_m \\frac{|B_m|}{n}
            \\left| \\mathrm{freq}(B_m) - \\mathrm{conf}(B_m) \\right|

    0 for a perfectly calibrated model (on these bins), at most 1. The value depends on the
    number of bins: compare models with the same ``n_bins`` and the same number of cases.

    Parameters
    ----------
    y_true, y_prob, n_bins
        As in :func:`reliability_curve`.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        As :func:`reliability_curve`.

    Examples
    --------
    >>> expected_calibration_error([1, 1, 1, 0], [0.9, 0.9, 0.9, 0.9], n_bins=10)  # |0.75 - 0.9|
    0.15000000000000002
    >>> probs = [[0.8, 0.2], [0.3, 0.7]]  # (N, C): top-label confidences 0.8 and 0.7, both right
    >>> round(expected_calibration_error([0, 1], probs, n_bins=10), 3)
    0.25
    """
    curve = reliability_curve(y_true, y_prob, n_bins)
    weights = curve.counts / curve.counts.sum()
    return float(np.sum(weights * np.abs(curve.prob_true - curve.prob_pred)))
