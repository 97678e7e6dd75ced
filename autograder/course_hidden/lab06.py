"""Hidden checks of lab06_segmentation (grader only): other inputs, independent references.

IoU and Dice are compared with scikit-learn's ``jaccard_score`` and ``f1_score`` on the
flattened masks (1D to 4D, every dtype a mask comes in, NumPy and PyTorch), plus the empty-mask
convention and shape mismatches. The soft Dice loss is compared, value and gradient, with a
formula written here in PyTorch (2D and 3D batches, float64, other smoothing terms, empty
targets). Predictions are compared with a network that has BatchNorm and dropout, so that a
missing ``model.eval()`` shows. The trained network is evaluated on 128 held-out slices made with
seeds that appear nowhere else.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import f1_score, jaccard_score
from torch import nn

from course.checks import as_array, as_float, guard
from course.checks.lab06 import (
    BUDGET,
    DICE_BAR,
    IMAGE_SIZE,
    call,
    centre_logits,
    check_module,
    check_predict_case,
    check_soft_dice_case,
    predict_logits,
    raises_on_shapes,
)

from ._models import stored_numbers

HELD_OUT_SEEDS = (2024, 4099)  # the training set uses seed 0, the visible check 1000
HELD_OUT_N = 64  # slices per seed


# --- overlap metrics -------------------------------------------------------------------------
def _numpy(mask) -> np.ndarray:
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    return np.asarray(mask).astype(bool)


def _trusted(sklearn_score, expected: float) -> None:
    """The reference still computes what it should (scikit-learn is not watched by the guard)."""
    t, p = np.array([1, 1, 0, 0, 1]), np.array([1, 0, 1, 0, 1])  # TP 2, FP 1, FN 1
    if not abs(float(sklearn_score(t, p)) - expected) <= 1e-12:
        raise AssertionError("a scikit-learn metric was replaced in this kernel")


def _expected(sklearn_score, pred, target) -> float:
    p, t = _numpy(pred).ravel(), _numpy(target).ravel()
    if not p.any() and not t.any():
        return 1.0
    return float(sklearn_score(t.astype(int), p.astype(int), zero_division=0.0))


def _as_kind(mask: np.ndarray, kind: str):
    if kind.startswith("torch."):
        return torch.from_numpy(mask.copy()).to(getattr(torch, kind[6:]))
    return mask.astype(kind)


def _case(metric, sklearn_score, pred, target, why: str) -> None:
    expected = _expected(sklearn_score, pred, target)
    copies = (
        (pred.clone(), target.clone())
        if isinstance(pred, torch.Tensor)
        else (pred.copy(), target.copy())
    )
    kind = type(pred).__name__ + f" {pred.dtype}"
    what = f"{getattr(metric, '__name__', 'metric')}(pred, target) for {why} ({kind}, shape " + (
        f"{tuple(pred.shape)})"
    )
    got = as_float(call(metric, copies, what), what)
    if not abs(got - expected) <= 1e-6:
        raise AssertionError(f"{what} should be {expected:.6g}, got {got}")
    for given, original in zip(copies, (pred, target), strict=True):
        if not np.array_equal(as_array(given, "input"), as_array(original, "input")):
            raise AssertionError(f"{what} modified its input masks")


def _overlap_cases(metric, sklearn_score, rng) -> None:
    shapes = [(50,), (7, 9), (3, 10, 11), (2, 1, 12, 12), (1, 64, 64)]
    kinds = [
        "bool",
        "uint8",
        "int64",
        "float32",
        "float64",
        "torch.bool",
        "torch.float32",
        "torch.uint8",
    ]
    for i, shape in enumerate(shapes):
        for density_p, density_t in [(0.5, 0.5), (0.05, 0.3), (0.9, 0.6)]:
            pred = rng.random(shape) < density_p
            target = rng.random(shape) < density_t
            kind = kinds[(i + int(10 * density_p)) % len(kinds)]
            _case(
                metric,
                sklearn_score,
                _as_kind(pred, kind),
                _as_kind(target, kind),
                f"random masks ({density_p:.0%} and {density_t:.0%} foreground)",
            )
    blob = np.zeros((20, 20), dtype=bool)
    blob[5:12, 6:15] = True
    shifted = np.roll(blob, (2, 3), axis=(0, 1))
    _case(metric, sklearn_score, shifted, blob, "a shifted square")
    _case(metric, sklearn_score, blob, blob.copy(), "identical masks")
    _case(metric, sklearn_score, blob, ~blob, "disjoint masks")
    single = np.zeros((9, 9), dtype=np.uint8)
    single[4, 4] = 1
    _case(metric, sklearn_score, single, single.copy(), "identical single pixels")
    _case(metric, sklearn_score, np.roll(single, 1), single, "single pixels side by side")
    full = np.ones((3, 5, 5), dtype=np.float32)
    _case(metric, sklearn_score, full, full.copy(), "two full masks")
    _case(metric, sklearn_score, np.zeros_like(full), full, "an empty prediction")
    _case(metric, sklearn_score, full, np.zeros_like(full), "an empty target")
    empty = torch.zeros(2, 1, 6, 6, dtype=torch.bool)
    _case(metric, sklearn_score, empty, empty.clone(), "two empty masks")
    _case(metric, sklearn_score, np.zeros((3, 4, 5)), np.zeros((3, 4, 5)), "two empty volumes")
    raises_on_shapes(metric, rng.random((3, 4)) < 0.5, rng.random((4, 3)) < 0.5)
    raises_on_shapes(metric, rng.random((2, 8)) < 0.5, rng.random(16) < 0.5)
    raises_on_shapes(metric, np.ones((1, 5, 5)), np.ones((5, 5)))


def q1_iou(iou) -> None:
    guard()
    _trusted(jaccard_score, 0.5)
    _overlap_cases(iou, jaccard_score, np.random.default_rng(1061))


def q2_dice(dice) -> None:
    guard()
    _trusted(f1_score, 2 / 3)
    _overlap_cases(dice, f1_score, np.random.default_rng(1062))


# --- soft Dice loss --------------------------------------------------------------------------
def soft_dice_formula(logits: torch.Tensor, target: torch.Tensor, smooth: float) -> torch.Tensor:
    """1 - mean_n (2 sum p g + s) / (sum p + sum g + s), p = 1 / (1 + exp(-logits))."""
    p = 1.0 / (1.0 + torch.exp(-logits))
    flat_p, flat_g = p.reshape(len(p), -1), target.reshape(len(target), -1).to(p.dtype)
    per_sample = (2.0 * (flat_p * flat_g).sum(1) + smooth) / (
        flat_p.sum(1) + flat_g.sum(1) + smooth
    )
    return 1.0 - per_sample.mean()


def q3_soft_dice_loss(soft_dice_loss) -> None:
    guard()
    g = torch.Generator().manual_seed(1063)
    cases = []
    logits = 2.0 * torch.randn(4, 1, 16, 16, generator=g)
    cases.append((logits, (torch.rand(4, 1, 16, 16, generator=g) < 0.1).float(), 1.0, " (2D)"))
    logits = torch.randn(2, 1, 4, 8, 8, generator=g)
    cases.append((logits, (torch.rand(2, 1, 4, 8, 8, generator=g) < 0.3).float(), 1.0, " (3D)"))
    logits = torch.randn(3, 1, 10, 12, generator=g, dtype=torch.float64)
    target = (torch.rand(3, 1, 10, 12, generator=g) < 0.5).double()
    cases.append((logits, target, 2.0, " (float64)"))
    logits = torch.randn(2, 1, 32, 32, generator=g) - 1.0
    target = torch.zeros(2, 1, 32, 32)
    target[0, 0, 3:20, 4:25] = 1.0  # a large lesion in sample 0, a tiny one in sample 1
    target[1, 0, 7, 7:9] = 1.0
    cases.append((logits, target, 1e-3, " (a large and a tiny lesion: one Dice per sample)"))
    cases.append((torch.randn(1, 1, 8, 8, generator=g), torch.zeros(1, 1, 8, 8), 1.0, " (empty)"))
    cases.append(
        (
            50.0 * torch.randn(2, 1, 6, 6, generator=g),
            torch.ones(2, 1, 6, 6),
            1.0,
            " (very confident logits, full target)",
        )
    )
    for logits, target, smooth, hint in cases:
        check_soft_dice_case(soft_dice_loss, logits, target, smooth, soft_dice_formula, hint)


# --- predicting masks ------------------------------------------------------------------------
def q4_predict_masks(predict_masks) -> None:
    guard()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1064)
        model = nn.Sequential(
            nn.Conv2d(1, 6, 3, padding=1),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.Dropout2d(0.5),
            nn.Conv2d(6, 6, 3, padding=1),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.Conv2d(6, 1, 1),
        )
    g = torch.Generator().manual_seed(1064)
    for shape, threshold in [((5, 1, 20, 24), None), ((1, 1, 16, 16), 0.3), ((7, 1, 9, 13), 0.6)]:
        images = 2.0 + torch.rand(shape, generator=g)
        check_predict_case(predict_masks, centre_logits(model, images), images, threshold)


# --- the trained network ---------------------------------------------------------------------
def held_out_dice(model) -> float:
    """Mean per-slice Dice (logits > 0; 1.0 for a slice with nothing to find and nothing found)
    on the held-out slices: what :func:`q5_trained_unet` compares with ``DICE_BAR``.
    """
    from course.datasets import SyntheticLesionCT

    scores = []
    for seed in HELD_OUT_SEEDS:
        data = SyntheticLesionCT(HELD_OUT_N, size=IMAGE_SIZE, seed=seed)
        pred = predict_logits(model, data.images, "model") > 0
        target = data.masks.numpy() > 0.5
        inter = np.logical_and(pred, target).sum(axis=(1, 2, 3))
        sizes = pred.sum(axis=(1, 2, 3)) + target.sum(axis=(1, 2, 3))
        scores += list(np.where(sizes > 0, 2 * inter / np.maximum(sizes, 1), 1.0))
    return float(np.mean(scores))


def q5_trained_unet(model) -> None:
    guard()
    check_module(model, "model")
    stored = stored_numbers(model)
    if stored > 2 * BUDGET:
        raise AssertionError(
            f"model stores {stored:,} numbers in tensors (parameters, buffers, attributes), more "
            f"than twice the parameter budget of {BUDGET:,}"
        )
    score = held_out_dice(model)
    if not score >= DICE_BAR:
        raise AssertionError(
            f"model has a mean Dice of {score:.3f} on {len(HELD_OUT_SEEDS) * HELD_OUT_N} new "
            f"held-out slices, below the bar of {DICE_BAR}"
        )
