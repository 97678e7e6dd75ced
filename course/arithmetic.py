"""Convolution arithmetic: output sizes, ``same`` padding, receptive fields, parameter counts.

Notation of the lecture: an input of size ``H`` (or ``W``), a kernel of size ``K``, zero padding
``P`` on each side, stride ``S`` and dilation ``D``. A dilated kernel covers ``D * (K - 1) + 1``
input pixels, so the number of positions where it fits is

.. math::

    H_{out} = \\left\\lfloor \\frac{H + 2P - D (K - 1) - 1}{S} \\right\\rfloor + 1 .

With ``D = 1`` this is the lecture's ``(H - K + 2P) / S + 1``. Every size argument accepts an
``int`` or an ``(h, w)`` pair; the result has the same kind (int in, int out; pair in, tuple out).
The formulas are those of :mod:`torch.nn.functional`, so the shapes always agree with PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from course._validate import integer, pair

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "conv_transpose_output_size",
    "same_padding",
    "receptive_field",
    "conv_params",
    "linear_params",
]

Size = int | tuple[int, int]


def _is_pair(*values) -> bool:
    return any(isinstance(v, (tuple, list, np.ndarray)) for v in values)


def _per_axis(fn: Callable[..., int], args: dict, minimums: dict):
    """Apply a one-axis formula to each axis; return an int if every argument was an int."""
    pairs = {name: pair(name, value, minimum=minimums[name]) for name, value in args.items()}
    result = tuple(fn(**{name: p[axis] for name, p in pairs.items()}) for axis in (0, 1))
    return result if _is_pair(*args.values()) else result[0]


def _resolve_padding(padding, kernel_size, dilation, stride):
    """Translate ``"valid"``/``"same"`` into numbers (only symmetric ``same`` is a number)."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0
        if padding == "same":
            if any(s != 1 for s in pair("stride", stride, minimum=1)):
                raise ValueError("padding='same' is only defined for stride=1 (as in PyTorch)")
            return same_padding(kernel_size, dilation)
        raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    return padding


def conv_output_size(
    size: Size,
    kernel_size: Size,
    stride: Size = 1,
    padding: Size | str = 0,
    dilation: Size = 1,
) -> Size:
    """Spatial size of a convolution's output (activation map).

    .. math:: H_{out} = \\lfloor (H + 2P - D (K - 1) - 1) / S \\rfloor + 1

    Parameters
    ----------
    size : int or (int, int)
        Input size ``H`` (or ``(H, W)``).
    kernel_size : int or (int, int)
        Kernel size ``K``.
    stride : int or (int, int), default 1
        Stride ``S`` (positive).
    padding : int, (int, int), "same" or "valid", default 0
        Zero padding ``P`` added on *each* side.
    dilation : int or (int, int), default 1
        Dilation ``D``; the kernel covers ``D (K - 1) + 1`` pixels.

    Returns
    -------
    int or tuple of int
        ``H_out`` (an int if every argument was an int, else an ``(H_out, W_out)`` tuple).

    Raises
    ------
    ValueError
        If a size, kernel, stride or dilation is not positive, padding is negative, or the
        dilated kernel is larger than the padded input.

    Examples
    --------
    The lecture's 7x7 image with a 3x3 filter:

    >>> [conv_output_size(7, 3, stride=s) for s in (1, 2, 3)]
    [5, 3, 2]
    >>> conv_output_size((7, 9), 3, padding=1)
    (7, 9)
    """
    padding = _resolve_padding(padding, kernel_size, dilation, stride)

    def one_axis(size, kernel_size, stride, padding, dilation):
        span = dilation * (kernel_size - 1) + 1
        if span > size + 2 * padding:
            raise ValueError(
                f"kernel_size: the kernel spans {span} pixels (K={kernel_size}, "
                f"D={dilation}) but the padded input has only {size + 2 * padding} "
                f"(H={size}, P={padding})"
            )
        return (size + 2 * padding - span) // stride + 1

    args = dict(
        size=size, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation
    )
    minimums = dict(size=1, kernel_size=1, stride=1, padding=0, dilation=1)
    return _per_axis(one_axis, args, minimums)


def pool_output_size(
    size: Size,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
) -> Size:
    """Spatial size of a max/average pooling output, as in :func:`torch.nn.functional.max_pool2d`.

    .. math:: H_{out} = \\mathrm{round}((H + 2P - D (K - 1) - 1) / S) + 1

    where ``round`` is floor, or ceil if ``ceil_mode``. In ceil mode a last window that would
    start in the right padding is dropped (it would see no input pixel).

    Parameters
    ----------
    size, kernel_size, padding, dilation : int or (int, int)
        As in :func:`conv_output_size`.
    stride : int or (int, int), optional
        Defaults to ``kernel_size`` (non-overlapping windows), as in PyTorch.
    ceil_mode : bool, default False
        Round up, so that a partial window at the border also produces an output.

    Returns
    -------
    int or tuple of int

    Raises
    ------
    ValueError
        As :func:`conv_output_size`, and if ``padding`` exceeds half the kernel size
        (PyTorch's rule: a window must never lie entirely in the padding).

    Examples
    --------
    The 4x4 example of the lecture with a 2x2 pool:

    >>> pool_output_size(4, 2)
    2
    >>> pool_output_size(5, 2), pool_output_size(5, 2, ceil_mode=True)
    (2, 3)
    """
    if stride is None:
        stride = kernel_size

    def one_axis(size, kernel_size, stride, padding, dilation):
        if padding > kernel_size // 2:
            raise ValueError(
                f"padding must be at most half the kernel size, got P={padding} for K={kernel_size}"
            )
        span = dilation * (kernel_size - 1) + 1
        if span > size + 2 * padding:
            raise ValueError(
                f"kernel_size: the window spans {span} pixels but the padded input has only "
                f"{size + 2 * padding} (H={size}, P={padding})"
            )
        numerator = size + 2 * padding - span
        out = (-(-numerator // stride) if ceil_mode else numerator // stride) + 1
        if ceil_mode and (out - 1) * stride >= size + padding:
            out -= 1
        return out

    args = dict(
        size=size, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation
    )
    minimums = dict(size=1, kernel_size=1, stride=1, padding=0, dilation=1)
    return _per_axis(one_axis, args, minimums)


def conv_transpose_output_size(
    size: Size,
    kernel_size: Size,
    stride: Size = 1,
    padding: Size = 0,
    output_padding: Size = 0,
    dilation: Size = 1,
) -> Size:
    """Spatial size of a transposed convolution's output.

    .. math:: H_{out} = (H - 1) S - 2P + D (K - 1) + \\text{output\\_padding} + 1

    The lecture's upsampling layer ``K=3, S=2, P=1`` (with ``output_padding=1``) exactly doubles
    the size, undoing a ``K=3, S=2, P=1`` convolution.

    Parameters
    ----------
    size, kernel_size, stride, padding, dilation : int or (int, int)
        As for the convolution that this layer transposes.
    output_padding : int or (int, int), default 0
        Extra rows/columns added at the bottom/right to pick one of the ``S`` input sizes that
        the strided convolution maps to the same output size. Must be smaller than ``stride``
        or ``dilation``.

    Returns
    -------
    int or tuple of int

    Raises
    ------
    ValueError
        If ``output_padding`` is too large or the result is not positive.

    Examples
    --------
    >>> conv_transpose_output_size(4, 3, stride=2, padding=1)
    7
    >>> conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=1)
    8
    """

    def one_axis(size, kernel_size, stride, padding, output_padding, dilation):
        if output_padding >= max(stride, dilation):
            raise ValueError(
                "output_padding must be smaller than stride or dilation, got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
        out = (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
        if out < 1:
            raise ValueError(f"padding={padding} is too large: the output size would be {out}")
        return out

    args = dict(
        size=size,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
    )
    minimums = dict(size=1, kernel_size=1, stride=1, padding=0, output_padding=0, dilation=1)
    return _per_axis(one_axis, args, minimums)


def same_padding(kernel_size: Size, dilation: Size = 1) -> Size:
    """Zero padding that keeps the size unchanged at stride 1: ``P = D (K - 1) / 2``.

    With ``D = 1`` this is the lecture's ``P = (K - 1) / 2``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    dilation : int or (int, int), default 1

    Returns
    -------
    int or tuple of int

    Raises
    ------
    ValueError
        If ``D (K - 1)`` is odd (an even kernel without dilation): the padding cannot be the same
        on both sides. (PyTorch's ``padding="same"`` then pads one more pixel on the
        bottom/right; :func:`course.conv.conv2d` does the same.)

    Examples
    --------
    >>> same_padding(3), same_padding(5), same_padding(3, dilation=2)
    (1, 2, 2)
    """

    def one_axis(kernel_size, dilation):
        total = dilation * (kernel_size - 1)
        if total % 2:
            raise ValueError(
                f"kernel_size={kernel_size} with dilation={dilation} needs {total} pixels of "
                "padding, which cannot be split evenly between the two sides"
            )
        return total // 2

    return _per_axis(
        one_axis, dict(kernel_size=kernel_size, dilation=dilation), dict(kernel_size=1, dilation=1)
    )


def receptive_field(layers: Sequence[Sequence]) -> Size:
    """Receptive field of one output pixel after a stack of conv/pool layers.

    Each layer ``l`` adds ``D_l (K_l - 1)`` pixels times the product of the strides before it
    (the distance, in input pixels, between neighbouring positions of layer ``l``'s input):

    .. math:: r = 1 + \\sum_l D_l (K_l - 1) \\prod_{i < l} S_i

    Parameters
    ----------
    layers : sequence of (kernel_size, stride) or (kernel_size, stride, dilation)
        From the input to the output. Each entry may be an int or an ``(h, w)`` pair.

    Returns
    -------
    int or tuple of int
        The side of the (square, or ``(h, w)``) input region that one output pixel sees.

    Raises
    ------
    ValueError
        If ``layers`` is empty or a layer is not a 2- or 3-tuple of positive values.

    Examples
    --------
    Two 3x3 convolutions see as much as one 5x5; three see 7x7 (the VGG argument):

    >>> receptive_field([(3, 1), (3, 1)]), receptive_field([(3, 1)] * 3)
    (5, 7)
    >>> receptive_field([(3, 1), (2, 2), (3, 1)])  # conv, 2x2 max pool, conv
    8
    """
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
        raise ValueError("layers must be a non-empty list of (kernel_size, stride[, dilation])")
    kernels, strides, dilations = [], [], []
    for i, layer in enumerate(layers):
        if not isinstance(layer, Sequence) or len(layer) not in (2, 3):
            raise ValueError(
                f"layers[{i}] must be (kernel_size, stride) or (kernel_size, stride, dilation), "
                f"got {layer!r}"
            )
        kernels.append(pair(f"layers[{i}] kernel_size", layer[0], minimum=1))
        strides.append(pair(f"layers[{i}] stride", layer[1], minimum=1))
        dilations.append(
            pair(f"layers[{i}] dilation", layer[2] if len(layer) == 3 else 1, minimum=1)
        )

    result = []
    for axis in (0, 1):
        r, jump = 1, 1
        for k, s, d in zip(kernels, strides, dilations, strict=True):
            r += d[axis] * (k[axis] - 1) * jump
            jump *= s[axis]
        result.append(r)
    return tuple(result) if _is_pair(*(v for layer in layers for v in layer)) else result[0]


def conv_params(
    in_channels: int,
    out_channels: int,
    kernel_size: Size,
    bias: bool = True,
    groups: int = 1,
) -> int:
    """Number of learnable parameters of a 2D convolution layer.

    Each of the ``C_out`` filters has ``K_h K_w C_in / groups`` weights and one bias:

    .. math:: \\#\\theta = C_{out} \\left(\\frac{C_{in}}{g} K_h K_w + 1\\right)

    The count does not depend on the image size: that is the point of convolution.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    bias : bool, default True
    groups : int, default 1
        ``groups == in_channels == out_channels`` is a depthwise convolution.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the channels are not divisible by ``groups``.

    Examples
    --------
    >>> conv_params(3, 64, 3)  # first VGG layer
    1792
    >>> conv_params(32, 32, 3, groups=32) + conv_params(32, 64, 1)  # depthwise separable
    2432
    """
    c_in = integer("in_channels", in_channels, minimum=1)
    c_out = integer("out_channels", out_channels, minimum=1)
    g = integer("groups", groups, minimum=1)
    if c_in % g or c_out % g:
        raise ValueError(
            f"in_channels ({c_in}) and out_channels ({c_out}) must be divisible by groups ({g})"
        )
    k_h, k_w = pair("kernel_size", kernel_size, minimum=1)
    return c_out * (c_in // g) * k_h * k_w + (c_out if bias else 0)


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Number of learnable parameters of a fully connected (dense) layer: ``out (in + 1)``.

    Examples
    --------
    A dense layer from a 224x224 RGB image to 1000 units already has 150 million weights,
    while a 3x3 convolution with 64 filters has 1792:

    >>> linear_params(224 * 224 * 3, 1000)
    150529000
    """
    n_in = integer("in_features", in_features, minimum=1)
    n_out = integer("out_features", out_features, minimum=1)
    return n_out * n_in + (n_out if bias else 0)
