"""The visible and hidden checks of lab06 accept correct answers and reject typical mistakes."""

import numpy as np
import pytest
import torch
from cheats import AlwaysEqual, always_equal, hidden_checks
from sklearn.metrics import f1_score, jaccard_score
from torch import nn

from course import losses, metrics
from course.checks import lab06 as visible
from course.models import UNet

hidden = hidden_checks("lab06")

MODULES = [pytest.param(visible, id="visible"), pytest.param(hidden, id="hidden")]


# --- correct answers -------------------------------------------------------------------------
def _flat(mask):
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    return np.asarray(mask)


def _sklearn_metric(score):
    def metric(pred, target):
        p, t = _flat(pred).astype(bool), _flat(target).astype(bool)
        if p.shape != t.shape:
            raise ValueError("shapes differ")
        if not p.any() and not t.any():
            return 1.0
        return score(t.ravel(), p.ravel())

    return metric


def iou_torch(pred, target):
    p = torch.as_tensor(_flat(pred)).bool()
    t = torch.as_tensor(_flat(target)).bool()
    if p.shape != t.shape:
        raise ValueError(f"different shapes {p.shape} and {t.shape}")
    union = (p | t).sum()
    return torch.tensor(1.0) if union == 0 else (p & t).sum() / union  # a 0-d tensor is fine


def soft_dice_loops(logits, target, smooth=1.0):
    terms = []
    for n in range(logits.shape[0]):
        p = torch.sigmoid(logits[n]).flatten()
        g = target[n].flatten()
        terms.append((2 * (p * g).sum() + smooth) / (p.sum() + g.sum() + smooth))
    return 1 - torch.stack(terms).mean()


def soft_dice_library(logits, target, smooth=1.0):
    return losses.soft_dice_loss(logits, target, smooth=smooth)


def predict_masks(model, images, threshold=0.5):
    model.eval()
    with torch.no_grad():
        return (torch.sigmoid(model(images)) > threshold).cpu()


def predict_masks_numpy(model, images, threshold=0.5):
    model.eval()
    with torch.no_grad():
        logits = model(images).numpy()
    return 1 / (1 + np.exp(-logits)) > threshold


CORRECT = [
    ("q1_iou", metrics.iou),
    ("q1_iou", _sklearn_metric(jaccard_score)),
    ("q1_iou", iou_torch),
    ("q2_dice", metrics.dice),
    ("q2_dice", _sklearn_metric(f1_score)),
    ("q3_soft_dice_loss", soft_dice_loops),
    ("q3_soft_dice_loss", soft_dice_library),
    ("q4_predict_masks", predict_masks),
    ("q4_predict_masks", predict_masks_numpy),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", CORRECT)
def test_correct_answers_pass(module, name, answer):
    getattr(module, name)(answer)


# --- wrong answers ---------------------------------------------------------------------------
def iou_nan_when_empty(pred, target):
    p, t = _flat(pred).astype(bool), _flat(target).astype(bool)
    if p.shape != t.shape:
        raise ValueError
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.sum(p & t) / np.float64(np.sum(p | t)))


def iou_zero_when_empty(pred, target):
    value = metrics.iou(pred, target)
    return 0.0 if not _flat(pred).any() and not _flat(target).any() else value


def iou_no_shape_check(pred, target):
    return metrics.iou(_flat(pred).ravel(), _flat(target).ravel())


def iou_broadcasting(pred, target):
    p, t = _flat(pred).astype(bool), _flat(target).astype(bool)
    union = np.sum(p | t)
    return 1.0 if union == 0 else float(np.sum(p & t) / union)


def iou_union_as_sum(pred, target):  # |P| + |G| instead of |P u G|
    p, t = _flat(pred).astype(bool), _flat(target).astype(bool)
    if p.shape != t.shape:
        raise ValueError
    total = p.sum() + t.sum()
    return 1.0 if total == 0 else float((p & t).sum() / total)


def iou_is_dice(pred, target):
    return metrics.dice(pred, target)


def dice_is_iou(pred, target):
    return metrics.iou(pred, target)


def dice_counts_background(pred, target):  # pixel accuracy
    p, t = _flat(pred).astype(bool), _flat(target).astype(bool)
    if p.shape != t.shape:
        raise ValueError
    return float(np.mean(p == t))


def dice_mutates(pred, target):
    value = metrics.dice(pred, target)
    if isinstance(pred, np.ndarray):
        pred[...] = 0
    return value


def soft_dice_batch_global(logits, target, smooth=1.0):
    p = torch.sigmoid(logits)
    return 1 - (2 * (p * target).sum() + smooth) / (p.sum() + target.sum() + smooth)


def soft_dice_no_sigmoid(logits, target, smooth=1.0):
    dims = tuple(range(1, logits.ndim))
    p = logits
    return (
        1
        - ((2 * (p * target).sum(dims) + smooth) / (p.sum(dims) + target.sum(dims) + smooth)).mean()
    )


def soft_dice_thresholded(logits, target, smooth=1.0):
    p = (torch.sigmoid(logits) > 0.5).float()
    dims = tuple(range(1, logits.ndim))
    return (
        1
        - ((2 * (p * target).sum(dims) + smooth) / (p.sum(dims) + target.sum(dims) + smooth)).mean()
    )


def soft_dice_item(logits, target, smooth=1.0):
    return losses.soft_dice_loss(logits, target, smooth=smooth).item()


def soft_dice_numpy(logits, target, smooth=1.0):
    value = losses.soft_dice_loss(logits, target, smooth=smooth).detach().numpy()
    return torch.tensor(value)


def soft_dice_smooth_denominator_only(logits, target, smooth=1.0):
    dims = tuple(range(1, logits.ndim))
    p = torch.sigmoid(logits)
    return 1 - ((2 * (p * target).sum(dims)) / (p.sum(dims) + target.sum(dims) + smooth)).mean()


def soft_dice_ignores_smooth(logits, target, smooth=1.0):
    return losses.soft_dice_loss(logits, target, smooth=1.0)


def soft_dice_per_sample_vector(logits, target, smooth=1.0):
    return losses.soft_dice_loss(logits, target, smooth=smooth, reduction="none").flatten()


def soft_dice_sum_not_mean(logits, target, smooth=1.0):
    return losses.soft_dice_loss(logits, target, smooth=smooth, reduction="sum")


def predict_no_eval(model, images, threshold=0.5):
    with torch.no_grad():
        return (torch.sigmoid(model(images)) > threshold).float()


def predict_probabilities(model, images, threshold=0.5):
    model.eval()
    with torch.no_grad():
        return torch.sigmoid(model(images))


def predict_logit_threshold(model, images, threshold=0.5):
    model.eval()
    with torch.no_grad():
        return (model(images) > threshold).float()


def predict_squeezed(model, images, threshold=0.5):
    return predict_masks(model, images, threshold)[:, 0]


def predict_ignores_threshold(model, images, threshold=0.5):
    return predict_masks(model, images)


def predict_with_graph(model, images, threshold=0.5):
    model.eval()
    return torch.round(torch.sigmoid(model(images)) - threshold + 0.5)


WRONG = [
    ("q1_iou", always_equal),
    ("q1_iou", iou_nan_when_empty),
    ("q1_iou", iou_zero_when_empty),
    ("q1_iou", iou_no_shape_check),
    ("q1_iou", iou_broadcasting),
    ("q1_iou", iou_union_as_sum),
    ("q1_iou", iou_is_dice),
    ("q2_dice", always_equal),
    ("q2_dice", dice_is_iou),
    ("q2_dice", dice_counts_background),
    ("q3_soft_dice_loss", always_equal),
    ("q3_soft_dice_loss", soft_dice_batch_global),
    ("q3_soft_dice_loss", soft_dice_no_sigmoid),
    ("q3_soft_dice_loss", soft_dice_thresholded),
    ("q3_soft_dice_loss", soft_dice_item),
    ("q3_soft_dice_loss", soft_dice_numpy),
    ("q3_soft_dice_loss", soft_dice_smooth_denominator_only),
    ("q3_soft_dice_loss", soft_dice_ignores_smooth),
    ("q3_soft_dice_loss", soft_dice_per_sample_vector),
    ("q3_soft_dice_loss", soft_dice_sum_not_mean),
    ("q4_predict_masks", always_equal),
    ("q4_predict_masks", predict_no_eval),
    ("q4_predict_masks", predict_probabilities),
    ("q4_predict_masks", predict_logit_threshold),
    ("q4_predict_masks", predict_squeezed),
    ("q4_predict_masks", predict_ignores_threshold),
    ("q4_predict_masks", predict_with_graph),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", WRONG)
def test_wrong_answers_fail(module, name, answer):
    with pytest.raises(AssertionError):
        getattr(module, name)(answer)


def test_hidden_catches_a_function_that_modifies_its_input():
    visible.q2_dice(dice_mutates)  # the visible check gives copies and does not look
    with pytest.raises(AssertionError, match="modified"):
        hidden.q2_dice(dice_mutates)


def test_not_implemented_passes_through():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for module in (visible, hidden):
        for name in ("q1_iou", "q2_dice", "q3_soft_dice_loss", "q4_predict_masks"):
            with pytest.raises(NotImplementedError):
                getattr(module, name)(stub)


def test_other_exceptions_become_assertion_errors():
    def broken(*args, **kwargs):
        raise TypeError("unsupported operand")

    with pytest.raises(AssertionError, match="raised TypeError"):
        visible.q1_iou(broken)


# --- the trained network ---------------------------------------------------------------------
# A trained U-Net passing q5 (visible and hidden) is what tests/test_autograde.py checks end to
# end: the solution notebook trains one with its recipe and must get full marks, with one thread
# (make test) and with two (make test-threads). Here: the ways a model must fail.
@pytest.mark.parametrize("module", MODULES)
def test_untrained_or_oversized_models_fail(module):
    torch.manual_seed(0)
    with pytest.raises(AssertionError, match="below the bar"):
        module.q5_trained_unet(UNet(1, 1, depth=2, base_channels=4))
    with pytest.raises(AssertionError, match="budget"):
        module.q5_trained_unet(UNet(1, 1))  # 1.9 M parameters
    with pytest.raises(AssertionError, match="torch.nn.Module"):
        module.q5_trained_unet(None)
    with pytest.raises(AssertionError):
        module.q5_trained_unet(AlwaysEqual())


@pytest.mark.parametrize("module", MODULES)
def test_wrong_output_shape_fails(module):
    class Squeezed(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x):
            return self.conv(x)[:, 0]

    with pytest.raises(AssertionError, match="shape"):
        module.q5_trained_unet(Squeezed())


def test_hidden_counts_hidden_weights():
    model = UNet(1, 1, depth=2, base_channels=4)
    model.table = torch.zeros(2 * visible.BUDGET)  # numbers kept outside the parameters
    with pytest.raises(AssertionError, match="stores"):
        hidden.q5_trained_unet(model)
