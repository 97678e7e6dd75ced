"""Metrics against scikit-learn, SciPy, scikit-image and hand-computed cases."""

import math

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import cdist, directed_hausdorff
from skimage.segmentation import find_boundaries

from course.metrics import (
    BootstrapResult,
    ConfusionCounts,
    bootstrap_ci,
    classification_report,
    confusion_counts,
    dice,
    dice_per_class,
    hausdorff_distance,
    iou,
    iou_per_class,
    metrics_from_counts,
    roc_auc,
    roc_curve,
)

shapes = st.tuples(st.integers(1, 6), st.integers(1, 7))
masks = shapes.flatmap(lambda s: st.tuples(arrays(bool, s), arrays(bool, s)))


# ------------------------------------------------------------------ Dice and IoU
@settings(max_examples=40, deadline=None)
@given(masks)
def test_dice_and_iou_match_sklearn(pair):
    pred, target = pair
    if not pred.any() and not target.any():
        return  # sklearn's zero_division case: tested separately
    expected_dice = skm.f1_score(target.ravel(), pred.ravel(), zero_division=0)
    expected_iou = skm.jaccard_score(target.ravel(), pred.ravel(), zero_division=0)
    assert dice(pred, target) == pytest.approx(expected_dice)
    assert iou(pred, target) == pytest.approx(expected_iou)
    # the relation between the two, and symmetry
    j = iou(pred, target)
    assert dice(pred, target) == pytest.approx(2 * j / (1 + j))
    assert dice(target, pred) == dice(pred, target)


def test_dice_iou_hand_computed_and_input_types():
    pred = np.array([[1, 1, 1, 0], [0, 0, 0, 0]])
    target = np.array([[0, 1, 1, 1], [1, 0, 0, 0]])
    # |P| = 3, |G| = 4, |P & G| = 2, |P | G| = 5
    assert dice(pred, target) == pytest.approx(4 / 7)
    assert iou(pred, target) == pytest.approx(2 / 5)
    for convert in (
        lambda a: a.astype(bool),
        lambda a: a.astype(np.float32),
        torch.from_numpy,
        lambda a: torch.from_numpy(a).bool().requires_grad_(False),
    ):
        assert dice(convert(pred), convert(target)) == pytest.approx(4 / 7)
        assert iou(convert(pred), convert(target)) == pytest.approx(2 / 5)
    volume = np.zeros((3, 4, 5), bool)
    volume[1, 1:3, 1:4] = True
    assert dice(volume, volume) == 1.0 and iou(volume, ~volume) == 0.0


@pytest.mark.parametrize("metric", [dice, iou])
def test_every_empty_mask_case(metric):
    empty, full = np.zeros((4, 4), bool), np.ones((4, 4), bool)
    assert metric(empty, empty) == 1.0
    assert metric(empty, empty, empty_score=0.0) == 0.0
    assert math.isnan(metric(empty, empty, empty_score=np.nan))
    assert metric(empty, full) == 0.0
    assert metric(full, empty) == 0.0
    assert metric(empty, full, empty_score=np.nan) == 0.0  # only "both empty" uses it
    assert metric(full, full) == 1.0


@pytest.mark.parametrize("metric", [dice, iou])
def test_overlap_errors(metric):
    a = np.zeros((3, 3))
    with pytest.raises(ValueError, match="same shape"):
        metric(a, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="threshold"):
        metric(np.full((3, 3), 0.7), a)
    with pytest.raises(ValueError, match="target must be a binary mask"):
        metric(a, np.full((3, 3), 2))
    with pytest.raises(ValueError, match="NaN"):
        metric(np.full((3, 3), np.nan), a)
    with pytest.raises(TypeError, match="pred"):
        metric("mask", a)
    with pytest.raises(TypeError, match="dtype"):
        metric(a.astype(complex), a)


@settings(max_examples=30, deadline=None)
@given(
    shapes.flatmap(
        lambda s: st.tuples(
            arrays(np.int64, s, elements=st.integers(0, 3)),
            arrays(np.int64, s, elements=st.integers(0, 3)),
        )
    )
)
def test_per_class_match_sklearn(pair):
    pred, target = pair
    labels = list(range(4))
    expected_dice = skm.f1_score(
        target.ravel(), pred.ravel(), labels=labels, average=None, zero_division=1.0
    )
    expected_iou = skm.jaccard_score(
        target.ravel(), pred.ravel(), labels=labels, average=None, zero_division=1.0
    )
    np.testing.assert_allclose(dice_per_class(pred, target, 4), expected_dice)
    np.testing.assert_allclose(iou_per_class(pred, target, 4), expected_iou)
    np.testing.assert_allclose(
        dice_per_class(pred, target, 4, ignore_background=True), expected_dice[1:]
    )
    np.testing.assert_allclose(
        iou_per_class(torch.from_numpy(pred), torch.from_numpy(target), 4, ignore_background=True),
        expected_iou[1:],
    )


def test_per_class_absent_class_and_errors():
    pred = np.array([[0, 1], [1, 0]])
    target = np.array([[0, 1], [0, 0]])
    scores = dice_per_class(pred, target, 3, empty_score=np.nan)  # class 2 absent from both
    np.testing.assert_allclose(scores[:2], [4 / 5, 2 / 3])
    assert np.isnan(scores[2]) and np.nanmean(scores) == pytest.approx((4 / 5 + 2 / 3) / 2)
    assert dice_per_class(pred, target, 3)[2] == 1.0
    with pytest.raises(ValueError, match=r"labels in \[0, 2\)"):
        dice_per_class(pred, target + 1, 2)
    with pytest.raises(ValueError, match="labels in"):
        iou_per_class(pred - 1, target, 2)
    with pytest.raises(TypeError, match="argmax"):
        dice_per_class(pred.astype(float), target, 2)
    with pytest.raises(ValueError, match="same shape"):
        iou_per_class(pred, target.ravel(), 2)
    with pytest.raises(ValueError, match="num_classes"):
        dice_per_class(pred, target, 0)
    with pytest.raises(TypeError, match="num_classes"):
        dice_per_class(pred, target, 2.0)


# ------------------------------------------------------------------ Hausdorff
def surface_points(mask, spacing):
    """Boundary pixel coordinates (scikit-image's inner boundaries), in physical units."""
    padded = np.pad(mask, 1)  # the array edge counts as background
    inner = find_boundaries(padded, connectivity=1, mode="inner")
    inner = inner[tuple(slice(1, -1) for _ in mask.shape)]
    return np.argwhere(inner) * np.asarray(spacing)


def blob(shape, rng):
    """A random non-empty mask made of a few rectangles."""
    mask = np.zeros(shape, bool)
    for _ in range(rng.integers(1, 4)):
        lo = [rng.integers(0, n) for n in shape]
        hi = [rng.integers(a + 1, n + 1) for a, n in zip(lo, shape, strict=True)]
        mask[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))] = True
    return mask


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    three_d=st.booleans(),
    spacing=st.lists(st.floats(0.3, 3.0), min_size=3, max_size=3),
)
def test_hausdorff_matches_scipy_directed_hausdorff(seed, three_d, spacing):
    rng = np.random.default_rng(seed)
    shape = (5, 9, 8) if three_d else (12, 10)
    spacing = spacing[: len(shape)]
    pred, target = blob(shape, rng), blob(shape, rng)
    p, t = surface_points(pred, spacing), surface_points(target, spacing)
    expected = max(directed_hausdorff(p, t)[0], directed_hausdorff(t, p)[0])
    assert hausdorff_distance(pred, target, spacing=spacing) == pytest.approx(expected)
    # HD95: 95th percentile of each directed set of nearest-surface distances (brute force)
    d = cdist(p, t)
    expected95 = max(np.percentile(d.min(axis=1), 95), np.percentile(d.min(axis=0), 95))
    assert hausdorff_distance(pred, target, spacing, percentile=95) == pytest.approx(expected95)
    assert hausdorff_distance(pred, target, spacing, 95) <= hausdorff_distance(
        pred, target, spacing
    )


def test_hausdorff_hand_computed_and_anisotropic():
    target = np.zeros((20, 20), bool)
    target[5:10, 5:10] = True
    down = np.roll(target, 3, axis=0)
    assert hausdorff_distance(down, target) == 3.0
    assert hausdorff_distance(down, target, spacing=(2.0, 0.5)) == 6.0  # rows 2 mm apart
    assert hausdorff_distance(np.roll(target, 3, axis=1), target, spacing=(2.0, 0.5)) == 1.5
    assert hausdorff_distance(target, target) == 0.0
    assert hausdorff_distance(torch.from_numpy(down), torch.from_numpy(target)) == 3.0
    # one far outlier voxel: HD jumps, HD95 does not
    noisy = target.copy()
    noisy[18, 18] = True
    assert hausdorff_distance(noisy, target) == pytest.approx(np.hypot(9, 9))
    pred_big = np.zeros((60, 60), bool)
    pred_big[10:50, 10:50] = True
    outlier = pred_big.copy()
    outlier[58, 58] = True
    assert hausdorff_distance(outlier, pred_big, percentile=95) == 0.0
    assert hausdorff_distance(outlier, pred_big) == pytest.approx(np.hypot(9, 9))


def test_hausdorff_empty_cases_and_errors():
    empty, some = np.zeros((5, 5), bool), np.eye(5, dtype=bool)
    assert hausdorff_distance(empty, empty) == 0.0
    assert hausdorff_distance(empty, some) == math.inf
    assert hausdorff_distance(some, empty, percentile=95) == math.inf
    with pytest.raises(ValueError, match="spacing"):
        hausdorff_distance(some, some, spacing=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="spacing"):
        hausdorff_distance(some, some, spacing=(1.0, 0.0))
    with pytest.raises(ValueError, match="spacing"):
        hausdorff_distance(some, some, spacing=-1.0)
    with pytest.raises(ValueError, match="percentile"):
        hausdorff_distance(some, some, percentile=101)
    with pytest.raises(ValueError, match="same shape"):
        hausdorff_distance(some, some[:4])
    with pytest.raises(ValueError, match="binary"):
        hausdorff_distance(some * 0.5, some)


def test_hausdorff_percentile_and_spacing_types():
    target = np.zeros((7, 7), bool)
    target[2:5, 2:5] = True
    pred = np.roll(target, 2, axis=1)
    # a 0-d array (or a NumPy scalar, or a 0-d tensor) holding a number is that number
    for percentile in (np.array(95), np.float32(95.0), torch.tensor(95.0)):
        assert hausdorff_distance(pred, target, percentile=percentile) == 2.0
    bad = [
        (dict(percentile="95"), TypeError, r"percentile must be a real number, got '95' \(str\)"),
        (dict(percentile=None), TypeError, "percentile must be a real number"),
        (dict(percentile=np.array([95])), TypeError, r"percentile .* shape \(1,\)"),
        (dict(percentile=np.array(True)), TypeError, "percentile must be a real number"),
        (
            dict(percentile=np.array(101.0)),
            ValueError,
            r"percentile must be a number in \[0, 100\]",
        ),
        (dict(percentile=float("nan")), ValueError, "percentile"),
        (dict(spacing="1.0"), TypeError, "spacing"),
        (dict(spacing=("1", "2")), TypeError, "spacing"),
        (dict(spacing=[1.0, None]), TypeError, "spacing"),
    ]
    for kwargs, error, message in bad:
        with pytest.raises(error, match=message):
            hausdorff_distance(pred, target, **kwargs)


# ------------------------------------------------------------------ classification
labelled_scores = (
    st.integers(0, 10_000)
    .map(np.random.default_rng)
    .map(
        lambda rng: (rng.integers(0, 2, 40), np.round(rng.random(40), 1))  # rounding makes ties
    )
)


@settings(max_examples=40, deadline=None)
@given(labelled_scores, st.sampled_from([0.3, 0.5, 0.7]))
def test_classification_report_matches_sklearn(data, threshold):
    y_true, y_score = data
    if y_true.all() or not y_true.any():
        y_true[:2] = [0, 1]
    y_pred = (y_score >= threshold).astype(int)
    report = classification_report(y_true, y_score, threshold)
    tn, fp, fn, tp = skm.confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    assert confusion_counts(y_true, y_pred) == ConfusionCounts(tp, fp, tn, fn)
    assert (report["TP"], report["FP"], report["TN"], report["FN"]) == (tp, fp, tn, fn)
    kw = {"zero_division": 0}
    expected = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "sensitivity": skm.recall_score(y_true, y_pred, **kw),
        "specificity": skm.recall_score(y_true, y_pred, pos_label=0, **kw),
        "ppv": skm.precision_score(y_true, y_pred, **kw),
        "npv": skm.precision_score(y_true, y_pred, pos_label=0, **kw),
        "f1": skm.f1_score(y_true, y_pred, **kw),
        "mcc": skm.matthews_corrcoef(y_true, y_pred),
        "auc": skm.roc_auc_score(y_true, y_score),
    }
    for key, value in expected.items():
        assert report[key] == pytest.approx(value, abs=1e-12), key
    torch_report = classification_report(
        torch.from_numpy(y_true), torch.from_numpy(y_score), threshold
    )
    assert torch_report == pytest.approx(report)


def test_deep_chest_metrics_table():
    """The evaluation table of Ibrahim, Elshennawy & Sarhan (2021), *Deep-Chest*, Computers in
    Biology and Medicine 132, 104348 (values in %, rounded as printed there).

    Some printed cells are averages over the table's classes rather than ratios of the pooled
    counts: row 3's PPV (96.06, while 246/256 = 96.09) and the whole of row 4 (NPV 97.8 while
    1502/1537 = 97.72, MCC 91.1 while the counts give 91.01); those are left out.
    """
    #        TP   FP   TN    FN   Recall PPV    SPC   NPV   F1     MCC
    table = [
        (251, 4, 764, 5, 98.05, 98.43, 99.5, 99.3, 98.24, 97.7),
        (244, 12, 756, 12, 95.31, 95.31, 98.4, 98.4, 95.31, 93.8),
        (246, 10, 758, 10, 96.09, None, 98.7, 98.7, 96.09, 94.8),
    ]
    for tp, fp, tn, fn, *printed in table:
        m = metrics_from_counts(tp, fp, tn, fn)
        ours = [m[k] * 100 for k in ("sensitivity", "ppv", "specificity", "npv", "f1", "mcc")]
        digits = [2, 2, 1, 1, 2, 1]
        for value, shown, d in zip(ours, printed, digits, strict=True):
            if shown is not None:
                assert abs(value - shown) <= 0.5 * 10**-d + 1e-9, (tp, value, shown)


def test_zero_division_follows_sklearn():
    y_true = np.array([0, 0, 1, 1])
    nothing_called = np.zeros(4)
    report = classification_report(y_true, nothing_called)
    assert report["ppv"] == skm.precision_score(y_true, nothing_called, zero_division=0) == 0.0
    assert report["mcc"] == skm.matthews_corrcoef(y_true, nothing_called) == 0.0
    assert report["auc"] == 0.5
    undefined = classification_report(y_true, nothing_called, zero_division=np.nan)
    assert math.isnan(undefined["ppv"]) and math.isnan(undefined["mcc"])
    assert undefined["sensitivity"] == 0.0 and undefined["specificity"] == 1.0
    healthy_only = classification_report(np.zeros(3), np.array([0.1, 0.2, 0.9]))
    assert math.isnan(healthy_only["auc"]) and healthy_only["sensitivity"] == 0.0
    assert healthy_only["specificity"] == pytest.approx(2 / 3)


def test_classification_errors():
    with pytest.raises(ValueError, match="y_true must be a binary"):
        confusion_counts([0, 2], [0, 1])
    with pytest.raises(ValueError, match="same shape"):
        confusion_counts([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="y_score contains NaN"):
        classification_report([0, 1], [0.2, np.nan])
    with pytest.raises(ValueError, match="empty"):
        classification_report(np.array([]), np.array([]))
    with pytest.raises(ValueError, match="FN must be a non-negative"):
        metrics_from_counts(1, 1, 1, -1)
    with pytest.raises(ValueError, match="all zero"):
        metrics_from_counts(0, 0, 0, 0)
    for function in (roc_curve, roc_auc):
        with pytest.raises(ValueError, match="both classes"):
            function([1, 1, 1], [0.2, 0.3, 0.4])


# ------------------------------------------------------------------ ROC
@settings(max_examples=40, deadline=None)
@given(labelled_scores)
def test_roc_matches_sklearn(data):
    y_true, y_score = data
    if y_true.all() or not y_true.any():
        y_true[:2] = [0, 1]
    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    sk_fpr, sk_tpr, sk_thresholds = skm.roc_curve(y_true, y_score, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_array_equal(thresholds, sk_thresholds)
    auc = roc_auc(y_true, y_score)
    assert auc == pytest.approx(skm.roc_auc_score(y_true, y_score))
    assert auc == pytest.approx(np.trapezoid(tpr, fpr))  # Mann-Whitney == trapezoid area


def test_roc_hand_computed():
    assert roc_auc([0, 1], [0.1, 0.9]) == 1.0
    assert roc_auc([0, 1], [0.9, 0.1]) == 0.0
    assert roc_auc([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    fpr, tpr, _ = roc_curve([0, 1, 1], [0.2, 0.7, 0.7])
    np.testing.assert_array_equal(fpr, [0, 0, 1])
    np.testing.assert_array_equal(tpr, [0, 1, 1])


# ------------------------------------------------------------------ bootstrap
def test_bootstrap_ci_deterministic_and_close_to_a_plain_loop():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, 150)
    y_score = y_true + rng.normal(0, 1.2, 150)
    first = bootstrap_ci(roc_auc, y_true, y_score, n=1000, seed=3)
    assert isinstance(first, BootstrapResult)
    assert first == bootstrap_ci(roc_auc, y_true, y_score, n=1000, seed=3)
    assert first == bootstrap_ci(roc_auc, y_true, y_score, n=1000, seed=np.random.default_rng(3))
    assert first != bootstrap_ci(roc_auc, y_true, y_score, n=1000, seed=4)
    assert first.estimate == pytest.approx(skm.roc_auc_score(y_true, y_score))
    assert first.low < first.estimate < first.high
    # the percentile bootstrap written out: resample the pairs, quantiles of the AUCs
    draws = np.random.default_rng(0).integers(0, 150, (2000, 150))
    aucs = [skm.roc_auc_score(y_true[i], y_score[i]) for i in draws]
    low, high = np.quantile(aucs, [0.025, 0.975])
    assert first.low == pytest.approx(low, abs=0.02) and first.high == pytest.approx(high, abs=0.02)
    narrower = bootstrap_ci(roc_auc, y_true, y_score, n=1000, seed=3, alpha=0.5)
    assert first.low < narrower.low < narrower.high < first.high


def test_bootstrap_ci_of_a_mean_is_the_normal_interval():
    # for the mean of n normal values the 95% interval is close to mean +- 1.96 s / sqrt(n)
    values = np.random.default_rng(2).normal(10.0, 2.0, 400)
    estimate, low, high = bootstrap_ci(lambda t, s: float(np.mean(s)), values, values, n=4000)
    half = 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    assert estimate == pytest.approx(values.mean())
    assert low == pytest.approx(values.mean() - half, abs=0.03)
    assert high == pytest.approx(values.mean() + half, abs=0.03)


def test_bootstrap_ci_errors_and_undefined_resamples():
    y_true, y_score = np.array([0, 1, 1, 0]), np.array([0.1, 0.8, 0.7, 0.3])
    with pytest.raises(ValueError, match="n must be"):
        bootstrap_ci(roc_auc, y_true, y_score, n=0)
    with pytest.raises(ValueError, match="alpha"):
        bootstrap_ci(roc_auc, y_true, y_score, alpha=1.5)
    with pytest.raises(ValueError, match="same length"):
        bootstrap_ci(roc_auc, y_true, y_score[:3])
    # one positive in 40: about a third of the resamples lack it and are left out
    rare = np.zeros(40, int)
    rare[0] = 1
    estimate, low, high = bootstrap_ci(roc_auc, rare, np.linspace(1, 0, 40), n=200)
    assert estimate == low == high == 1.0

    def only_on_the_full_data(t, s):
        if not np.array_equal(s, y_score):
            raise ValueError("undefined")
        return 0.5

    with pytest.raises(ValueError, match="undefined on"):
        bootstrap_ci(only_on_the_full_data, y_true, y_score, n=50)
    # a metric defined on every resample is never dropped
    estimate, low, high = bootstrap_ci(lambda t, s: float(np.mean(s)), y_true, y_score, n=300)
    assert low <= estimate <= high and estimate == pytest.approx(y_score.mean())
