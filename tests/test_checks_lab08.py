"""The visible and hidden checks of lab08 accept correct answers and reject typical mistakes."""

import numpy as np
import pytest
import torch
import torchvision.ops as tvops
from cheats import always_equal, hidden_checks

from course import detection
from course.checks import lab08 as visible

hidden = hidden_checks("lab08")

MODULES = [pytest.param(visible, id="visible"), pytest.param(hidden, id="hidden")]


def t(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


# --- correct answers: the library, torchvision, and plain implementations -------------------
def convert_lib(boxes):
    return detection.box_convert(boxes, "cxcywh", "xyxy")


def convert_torch(boxes):
    return tvops.box_convert(t(boxes), "cxcywh", "xyxy")  # a tensor: accepted


def convert_plain(boxes):
    cx, cy, w, h = boxes.T
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def iou_torch(a, b):
    return torch.nan_to_num(tvops.box_iou(t(a), t(b)), nan=0.0)


def iou_loops(a, b):
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - w * h
            out[i, j] = w * h / union if union > 0 else 0.0
    return out


def nms_torch(boxes, scores, iou_threshold):
    return tvops.nms(t(boxes), t(scores), iou_threshold)


def nms_plain(boxes, scores, iou_threshold):
    order = list(np.argsort(-scores, kind="stable"))
    keep = []
    while order:
        best, order = order[0], order[1:]
        keep.append(best)
        order = [k for k in order if iou_loops(boxes[[best]], boxes[[k]])[0, 0] <= iou_threshold]
    return keep  # a list: accepted


def ap_plain(boxes, scores, gt_boxes, iou_threshold=0.5):
    hits, all_scores = [], []
    for b, s, g in zip(boxes, scores, gt_boxes, strict=True):
        free = np.ones(len(g), bool)
        for k in np.argsort(-s):
            iou = iou_loops(b[[k]], g)[0] if len(g) else np.zeros(0)
            iou[~free] = -1
            hit = len(g) > 0 and iou.max() >= iou_threshold
            if hit:
                free[iou.argmax()] = False
            hits.append(hit)
            all_scores.append(s[k])
    hits = np.array(hits, bool)[np.argsort(-np.array(all_scores))]
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    recall = tp / sum(len(g) for g in gt_boxes)
    ap, previous = 0.0, 0.0
    for k in range(len(hits)):
        ap += (recall[k] - previous) * precision[k:].max()
        previous = recall[k]
    return ap


CORRECT = {
    "q1_cxcywh_to_xyxy": [convert_lib, convert_torch, convert_plain],
    "q2_box_iou": [detection.box_iou, iou_torch, iou_loops],
    "q3_nms": [detection.nms, nms_torch, nms_plain],
    "q4_average_precision": [detection.average_precision, ap_plain],
}


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize(
    "name, answer", [(name, answer) for name, answers in CORRECT.items() for answer in answers]
)
def test_accepts_correct_answers(module, name, answer):
    getattr(module, name)(answer)


# --- typical mistakes ------------------------------------------------------------------------
def convert_to_xywh(boxes):
    return detection.box_convert(boxes, "cxcywh", "xywh")


def convert_full_width(boxes):
    return np.c_[boxes[:, :2] - boxes[:, 2:], boxes[:, :2] + boxes[:, 2:]]


def convert_in_place(boxes):
    boxes[:, :2] -= boxes[:, 2:] / 2
    boxes[:, 2:] += boxes[:, :2]
    return boxes


def iou_no_clip(a, b):
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(br - tl, axis=-1)
    area_a, area_b = np.prod(a[:, 2:] - a[:, :2], 1), np.prod(b[:, 2:] - b[:, :2], 1)
    return inter / (area_a[:, None] + area_b[None] - inter)


def iou_plus_one(a, b):
    return iou_loops(a + [0, 0, 1, 1], b + [0, 0, 1, 1])


def iou_transposed(a, b):
    return iou_loops(b, a)


def iou_nan(a, b):
    return tvops.box_iou(t(a), t(b))  # NaN for two zero-area boxes


def iou_over_first(a, b):
    out = iou_loops(a, b)
    return out * 0 + np.where(out > 0, out * 1.01, 0)


def nms_index_order(boxes, scores, iou_threshold):
    return np.sort(detection.nms(boxes, scores, iou_threshold))


def nms_greater_equal(boxes, scores, iou_threshold):
    return detection.nms(boxes, scores, max(iou_threshold - 1e-9, 0.0))


def nms_removed_also_suppress(boxes, scores, iou_threshold):
    order = np.argsort(-scores, kind="stable")
    iou = iou_loops(boxes, boxes)
    return [k for i, k in enumerate(order) if not any(iou[k, j] > iou_threshold for j in order[:i])]


def nms_no_sort(boxes, scores, iou_threshold):
    keep = []
    for k in range(len(boxes)):
        if all(iou_loops(boxes[[k]], boxes[[j]])[0, 0] <= iou_threshold for j in keep):
            keep.append(k)
    return keep


def ap_no_interpolation(boxes, scores, gt_boxes, iou_threshold=0.5):
    return visible._step_ap(boxes, scores, gt_boxes, iou_threshold)


def ap_recall_by_found(boxes, scores, gt_boxes, iou_threshold=0.5):
    return visible._found_only_ap(boxes, scores, gt_boxes, iou_threshold)


def ap_pooled(boxes, scores, gt_boxes, iou_threshold=0.5):
    return visible._pooled_ap(boxes, scores, gt_boxes, iou_threshold)


def ap_fixed_threshold(boxes, scores, gt_boxes, iou_threshold=0.5):
    return detection.average_precision(boxes, scores, gt_boxes, 0.5)


def ap_duplicates_count(boxes, scores, gt_boxes, iou_threshold=0.5):
    """Every detection overlapping a lesion is a hit, even a second one."""
    hits = []
    for b, g in zip(boxes, gt_boxes, strict=True):
        iou = detection.box_iou(b, g)
        hits.append(iou.max(axis=1) >= iou_threshold if len(g) else np.zeros(len(b), bool))
    hits = np.concatenate(hits)[np.argsort(-np.concatenate(scores), kind="stable")]
    n_gt = sum(len(g) for g in gt_boxes)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return detection.interpolated_ap(precision, np.minimum(np.cumsum(hits) / n_gt, 1.0))


def ap_101(boxes, scores, gt_boxes, iou_threshold=0.5):
    return detection.average_precision(boxes, scores, gt_boxes, iou_threshold, "101-point")


WRONG = {
    "q1_cxcywh_to_xyxy": [convert_to_xywh, convert_full_width, convert_in_place, always_equal],
    "q2_box_iou": [
        iou_no_clip,
        iou_plus_one,
        iou_transposed,
        iou_nan,
        iou_over_first,
        always_equal,
    ],
    "q3_nms": [
        nms_index_order,
        nms_greater_equal,
        nms_removed_also_suppress,
        nms_no_sort,
        always_equal,
    ],
    "q4_average_precision": [
        ap_no_interpolation,
        ap_recall_by_found,
        ap_pooled,
        ap_fixed_threshold,
        ap_duplicates_count,
        ap_101,
        always_equal,
    ],
}


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize(
    "name, answer", [(name, answer) for name, answers in WRONG.items() for answer in answers]
)
def test_rejects_wrong_answers(module, name, answer):
    with pytest.raises(AssertionError):
        getattr(module, name)(answer)


def test_messages_teach():
    with pytest.raises(AssertionError, match="xywh format"):
        visible.q1_cxcywh_to_xyxy(convert_to_xywh)
    with pytest.raises(AssertionError, match="twice too large"):
        visible.q1_cxcywh_to_xyxy(convert_full_width)
    with pytest.raises(AssertionError, match="must not be modified"):
        visible.q1_cxcywh_to_xyxy(convert_in_place)
    with pytest.raises(AssertionError, match="clip the width"):
        visible.q2_box_iou(iou_no_clip)
    with pytest.raises(AssertionError, match=r"you returned \(M, N\)"):
        visible.q2_box_iou(iou_transposed)
    with pytest.raises(AssertionError, match="NaN"):
        visible.q2_box_iou(iou_nan)
    with pytest.raises(AssertionError, match="by decreasing score"):
        visible.q3_nms(nms_index_order)
    with pytest.raises(AssertionError, match="greater than the threshold"):
        visible.q3_nms(nms_greater_equal)
    with pytest.raises(AssertionError, match="a removed box removes nothing"):
        visible.q3_nms(nms_removed_also_suppress)
    with pytest.raises(AssertionError, match="not interpolated"):
        visible.q4_average_precision(ap_no_interpolation)
    with pytest.raises(AssertionError, match="all the ground-truth boxes"):
        visible.q4_average_precision(ap_recall_by_found)
    with pytest.raises(AssertionError, match="that image's ground truth"):
        visible.q4_average_precision(ap_pooled)


def test_hidden_rejects_answers_that_modify_their_input():
    with pytest.raises(AssertionError, match="must not be modified"):
        hidden.q1_cxcywh_to_xyxy(convert_in_place)


def test_unfinished_answer_raises_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for module in (visible, hidden):
        for name in CORRECT:
            with pytest.raises(NotImplementedError):
                getattr(module, name)(stub)


def test_the_example_of_the_task_is_what_the_notebook_says():
    assert detection.average_precision(*visible.toy_detections()) == pytest.approx(2.5 / 3)


@pytest.mark.parametrize("module", MODULES)
def test_tampering_is_refused(module, monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    with pytest.raises(AssertionError, match="replaced"):
        module.q2_box_iou(detection.box_iou)


def test_hidden_notices_a_replaced_torchvision(monkeypatch):
    monkeypatch.setattr(tvops, "box_iou", lambda a, b: torch.zeros(len(a), len(b)))
    with pytest.raises(AssertionError, match="torchvision.ops.box_iou was replaced"):
        hidden.q2_box_iou(iou_loops)
