"""The visible and hidden checks of lab04 accept correct answers and reject typical mistakes."""

import numpy as np
import pytest
import torch
from cheats import always_equal, hidden_checks
from scipy.signal import convolve2d

from course import arithmetic
from course import conv as cconv
from course.checks import lab04 as visible

hidden = hidden_checks("lab04")

MODULES = [pytest.param(visible, id="visible"), pytest.param(hidden, id="hidden")]


# --- correct answers: the library, and independent implementations -------------------------
def output_size_loop(size, kernel_size, stride=1, padding=0, dilation=1):
    span = dilation * (kernel_size - 1) + 1
    return len(range(0, size + 2 * padding - span + 1, stride))


def zero_pad_np(x, padding):
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def correlate2d_lib(image, kernel):
    return cconv.conv2d(image[None, None], kernel[None, None])[0, 0]


def correlate2d_loops(image, kernel):
    H, W = image.shape
    kh, kw = kernel.shape
    return np.array(
        [
            [np.sum(image[i : i + kh, j : j + kw] * kernel) for j in range(W - kw + 1)]
            for i in range(H - kh + 1)
        ]
    )


def conv2d_torch(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """A correct answer that returns a torch tensor (as_array accepts it)."""
    t = torch.from_numpy
    return torch.nn.functional.conv2d(
        t(x), t(weight), None if bias is None else t(bias), stride, padding, dilation
    )


def conv_params_torch(c_in, c_out, k, bias=True):
    return sum(p.numel() for p in torch.nn.Conv2d(c_in, c_out, k, bias=bias).parameters())


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize(
    "name, answer",
    [
        ("q1_output_size", arithmetic.conv_output_size),
        ("q1_output_size", output_size_loop),
        ("q2_same_padding", arithmetic.same_padding),
        ("q3_zero_pad", cconv.pad2d),
        ("q3_zero_pad", zero_pad_np),
        ("q4_correlate2d", correlate2d_lib),
        ("q4_correlate2d", correlate2d_loops),
        ("q5_conv2d", cconv.conv2d),
        ("q5_conv2d", cconv.conv2d_naive),
        ("q5_conv2d", conv2d_torch),
        ("q6_conv_params", arithmetic.conv_params),
        ("q6_conv_params", conv_params_torch),
    ],
)
def test_accepts_correct_answers(module, name, answer):
    getattr(module, name)(answer)


# --- typical mistakes ------------------------------------------------------------------------
def output_size_no_plus_one(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride


def output_size_ceil(size, kernel_size, stride=1, padding=0, dilation=1):
    return -(-(size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride) + 1


def output_size_no_dilation(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - kernel_size) // stride + 1


def output_size_one_side_padding(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + padding - dilation * (kernel_size - 1) - 1) // stride + 1


def output_size_float(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1


def same_padding_no_error(kernel_size, dilation=1):
    return dilation * (kernel_size - 1) // 2


def same_padding_no_dilation(kernel_size, dilation=1):
    return arithmetic.same_padding(kernel_size)


def zero_pad_all_axes(x, padding):
    return np.pad(x, padding)


def zero_pad_one_side(x, padding):
    return np.pad(x, ((0, 0), (0, 0), (0, 2 * padding), (0, 2 * padding)))


def zero_pad_ones(x, padding):
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=1)


def zero_pad_in_place(x, padding):
    out = zero_pad_np(x, padding)
    x[...] = 0
    return out


def correlate2d_flipped(image, kernel):
    return convolve2d(image, kernel, mode="valid")


def correlate2d_same(image, kernel):
    return cconv.conv2d(image[None, None], kernel[None, None], padding="same")[0, 0]


def conv2d_no_bias(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return cconv.conv2d(x, weight, None, stride, padding, dilation)


def conv2d_no_stride(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return cconv.conv2d(x, weight, bias, 1, padding, dilation)


def conv2d_no_dilation(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return cconv.conv2d(x, weight, bias, stride, padding, 1)


def conv2d_first_channel(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return cconv.conv2d(x[:, :1], weight[:, :1], bias, stride, padding, dilation)


def conv2d_flipped(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return cconv.conv2d(x, weight[:, :, ::-1, ::-1].copy(), bias, stride, padding, dilation)


def conv2d_float32(x, weight, bias=None, stride=1, padding=0, dilation=1):
    b = None if bias is None else bias.astype(np.float32)
    args = (x.astype(np.float32), weight.astype(np.float32), b)
    return cconv.conv2d(*args, stride, padding, dilation)


def conv2d_first_image(x, weight, bias=None, stride=1, padding=0, dilation=1):
    y = cconv.conv2d(x, weight, bias, stride, padding, dilation)
    return np.repeat(y[:1], len(y), axis=0)


def conv2d_mutates(x, weight, bias=None, stride=1, padding=0, dilation=1):
    y = cconv.conv2d(x, weight, bias, stride, padding, dilation)
    x *= 2
    return y


def conv_params_no_bias(c_in, c_out, k, bias=True):
    return arithmetic.conv_params(c_in, c_out, k, bias=False)


def conv_params_no_channels(c_in, c_out, k, bias=True):
    return arithmetic.conv_params(1, c_out, k, bias=bias)


def conv_params_square(c_in, c_out, k, bias=True):
    k = k if isinstance(k, int) else k[0]
    return arithmetic.conv_params(c_in, c_out, k, bias=bias)


def conv_params_always_bias(c_in, c_out, k, bias=True):
    return arithmetic.conv_params(c_in, c_out, k)


WRONG = [
    ("q1_output_size", output_size_no_plus_one),
    ("q1_output_size", output_size_ceil),
    ("q1_output_size", output_size_no_dilation),
    ("q1_output_size", output_size_one_side_padding),
    ("q1_output_size", output_size_float),
    ("q1_output_size", always_equal),
    ("q2_same_padding", same_padding_no_error),
    ("q2_same_padding", same_padding_no_dilation),
    ("q2_same_padding", always_equal),
    ("q3_zero_pad", zero_pad_all_axes),
    ("q3_zero_pad", zero_pad_one_side),
    ("q3_zero_pad", zero_pad_ones),
    ("q3_zero_pad", always_equal),
    ("q4_correlate2d", correlate2d_flipped),
    ("q4_correlate2d", correlate2d_same),
    ("q4_correlate2d", always_equal),
    ("q5_conv2d", conv2d_no_bias),
    ("q5_conv2d", conv2d_no_stride),
    ("q5_conv2d", conv2d_no_dilation),
    ("q5_conv2d", conv2d_first_channel),
    ("q5_conv2d", conv2d_flipped),
    ("q5_conv2d", conv2d_float32),
    ("q5_conv2d", conv2d_first_image),
    ("q5_conv2d", always_equal),
    ("q6_conv_params", conv_params_no_bias),
    ("q6_conv_params", conv_params_no_channels),
    ("q6_conv_params", conv_params_square),
    ("q6_conv_params", conv_params_always_bias),
    ("q6_conv_params", always_equal),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", WRONG)
def test_rejects_wrong_answers(module, name, answer):
    with pytest.raises(AssertionError):
        getattr(module, name)(answer)


@pytest.mark.parametrize(
    "name, answer",
    [("q3_zero_pad", zero_pad_in_place), ("q5_conv2d", conv2d_mutates)],
)
def test_hidden_rejects_answers_that_modify_their_input(name, answer):
    with pytest.raises(AssertionError, match="must not be modified"):
        getattr(hidden, name)(answer)


def test_messages_teach():
    with pytest.raises(AssertionError, match=r"floor\(4 / 1\) \+ 1 = 5"):
        visible.q1_output_size(output_size_no_plus_one)
    with pytest.raises(AssertionError, match="should raise ValueError"):
        visible.q2_same_padding(same_padding_no_error)
    with pytest.raises(AssertionError, match="H and W only"):
        visible.q3_zero_pad(zero_pad_all_axes)
    with pytest.raises(AssertionError, match="flipped the kernel"):
        visible.q4_correlate2d(correlate2d_flipped)
    with pytest.raises(AssertionError, match=r"shape \(1, 1, 3, 3\)"):
        visible.q5_conv2d(conv2d_no_stride)
    with pytest.raises(AssertionError, match="bias is missing"):
        visible.q5_conv2d(conv2d_no_bias)


def test_unfinished_answer_raises_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for module in (visible, hidden):
        for name in visible.__all__:
            with pytest.raises(NotImplementedError):
                getattr(module, name)(stub)


@pytest.mark.parametrize("module", MODULES)
def test_tampering_is_refused(module, monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    with pytest.raises(AssertionError, match="replaced"):
        module.q5_conv2d(cconv.conv2d)
