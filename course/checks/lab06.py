"""Visible checks of lab06_segmentation: IoU, Dice, soft Dice loss, a U-Net trained to a bar.

The overlap checks start from the lecture's 2x3 example and compare with
:func:`course.metrics.iou` / :func:`course.metrics.dice` (empty masks included); the loss check
compares values and gradients with :func:`course.losses.soft_dice_loss`; the prediction check
compares with a network run in evaluation mode; the trained model is evaluated on held-out
slices of :class:`course.datasets.SyntheticLesionCT` made with another seed than the training
set. A wrong answer raises :class:`AssertionError` with a message that teaches.
"""

from __future__ import annotations

import copy
import sys

import numpy as np
import torch
from torch import nn

from course.checks._common import as_array, as_float, assert_close, call, guard
from course.checks._feedback import reporting
from course.checks._own_work import forbid
from course.losses import soft_dice_loss as library_soft_dice_loss
from course.metrics import dice as library_dice
from course.metrics import iou as library_iou

# What this lab asks students to write themselves: in a notebook, these library functions
# refuse calls from the student's code (course.checks._own_work); the rest of the library is
# allowed. Each maps to the part that asks for it.
OWN_WORK = {
    "course.metrics.iou": "q1",
    "course.metrics.dice": "q2",
    "course.losses.soft_dice_loss": "q3",
}
forbid(OWN_WORK)

# The points of each part, as in the lab's notebook (tests/test_own_work.py keeps them equal).
POINTS = {"q1": 1.5, "q2": 1.5, "q3": 2, "q4": 1, "q5": 3}

__all__ = [
    "BUDGET",
    "DICE_BAR",
    "HELD_OUT_N",
    "HELD_OUT_SEED",
    "IMAGE_SIZE",
    "call",
    "count_parameters",
    "held_out_dice",
    "mean_dice",
    "predict_logits",
    "q1_iou",
    "q2_dice",
    "q3_soft_dice_loss",
    "q4_predict_masks",
    "q5_trained_unet",
]

BUDGET = 500_000  # parameters of the trained network
DICE_BAR = 0.75  # mean Dice on held-out slices
IMAGE_SIZE = 64  # the slices are IMAGE_SIZE x IMAGE_SIZE
HELD_OUT_SEED, HELD_OUT_N = 1000, 48  # q5's held-out slices (the notebook: seeds 0, 5, 10)
LECTURE_PRED = np.array([[0, 1, 1], [0, 1, 0]])
LECTURE_TARGET = np.array([[0, 1, 0], [0, 1, 1]])


def _show(mask) -> str:
    array = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    kind = "tensor" if isinstance(mask, torch.Tensor) else "array"
    if array.size <= 8:
        return f"{kind} {array.astype(int).tolist()}"
    return f"{kind} of shape {tuple(array.shape)} and dtype {array.dtype}"


# --- q1, q2: overlap metrics -----------------------------------------------------------------
def _score_case(metric, pred, target, expected: float, why: str) -> None:
    name = metric.__name__ if hasattr(metric, "__name__") else "your function"
    what = f"{name}(pred={_show(pred)}, target={_show(target)})"
    got = as_float(call(metric, (pred, target), what), what)
    if not abs(got - expected) <= 1e-6:  # also fails for NaN (float32 answers are fine)
        raise AssertionError(f"{what} should be {expected:.6g} ({why}), got {got}")


def raises_on_shapes(metric, pred, target) -> None:
    """``metric(pred, target)`` must raise ValueError (the shapes differ)."""
    name = metric.__name__ if hasattr(metric, "__name__") else "your function"
    what = f"{name}(pred of shape {pred.shape}, target of shape {target.shape})"
    try:
        metric(pred, target)
    except ValueError:
        return
    except (NotImplementedError, AssertionError):
        raise
    except Exception as error:  # noqa: BLE001
        raise AssertionError(
            f"{what} should raise ValueError, it raised {type(error).__name__}: {error}"
        ) from error
    raise AssertionError(
        f"{what} should raise ValueError: masks of different shapes cannot be compared pixel by "
        "pixel (the same number of pixels, or shapes that NumPy can broadcast, are not enough)"
    )


def _overlap_cases(metric, reference, lecture_value: float, formula: str, rng) -> None:
    _score_case(
        metric, LECTURE_PRED.copy(), LECTURE_TARGET.copy(), lecture_value, f"the lecture: {formula}"
    )
    zeros, ones = np.zeros((4, 4), dtype=np.uint8), np.ones((4, 4), dtype=np.uint8)
    _score_case(metric, zeros.copy(), zeros.copy(), 1.0, "both masks empty: 1.0 by convention")
    _score_case(metric, zeros.copy(), ones.copy(), 0.0, "the prediction is empty, the target not")
    _score_case(metric, ones.copy(), zeros.copy(), 0.0, "the target is empty, the prediction not")
    pred, target = rng.random((16, 16)) < 0.3, rng.random((16, 16)) < 0.4
    _score_case(metric, pred, target, reference(pred, target), "boolean masks")
    pred = (torch.from_numpy(rng.random((2, 1, 8, 8))) < 0.5).float()
    target = (torch.from_numpy(rng.random((2, 1, 8, 8))) < 0.5).float()
    _score_case(metric, pred, target, reference(pred, target), "torch tensors of 0.0 and 1.0")
    pred = (rng.random((4, 8, 8)) < 0.2).astype(np.uint8)
    target = (rng.random((4, 8, 8)) < 0.2).astype(np.uint8)
    _score_case(metric, pred, target, reference(pred, target), "a 3D volume of 0 and 1")
    raises_on_shapes(metric, rng.random((4, 6)) < 0.5, rng.random((6, 4)) < 0.5)
    raises_on_shapes(metric, rng.random((1, 8, 8)) < 0.5, rng.random((8, 8)) < 0.5)


def q1_iou(iou) -> None:
    """Check ``iou(pred, target)`` against :func:`course.metrics.iou`."""
    guard()
    _overlap_cases(iou, library_iou, 0.5, "|P and G| / |P or G| = 2 / 4", np.random.default_rng(61))


def q2_dice(dice) -> None:
    """Check ``dice(pred, target)`` against :func:`course.metrics.dice`."""
    guard()
    _overlap_cases(
        dice, library_dice, 2 / 3, "2 |P and G| / (|P| + |G|) = 4 / 6", np.random.default_rng(62)
    )


# --- q3: soft Dice loss ----------------------------------------------------------------------
def check_soft_dice_case(soft_dice_loss, logits, target, smooth, reference, hint="") -> None:
    """Compare value and gradient of ``soft_dice_loss(logits, target, smooth)`` with
    ``reference(logits, target, smooth)`` (a differentiable torch function).
    """
    shape = tuple(logits.shape)
    what = f"soft_dice_loss(logits of shape {shape}, target, smooth={smooth}){hint}"
    mine = logits.detach().clone().requires_grad_(True)
    expected_loss = reference(mine, target.clone(), smooth)
    expected_loss.backward()
    expected_grad = mine.grad.detach().clone()
    expected_loss = float(expected_loss.detach())
    theirs = logits.detach().clone().requires_grad_(True)
    loss = call(soft_dice_loss, (theirs, target.clone()), what, {"smooth": smooth})
    if not isinstance(loss, torch.Tensor):
        raise AssertionError(
            f"{what} should return a torch.Tensor (so that loss.backward() works), got "
            f"{type(loss).__name__}: compute it with torch operations on the logits"
        )
    value = as_float(loss.detach(), what)
    if not abs(value - expected_loss) <= 1e-5 + 1e-5 * abs(expected_loss):
        raise AssertionError(
            f"{what} should be {expected_loss:.6f}, got {value:.6f}. With p = "
            "sigmoid(logits), compute for every sample n: Dice_n = (2 sum p g + smooth) / "
            "(sum p + sum g + smooth), sums over every axis but the batch axis 0; the loss is "
            "1 - mean_n Dice_n"
        )
    if not loss.requires_grad:
        raise AssertionError(
            f"{what} has no gradient (requires_grad is False): do not threshold the "
            "probabilities, convert to NumPy or call .item()/.detach() inside the loss"
        )
    loss.reshape(()).backward()
    if theirs.grad is None:
        raise AssertionError(f"{what}: backward() gave no gradient for the logits")
    assert_close(
        theirs.grad,
        expected_grad,
        f"the gradient of {what} with respect to the logits",
        rtol=1e-4,
        atol=1e-6,
    )


def _library_soft_dice(logits, target, smooth):
    return library_soft_dice_loss(logits, target, smooth=smooth)


def q3_soft_dice_loss(soft_dice_loss) -> None:
    """Check ``soft_dice_loss(logits, target, smooth=1.0)`` against the library: values,
    gradients, a perfect prediction.
    """
    guard()
    g = torch.Generator().manual_seed(63)
    logits = torch.randn(2, 1, 8, 8, generator=g)
    target = (torch.rand(2, 1, 8, 8, generator=g) < 0.3).float()
    check_soft_dice_case(soft_dice_loss, logits, target, 1.0, _library_soft_dice)
    check_soft_dice_case(soft_dice_loss, logits * 3, target, 0.5, _library_soft_dice)
    target[1] = 0.0
    check_soft_dice_case(
        soft_dice_loss, logits, target, 1.0, _library_soft_dice, " (sample 1 has no foreground)"
    )
    target = (torch.rand(3, 1, 16, 16, generator=g) < 0.2).float()
    perfect = 20.0 * (2 * target - 1)  # sigmoid(+-20) is 1 or 0 to 2e-9
    what = "soft_dice_loss(logits = +20 on the target and -20 elsewhere, target)"
    value = as_float(call(soft_dice_loss, (perfect.clone(), target.clone()), what), what)
    if not abs(value) <= 1e-4:
        raise AssertionError(f"{what} should be about 0 (a perfect prediction), got {value}")


# --- q4: predicting masks --------------------------------------------------------------------
def reference_masks(model: nn.Module, images: torch.Tensor, threshold: float) -> np.ndarray:
    """Masks of a copy of ``model`` in evaluation mode: ``sigmoid(model(images)) > threshold``."""
    model = copy.deepcopy(model).eval()
    with torch.no_grad():
        return (torch.sigmoid(model(images.clone())) > threshold).double().numpy()


def check_predict_case(predict_masks, model, images, threshold=None) -> None:
    """``predict_masks(model, images[, threshold])`` equals the reference (model left in
    training mode before the call, so that a missing ``model.eval()`` shows).
    """
    expected = reference_masks(model, images, 0.5 if threshold is None else threshold)
    model.train()
    shape = tuple(images.shape)
    args = (model, images.clone()) if threshold is None else (model, images.clone(), threshold)
    what = f"predict_masks(model, images of shape {shape}" + (
        ")" if threshold is None else f", threshold={threshold})"
    )
    with torch.enable_grad():
        got = call(predict_masks, args, what)
    if isinstance(got, torch.Tensor) and got.requires_grad:
        raise AssertionError(
            f"{what} returns a tensor that requires grad: predict inside `with torch.no_grad():` "
            "(no graph is needed to predict, and it costs memory)"
        )
    got = as_array(got, what)
    if got.shape != expected.shape:
        raise AssertionError(
            f"{what} should have shape {expected.shape} (one mask per image, like the model's "
            f"output), got {got.shape}"
        )
    if not np.isin(got, (0.0, 1.0)).all():
        raise AssertionError(
            f"{what} should hold only 0 and 1 (or False and True): threshold the probabilities"
        )
    wrong = int(np.count_nonzero(got != expected))
    if wrong:
        raise AssertionError(
            f"{what}: {wrong} of {got.size} pixels differ from sigmoid(model(images)) > "
            f"{0.5 if threshold is None else threshold} computed with the model in evaluation "
            "mode. Call model.eval() first (BatchNorm must use its running statistics, not "
            "those of the batch), and threshold the sigmoid of the logits"
        )


def centre_logits(model: nn.Sequential, images: torch.Tensor) -> nn.Sequential:
    """Give the network "trained" BatchNorm statistics unlike those of ``images``, then shift
    the bias of its last layer so that half of the pixels of ``images`` are predicted (in eval
    mode): predictions in training mode then differ.
    """
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.fill_(-1.0)
                module.running_var.fill_(9.0)
        model.eval()
        logits = model(images)
        model[-1].bias -= logits.median()
    return model.train()


def small_network(seed: int, images: torch.Tensor) -> nn.Module:
    """A tiny segmentation network with BatchNorm (made without touching the global RNG)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Conv2d(4, 1, 1),
        )
    return centre_logits(model, images)


def q4_predict_masks(predict_masks) -> None:
    """Check ``predict_masks(model, images, threshold=0.5)`` on a small network with BatchNorm."""
    guard()
    g = torch.Generator().manual_seed(64)
    images = 0.5 + 0.3 * torch.rand(3, 1, 12, 12, generator=g)
    model = small_network(64, images)
    check_predict_case(predict_masks, model, images)
    check_predict_case(predict_masks, model, images, 0.7)


# --- q5: the trained network -----------------------------------------------------------------
def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters (trainable or not) of a module."""
    return int(sum(int(p.numel()) for p in model.parameters()))


def check_module(model, what: str) -> None:
    """A :class:`torch.nn.Module` within the parameter budget."""
    if not isinstance(model, nn.Module):
        raise AssertionError(
            f"{what} should be a trained torch.nn.Module, got {type(model).__name__}"
        )
    n = count_parameters(model)
    if n > BUDGET:
        raise AssertionError(
            f"{what} has {n:,} parameters, more than the budget of {BUDGET:,}: use fewer levels "
            "(depth) or fewer channels (base_channels)"
        )


def predict_logits(model: nn.Module, images: torch.Tensor, what: str) -> np.ndarray:
    """Logits of a copy of ``model`` (eval mode, CPU, no gradient), shape (N, 1, H, W)."""
    try:
        model = copy.deepcopy(model)
    except Exception as error:  # noqa: BLE001 - a student's module may fail to copy
        raise AssertionError(f"{what} could not be copied for evaluation: {error}") from None
    model = model.cpu().float().eval()
    with torch.no_grad():
        out = [call(model, (images[i : i + 32].clone(),), what) for i in range(0, len(images), 32)]
    n, _, h, w = images.shape
    name = f"the output of {what} for images of shape (N, 1, {h}, {w})"
    parts = [as_array(o, name) for o in out]
    for part, start in zip(parts, range(0, n, 32), strict=True):
        expected = (min(32, n - start), 1, h, w)
        if part.shape != expected:
            raise AssertionError(
                f"{name} should have shape (N, 1, {h}, {w}) (one logit per pixel), got "
                f"{part.shape} for N = {expected[0]}"
            )
    logits = np.concatenate(parts)
    if not np.isfinite(logits).all():
        raise AssertionError(f"{name} contains NaN or inf")
    return logits


def mean_dice(model: nn.Module, seed: int, n: int, what: str) -> float:
    """Mean per-slice Dice of ``model`` (logits > 0) on ``n`` held-out slices made with ``seed``."""
    from course.datasets import SyntheticLesionCT

    data = SyntheticLesionCT(n, size=IMAGE_SIZE, seed=seed)
    pred = predict_logits(model, data.images, what) > 0
    target = as_array(data.masks, "masks") > 0.5
    return float(np.mean([library_dice(p, t) for p, t in zip(pred, target, strict=True)]))


def held_out_dice(model: nn.Module) -> float:
    """The mean Dice that :func:`q5_trained_unet` compares with ``DICE_BAR`` (also measured over
    seeds by ``bench/lab_recipes.py``).
    """
    return mean_dice(model, seed=HELD_OUT_SEED, n=HELD_OUT_N, what="model")


def q5_trained_unet(model) -> None:
    """Check the trained ``model``: budget, and mean Dice on 48 held-out slices (seed 1000)."""
    guard()
    check_module(model, "model")
    score = held_out_dice(model)
    if not score >= DICE_BAR:
        raise AssertionError(
            f"model has a mean Dice of {score:.3f} on {HELD_OUT_N} held-out slices (seed "
            f"{HELD_OUT_SEED}), below the bar of {DICE_BAR}: train longer, combine the Dice loss "
            "with cross-entropy, or check the learning rate"
        )


reporting(sys.modules[__name__])  # a check that passes says so, with its points
