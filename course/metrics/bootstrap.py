"""Bootstrap confidence intervals: how much a metric would move on another test set.

Draw ``n`` resamples of the cases with replacement (a label stays with its score), evaluate
the metric on each, :math:`m^*_1, \\dots, m^*_n`, and report the percentile interval

.. math:: \\big[\\, q_{\\alpha/2}(m^*),\\; q_{1 - \\alpha/2}(m^*) \\,\\big]

around the metric on all the data, a :math:`(1 - \\alpha)` confidence interval. The cases are
the first axis of ``y_true`` and ``y_score`` (``(N,)`` labels and scores, or ``(N, ...)``
masks), so any metric of :mod:`course.metrics` can be resampled. Reference: Efron &
Tibshirani, *An Introduction to the Bootstrap* (Chapman & Hall, 1993), ch. 13.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from scipy import stats

from course._validate import generator, integer, number
from course.metrics._checks import _to_numpy

__all__ = ["BootstrapResult", "bootstrap_ci"]


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
    >>> from course.metrics import roc_auc
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
