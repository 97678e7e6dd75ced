"""NumPy convolutions against torch.nn.functional (the independent reference)."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course.conv import conv2d, conv2d_naive, conv_transpose2d, pad2d

ATOL = 1e-9  # float64 everywhere in the parity tests


def torch_conv(x, w, b=None, **kwargs):
    b = None if b is None else torch.from_numpy(b)
    return F.conv2d(torch.from_numpy(x), torch.from_numpy(w), b, **kwargs).numpy()


@st.composite
def conv_cases(draw, max_size=12, max_channels=4, allow_groups=True):
    """Random (x, weight, bias, kwargs) whose dilated kernel fits in the padded input."""
    groups = draw(st.integers(1, 3)) if allow_groups else 1
    c_in = groups * draw(st.integers(1, max_channels))
    c_out = groups * draw(st.integers(1, max_channels))
    K_h, K_w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    S = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))  # strides larger than kernels too
    D = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    P = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    H, W = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    assume(D[0] * (K_h - 1) + 1 <= H + 2 * P[0] and D[1] * (K_w - 1) + 1 <= W + 2 * P[1])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(draw(st.integers(1, 2)), c_in, H, W))
    w = rng.normal(size=(c_out, c_in // groups, K_h, K_w))
    b = rng.normal(size=c_out) if draw(st.booleans()) else None
    return x, w, b, dict(stride=S, padding=P, dilation=D, groups=groups)


@settings(max_examples=150, deadline=None)
@given(conv_cases())
def test_conv2d_matches_torch(case):
    x, w, b, kwargs = case
    ours = conv2d(x, w, b, **kwargs)
    np.testing.assert_allclose(ours, torch_conv(x, w, b, **kwargs), rtol=0, atol=ATOL)
    assert ours.dtype == np.float64


@settings(max_examples=40, deadline=None)
@given(conv_cases(max_size=7, max_channels=2, allow_groups=False))
def test_conv2d_naive_matches_torch(case):
    x, w, b, kwargs = case
    kwargs.pop("groups")
    np.testing.assert_allclose(
        conv2d_naive(x, w, b, **kwargs), torch_conv(x, w, b, **kwargs), rtol=0, atol=ATOL
    )


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch: even kernels copy the input
@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
@pytest.mark.parametrize("K, D", [(1, 1), (2, 1), (3, 1), (4, 2), (3, 3), (5, 2)])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_string_padding_matches_torch(fn, K, D, padding):
    rng = np.random.default_rng(K * 10 + D)
    x, w = rng.normal(size=(2, 3, 9, 12)), rng.normal(size=(4, 3, K, K + 1))
    ref = torch_conv(x, w, padding=padding, dilation=D)
    np.testing.assert_allclose(fn(x, w, padding=padding, dilation=D), ref, atol=ATOL)


@pytest.mark.parametrize("stride, expected", [(1, 5), (2, 3), (3, 2)])
def test_lecture_7x7_input_with_3x3_kernel(stride, expected):
    # The lecture 04 example: a 7x7 image and a 3x3 filter give a 5x5 activation map at stride 1.
    x = np.arange(49.0).reshape(1, 1, 7, 7)
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    ours = conv2d(x, w, stride=stride)
    assert ours.shape == (1, 1, expected, expected)
    np.testing.assert_allclose(ours, torch_conv(x, w, stride=stride), atol=ATOL)
    np.testing.assert_allclose(conv2d_naive(x, w, stride=stride), ours, atol=ATOL)
    # one value by hand: the top-left window times the kernel, no flip (cross-correlation)
    assert ours[0, 0, 0, 0] == np.sum(x[0, 0, :3, :3] * w[0, 0])


def test_depthwise_and_pointwise_conv():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 10, 10))
    depthwise = rng.normal(size=(6, 1, 3, 3))
    pointwise = rng.normal(size=(8, 6, 1, 1))
    ours = conv2d(conv2d(x, depthwise, padding=1, groups=6), pointwise)
    ref = torch_conv(torch_conv(x, depthwise, padding=1, groups=6), pointwise)
    np.testing.assert_allclose(ours, ref, atol=ATOL)


def test_float32_in_float32_out_and_integers_become_float64():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 2, 8, 8)).astype(np.float32)
    w = rng.normal(size=(3, 2, 3, 3)).astype(np.float32)
    b = rng.normal(size=3).astype(np.float32)
    for fn in (conv2d, conv2d_naive):
        y = fn(x, w, b, padding=1)
        assert y.dtype == np.float32
        np.testing.assert_allclose(y, torch_conv(x, w, b, padding=1), rtol=1e-5, atol=1e-5)
    assert conv_transpose2d(x, w.transpose(1, 0, 2, 3)).dtype == np.float32
    x_int = np.arange(16).reshape(1, 1, 4, 4)
    assert conv2d(x_int, np.ones((1, 1, 2, 2), dtype=int)).dtype == np.float64


@st.composite
def transpose_cases(draw):
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    K_h, K_w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    S = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    D = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    P = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    output_padding = (
        draw(st.integers(0, max(S[0], D[0]) - 1)),
        draw(st.integers(0, max(S[1], D[1]) - 1)),
    )
    H, W = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    for n, s, p, d, k, op in zip((H, W), S, P, D, (K_h, K_w), output_padding, strict=True):
        assume((n - 1) * s - 2 * p + d * (k - 1) + op + 1 >= 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(draw(st.integers(1, 2)), c_in, H, W))
    w = rng.normal(size=(c_in, c_out, K_h, K_w))
    b = rng.normal(size=c_out) if draw(st.booleans()) else None
    return x, w, b, dict(stride=S, padding=P, output_padding=output_padding, dilation=D)


@settings(max_examples=150, deadline=None)
@given(transpose_cases())
def test_conv_transpose2d_matches_torch(case):
    x, w, b, kwargs = case
    bt = None if b is None else torch.from_numpy(b)
    ref = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), bt, **kwargs).numpy()
    np.testing.assert_allclose(conv_transpose2d(x, w, b, **kwargs), ref, rtol=0, atol=ATOL)


def test_conv_transpose_is_the_adjoint_of_conv():
    # <conv(x), y> == <x, conv_transpose(y)>: the defining property of a transpose.
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(1, 2, 9, 9)), rng.normal(size=(3, 2, 3, 3))
    y = rng.normal(size=(1, 3, 5, 5))
    lhs = np.sum(conv2d(x, w, stride=2, padding=1) * y)
    rhs = np.sum(x * conv_transpose2d(y, w, stride=2, padding=1))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_lecture_upsampling_k3_s2_p1_doubles_size():
    x = np.ones((1, 4, 16, 16))
    w = np.ones((4, 2, 3, 3))
    assert conv_transpose2d(x, w, stride=2, padding=1, output_padding=1).shape == (1, 2, 32, 32)


def test_pad2d():
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    np.testing.assert_array_equal(pad2d(x, (1, 2)), np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2))))
    np.testing.assert_array_equal(
        pad2d(x, (0, 1, 2, 0), value=-1),
        np.pad(x, ((0, 0), (0, 0), (0, 1), (2, 0)), constant_values=-1),
    )
    assert pad2d(np.ones((3, 4)), 1).shape == (5, 6)
    with pytest.raises(ValueError, match="padding"):
        pad2d(x, (-1, 0, 0, 0))
    with pytest.raises(ValueError, match="at least 2"):
        pad2d(np.ones(3), 1)


X = np.zeros((1, 3, 8, 8))
W = np.zeros((4, 3, 3, 3))


@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
@pytest.mark.parametrize(
    "args, kwargs, exc, message",
    [
        ((np.zeros((8, 8)), W), {}, ValueError, r"x\[None, None\]"),
        ((np.zeros((3, 8, 8)), W), {}, ValueError, r"x\[None\]"),
        ((X, np.zeros((3, 3, 3))), {}, ValueError, "weight must have shape"),
        ((X, np.zeros((4, 2, 3, 3))), {}, ValueError, "channel mismatch"),
        ((X, W, np.zeros(3)), {}, ValueError, "bias must have shape"),
        ((X, np.zeros((4, 3, 9, 9))), {}, ValueError, "kernel_size"),
        ((X, np.zeros((4, 3, 11, 11))), {"padding": 1}, ValueError, "kernel_size"),
        ((X, W), {"stride": 0}, ValueError, "stride must be positive"),
        ((X, W), {"stride": -2}, ValueError, "stride must be positive"),
        ((X, W), {"padding": -1}, ValueError, "padding must be >= 0"),
        ((X, W), {"dilation": 0}, ValueError, "dilation must be positive"),
        ((X, W), {"padding": "same", "stride": 2}, ValueError, "strided"),
        ((X, W), {"padding": "full"}, ValueError, "padding must be"),
        ((np.full((1, 3, 8, 8), np.nan), W), {}, ValueError, "NaN"),
        ((X, np.full((4, 3, 3, 3), np.inf)), {}, ValueError, "weight contains NaN"),
        ((X.astype(complex), W), {}, TypeError, "real numbers"),
        ((torch.zeros(1, 3, 8, 8), W), {}, TypeError, r"tensor.numpy\(\)"),
    ],
)
def test_conv_bad_input(fn, args, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        fn(*args, **kwargs)


@pytest.mark.parametrize("kwargs, message", [({"groups": 0}, "groups"), ({"groups": 2}, "groups")])
def test_conv2d_bad_groups(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv2d(np.zeros((1, 4, 5, 5)), np.zeros((3, 2, 3, 3)), **kwargs)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        # a float where an int is needed is a TypeError for every size argument ...
        ({"stride": 1.5}, TypeError, r"stride must be an int or a pair of ints, got 1.5 \(float\)"),
        ({"groups": 1.5}, TypeError, r"groups must be an int, got 1.5 \(float\)"),
        ({"groups": 2.0}, TypeError, "groups must be an int"),
        ({"dilation": (1, 2.0)}, TypeError, "dilation must be an int or a pair of ints"),
        ({"padding": 1.0}, TypeError, "padding must be an int or a pair of ints"),
        ({"groups": True}, TypeError, "groups must be an int"),
        # ... and a non-positive int a ValueError
        ({"stride": 0}, ValueError, "stride must be positive, got 0"),
        ({"groups": 0}, ValueError, "groups must be positive, got 0"),
        ({"groups": -2}, ValueError, "groups must be positive, got -2"),
    ],
)
def test_conv2d_int_arguments_are_consistent(kwargs, error, message):
    with pytest.raises(error, match=message):
        conv2d(np.zeros((1, 4, 5, 5)), np.zeros((4, 4, 3, 3)), **kwargs)


@pytest.mark.parametrize("fn", [conv2d, conv2d_naive, conv_transpose2d])
@pytest.mark.parametrize(
    "x_shape, w_shape, name, shape",
    [
        ((1, 1, 0, 5), (1, 1, 3, 3), "x", (1, 1, 0, 5)),
        ((2, 1, 0, 0), (1, 1, 1, 1), "x", (2, 1, 0, 0)),
        ((1, 1, 5, 5), (1, 1, 0, 3), "weight", (1, 1, 0, 3)),
    ],
)
def test_conv_empty_input_names_the_argument_and_shape(fn, x_shape, w_shape, name, shape):
    # H = 0 used to fail with "size must be positive", which names no argument of conv2d
    message = re.escape(f"{name} must not be empty, got shape {shape}")
    with pytest.raises(ValueError, match=message):
        fn(np.zeros(x_shape), np.zeros(w_shape))


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((np.zeros((4, 4)), np.zeros((1, 1, 3, 3))), {}, r"x\[None, None\]"),
        ((np.zeros((1, 2, 4, 4)), np.zeros((3, 1, 3, 3))), {}, "channel mismatch"),
        ((np.zeros((1, 2, 4, 4)), np.zeros((2, 1, 3, 3)), np.zeros(2)), {}, "bias"),
        (
            (np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3))),
            {"stride": 2, "output_padding": 2},
            "output_padding",
        ),
        ((np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 1, 1))), {"padding": 2}, "padding"),
    ],
)
def test_conv_transpose2d_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_transpose2d(*args, **kwargs)
