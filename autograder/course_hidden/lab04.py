"""Hidden checks of lab04_convolution (grader only): other inputs, independent references.

References: output sizes by counting the kernel positions one by one; ``same`` padding by the
shape PyTorch's conv2d returns; padding by :func:`numpy.pad`; cross-correlation by
:func:`scipy.signal.correlate2d`; conv2d by :func:`torch.nn.functional.conv2d` in float64;
parameter counts by building :class:`torch.nn.Conv2d` on the meta device.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import correlate2d as scipy_correlate2d

from course.checks import as_array, as_int, assert_close, guard

ATOL = 1e-9


def _count_positions(size, kernel_size, stride, padding, dilation) -> int:
    """How many kernel placements fit: start at 0, S, 2S ... while the dilated kernel fits."""
    span = dilation * (kernel_size - 1) + 1
    count, start = 0, 0
    while start + span <= size + 2 * padding:
        count += 1
        start += stride
    return count


def q1_output_size(output_size) -> None:
    guard()
    cases = [
        (1, 1, 1, 0, 1),
        (5, 5, 1, 0, 1),
        (5, 5, 3, 0, 1),
        (6, 2, 3, 0, 1),  # stride larger than the kernel
        (10, 2, 5, 0, 1),
        (11, 4, 3, 2, 1),
        (13, 3, 2, 1, 3),
        (28, 5, 1, 0, 1),
        (224, 7, 2, 3, 1),
        (224, 11, 4, 2, 1),  # AlexNet's first layer
        (100, 3, 1, 4, 4),
        (9, 3, 4, 0, 2),
        (17, 1, 2, 0, 1),
        (3, 5, 1, 1, 1),
        (64, 3, 2, 1, 1),
        (65, 3, 2, 1, 1),
        (31, 4, 4, 0, 1),
        (20, 3, 7, 5, 2),
    ]
    for size, k, s, p, d in cases:
        call = f"output_size({size}, {k}, stride={s}, padding={p}, dilation={d})"
        expected = _count_positions(size, k, s, p, d)
        got = as_int(output_size(size, k, stride=s, padding=p, dilation=d), call)
        if got != expected:
            raise AssertionError(f"{call} should be {expected}, got {got}")


def q2_same_padding(same_padding) -> None:
    guard()
    x = torch.zeros(1, 1, 23, 23, dtype=torch.float64)
    for k in (1, 3, 5, 7, 9, 11, 13):
        for d in (1, 2, 3, 4):
            call = f"same_padding({k}, dilation={d})"
            got = as_int(same_padding(k, dilation=d), call)
            if not 0 <= got <= 100:
                raise AssertionError(f"{call} should be D(K-1)/2, between 0 and 24, got {got}")
            w = torch.zeros(1, 1, k, k, dtype=torch.float64)
            if d * (k - 1) + 1 > 23 + 2 * got:
                raise AssertionError(f"{call} = {got} is too small: the kernel does not fit")
            shape = tuple(F.conv2d(x, w, padding=got, dilation=d).shape)
            if shape != (1, 1, 23, 23):
                raise AssertionError(
                    f"{call} = {got}: a 23x23 image becomes {shape[2:]} instead of (23, 23)"
                )
    for k, d in [(4, 2), (6, 2), (2, 4)]:  # D (K - 1) even: possible although K is even
        call = f"same_padding({k}, dilation={d})"
        got = as_int(same_padding(k, dilation=d), call)
        if got != d * (k - 1) // 2:
            raise AssertionError(f"{call} should be D(K-1)/2 = {d * (k - 1) // 2}, got {got}")
    for k, d in [(2, 1), (6, 1), (8, 3), (4, 5)]:  # D (K - 1) odd
        try:
            value = same_padding(k, dilation=d)
        except ValueError:
            continue
        raise AssertionError(
            f"same_padding({k}, dilation={d}) should raise ValueError (D(K-1) = {d * (k - 1)} "
            f"is odd), got {type(value).__name__}"
        )


def q3_zero_pad(zero_pad) -> None:
    guard()
    rng = np.random.default_rng(1004)
    for shape, p in [((1, 1, 1, 1), 3), ((2, 3, 5, 4), 2), ((3, 1, 6, 9), 1), ((1, 4, 3, 8), 0)]:
        x = rng.normal(size=shape)
        given = x.copy()
        call = f"zero_pad(x of shape {shape}, {p})"
        got = as_array(zero_pad(given, p), call)
        expected = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        assert_close(got, expected, call, atol=0.0, rtol=0.0)
        assert_close(given, x, f"the input x after {call} (it must not be modified)")
    x = rng.integers(-5, 6, size=(2, 2, 3, 3))
    call = "zero_pad(an integer array of shape (2, 2, 3, 3), 2)"
    got = as_array(zero_pad(x.copy(), 2), call)
    assert_close(got, np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2))), call, atol=0.0, rtol=0.0)


def q4_correlate2d(correlate2d) -> None:
    guard()
    rng = np.random.default_rng(1040)
    for image_shape, kernel_shape in [
        ((6, 6), (3, 3)),
        ((9, 5), (4, 2)),
        ((4, 7), (4, 7)),  # the kernel covers the whole image: one output value
        ((8, 3), (1, 1)),
        ((5, 10), (3, 1)),
        ((12, 11), (5, 6)),
    ]:
        image, kernel = rng.normal(size=image_shape), rng.normal(size=kernel_shape)
        given = image.copy()
        call = f"correlate2d(image {image_shape}, kernel {kernel_shape})"
        got = as_array(correlate2d(given, kernel.copy()), call)
        expected = scipy_correlate2d(image, kernel, mode="valid")
        assert_close(got, expected, call, atol=ATOL, rtol=ATOL)
        assert_close(given, image, f"the image after {call} (it must not be modified)")


def _conv_case(conv2d, rng, n, c_in, c_out, hw, khw, stride, padding, dilation, bias) -> None:
    x = rng.normal(size=(n, c_in, *hw))
    w = rng.normal(size=(c_out, c_in, *khw))
    b = rng.normal(size=c_out) if bias else None
    expected = F.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(w),
        None if b is None else torch.from_numpy(b),
        stride=stride,
        padding=padding,
        dilation=dilation,
    ).numpy()
    given = x.copy()
    call = (
        f"conv2d(x {x.shape}, weight {w.shape}, {'bias' if bias else 'no bias'}, "
        f"stride={stride}, padding={padding}, dilation={dilation})"
    )
    got = conv2d(
        given, w.copy(), None if b is None else b.copy(), stride=stride, padding=padding,
        dilation=dilation,
    )  # fmt: skip
    got = as_array(got, call)
    if got.shape != expected.shape:
        raise AssertionError(f"{call} should have shape {expected.shape}, got {got.shape}")
    assert_close(got, expected, call, atol=ATOL, rtol=ATOL)
    assert_close(given, x, f"the input x after {call} (it must not be modified)")


def q5_conv2d(conv2d) -> None:
    guard()
    rng = np.random.default_rng(1005)
    cases = [
        # n, c_in, c_out, (H, W), (K_h, K_w), stride, padding, dilation, bias
        (2, 3, 4, (9, 7), (3, 2), 1, 0, 1, True),
        (1, 2, 3, (10, 10), (2, 2), 3, 0, 1, True),  # stride larger than the kernel
        (1, 1, 2, (11, 8), (3, 3), 2, 2, 2, True),  # dilation with padding
        (2, 4, 1, (6, 9), (1, 1), 1, 0, 1, True),  # 1x1 convolution
        (1, 3, 2, (5, 6), (5, 6), 1, 0, 1, True),  # the kernel covers the whole image
        (1, 2, 2, (7, 5), (3, 5), 1, 2, 1, False),  # padding wider than needed, no bias
        (1, 1, 1, (13, 12), (3, 2), 2, 1, 3, True),  # dilation and stride together
        (3, 2, 3, (5, 5), (3, 3), 4, 1, 1, True),
        (1, 5, 2, (8, 1), (3, 1), 1, 0, 1, True),  # a single column
        (1, 2, 4, (4, 4), (2, 3), 1, 3, 1, True),  # more padding than image
    ]
    for case in cases:
        _conv_case(conv2d, rng, *case)


def q6_conv_params(conv_params) -> None:
    guard()
    cases = [
        (1, 1, 1, True),
        (1, 1, 1, False),
        (3, 96, 11, True),
        (96, 256, 5, False),
        (512, 512, 3, True),
        (7, 13, (1, 7), True),
        (13, 7, (7, 1), False),
        (2, 5, (2, 4), True),
    ]
    for c_in, c_out, k, bias in cases:
        layer = torch.nn.Conv2d(c_in, c_out, k, bias=bias, device="meta")
        expected = sum(p.numel() for p in layer.parameters())
        call = f"conv_params({c_in}, {c_out}, {k}, bias={bias})"
        got = as_int(conv_params(c_in, c_out, k, bias=bias), call)
        if got != expected:
            raise AssertionError(f"{call} should be {expected}, got {got}")
