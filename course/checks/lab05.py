"""Visible checks of lab05_cnn: pooling, receptive fields, and a small CNN trained to a bar.

The pooling checks start from the lecture's 4x4 example and compare with
:func:`torch.nn.functional.max_pool2d` / :func:`~torch.nn.functional.avg_pool2d`; the receptive
field check compares with :func:`course.arithmetic.receptive_field`; the model checks count the
parameters and measure the accuracy on held-out slices of
:class:`course.datasets.SyntheticLesionCT` (another seed than the training set). A wrong answer
raises :class:`AssertionError` with a message that teaches.
"""

from __future__ import annotations

import copy
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course.arithmetic import receptive_field as library_receptive_field
from course.checks._common import as_array, as_int, assert_close, guard
from course.checks._feedback import reporting
from course.checks._own_work import forbid

# What this lab asks students to write themselves: in a notebook, these library functions
# refuse calls from the student's code (course.checks._own_work); the rest of the library is
# allowed. Each maps to the part that asks for it.
OWN_WORK = {
    "course.pooling.max_pool2d": "q1",
    "course.pooling.avg_pool2d": "q2",
    "course.arithmetic.receptive_field": "q3",
}
forbid(OWN_WORK)

# The points of each part, as in the lab's notebook (tests/test_own_work.py keeps them equal).
POINTS = {"q1": 1.5, "q2": 1.5, "q3": 2, "q4": 1, "q5": 3}

__all__ = [
    "BUDGET",
    "ACCURACY",
    "HELD_OUT_N",
    "HELD_OUT_SEED",
    "IMAGE_SIZE",
    "held_out_accuracy",
    "q1_max_pool2d",
    "q2_avg_pool2d",
    "q3_receptive_field",
    "q4_build_model",
    "q5_trained_model",
]

BUDGET = 20_000  # parameters
ACCURACY = 0.80  # on held-out slices (a CNN trained with the masks reaches ~0.93)
IMAGE_SIZE = 32  # the slices are IMAGE_SIZE x IMAGE_SIZE
HELD_OUT_SEED, HELD_OUT_N = 100, 200  # q5's held-out slices (the notebook: seeds 0 and 10)
LECTURE = np.array([[2, 8, 4, 1], [5, 3, 9, 2], [7, 1, 6, 4], [3, 2, 5, 8]], dtype=float)


# --- q1, q2: pooling -------------------------------------------------------------------------
def _check_pool(pool, reference, x, kernel_size, stride=None, hint="") -> None:
    t = torch.from_numpy(x)
    expected = reference(t, kernel_size, stride).numpy()
    stride_text = "" if stride is None else f", stride={stride}"
    name = f"{pool.__name__}(x of shape {x.shape}, {kernel_size}{stride_text})"
    given = x.copy()
    got = pool(given, kernel_size) if stride is None else pool(given, kernel_size, stride)
    got = as_array(got, name)
    if got.shape != expected.shape:
        s = kernel_size if stride is None else stride
        raise AssertionError(
            f"{name} should have shape {expected.shape}: N and C are kept, and "
            f"H_out = floor((H - K) / S) + 1 = floor(({x.shape[2]} - {kernel_size}) / {s}) + 1 "
            f"= {expected.shape[2]}; got {got.shape}{hint}"
        )
    if reference is F.max_pool2d and np.any((expected < 0) & (got == 0)):
        raise AssertionError(
            f"{name}: a window whose values are all negative gave 0{hint}. Start the maximum at "
            "-inf (or at the first value of the window), not at 0"
        )
    assert_close(got, expected, name + hint, atol=1e-9, rtol=1e-9)


def _pool_cases(pool, reference, rng) -> None:
    lecture = LECTURE[None, None]
    _check_pool(pool, reference, lecture, 2, hint=" (the lecture's 4x4 example, 2x2 windows)")
    _check_pool(pool, reference, lecture, 2, 1, hint=" (overlapping 2x2 windows, stride 1)")
    _check_pool(pool, reference, lecture, 3, 1, hint=" (3x3 windows, stride 1)")
    x = rng.normal(size=(1, 1, 5, 5))
    _check_pool(pool, reference, x, 2, hint=" (5x5 input: the last row and column are dropped)")
    x = rng.normal(size=(2, 3, 6, 7)) - 10.0
    _check_pool(
        pool, reference, x, 3, 2, hint=" (a batch of 2 images with 3 channels, all values < 0)"
    )


def q1_max_pool2d(max_pool2d) -> None:
    """Check ``max_pool2d(x, kernel_size, stride=None)`` against PyTorch."""
    guard()
    _pool_cases(max_pool2d, F.max_pool2d, np.random.default_rng(51))


def q2_avg_pool2d(avg_pool2d) -> None:
    """Check ``avg_pool2d(x, kernel_size, stride=None)`` against PyTorch."""
    guard()
    _pool_cases(avg_pool2d, F.avg_pool2d, np.random.default_rng(52))


# --- q3: receptive field ---------------------------------------------------------------------
def q3_receptive_field(receptive_field) -> None:
    """Check ``receptive_field(layers)`` against :func:`course.arithmetic.receptive_field`."""
    guard()
    cases = [
        ([(3, 1)], "one 3x3 convolution"),
        ([(3, 1), (3, 1)], "two 3x3 convolutions see as much as one 5x5"),
        ([(3, 1), (3, 1), (3, 1)], "three 3x3 convolutions see as much as one 7x7"),
        ([(3, 1), (2, 2), (3, 1)], "conv, 2x2 max pool, conv: after the pool one step = 2 pixels"),
        ([(2, 2), (2, 2), (2, 2)], "three 2x2 pools"),
        ([(3, 1, 2)], "a 3x3 convolution with dilation 2 spans 5 pixels"),
        ([(5, 2), (3, 1), (2, 2), (3, 1, 2)], "a mixed stack"),
    ]
    for layers, why in cases:
        expected = library_receptive_field([tuple(layer) for layer in layers])
        call = f"receptive_field({layers})"
        got = as_int(receptive_field([tuple(layer) for layer in layers]), call)
        if got != expected:
            raise AssertionError(
                f"{call} should be {expected} ({why}): r = 1 + sum_l D_l (K_l - 1) x (product "
                f"of the strides of the layers before l); got {got}"
            )


# --- q4, q5: the model -----------------------------------------------------------------------
def count_parameters(model) -> int:
    """Number of scalar parameters (trainable or not) of a module."""
    return int(sum(int(p.numel()) for p in model.parameters()))


def _check_module(model, what: str) -> None:
    if not isinstance(model, nn.Module):
        raise AssertionError(f"{what} should be a torch.nn.Module, got {type(model).__name__}")
    n = count_parameters(model)
    if n > BUDGET:
        raise AssertionError(
            f"{what} has {n:,} parameters, more than the budget of {BUDGET:,}: use fewer or "
            "narrower layers, or global pooling instead of a large dense layer"
        )
    if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        raise AssertionError(f"{what} has no torch.nn.Conv2d layer: this lab asks for a CNN")


def predict_logits(model, images: torch.Tensor, what: str) -> np.ndarray:
    """Logits of a copy of ``model`` (eval mode, CPU, no gradient) as a plain (N, 2) array."""
    try:
        model = copy.deepcopy(model)
    except Exception as error:  # noqa: BLE001 - a student's module may fail to copy
        raise AssertionError(f"{what} could not be copied for evaluation: {error}") from None
    model = model.cpu().eval()
    with torch.no_grad():
        out = [model(images[i : i + 100].clone()) for i in range(0, len(images), 100)]
    name = f"the output of {what} for images of shape (N, 1, {IMAGE_SIZE}, {IMAGE_SIZE})"
    parts = [as_array(o, name + " (one row of 2 logits per image)") for o in out]
    for part, o in zip(parts, range(0, len(images), 100), strict=True):
        expected = (min(100, len(images) - o), 2)
        if part.shape != expected:
            raise AssertionError(
                f"{name} should have shape (N, 2) (two logits per image: no lesion, lesion), "
                f"got {part.shape} for N = {expected[0]}"
            )
    return np.concatenate(parts)


def q4_build_model(build_model) -> None:
    """Check ``build_model()``: a new CNN within the budget that maps images to 2 logits."""
    guard()
    model = build_model()
    _check_module(model, "build_model()")
    x = torch.rand(5, 1, IMAGE_SIZE, IMAGE_SIZE, generator=torch.Generator().manual_seed(54))
    logits = predict_logits(model, x, "build_model() on a batch of 5 images")
    if not np.isfinite(logits).all():
        raise AssertionError("build_model() returns NaN or inf logits on random images")


def accuracy(model, seed: int, n: int, what: str) -> float:
    """Accuracy of ``model`` on ``n`` held-out slices made with ``seed``."""
    from course.datasets import SyntheticLesionCT

    data = SyntheticLesionCT(n, size=IMAGE_SIZE, seed=seed, task="classification")
    logits = predict_logits(model, data.images, what)
    labels = as_array(data.labels, "labels")
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def held_out_accuracy(model) -> float:
    """The accuracy that :func:`q5_trained_model` compares with ``ACCURACY`` (also measured over
    seeds by ``bench/lab_recipes.py``).
    """
    return accuracy(model, seed=HELD_OUT_SEED, n=HELD_OUT_N, what="model")


def q5_trained_model(model) -> None:
    """Check the trained ``model``: budget, and accuracy on 200 held-out slices (seed 100)."""
    guard()
    _check_module(model, "model")
    acc = held_out_accuracy(model)
    if not acc >= ACCURACY:
        raise AssertionError(
            f"model has accuracy {acc:.3f} on {HELD_OUT_N} held-out slices (seed "
            f"{HELD_OUT_SEED}), below the bar of {ACCURACY}: train longer, with a higher learning "
            "rate, or change the architecture"
        )


reporting(sys.modules[__name__])  # a check that passes says so, with its points
