"""Visible checks of lab04_convolution: output sizes, padding, cross-correlation and conv2d.

Each function takes the student's answer (a function) and calls it on small teaching examples
(the lecture's 7x7 image with a 3x3 filter at strides 1, 2 and 3 ...), comparing with the course
library or :func:`torch.nn.functional.conv2d`. A wrong answer raises :class:`AssertionError`
with a message that names the input, the expected result and what came out.
"""

from __future__ import annotations

import sys

import numpy as np
import torch
import torch.nn.functional as F

from course.arithmetic import conv_output_size
from course.checks._common import as_array, as_int, assert_close, assert_shape, guard
from course.checks._feedback import reporting
from course.checks._own_work import forbid

# What this lab asks students to write themselves: in a notebook, these library functions
# refuse calls from the student's code (course.checks._own_work); the rest of the library is
# allowed. Each maps to the part that asks for it.
OWN_WORK = {
    "course.arithmetic.conv_output_size": "q1",
    "course.arithmetic.same_padding": "q2",
    "course.conv.pad2d": "q3",
    "scipy.signal.correlate2d": "q4",
    "course.conv.conv2d": "q5",
    "course.conv.conv2d_naive": "q5",
    "course.arithmetic.conv_params": "q6",
}
forbid(OWN_WORK)

# The points of each part, as in the lab's notebook (tests/test_own_work.py keeps them equal).
POINTS = {"q1": 1.5, "q2": 1, "q3": 1, "q4": 1.5, "q5": 3, "q6": 1}

__all__ = [
    "q1_output_size",
    "q2_same_padding",
    "q3_zero_pad",
    "q4_correlate2d",
    "q5_conv2d",
    "q6_conv_params",
]

ATOL = 1e-9


def _show(value) -> str:
    """A short, safe description of a returned value (never trusts its ``__repr__``)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a student's object may raise anything
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def _call_args(**kwargs) -> str:
    return ", ".join(f"{k}={v}" for k, v in kwargs.items())


def _torch_conv(x, w, b=None, stride=1, padding=0, dilation=1) -> np.ndarray:
    """The reference: PyTorch's conv2d in float64."""
    t = torch.from_numpy
    return F.conv2d(
        t(x), t(w), None if b is None else t(b), stride=stride, padding=padding, dilation=dilation
    ).numpy()


# --- q1 --------------------------------------------------------------------------------------
def q1_output_size(output_size) -> None:
    """Check ``output_size(size, kernel_size, stride=1, padding=0, dilation=1)``."""
    guard()
    cases = [
        dict(size=7, kernel_size=3, stride=1, padding=0, dilation=1),
        dict(size=7, kernel_size=3, stride=2, padding=0, dilation=1),
        dict(size=7, kernel_size=3, stride=3, padding=0, dilation=1),
        dict(size=7, kernel_size=3, stride=1, padding=1, dilation=1),
        dict(size=8, kernel_size=3, stride=2, padding=0, dilation=1),
        dict(size=7, kernel_size=3, stride=1, padding=0, dilation=2),
        dict(size=32, kernel_size=5, stride=1, padding=2, dilation=1),
    ]
    for case in cases:
        expected = conv_output_size(**case)
        got = as_int(output_size(**case), f"output_size({_call_args(**case)})")
        if got != expected:
            numerator = (
                case["size"]
                + 2 * case["padding"]
                - case["dilation"] * (case["kernel_size"] - 1)
                - 1
            )
            raise AssertionError(
                f"output_size({_call_args(**case)}) should be {expected}: "
                f"floor((H + 2P - D(K-1) - 1) / S) + 1 = floor({numerator} / {case['stride']}) "
                f"+ 1 = {expected}; got {got}"
            )


# --- q2 --------------------------------------------------------------------------------------
def q2_same_padding(same_padding) -> None:
    """Check ``same_padding(kernel_size, dilation=1)``: P = D (K - 1) / 2.

    ValueError if D (K - 1) is odd (e.g. K = 4).
    """
    guard()
    for k, d, expected in [(3, 1, 1), (5, 1, 2), (7, 1, 3), (1, 1, 0), (3, 2, 2)]:
        got = as_int(same_padding(k, dilation=d), f"same_padding({k}, dilation={d})")
        if got != expected:
            raise AssertionError(
                f"same_padding({k}, dilation={d}) should be D(K-1)/2 = {expected} (then a "
                f"{k}x{k} kernel keeps a 7x7 image 7x7); got {got}"
            )
    try:
        value = same_padding(4, dilation=1)
    except ValueError:
        return
    raise AssertionError(
        "same_padding(4) should raise ValueError: an even kernel needs D(K-1) = 3 pixels of "
        f"padding in total, which cannot be split equally between the two sides; got {_show(value)}"
    )


# --- q3 --------------------------------------------------------------------------------------
def q3_zero_pad(zero_pad) -> None:
    """Check ``zero_pad(x, padding)`` on (N, C, H, W) arrays."""
    guard()
    x = np.ones((1, 1, 2, 2))
    got = as_array(zero_pad(x.copy(), 1), "zero_pad(np.ones((1, 1, 2, 2)), 1)")
    if got.shape != (1, 1, 4, 4):
        raise AssertionError(
            f"zero_pad(np.ones((1, 1, 2, 2)), 1) should have shape (1, 1, 4, 4): one row/column "
            f"of zeros on each side of H and W only (not N and C); got {got.shape}"
        )
    assert_close(got, np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), "zero_pad(ones 2x2, 1)")

    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 7, 7))
    name = "zero_pad(x of shape (2, 3, 7, 7), 1)"
    got = as_array(zero_pad(x.copy(), 1), name)
    assert_shape(got, (2, 3, 9, 9), name + " (the lecture's 7x7 image padded to 9x9)")
    assert_close(got, np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), name, atol=0.0, rtol=0.0)

    name = "zero_pad(x of shape (2, 3, 7, 7), 0)"
    got = as_array(zero_pad(x.copy(), 0), name, shape=(2, 3, 7, 7))
    assert_close(got, x, name, atol=0.0, rtol=0.0)


# --- q4 --------------------------------------------------------------------------------------
def q4_correlate2d(correlate2d) -> None:
    """Check ``correlate2d(image, kernel)``: valid cross-correlation of 2D arrays."""
    guard()
    image = np.arange(16.0).reshape(4, 4)
    name = "correlate2d(np.arange(16.0).reshape(4, 4), np.ones((3, 3)))"
    got = as_array(correlate2d(image.copy(), np.ones((3, 3))), name)
    assert_shape(got, (2, 2), name + " (a 3x3 kernel fits in 4 - 3 + 1 = 2 positions per axis)")
    assert_close(got, [[45.0, 54.0], [81.0, 90.0]], name + " (sums of the 3x3 windows)")

    kernel = np.array([[1.0, 0.0], [0.0, 0.0]])  # picks the top-left pixel of each window
    name = "correlate2d(np.arange(16.0).reshape(4, 4), [[1, 0], [0, 0]])"
    got = as_array(correlate2d(image.copy(), kernel.copy()), name, shape=(3, 3))
    expected = image[:3, :3]
    if np.allclose(got, image[1:, 1:]) and not np.allclose(got, expected):
        raise AssertionError(
            f"{name} gave the bottom-right pixel of each window: you flipped the kernel (the "
            "mathematical convolution). Deep learning layers compute a cross-correlation: "
            "y[i, j] = sum_m sum_k w[m, k] x[i + m, j + k], without flipping w."
        )
    assert_close(got, expected, name + " (the top-left pixel of each 2x2 window)")

    rng = np.random.default_rng(40)
    image, kernel = rng.normal(size=(5, 6)), rng.normal(size=(2, 3))
    name = "correlate2d(image 5x6, kernel 2x3)"
    got = as_array(correlate2d(image.copy(), kernel.copy()), name)
    assert_shape(got, (4, 4), name + " (H - K_h + 1 = 4 rows, W - K_w + 1 = 4 columns)")
    expected = _torch_conv(image[None, None], kernel[None, None])[0, 0]
    assert_close(got, expected, name, atol=ATOL, rtol=ATOL)


# --- q5 --------------------------------------------------------------------------------------
def _check_conv(conv2d, x, w, b=None, stride=1, padding=0, dilation=1, hint="") -> None:
    expected = _torch_conv(x, w, b, stride, padding, dilation)
    args = f"stride={stride}, padding={padding}, dilation={dilation}"
    bias = "None" if b is None else b.shape
    name = f"conv2d(x {x.shape}, weight {w.shape}, bias {bias}, {args})"
    got = as_array(
        conv2d(
            x.copy(),
            w.copy(),
            None if b is None else b.copy(),
            stride=stride,
            padding=padding,
            dilation=dilation,
        ),
        name,
    )
    if got.shape != expected.shape:
        raise AssertionError(
            f"{name} should have shape {expected.shape} = (N, C_out, H_out, W_out) with "
            f"H_out = floor((H + 2P - D(K-1) - 1) / S) + 1; got {got.shape}{hint}"
        )
    if b is not None and np.allclose(got + b[None, :, None, None], expected, atol=1e-6):
        raise AssertionError(f"{name}: the bias is missing: add bias[o] to each pixel of channel o")
    assert_close(got, expected, name + hint, atol=ATOL, rtol=ATOL)


def q5_conv2d(conv2d) -> None:
    """Check ``conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1)`` against PyTorch."""
    guard()
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=(1, 1, 7, 7)), rng.normal(size=(1, 1, 3, 3))
    for s in (1, 2, 3):  # the lecture: 7x7 image, 3x3 filter -> 5x5, 3x3, 2x2
        _check_conv(conv2d, x, w, stride=s, hint=" (the lecture's 7x7 image with a 3x3 filter)")
    _check_conv(conv2d, x, w, padding=1, hint=" (P = (K-1)/2 = 1 keeps the 7x7 size)")
    _check_conv(conv2d, x, w, dilation=2, hint=" (a dilated 3x3 kernel spans 5 pixels)")
    x3, w3 = rng.normal(size=(1, 3, 5, 5)), rng.normal(size=(2, 3, 3, 3))
    _check_conv(conv2d, x3, w3, hint=" (each output channel sums over the C_in = 3 channels)")
    _check_conv(conv2d, x3, w3, rng.normal(size=2), hint=" (with a bias per output channel)")
    x2, w2 = rng.normal(size=(2, 2, 6, 5)), rng.normal(size=(3, 2, 2, 3))
    _check_conv(
        conv2d,
        x2,
        w2,
        rng.normal(size=3),
        stride=2,
        padding=1,
        hint=" (a batch of 2 non-square images and a non-square kernel)",
    )


# --- q6 --------------------------------------------------------------------------------------
def q6_conv_params(conv_params) -> None:
    """Check ``conv_params(in_channels, out_channels, kernel_size, bias=True)``."""
    guard()
    cases = [
        ((3, 64, 3), True, 1792, "the first layer of VGG: 64 filters of 3x3x3 weights + 1 bias"),
        ((3, 64, 3), False, 1728, "without bias: 64 x 3 x 3 x 3"),
        ((1, 6, 5), True, 156, "the first layer of LeNet-5: 6 x (5 x 5 x 1 + 1)"),
        ((64, 128, 1), True, 8320, "a 1x1 convolution: 128 x (64 + 1)"),
        ((16, 8, (3, 5)), True, 1928, "a non-square 3x5 kernel: 8 x (16 x 3 x 5 + 1)"),
    ]
    for args, bias, expected, why in cases:
        call = f"conv_params({', '.join(map(str, args))}, bias={bias})"
        got = as_int(conv_params(*args, bias=bias), call)
        if got != expected:
            raise AssertionError(f"{call} should be {expected} ({why}); got {got}")


reporting(sys.modules[__name__])  # a check that passes says so, with its points
