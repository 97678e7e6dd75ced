"""NumPy pooling against torch.nn.functional (the independent reference)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course.pooling import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool2d,
)

ATOL = 1e-9

# The 4x4 max-vs-average pooling example of lecture 05 (2x2 pool, stride 2).
# fmt: off
LECTURE_4X4 = np.array([[2, 8, 4, 1],
                        [5, 3, 9, 2],
                        [7, 1, 6, 4],
                        [3, 2, 5, 8]], dtype=float)[None, None]
# fmt: on


def test_lecture_4x4_example():
    expected_max = [[8, 9], [7, 8]]  # max of each 2x2 block, by hand
    expected_avg = [
        [(2 + 8 + 5 + 3) / 4, (4 + 1 + 9 + 2) / 4],
        [(7 + 1 + 3 + 2) / 4, (6 + 4 + 5 + 8) / 4],
    ]
    np.testing.assert_array_equal(max_pool2d(LECTURE_4X4, 2)[0, 0], expected_max)
    np.testing.assert_allclose(avg_pool2d(LECTURE_4X4, 2)[0, 0], expected_avg, atol=ATOL)
    t = torch.from_numpy(LECTURE_4X4)
    np.testing.assert_array_equal(max_pool2d(LECTURE_4X4, 2), F.max_pool2d(t, 2).numpy())
    np.testing.assert_allclose(avg_pool2d(LECTURE_4X4, 2), F.avg_pool2d(t, 2).numpy(), atol=ATOL)


@st.composite
def pool_cases(draw, dilation=True):
    K = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    S = draw(st.none() | st.tuples(st.integers(1, 5), st.integers(1, 5)))
    P = (draw(st.integers(0, K[0] // 2)), draw(st.integers(0, K[1] // 2)))
    D = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    H, W = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    assume(D[0] * (K[0] - 1) + 1 <= H + 2 * P[0] and D[1] * (K[1] - 1) + 1 <= W + 2 * P[1])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), H, W))
    return x, dict(kernel_size=K, stride=S, padding=P, ceil_mode=draw(st.booleans())), D


@settings(max_examples=150, deadline=None)
@given(pool_cases())
def test_max_pool2d_matches_torch(case):
    x, kwargs, D = case
    ref = F.max_pool2d(torch.from_numpy(x), dilation=D, **kwargs).numpy()
    np.testing.assert_array_equal(max_pool2d(x, dilation=D, **kwargs), ref)


@settings(max_examples=150, deadline=None)
@given(pool_cases(dilation=False), st.booleans())
def test_avg_pool2d_matches_torch(case, count_include_pad):
    x, kwargs, _ = case
    ref = F.avg_pool2d(torch.from_numpy(x), count_include_pad=count_include_pad, **kwargs)
    ours = avg_pool2d(x, count_include_pad=count_include_pad, **kwargs)
    np.testing.assert_allclose(ours, ref.numpy(), rtol=0, atol=ATOL)


@settings(max_examples=100, deadline=None)
@given(
    H=st.integers(1, 15),
    W=st.integers(1, 15),
    out_h=st.integers(1, 8) | st.none(),
    out_w=st.integers(1, 8),
    seed=st.integers(0, 1000),
)
def test_adaptive_pooling_matches_torch(H, W, out_h, out_w, seed):
    x = np.random.default_rng(seed).normal(size=(2, 3, H, W))
    t = torch.from_numpy(x)
    size = (out_h, out_w)
    np.testing.assert_allclose(
        adaptive_avg_pool2d(x, size), F.adaptive_avg_pool2d(t, size).numpy(), atol=ATOL
    )
    np.testing.assert_array_equal(
        adaptive_max_pool2d(x, size), F.adaptive_max_pool2d(t, size).numpy()
    )
    if out_h is not None:
        np.testing.assert_array_equal(
            adaptive_max_pool2d(x, out_h), F.adaptive_max_pool2d(t, out_h).numpy()
        )


def test_global_pooling_matches_torch():
    x = np.random.default_rng(0).normal(size=(2, 5, 7, 3))
    t = torch.from_numpy(x)
    np.testing.assert_allclose(global_avg_pool2d(x), F.adaptive_avg_pool2d(t, 1).numpy(), atol=ATOL)
    np.testing.assert_array_equal(global_max_pool2d(x), F.adaptive_max_pool2d(t, 1).numpy())


def test_dtypes():
    x = np.random.default_rng(1).normal(size=(1, 2, 6, 6)).astype(np.float32)
    for fn in (
        lambda a: max_pool2d(a, 2),
        lambda a: avg_pool2d(a, 2),
        lambda a: adaptive_avg_pool2d(a, 3),
        global_avg_pool2d,
    ):
        assert fn(x).dtype == np.float32
    assert max_pool2d(np.arange(16).reshape(1, 1, 4, 4), 2).dtype == np.float64


@pytest.mark.parametrize("fn", [max_pool2d, avg_pool2d])
@pytest.mark.parametrize(
    "x, kwargs, exc, message",
    [
        (np.zeros((4, 4)), {"kernel_size": 2}, ValueError, r"x\[None, None\]"),
        (np.zeros((1, 1, 4, 4)), {"kernel_size": 5}, ValueError, "kernel_size"),
        (np.zeros((1, 1, 4, 4)), {"kernel_size": 2, "stride": 0}, ValueError, "stride must be"),
        (np.zeros((1, 1, 4, 4)), {"kernel_size": 2, "padding": 2}, ValueError, "half the kernel"),
        (np.zeros((1, 1, 4, 4)), {"kernel_size": 0}, ValueError, "kernel_size must be positive"),
        (np.full((1, 1, 4, 4), np.nan), {"kernel_size": 2}, ValueError, "NaN"),
        (np.zeros((1, 1, 4, 4), dtype=complex), {"kernel_size": 2}, TypeError, "real numbers"),
    ],
)
def test_pool_bad_input(fn, x, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        fn(x, **kwargs)


@pytest.mark.parametrize("fn", [adaptive_avg_pool2d, adaptive_max_pool2d])
@pytest.mark.parametrize(
    "x, size, message",
    [
        (np.zeros((1, 4, 4)), 2, r"x\[None\]"),
        (np.zeros((1, 1, 4, 4)), 0, "output_size must be positive"),
        (np.zeros((1, 1, 4, 4)), (2, 2, 2), "output_size"),
    ],
)
def test_adaptive_bad_input(fn, x, size, message):
    with pytest.raises(ValueError, match=message):
        fn(x, size)


@pytest.mark.parametrize(
    "fn", [adaptive_avg_pool2d, adaptive_max_pool2d, max_pool2d, avg_pool2d, global_avg_pool2d]
)
@pytest.mark.parametrize("shape", [(1, 1, 0, 0), (2, 3, 4, 0), (1, 1, 0, 4)])
def test_empty_image_is_a_value_error(fn, shape):
    # adaptive_avg_pool2d used to return NaNs (the mean of nothing) without a word
    args = () if fn is global_avg_pool2d else (1,)
    with pytest.raises(ValueError, match=rf"x must not be empty, got shape \({shape[0]}, "):
        fn(np.zeros(shape), *args)


def test_empty_batch_is_fine():
    assert adaptive_avg_pool2d(np.zeros((0, 3, 4, 4)), 2).shape == (0, 3, 2, 2)


@pytest.mark.parametrize("fn", [max_pool2d, avg_pool2d])
@pytest.mark.parametrize("kwargs", [{"kernel_size": 2.0}, {"kernel_size": 2, "stride": 1.5}])
def test_pool_float_sizes_are_type_errors(fn, kwargs):
    name = "stride" if "stride" in kwargs else "kernel_size"
    with pytest.raises(TypeError, match=rf"{name} must be an int or a pair of ints, got"):
        fn(np.zeros((1, 1, 4, 4)), **kwargs)
