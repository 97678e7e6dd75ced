"""course.detection against torchvision.ops, brute-force loops and hand-computed cases."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torchvision.ops as tvops
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage
from sklearn.metrics import average_precision_score

from course.detection import (
    CenterNetLoss,
    TinyCenterNet,
    anchor_grid,
    average_precision,
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    centernet_loss,
    centernet_targets,
    check_boxes,
    decode_centernet,
    froc_curve,
    froc_score,
    heatmap_focal_loss,
    interpolated_ap,
    lesion_boxes_dataset,
    mask_to_boxes,
    match_detections,
    nms,
    plot_froc,
    plot_pr_curve,
    precision_recall_curve,
    sensitivity_at,
    show_boxes,
)


# --------------------------------------------------------------------------- strategies
@st.composite
def box_arrays(draw, max_n=12, integer=False):
    """(N, 4) xyxy boxes, N from 0, with zero-width and zero-height boxes among them."""
    n = draw(st.integers(0, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if integer:  # small integer coordinates: many ties, touching and identical boxes
        xy = rng.integers(0, 8, size=(n, 2)).astype(float)
        wh = rng.integers(0, 5, size=(n, 2)).astype(float)
    else:
        xy = rng.uniform(-20, 50, size=(n, 2))
        wh = rng.uniform(0, 30, size=(n, 2)) * (rng.random((n, 2)) > 0.1)
    return np.concatenate([xy, xy + wh], axis=1)


def t(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


# --------------------------------------------------------------------------- boxes
@settings(max_examples=60, deadline=None)
@given(box_arrays(), box_arrays())
def test_box_iou_matches_torchvision(a, b):
    expected = tvops.box_iou(t(a), t(b)).numpy()
    got = box_iou(a, b)
    assert got.shape == (len(a), len(b))
    undefined = np.isnan(expected)  # 0/0: two boxes of zero area; ours is 0
    np.testing.assert_allclose(got[~undefined], expected[~undefined], rtol=1e-12, atol=1e-12)
    assert (got[undefined] == 0).all()
    assert ((0 <= got) & (got <= 1 + 1e-12)).all()


@settings(max_examples=40, deadline=None)
@given(box_arrays(integer=True), box_arrays(integer=True))
def test_box_iou_integer_boxes_with_ties_and_touching_edges(a, b):
    expected = np.nan_to_num(tvops.box_iou(t(a), t(b)).numpy(), nan=0.0)
    np.testing.assert_allclose(box_iou(a, b), expected, atol=1e-12)


def test_box_iou_by_hand():
    a = [[0, 0, 2, 2]]
    b = [[1, 1, 3, 3], [2, 0, 4, 2], [0, 0, 2, 2], [0, 0, 1, 1], [1, 1, 1, 1]]
    # overlap 1 of 4 + 4 - 1; touching edge; identical; inside (1/4); a point inside
    np.testing.assert_allclose(box_iou(a, b), [[1 / 7, 0.0, 1.0, 0.25, 0.0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 5)
    assert box_iou(a, []).shape == (1, 0)


def test_box_iou_accepts_tensors_and_float32():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    assert box_iou(a, a).dtype == np.float32
    assert box_iou(a.double(), [[0, 0, 2, 2]])[0, 0] == 1.0


@settings(max_examples=40, deadline=None)
@given(box_arrays())
def test_box_area_and_convert_match_torchvision(a):
    np.testing.assert_allclose(box_area(a), tvops.box_area(t(a)).numpy(), atol=1e-12)
    formats = ["xyxy", "xywh", "cxcywh"]
    for out_fmt in formats:
        converted = box_convert(a, "xyxy", out_fmt)
        expected = tvops.box_convert(t(a), "xyxy", out_fmt).numpy()
        np.testing.assert_allclose(converted, expected, atol=1e-12)
        for other in formats:  # from every format to every format
            np.testing.assert_allclose(
                box_convert(converted, out_fmt, other),
                tvops.box_convert(t(expected), out_fmt, other).numpy(),
                atol=1e-9,
            )
        np.testing.assert_allclose(box_convert(converted, out_fmt, "xyxy"), a, atol=1e-9)


def test_box_convert_does_not_modify_its_input():
    a = np.array([[1.0, 2.0, 5.0, 8.0]])
    box_convert(a, "xyxy", "cxcywh")
    np.testing.assert_array_equal(a, [[1.0, 2.0, 5.0, 8.0]])


@pytest.mark.parametrize(
    "value, error, match",
    [
        ([[0, 0, 1]], ValueError, r"boxes must have shape \(N, 4\)"),
        (np.zeros((2, 2, 4)), ValueError, r"shape \(N, 4\)"),
        ([[2, 0, 1, 1]], ValueError, "x1 <= x2"),
        ([[0, 3, 1, 1]], ValueError, "box 0"),
        ([[0, 0, np.nan, 1]], ValueError, "NaN"),
        ([["a", "b", "c", "d"]], TypeError, "real numbers"),
        ([[True, False, True, True]], TypeError, "real numbers"),
        ({"x": 1}, TypeError, "boxes must be"),
    ],
)
def test_check_boxes_rejects_bad_input(value, error, match):
    with pytest.raises(error, match=match):
        check_boxes(value)


def test_bad_formats_and_arguments_are_named():
    with pytest.raises(ValueError, match="in_fmt must be one of"):
        box_convert([[0, 0, 1, 1]], "xyzw", "xyxy")
    with pytest.raises(ValueError, match="out_fmt"):
        box_convert([[0, 0, 1, 1]], "xyxy", "yolo")
    with pytest.raises(ValueError, match="non-negative w and h"):
        box_convert([[0, 0, -1, 1]], "xywh", "xyxy")
    with pytest.raises(ValueError, match="boxes2"):
        box_iou([[0, 0, 1, 1]], [[1, 1, 0, 0]])


def test_anchor_grid_against_a_loop():
    sizes, ratios, stride = (4.0, 8.0), (0.5, 1.0, 2.0), 4
    got = anchor_grid((3, 2), stride, sizes, ratios)
    expected = []
    for i in range(3):
        for j in range(2):
            cx, cy = stride * j + stride / 2, stride * i + stride / 2
            for s in sizes:
                for r in ratios:
                    w, h = math.sqrt(s * s / r), math.sqrt(s * s * r)
                    expected.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    np.testing.assert_allclose(got, expected)
    np.testing.assert_allclose(box_area(got), np.tile(np.repeat([16.0, 64.0], 3), 6))
    with pytest.raises(ValueError, match="sizes"):
        anchor_grid((2, 2), 4, sizes=(0.0,))
    with pytest.raises(TypeError, match="feature_shape"):
        anchor_grid(3, 4)


# --------------------------------------------------------------------------- NMS
@settings(max_examples=80, deadline=None)
@given(
    box_arrays(max_n=25, integer=True),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 1.0]),
)
def test_nms_matches_torchvision_with_ties(boxes, seed, threshold):
    scores = np.random.default_rng(seed).integers(0, 4, size=len(boxes)) / 4  # many ties
    expected = tvops.nms(t(boxes), t(scores), threshold).numpy()
    got = nms(boxes, scores, threshold)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(box_arrays(max_n=30), st.integers(0, 2**32 - 1), st.floats(0, 1))
def test_nms_and_batched_nms_match_torchvision(boxes, seed, threshold):
    rng = np.random.default_rng(seed)
    scores, labels = rng.random(len(boxes)), rng.integers(0, 3, size=len(boxes))
    np.testing.assert_array_equal(
        nms(boxes, scores, threshold), tvops.nms(t(boxes), t(scores), threshold).numpy()
    )
    expected = tvops.batched_nms(t(boxes), t(scores), torch.as_tensor(labels), threshold)
    np.testing.assert_array_equal(batched_nms(boxes, scores, labels, threshold), expected.numpy())


def test_nms_by_hand_and_empty_input():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [21, 20, 31, 30]]
    scores = [0.6, 0.9, 0.8, 0.7]
    np.testing.assert_array_equal(nms(boxes, scores, 0.5), [1, 2])  # kept by decreasing score
    np.testing.assert_array_equal(nms(boxes, scores, 0.9), [1, 2, 3, 0])
    assert nms(np.zeros((0, 4)), [], 0.5).shape == (0,)
    assert batched_nms(np.zeros((0, 4)), [], np.zeros(0, int), 0.5).shape == (0,)
    same = [[0, 0, 4, 4]] * 3
    np.testing.assert_array_equal(nms(same, [0.5, 0.5, 0.5], 0.5), [0])  # ties: input order


def test_nms_bad_input():
    with pytest.raises(ValueError, match=r"scores must have shape \(2,\)"):
        nms([[0, 0, 1, 1], [0, 0, 2, 2]], [0.5], 0.5)
    with pytest.raises(ValueError, match="iou_threshold"):
        nms([[0, 0, 1, 1]], [0.5], 1.5)
    with pytest.raises(TypeError, match="iou_threshold"):
        nms([[0, 0, 1, 1]], [0.5], "0.5")
    with pytest.raises(TypeError, match="labels must hold integers"):
        batched_nms([[0, 0, 1, 1]], [0.5], [0.5], 0.5)
    with pytest.raises(ValueError, match="labels must have shape"):
        batched_nms([[0, 0, 1, 1]], [0.5], [0, 1], 0.5)


# --------------------------------------------------------------------------- evaluation
def brute_force_ap(boxes, scores, gts, iou_threshold):
    """All-point AP, written independently: at every distinct threshold, keep the detections
    scoring at least that much, match them from scratch, and integrate the interpolated
    precision over the recall levels with explicit loops.
    """
    n_gt = sum(len(g) for g in gts)
    points = []  # (recall, precision) at each threshold
    for threshold in sorted({float(s) for image in scores for s in image}, reverse=True):
        tp = fp = 0
        for b, s, g in zip(boxes, scores, gts, strict=True):
            kept = [k for k in sorted(range(len(s)), key=lambda k: -s[k]) if s[k] >= threshold]
            free = list(range(len(g)))
            for k in kept:
                ious = [(float(tvops.box_iou(t([b[k]]), t([g[m]]))[0, 0]), m) for m in free]
                best = max(ious, default=(-1.0, None))
                if best[0] >= iou_threshold:
                    free.remove(best[1])
                    tp += 1
                else:
                    fp += 1
        points.append((tp / n_gt, tp / (tp + fp)))
    ap, previous = 0.0, 0.0
    for r in sorted({r for r, _ in points}):
        best_precision = max(p for rr, p in points if rr >= r)
        ap += (r - previous) * best_precision
        previous = r
    return ap


def random_boxes(rng, n, centre, size):
    cxcywh = np.c_[rng.uniform(*centre, size=(n, 2)), rng.uniform(*size, size=(n, 2))]
    return box_convert(cxcywh, "cxcywh", "xyxy")


@st.composite
def detection_sets(draw):
    """Images with ground-truth boxes and noisy detections around them, distinct scores."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_images = int(rng.integers(1, 5))
    boxes, scores, gts = [], [], []
    for _ in range(n_images):
        g = random_boxes(rng, int(rng.integers(0, 4)), centre=(10, 50), size=(3, 10))
        near = g[rng.integers(0, len(g), size=int(rng.integers(0, 5)))] if len(g) else g[:0]
        near = near + rng.normal(0, 1.5, near.shape)
        near[:, 2:] = np.maximum(near[:, 2:], near[:, :2])
        far = random_boxes(rng, int(rng.integers(0, 3)), centre=(0, 60), size=(2, 8))
        b = np.concatenate([near, far])
        boxes.append(b)
        scores.append(rng.random(len(b)))
        gts.append(g)
    if sum(len(g) for g in gts) == 0:
        gts[0] = np.array([[0.0, 0.0, 5.0, 5.0]])
    return boxes, scores, gts


@settings(max_examples=40, deadline=None)
@given(detection_sets(), st.sampled_from([0.1, 0.3, 0.5, 0.7]))
def test_average_precision_matches_a_brute_force_implementation(data, threshold):
    boxes, scores, gts = data
    expected = brute_force_ap(boxes, scores, gts, threshold)
    assert average_precision(boxes, scores, gts, threshold) == pytest.approx(expected, abs=1e-12)


def test_average_precision_by_hand():
    gt = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([[0, 0, 10, 10]])]
    boxes = [
        np.array([[0, 0, 10, 10], [40, 40, 50, 50], [20, 20, 30, 30]]),
        np.array([[0, 0, 10, 10], [1, 1, 11, 11]]),
    ]
    scores = [np.array([0.9, 0.8, 0.6]), np.array([0.7, 0.5])]
    # by score: TP (0.9), FP (0.8), TP (0.7), TP (0.6), FP duplicate (0.5); G = 3
    precision, recall, thresholds = precision_recall_curve(boxes, scores, gt)
    np.testing.assert_allclose(precision, [1, 1 / 2, 2 / 3, 3 / 4, 3 / 5])
    np.testing.assert_allclose(recall, [1 / 3, 1 / 3, 2 / 3, 1, 1])
    np.testing.assert_allclose(thresholds, [0.9, 0.8, 0.7, 0.6, 0.5])
    # all-point: 1/3 * 1 + 1/3 * 3/4 + 1/3 * 3/4
    assert average_precision(boxes, scores, gt) == pytest.approx((1 + 0.75 + 0.75) / 3)
    # 11-point: recalls 0..0.3 -> 1 (4 levels), 0.4..1.0 -> 3/4 (7 levels)
    assert average_precision(boxes, scores, gt, method="11-point") == pytest.approx(
        (4 + 7 * 0.75) / 11
    )
    # 101-point: recalls 0..0.33 -> 1 (34 levels), 0.34..1 -> 3/4 (67 levels)
    assert average_precision(boxes, scores, gt, method="101-point") == pytest.approx(
        (34 + 67 * 0.75) / 101
    )


def test_average_precision_agrees_with_sklearn_when_interpolation_changes_nothing():
    # every lesion is found once, and the precision at each hit never rises later: then the
    # detection AP is sklearn's step-wise AP over the detections (true positive = 1)
    gt = [np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10]]), np.array([[5, 5, 9, 9]])]
    hit, miss = [0, 0, 10, 10], [30, 30, 40, 40]
    boxes = [np.array([hit, miss]), np.array([miss, hit]), np.array([[5, 5, 9, 9], miss])]
    scores = [np.array([0.95, 0.9]), np.array([0.8, 0.6]), np.array([0.85, 0.2])]
    labels = np.concatenate(
        [match_detections(b, s, g) for b, s, g in zip(boxes, scores, gt, strict=True)]
    )
    sk = average_precision_score(labels, np.concatenate(scores))
    assert average_precision(boxes, scores, gt) == pytest.approx(sk)


def test_equal_scores_are_counted_together():
    gt = [np.array([[0, 0, 10, 10]])]
    boxes = [np.array([[0, 0, 10, 10], [30, 30, 40, 40]])]
    for scores in ([0.5, 0.5], [0.5, 0.5][::-1]):
        precision, recall, thresholds = precision_recall_curve(boxes, [np.array(scores)], gt)
        np.testing.assert_allclose([precision, recall, thresholds], [[0.5], [1.0], [0.5]])


def test_match_detections_greedy_by_score():
    gt = np.array([[0, 0, 10, 10], [8, 0, 18, 10]])
    # the best detection overlaps both; it takes the one with the higher IoU
    boxes = np.array([[7, 0, 17, 10], [0, 0, 9, 10], [50, 50, 60, 60]])
    np.testing.assert_array_equal(match_detections(boxes, [0.9, 0.8, 0.7], gt), [1, 1, 0])
    # a lower threshold than the IoU of the second detection with its box
    iou = box_iou(boxes[1:2], gt[:1])[0, 0]
    assert not match_detections(boxes[1:2], [0.5], gt[:1], iou_threshold=iou + 1e-9)[0]
    assert match_detections(boxes[1:2], [0.5], gt[:1], iou_threshold=iou)[0]  # ">=": a match
    assert match_detections(np.zeros((0, 4)), [], gt).shape == (0,)
    assert not match_detections(boxes, [0.9, 0.8, 0.7], np.zeros((0, 4))).any()


def test_no_detection_and_no_lesion():
    gt = [np.array([[0, 0, 4, 4]]), np.zeros((0, 4))]
    empty = [np.zeros((0, 4)), np.zeros((0, 4))]
    assert average_precision(empty, [np.zeros(0), np.zeros(0)], gt) == 0.0
    fp, sens, _ = froc_curve(empty, [np.zeros(0), np.zeros(0)], gt)
    assert fp.size == sens.size == 0
    with pytest.raises(ValueError, match="no box in any image"):
        average_precision(empty, [np.zeros(0), np.zeros(0)], [np.zeros((0, 4))] * 2)


def test_froc_by_hand():
    gt = [
        np.array([[0, 0, 10, 10]]),
        np.array([[0, 0, 10, 10], [20, 20, 30, 30]]),
        np.zeros((0, 4)),
    ]
    boxes = [
        np.array([[0, 0, 10, 10], [40, 40, 50, 50]]),
        np.array([[20, 20, 30, 30]]),
        np.array([[5, 5, 9, 9], [15, 15, 19, 19]]),
    ]
    scores = [np.array([0.9, 0.6]), np.array([0.8]), np.array([0.7, 0.3])]
    # by score: TP, TP, FP, FP, FP; 3 images, G = 3
    fp, sens, thresholds = froc_curve(boxes, scores, gt)
    np.testing.assert_allclose(fp, [0, 0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(sens, [1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(thresholds, [0.9, 0.8, 0.7, 0.6, 0.3])
    np.testing.assert_allclose(sensitivity_at(fp, sens, [0, 0.125, 8]), [2 / 3] * 3)
    assert froc_score(boxes, scores, gt) == pytest.approx(2 / 3)


def test_sensitivity_at_is_a_step_function():
    fp, sens = [0.5, 1.0, 3.0], [0.2, 0.6, 0.8]
    np.testing.assert_allclose(
        sensitivity_at(fp, sens, [0.1, 0.5, 0.9, 1.0, 2.9, 3.0, 100]),
        [0.0, 0.2, 0.2, 0.6, 0.6, 0.8, 0.8],
    )
    with pytest.raises(ValueError, match="fp_rates"):
        sensitivity_at(fp, sens, [-1])
    with pytest.raises(ValueError, match="one length"):
        sensitivity_at(fp, sens[:2], [1])


def test_interpolated_ap_checks_its_input():
    assert interpolated_ap([], []) == 0.0
    with pytest.raises(ValueError, match="non-decreasing"):
        interpolated_ap([1.0, 1.0], [0.5, 0.2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        interpolated_ap([1.5], [0.5])
    with pytest.raises(ValueError, match="method must be one of"):
        interpolated_ap([1.0], [1.0], method="voc")


def test_evaluation_bad_input_names_the_argument():
    gt = [np.array([[0, 0, 1, 1]])]
    with pytest.raises(TypeError, match=r"boxes must be a list.*wrap it"):
        average_precision(np.array([[0, 0, 1, 1]]), [np.array([0.5])], gt)
    with pytest.raises(ValueError, match="one entry per image"):
        average_precision([np.array([[0, 0, 1, 1]])], [np.array([0.5])], gt * 2)
    with pytest.raises(ValueError, match=r"scores\[0\] must have shape \(1,\)"):
        average_precision([np.array([[0, 0, 1, 1]])], [np.array([0.5, 0.2])], gt)
    with pytest.raises(ValueError, match=r"gt_boxes\[0\]"):
        average_precision([np.array([[0, 0, 1, 1]])], [np.array([0.5])], [np.array([[1, 1, 0, 0]])])
    with pytest.raises(ValueError, match="iou_threshold"):
        froc_score([np.array([[0, 0, 1, 1]])], [np.array([0.5])], gt, iou_threshold=-0.1)


# --------------------------------------------------------------------------- data
def brute_force_boxes(mask):
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    boxes = []
    for k in range(1, count + 1):
        rows, cols = np.nonzero(labels == k)
        boxes.append([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
    return np.array(boxes, float).reshape(-1, 4)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 12))
def test_mask_to_boxes_against_a_loop(seed, h, w):
    mask = np.random.default_rng(seed).random((h, w)) > 0.7
    np.testing.assert_array_equal(mask_to_boxes(mask), brute_force_boxes(mask))


def test_dataset_boxes_enclose_their_lesions_tightly():
    data = lesion_boxes_dataset(6, size=48, seed=3, n_lesions=(1, 3))
    assert data.images.shape == (6, 1, 48, 48) and data.images.dtype == torch.float32
    assert 0 <= float(data.images.min()) and float(data.images.max()) <= 1
    for boxes, mask in zip(data.boxes, data.masks, strict=True):
        assert 1 <= len(boxes) <= 3
        inside = np.zeros_like(mask)
        for c0, r0, c1, r1 in boxes.astype(int):
            part = mask[r0:r1, c0:c1]
            inside[r0:r1, c0:c1] = True
            # tight: the first and last row and column of each box hold lesion pixels
            assert part[0].any() and part[-1].any() and part[:, 0].any() and part[:, -1].any()
        assert not (mask & ~inside).any()  # every lesion pixel is in a box
    again = lesion_boxes_dataset(6, size=48, seed=3, n_lesions=(1, 3))
    assert torch.equal(again.images, data.images)


def test_mask_to_boxes_bad_input():
    with pytest.raises(ValueError, match="2D"):
        mask_to_boxes(np.zeros((2, 3, 4), bool))
    with pytest.raises(ValueError, match="binary"):
        mask_to_boxes(np.full((3, 3), 0.5))
    assert mask_to_boxes(np.zeros((4, 4))).shape == (0, 4)


# --------------------------------------------------------------------------- CenterNet
def test_targets_decode_back_to_the_boxes():
    boxes = [np.array([[3.0, 5.0, 9.0, 8.0], [20.0, 20.0, 25.0, 29.0]]), np.zeros((0, 4))]
    target = centernet_targets(boxes, (32, 40))
    assert target.shape == (2, 6, 16, 20)
    assert target[1].abs().sum() == 0 and target[0, 5].sum() == 2
    assert float(target[0, 0].max()) == 1.0
    output = target[:, :5].clone()
    output[:, 0] = torch.logit(target[:, 0].clamp(1e-6, 1 - 1e-6))
    decoded, scores = decode_centernet(output, threshold=0.5)
    order = np.argsort(decoded[0][:, 0])
    np.testing.assert_allclose(decoded[0][order], boxes[0], atol=1e-5)
    assert decoded[1].shape == (0, 4) and scores[1].shape == (0,)


def test_heatmap_focal_loss_by_hand():
    logits = torch.tensor([[[2.0, -1.0]]])
    heat = torch.tensor([[[1.0, 0.5]]])
    centres = torch.tensor([[[1.0, 0.0]]])
    p = torch.sigmoid(logits)[0, 0]
    expected = -((1 - p[0]) ** 2 * torch.log(p[0]) + 0.5**4 * p[1] ** 2 * torch.log(1 - p[1]))
    assert float(heatmap_focal_loss(logits, heat, centres)) == pytest.approx(float(expected))
    # without centres the sum is divided by 1
    assert float(heatmap_focal_loss(logits, heat, torch.zeros_like(centres))) > 0
    with pytest.raises(ValueError, match="one shape"):
        heatmap_focal_loss(logits, heat[..., :1], centres)


def test_centernet_loss_terms():
    target = centernet_targets([np.array([[2.0, 2.0, 8.0, 6.0]])], 16)
    perfect = target[:, :5].clone()
    perfect[:, 0] = torch.where(target[:, 5] > 0, 20.0, -20.0)
    assert float(centernet_loss(perfect, target)) < 1e-6
    shifted = perfect.clone()
    shifted[:, 3:5] += 1.0  # sizes off by one cell each: L1 = 2 at one centre, times 0.1
    assert float(centernet_loss(shifted, target)) == pytest.approx(0.2, abs=1e-5)
    assert float(centernet_loss(shifted, target, size_weight=1.0)) == pytest.approx(2.0, abs=1e-5)
    with pytest.raises(ValueError, match=r"\(N, 5, h, w\)"):
        centernet_loss(target, target)


def test_a_few_training_steps_lower_the_loss():
    torch.manual_seed(0)
    data = lesion_boxes_dataset(8, size=32, seed=0, n_lesions=(1, 2))
    target = centernet_targets(data.boxes, 32)
    model = TinyCenterNet(width=8)
    assert model(data.images).shape == (8, 5, 16, 16)
    loss_fn, optimizer = CenterNetLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        loss = loss_fn(model(data.images), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_decode_limits_and_bad_input():
    output = torch.full((1, 5, 8, 8), -10.0)
    output[0, 0, ::3, ::3] = torch.linspace(1, 3, 9).reshape(3, 3)  # 9 separate peaks
    boxes, scores = decode_centernet(output, max_detections=4)
    assert len(boxes[0]) == 4 and np.all(np.diff(scores[0]) <= 0)
    output[0, 3:5] = -1.0  # negative sizes become empty boxes, never invalid ones
    boxes, _ = decode_centernet(output)
    check_boxes(boxes[0])
    with pytest.raises(TypeError, match="torch.Tensor"):
        decode_centernet(output.numpy())
    with pytest.raises(ValueError, match=r"\(N, 5, h, w\)"):
        decode_centernet(output[:, :4])
    with pytest.raises(ValueError, match="threshold"):
        decode_centernet(output, threshold=1.0)


def test_targets_bad_input():
    with pytest.raises(ValueError, match="divisible"):
        centernet_targets([np.zeros((0, 4))], 33)
    with pytest.raises(ValueError, match="outside"):
        centernet_targets([np.array([[40.0, 0.0, 50.0, 4.0]])], 32)
    with pytest.raises(TypeError, match="one \\(K, 4\\) array per image"):
        centernet_targets(np.zeros((1, 4)), 32)
    with pytest.raises(ValueError, match="width"):
        TinyCenterNet(width=0)


# --------------------------------------------------------------------------- plots
def test_plots_draw_what_they_are_given():
    ax = show_boxes(torch.zeros(1, 8, 8), [[1, 1, 4, 3], [0, 0, 2, 2]], [0.9, 0.3], [[1, 1, 4, 4]])
    assert len(ax.patches) == 3 and len(ax.texts) == 2
    rect = ax.patches[0]  # drawn around the pixels: half a pixel before the first one
    assert rect.get_xy() == (0.5, 0.5) and rect.get_width() == 3
    with pytest.raises(ValueError, match="scores"):
        show_boxes(np.zeros((8, 8)), [[1, 1, 4, 3]], [0.9, 0.3])
    fig, axes = plt.subplots(1, 2)
    plot_pr_curve([1.0, 0.5, 2 / 3], [0.5, 0.5, 1.0], ax=axes[0], label="toy")
    plot_froc([0.0, 0.5, 2.0], [0.4, 0.7, 0.9], ax=axes[1], label="toy")
    assert axes[1].get_xscale() == "log" and len(axes[1].lines) == 2
    plt.close("all")
