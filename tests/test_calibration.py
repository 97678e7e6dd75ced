"""Calibration metrics against scikit-learn and against loops written from the definitions."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

from course.metrics import ReliabilityCurve, expected_calibration_error, reliability_curve


def brute_force_ece(y_true, confidence, correct, n_bins):
    """Guo et al. (2017), eq. 3, one bin at a time with explicit interval tests."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    total = 0.0
    for m in range(n_bins):
        low, high = edges[m], edges[m + 1]
        inside = [(c > low or (m == 0 and c >= low)) and c <= high for c in confidence]
        members = [k for k, flag in enumerate(inside) if flag]
        if not members:
            continue
        frequency = sum(correct[k] for k in members) / len(members)
        mean_confidence = sum(confidence[k] for k in members) / len(members)
        total += len(members) / len(confidence) * abs(frequency - mean_confidence)
    return total


binary_cases = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n),
        st.integers(1, 20),
    )
)


@settings(max_examples=150, deadline=None)
@given(binary_cases)
def test_reliability_curve_matches_sklearn(case):
    y, p, n_bins = case
    y, p = np.array(y), np.array(p)
    curve = reliability_curve(y, p, n_bins=n_bins)
    if len(np.unique(y)) == 2:  # sklearn needs a pos_label it can infer; both classes present
        prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins)
        np.testing.assert_allclose(curve.prob_true, prob_true, atol=1e-12)
        np.testing.assert_allclose(curve.prob_pred, prob_pred, atol=1e-12)
    assert curve.counts.sum() == len(y)
    assert len(curve.bin_edges) == n_bins + 1


@settings(max_examples=150, deadline=None)
@given(binary_cases)
def test_binary_ece_matches_the_definition(case):
    y, p, n_bins = case
    expected = brute_force_ece(y, p, [float(v) for v in y], n_bins)
    assert expected_calibration_error(y, p, n_bins) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(2, 5), st.integers(1, 15), st.integers(0, 10_000))
def test_multiclass_ece_is_top_label_confidence(n, classes, n_bins, seed):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(classes), size=n)
    y = rng.integers(0, classes, size=n)
    confidence = probs.max(axis=1).tolist()
    correct = [float(probs[k].argmax() == y[k]) for k in range(n)]
    expected = brute_force_ece(y, confidence, correct, n_bins)
    assert expected_calibration_error(y, probs, n_bins) == pytest.approx(expected, abs=1e-12)


def test_hand_computed_cases():
    # bins of width 0.5: (0.1, 0.3) -> no positive, mean 0.2; (0.6, 0.8) -> all positive, 0.7
    assert expected_calibration_error([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8], 2) == pytest.approx(
        0.5 * 0.2 + 0.5 * 0.3
    )
    # over-confident: says 0.9, right 3 times out of 4 -> 0.15
    assert expected_calibration_error([1, 1, 1, 0], [0.9] * 4) == pytest.approx(0.15)
    # perfectly calibrated within each bin -> 0
    y = [1, 0, 0, 0, 1, 1, 1, 0]
    p = [0.25] * 4 + [0.75] * 4
    assert expected_calibration_error(y, p, n_bins=4) == pytest.approx(0.0)
    # an edge value belongs to the bin below it: 0.5 is in (0, 0.5] with 2 bins
    curve = reliability_curve([1, 0], [0.5, 1.0], n_bins=2)
    assert curve.counts.tolist() == [1, 1] and curve.prob_pred.tolist() == [0.5, 1.0]
    assert reliability_curve([1], [0.0], n_bins=3).counts.tolist() == [1]  # 0 is in bin 1


def test_accepts_tensors_and_returns_plain_types():
    y, p = torch.tensor([0, 1, 1]), torch.tensor([0.2, 0.7, 0.9])
    value = expected_calibration_error(y, p)
    assert isinstance(value, float)
    curve = reliability_curve(y, p)
    assert isinstance(curve, ReliabilityCurve) and isinstance(curve.prob_true, np.ndarray)


@pytest.mark.parametrize(
    "y, p, kwargs, error, match",
    [
        ([0, 1], [0.2, 1.2], {}, ValueError, "y_prob must hold probabilities"),
        ([0, 1], [0.2, -0.1], {}, ValueError, "y_prob must hold probabilities"),
        ([0, 1, 1], [0.2, 0.3], {}, ValueError, "y_true must have shape"),
        ([0, 2], [0.2, 0.3], {}, ValueError, "0/1 labels"),
        ([0, 3], [[0.5, 0.5], [0.2, 0.8]], {}, ValueError, "class indices"),
        ([], [], {}, ValueError, "N >= 1"),
        ([0, 1], [0.2, float("nan")], {}, ValueError, "NaN"),
        ([0, 1], [0.2, 0.3], {"n_bins": 0}, ValueError, "n_bins"),
        ([0, 1], [0.2, 0.3], {"n_bins": 2.5}, TypeError, "n_bins"),
        ([0, 1], ["a", "b"], {}, TypeError, "y_prob"),
        ([0, 1], np.zeros((2, 2, 2)), {}, ValueError, r"shape \(N,\)"),
    ],
)
def test_bad_inputs(y, p, kwargs, error, match):
    with pytest.raises(error, match=match):
        expected_calibration_error(y, p, **kwargs)
