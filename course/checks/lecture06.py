"""Self-checks of lecture 06 (classification, evaluation): a verdict and a hint, never the answer.

Three exercises of ``notebooks/lectures/06_classification_evaluation.ipynb``:

1. :func:`q1`: sensitivity and PPV read from the screening confusion matrix :data:`Q1_COUNTS`,
   :math:`\\mathrm{TP} / (\\mathrm{TP} + \\mathrm{FN})` and
   :math:`\\mathrm{TP} / (\\mathrm{TP} + \\mathrm{FP})`;
2. :func:`q2`: a two-line function, the F1 score from precision :math:`P` and recall :math:`R`,
   their harmonic mean :math:`2 P R / (P + R)`;
3. :func:`q3`: the highest threshold :math:`t` (decision "lesion" if :math:`p \\ge t`) whose
   sensitivity on a validation set reaches :data:`Q3_TARGET`.

Each check prints "not attempted yet", "correct" or "not yet" with a hint (see
:mod:`course.checks._selfcheck`). References: Altman & Bland (1994), Diagnostic tests 1:
sensitivity and specificity, and 2: predictive values, BMJ 308, 1552 and 309, 102; van Rijsbergen
(1979), Information Retrieval, 2nd ed., ch. 7 (the F measure); Fawcett (2006), An introduction to
ROC analysis, Pattern Recognition Letters 27, 861-874.

>>> q2(...)
Exercise 2: not attempted yet. Replace the ... with your answer, run again.
"""

from __future__ import annotations

import math

import numpy as np

from course.checks._common import as_array, as_float
from course.checks._selfcheck import Wrong, attempt, converted, exercise

__all__ = ["Q1_COUNTS", "Q3_TARGET", "q1", "q2", "q3"]

#: Exercise 1: a screening test on 1,000 patients, 50 of them sick.
Q1_COUNTS = {"TP": 45, "FN": 5, "FP": 150, "TN": 800}
#: Exercise 2's cases ``(precision, recall)``.
Q2_CASES = [(0.5, 1.0), (0.9, 0.3), (0.8, 0.8), (0.25, 0.75), (1.0, 0.0)]
#: Exercise 3: the sensitivity the threshold must reach.
Q3_TARGET = 0.95
_CLOSE = 0.005  # a fraction read off a matrix and rounded to 2-3 digits


def _ratios() -> dict[str, float]:
    tp, fn, fp, tn = (Q1_COUNTS[k] for k in ("TP", "FN", "FP", "TN"))
    return {
        "sensitivity": tp / (tp + fn),
        "ppv": tp / (tp + fp),
        "specificity": tn / (tn + fp),
        "npv": tn / (tn + fn),
        "accuracy": (tp + tn) / (tp + fn + fp + tn),
    }


def _named(value: float, ratios: dict[str, float]) -> str | None:
    """The name of the ratio that ``value`` equals (within rounding), if any."""
    return next((k for k, v in ratios.items() if abs(value - v) <= _CLOSE), None)


@exercise(1, correct="at a 5% prevalence even a sensitive, specific test has a low PPV.")
def q1(answer) -> None:
    """Check ``(sensitivity, ppv)`` of :data:`Q1_COUNTS`, both as fractions in [0, 1]."""
    got = converted(as_array, answer, "your answer")
    if got.shape != (2,):
        raise Wrong(f"give two numbers, (sensitivity, ppv); got shape {got.shape}")
    if np.any(got > 1) or np.any(got < 0):
        raise Wrong("give fractions between 0 and 1 (0.5, not 50 %)")
    ratios = _ratios()
    names = [_named(float(v), ratios) for v in got]
    if names == ["sensitivity", "ppv"]:
        return
    if names == ["ppv", "sensitivity"]:
        raise Wrong(
            "the two are swapped: sensitivity divides by all who are sick (TP + FN), "
            "PPV by all who are called sick (TP + FP)"
        )
    healthy_or_all = "is a fraction of the healthy (specificity) or of all patients (accuracy)"
    hints = {
        "specificity": healthy_or_all,
        "accuracy": healthy_or_all,
        "npv": "is the NPV (a fraction of the negative calls)",
    }
    for name, value, wanted in zip(names, got, ("sensitivity", "PPV"), strict=True):
        if name in hints:
            raise Wrong(f"your {wanted}, {value:.3f}, {hints[name]}: see the metrics table")
    keys = {"sensitivity": "sensitivity", "ppv": "PPV"}
    wrong = [keys[k] for n, k in zip(names, keys, strict=True) if n != k]
    raise Wrong(
        f"the {' and the '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not right: "
        "divide TP by the column or row sum that the metrics table names"
    )


@exercise(2, correct="the harmonic mean is pulled towards the smaller of precision and recall.")
def q2(f1_from) -> None:
    """Check ``f1_from(precision, recall)`` on :data:`Q2_CASES`."""
    for p, r in Q2_CASES:
        got = converted(as_float, attempt(f1_from, p, r), f"f1_from({p}, {r})")
        expected = 2 * p * r / (p + r)
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            continue
        case = f"f1_from({p}, {r}) returned {got:.4g}"
        if math.isclose(got, (p + r) / 2):
            raise Wrong(
                f"{case}, the arithmetic mean: F1 is the harmonic mean, which a low "
                "precision or recall pulls down"
            )
        if math.isclose(got, math.sqrt(p * r)):
            raise Wrong(f"{case}, the geometric mean: F1 is the harmonic mean")
        if math.isclose(got, expected / 2):
            raise Wrong(f"{case}: a factor of 2 is missing (for P = R, F1 must equal P)")
        raise Wrong(f"{case}: F1 is the harmonic mean of the two, 2 / (1/P + 1/R)")


def _sensitivity_specificity(y: np.ndarray, p: np.ndarray, t: float) -> tuple[float, float]:
    called = p >= t
    return float(called[y == 1].mean()), float((~called[y == 0]).mean())


@exercise(3, correct="choose it on validation data, then report the test metrics at it.")
def q3(threshold, labels, scores) -> None:
    """Check the highest threshold whose sensitivity on ``(labels, scores)`` reaches the target.

    A threshold is right when it makes the same decisions as the best one: every threshold
    between the score just below the best one (excluded) and the best one (included) is right.
    """
    t = converted(as_float, threshold, "your threshold")
    y = as_array(labels, "labels").ravel()
    p = as_array(scores, "scores").ravel()
    if y.shape != p.shape or not (np.any(y == 1) and np.any(y == 0)):
        raise Wrong("pass the validation labels and scores of the lecture, with both classes")
    positives = np.sort(p[y == 1])[::-1]
    best = positives[math.ceil(Q3_TARGET * len(positives) - 1e-9) - 1]
    sensitivity, specificity = _sensitivity_specificity(y, p, t)
    if sensitivity < Q3_TARGET:
        raise Wrong(
            f"at your threshold the sensitivity is {sensitivity:.3f}, below {Q3_TARGET}: "
            "lower the threshold"
        )
    if np.any((p >= t) & (p < best)):
        raise Wrong(
            f"at your threshold the sensitivity, {sensitivity:.3f}, reaches {Q3_TARGET}, but "
            f"the specificity is only {specificity:.3f}: a higher threshold reaches the "
            "target with fewer false alarms"
        )
