"""Convolution arithmetic against the shapes and parameter counts that PyTorch produces."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course.arithmetic import (
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    linear_params,
    pool_output_size,
    receptive_field,
    same_padding,
)

small = st.integers(1, 5)
sizes = st.integers(1, 40)


def meta(*shape):
    """A tensor with a shape and no data: PyTorch computes output shapes without arithmetic."""
    return torch.empty(*shape, device="meta")


@settings(max_examples=80, deadline=None)
@given(
    H=sizes,
    W=sizes,
    K_h=small,
    K_w=small,
    S_h=small,
    S_w=small,
    P=st.integers(0, 3),
    D=st.integers(1, 3),
)
def test_conv_output_size_matches_torch(H, W, K_h, K_w, S_h, S_w, P, D):
    fits = all(D * (k - 1) + 1 <= n + 2 * P for k, n in ((K_h, H), (K_w, W)))
    args = ((H, W), (K_h, K_w), (S_h, S_w), P, D)
    if not fits:
        with pytest.raises(ValueError, match="kernel_size"):
            conv_output_size(*args)
        return
    y = F.conv2d(meta(1, 1, H, W), meta(1, 1, K_h, K_w), stride=(S_h, S_w), padding=P, dilation=D)
    assert conv_output_size(*args) == tuple(y.shape[2:])
    assert conv_output_size(H, K_h, S_h, P, D) == y.shape[2]


@settings(max_examples=80, deadline=None)
@given(H=sizes, K=small, S=small, P=st.integers(0, 2), D=st.integers(1, 3), ceil_mode=st.booleans())
def test_pool_output_size_matches_torch(H, K, S, P, D, ceil_mode):
    assume(P <= K // 2 and D * (K - 1) + 1 <= H + 2 * P)
    y = F.max_pool2d(meta(1, 1, H, H + 3), K, S, P, D, ceil_mode=ceil_mode)
    expected = tuple(y.shape[2:])
    assert pool_output_size((H, H + 3), K, S, P, D, ceil_mode) == expected
    assert pool_output_size(H, K, S, P, D, ceil_mode) == expected[0]


@settings(max_examples=80, deadline=None)
@given(
    H=st.integers(1, 20),
    K=small,
    S=small,
    P=st.integers(0, 3),
    D=st.integers(1, 3),
    output_padding=st.integers(0, 4),
)
def test_conv_transpose_output_size_matches_torch(H, K, S, P, D, output_padding):
    assume(output_padding < max(S, D))
    n_out = (H - 1) * S - 2 * P + D * (K - 1) + output_padding + 1
    if n_out < 1:
        with pytest.raises(ValueError, match="padding"):
            conv_transpose_output_size(H, K, S, P, output_padding, D)
        return
    y = F.conv_transpose2d(
        meta(1, 2, H, H + 1),
        meta(2, 1, K, K),
        stride=S,
        padding=P,
        output_padding=output_padding,
        dilation=D,
    )
    assert conv_transpose_output_size((H, H + 1), K, S, P, output_padding, D) == tuple(y.shape[2:])


def test_lecture_examples():
    # 7x7 input, 3x3 filter: stride 1 -> 5x5, stride 2 -> 3x3, stride 3 -> 2x2
    # (the stride-3 windows do not tile 7 pixels: the last column is never seen).
    assert [conv_output_size(7, 3, stride=s) for s in (1, 2, 3)] == [5, 3, 2]
    assert conv_output_size((7, 7), 3, padding=1) == (7, 7)  # P = (K - 1) / 2 keeps the size
    # transposed conv K=3, S=2, P=1 with output_padding=1 doubles the size
    assert conv_transpose_output_size(32, 3, 2, 1, 1) == 64


@pytest.mark.parametrize("K, D", [(1, 1), (3, 1), (5, 1), (7, 1), (3, 2), (5, 3), (2, 2)])
def test_same_padding_keeps_size(K, D):
    P = same_padding(K, D)
    y = F.conv2d(meta(1, 1, 13, 10), meta(1, 1, K, K), padding=P, dilation=D)
    assert tuple(y.shape[2:]) == (13, 10)
    assert same_padding((K, 1), (D, 1)) == (P, 0)
    assert conv_output_size((13, 10), K, padding="same", dilation=D) == (13, 10)


@pytest.mark.parametrize("K, D", [(2, 1), (4, 1), (4, 3)])
def test_same_padding_even_kernel_raises(K, D):
    with pytest.raises(ValueError, match="evenly"):
        same_padding(K, D)


def _torch_receptive_field(layers, size=256):
    """Receptive field measured by back-propagation: which input pixels move the centre output."""
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    y = x
    for k, s, d in layers:
        y = F.conv2d(y, torch.ones(1, 1, k, k), stride=s, dilation=d)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    return int(rows.max() - rows.min() + 1)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.integers(1, 2), st.integers(1, 2)), min_size=1, max_size=4
    )
)
def test_receptive_field_matches_gradient(layers):
    assert receptive_field(layers) == _torch_receptive_field(layers)


def test_receptive_field_forms():
    assert receptive_field([(3, 1)] * 3) == 7  # three 3x3 convs see 7x7 (VGG)
    assert receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == 15  # dilations 1, 2, 4
    assert receptive_field([((3, 5), 1), (2, 2), ((3, 1), 1)]) == (8, 6)
    with pytest.raises(ValueError, match="layers"):
        receptive_field([])
    with pytest.raises(ValueError, match=r"layers\[1\]"):
        receptive_field([(3, 1), (3,)])


@pytest.mark.parametrize(
    "c_in, c_out, k, bias, groups",
    [
        (1, 6, 5, True, 1),
        (3, 64, 3, True, 1),
        (64, 64, (3, 1), False, 1),
        (32, 32, 3, True, 32),
        (32, 64, 1, True, 1),
        (12, 18, 3, True, 3),
    ],
)
def test_conv_params_matches_torch(c_in, c_out, k, bias, groups):
    layer = torch.nn.Conv2d(c_in, c_out, k, bias=bias, groups=groups)
    assert conv_params(c_in, c_out, k, bias, groups) == sum(p.numel() for p in layer.parameters())


@pytest.mark.parametrize("n_in, n_out, bias", [(1, 1, True), (784, 10, True), (4096, 1000, False)])
def test_linear_params_matches_torch(n_in, n_out, bias):
    layer = torch.nn.Linear(n_in, n_out, bias=bias)
    assert linear_params(n_in, n_out, bias) == sum(p.numel() for p in layer.parameters())


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: conv_output_size(7, 0), "kernel_size must be positive"),
        (lambda: conv_output_size(7, 3, stride=0), "stride must be positive"),
        (lambda: conv_output_size(7, 3, stride=-1), "stride must be positive"),
        (lambda: conv_output_size(7, 3, padding=-1), "padding must be >= 0"),
        (lambda: conv_output_size(7, 3, dilation=0), "dilation must be positive"),
        (lambda: conv_output_size(0, 3), "size must be positive"),
        (lambda: conv_output_size(2, 5), "kernel_size"),
        (lambda: conv_output_size(7, 3, stride=2, padding="same"), "stride=1"),
        (lambda: conv_output_size(7, 3, padding="full"), "padding must be"),
        (lambda: conv_output_size((7, 7, 7), 3), r"\(h, w\) pair"),
        (lambda: pool_output_size(7, 2, padding=2), "half the kernel"),
        (lambda: conv_transpose_output_size(4, 3, stride=2, output_padding=2), "output_padding"),
        (lambda: conv_params(3, 8, 3, groups=2), "divisible by groups"),
        (lambda: linear_params(0, 3), "in_features must be positive"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_non_integer_sizes_raise_type_error():
    with pytest.raises(TypeError, match="kernel_size"):
        conv_output_size(7, 2.5)
    with pytest.raises(TypeError, match="stride"):
        conv_output_size(7, 3, stride=True)
