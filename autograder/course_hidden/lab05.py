"""Hidden checks of lab05_cnn (grader only): other inputs, independent references.

Pooling is compared with :mod:`torch.nn.functional` on shapes the student never saw (stride
larger than the window, a window as large as the image, integer input ...). The receptive field
is measured, not computed: the gradient of one output pixel of a stack of all-ones 1D
convolutions is non-zero exactly on that pixel's receptive field. The trained model is evaluated
on 400 held-out slices made with a seed that appears nowhere else, and its size is counted with
every tensor it holds (parameters, buffers, and plain tensor attributes).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course.checks import as_array, as_int, assert_close, guard
from course.checks.lab05 import (
    ACCURACY,
    BUDGET,
    IMAGE_SIZE,
    accuracy,
    count_parameters,
    predict_logits,
)

from ._models import stored_numbers

HELD_OUT_SEED = 7919  # the training set uses seeds 0 and 1, the visible check 100 and 101
HELD_OUT_N = 400


# --- pooling ---------------------------------------------------------------------------------
def _pool_case(pool, reference, x, kernel_size, stride) -> None:
    expected = reference(torch.from_numpy(x.astype(np.float64)), kernel_size, stride).numpy()
    given = x.copy()
    stride_text = "" if stride is None else f", stride={stride}"
    call = f"{pool.__name__}(x of shape {x.shape} and dtype {x.dtype}, {kernel_size}{stride_text})"
    got = pool(given, kernel_size) if stride is None else pool(given, kernel_size, stride)
    got = as_array(got, call)
    if got.shape != expected.shape:
        raise AssertionError(f"{call} should have shape {expected.shape}, got {got.shape}")
    assert_close(got, expected, call, atol=1e-9, rtol=1e-9)
    assert_close(given, x, f"the input x after {call} (it must not be modified)", atol=0, rtol=0)


def _pool_cases(pool, reference, rng) -> None:
    cases = [
        ((2, 3, 8, 8), 2, None),
        ((1, 2, 9, 7), 3, 2),
        ((1, 1, 10, 10), 2, 3),  # stride larger than the window: pixels are skipped
        ((3, 1, 5, 6), 1, 1),
        ((1, 2, 6, 6), 6, None),  # one window covers the whole image
        ((2, 2, 7, 11), 4, 1),
        ((1, 4, 3, 9), 3, None),
        ((1, 1, 12, 5), 5, 5),
    ]
    for shape, k, s in cases:
        _pool_case(pool, reference, rng.normal(size=shape) * 3.0 - 4.0, k, s)
    _pool_case(pool, reference, -rng.uniform(1, 2, size=(2, 1, 4, 4)), 2, None)  # all negative
    _pool_case(pool, reference, rng.integers(-9, 10, size=(1, 2, 6, 6)), 3, None)  # integers


def q1_max_pool2d(max_pool2d) -> None:
    guard()
    _pool_cases(max_pool2d, F.max_pool2d, np.random.default_rng(1051))


def q2_avg_pool2d(avg_pool2d) -> None:
    guard()
    _pool_cases(avg_pool2d, F.avg_pool2d, np.random.default_rng(1052))


# --- receptive field -------------------------------------------------------------------------
def measured_receptive_field(layers) -> int:
    """Width of the input region that changes output pixel 0, measured with a gradient."""
    layers = [(k, s, 1) if len(layer) == 2 else (k, s, layer[2]) for layer in layers
              for k, s in [layer[:2]]]  # fmt: skip
    total_stride = int(np.prod([s for _, s, _ in layers]))
    length = (sum(d * (k - 1) for k, _, d in layers) + 2) * total_stride  # more than enough
    x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, d in layers:
        y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    y[0, 0, 0].backward()
    touched = torch.nonzero(x.grad[0, 0]).flatten()
    return int(touched.max() - touched.min() + 1)


RF_CASES = [
    [(5, 1)],
    [(1, 1), (1, 1)],
    [(3, 2), (3, 2)],
    [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)],  # the start of VGG
    [(7, 2), (3, 2), (3, 1), (3, 1)],  # the stem of ResNet and its first block
    [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)],  # AlexNet
    [(3, 1, 1), (3, 1, 2), (3, 1, 4), (3, 1, 8)],  # dilated stack: exponential growth
    [(2, 3), (4, 1), (2, 2, 3)],
    [(5, 5), (1, 1), (3, 3)],
]


def q3_receptive_field(receptive_field) -> None:
    guard()
    for layers in RF_CASES:
        expected = measured_receptive_field(layers)
        call = f"receptive_field({layers})"
        got = as_int(receptive_field([tuple(layer) for layer in layers]), call)
        if got != expected:
            raise AssertionError(f"{call} should be {expected}, got {got}")


# --- the model -------------------------------------------------------------------------------
def _check_size(model, what: str) -> None:
    if not isinstance(model, nn.Module):
        raise AssertionError(f"{what} should be a torch.nn.Module, got {type(model).__name__}")
    n = count_parameters(model)
    if n > BUDGET:
        raise AssertionError(f"{what} has {n:,} parameters, more than the budget of {BUDGET:,}")
    if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        raise AssertionError(f"{what} has no torch.nn.Conv2d layer: this lab asks for a CNN")
    stored = stored_numbers(model)
    if stored > 2 * BUDGET:  # buffers such as BatchNorm statistics are allowed, not hidden weights
        raise AssertionError(
            f"{what} stores {stored:,} numbers in tensors (parameters, buffers, attributes), more "
            f"than twice the parameter budget of {BUDGET:,}"
        )


def q4_build_model(build_model) -> None:
    guard()
    first, second = build_model(), build_model()
    _check_size(first, "build_model()")
    if first is second:
        raise AssertionError("build_model() should return a new model at every call")
    g = torch.Generator().manual_seed(1054)
    for n in (1, 7):
        x = torch.rand(n, 1, IMAGE_SIZE, IMAGE_SIZE, generator=g)
        logits = predict_logits(first, x, f"build_model() on a batch of {n}")
        if not np.isfinite(logits).all():
            raise AssertionError(f"build_model() returns NaN or inf logits for a batch of {n}")


def held_out_accuracy(model) -> float:
    """The accuracy that :func:`q5_trained_model` compares with ``ACCURACY``."""
    return accuracy(model, seed=HELD_OUT_SEED, n=HELD_OUT_N, what="model")


def q5_trained_model(model) -> None:
    guard()
    _check_size(model, "model")
    acc = held_out_accuracy(model)
    if not acc >= ACCURACY:
        raise AssertionError(
            f"model has accuracy {acc:.3f} on {HELD_OUT_N} new held-out slices, below the bar "
            f"of {ACCURACY}"
        )
