"""Lecture 06's self-checks: right answers pass, typical mistakes get a hint without the answer.

The expected answers come from scikit-learn (recall, precision and F1 of labels built from the
counts; the ROC curve) and SciPy's harmonic mean.
"""

import numpy as np
import pytest
from scipy.stats import hmean
from sklearn import metrics as skm

from course.checks import lecture06 as check


def verdict(capsys, question, *answer) -> str:
    question(*answer)
    return capsys.readouterr().out


def labels_from_counts(tp, fn, fp, tn):
    y_true = np.array([1] * (tp + fn) + [0] * (fp + tn))
    y_pred = np.array([1] * tp + [0] * fn + [1] * fp + [0] * tn)
    return y_true, y_pred


def screening():
    y, called = labels_from_counts(*(check.Q1_COUNTS[k] for k in ("TP", "FN", "FP", "TN")))
    return {
        "sensitivity": skm.recall_score(y, called),
        "ppv": skm.precision_score(y, called),
        "specificity": skm.recall_score(y, called, pos_label=0),
        "npv": skm.precision_score(y, called, pos_label=0),
        "accuracy": skm.accuracy_score(y, called),
    }


def validation_scores(seed=0, n=120):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.5).astype(int)
    return y, np.clip(rng.normal(0.35 + 0.3 * y, 0.15), 0, 1)


def best_threshold(y, p):
    """The highest threshold of scikit-learn's ROC curve with a sensitivity >= the target."""
    _, tpr, thresholds = skm.roc_curve(y, p, drop_intermediate=False)
    return float(thresholds[np.argmax(tpr >= check.Q3_TARGET)])


def test_open_gaps_are_not_attempted(capsys):
    y, p = validation_scores()
    assert "not attempted yet" in verdict(capsys, check.q1, ...)
    assert "not attempted yet" in verdict(capsys, check.q2, ...)
    assert "not attempted yet" in verdict(capsys, check.q2, lambda precision, recall: ...)
    assert "not attempted yet" in verdict(capsys, check.q3, ..., y, p)


def test_right_answers_are_correct(capsys):
    r = screening()
    assert ": correct." in verdict(capsys, check.q1, (r["sensitivity"], r["ppv"]))
    assert ": correct." in verdict(capsys, check.q1, [round(r["sensitivity"], 2), 0.231])
    assert ": correct." in verdict(capsys, check.q2, lambda p, r: hmean([p, r]) if p * r else 0.0)
    for seed in range(5):
        y, p = validation_scores(seed)
        assert ": correct." in verdict(capsys, check.q3, best_threshold(y, p), y, p)


@pytest.mark.parametrize(
    "answer",
    [("ppv", "sensitivity"), ("specificity", "ppv"), ("sensitivity", "npv"), ("accuracy", "ppv")],
)
def test_q1_mixed_up_ratios_get_a_hint_without_the_answer(capsys, answer):
    r = screening()
    out = verdict(capsys, check.q1, tuple(r[name] for name in answer))
    assert "not yet" in out
    assert f"{r['ppv']:.3f}" not in out[out.index("not yet") :].replace(f"{r['ppv']:.3f},", "")
    assert f"{r['sensitivity']:.2f}" not in out.replace(f"{r['sensitivity']:.3f},", "")


@pytest.mark.parametrize("answer", [(90, 23), 0.9, (0.5, 0.5), "0.9, 0.23", (0.9, 0.23, 0.8)])
def test_q1_other_wrong_answers_get_a_hint(capsys, answer):
    out = verdict(capsys, check.q1, answer)
    assert "not yet" in out and "0.231" not in out


F1_WRONG = [
    lambda p, r: (p + r) / 2,
    lambda p, r: (p * r) ** 0.5,
    lambda p, r: p * r / (p + r),
    lambda p, r: 2 * p * r,
]


@pytest.mark.parametrize("f1_from", F1_WRONG)
def test_q2_typical_mistakes_get_a_hint_without_the_answer(capsys, f1_from):
    out = verdict(capsys, check.q2, f1_from)
    p, r = check.Q2_CASES[0]
    assert "not yet" in out and f"{hmean([p, r]):.4g}" not in out


def test_q3_too_high_and_too_low_thresholds_get_a_hint_without_the_answer(capsys):
    y, p = validation_scores()
    best = best_threshold(y, p)
    below = np.max(p[p < best])
    for threshold, hint in [
        (best + 1e-9, "lower"),
        (0.99, "lower"),
        (below, "higher"),
        (0, "higher"),
    ]:
        out = verdict(capsys, check.q3, threshold, y, p)
        assert "not yet" in out and hint in out
        assert f"{best:.3g}" not in out and f"{best:.4g}" not in out


def test_q3_any_threshold_with_the_best_decisions_is_correct(capsys):
    y, p = validation_scores()
    best = best_threshold(y, p)
    below = np.max(p[p < best])
    assert ": correct." in verdict(capsys, check.q3, (best + below) / 2, y, p)


def test_q3_bad_data_gets_a_hint(capsys):
    assert "not yet" in verdict(capsys, check.q3, 0.5, [1, 1], [0.2, 0.8])
    assert "not yet" in verdict(capsys, check.q3, "0.5", [0, 1], [0.2, 0.8])
