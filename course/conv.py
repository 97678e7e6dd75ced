"""Convolution from scratch in NumPy, with exactly the semantics of :mod:`torch.nn.functional`.

Three versions of the same operation:

* :func:`conv2d_naive` - explicit loops that read like the lecture formula (slow, for learning);
* :func:`conv2d` - vectorised: *im2col* with stride tricks, then one matrix product (fast);
* :func:`conv_transpose2d` - the transposed ("up-") convolution used in U-Net decoders.

Shapes follow PyTorch: inputs ``(N, C_in, H, W)``, weights ``(C_out, C_in / groups, K_h, K_w)``.
Like every deep-learning library, these compute a **cross-correlation**: the kernel is *not*
flipped. For an output channel ``o`` at position ``(i, j)``:

.. math::

    y_{n,o,i,j} = b_o + \\sum_{c} \\sum_{m=0}^{K_h-1} \\sum_{k=0}^{K_w-1}
        w_{o,c,m,k} \\; x^{pad}_{n,\\,c,\\,i S_h + m D_h,\\,j S_w + k D_w}

with stride ``S``, dilation ``D`` and ``x^pad`` the input with ``P`` zeros on each side.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from course._validate import float_dtype, integer, nonempty, numeric, numpy_array, pair
from course.arithmetic import conv_output_size, conv_transpose_output_size

__all__ = ["pad2d", "conv2d_naive", "conv2d", "conv_transpose2d"]


# ---------------------------------------------------------------------------------------------
# Checks shared by the convolution and pooling functions
# ---------------------------------------------------------------------------------------------
def _check_array(a, name: str, ndim: int, layout: str) -> np.ndarray:
    """Turn ``a`` into a finite ndarray with ``ndim`` dimensions or raise a helpful error."""
    a = numpy_array(name, a, tensor_hint="use tensor.numpy()")
    if a.ndim != ndim:
        hint = ""
        if name == "x" and a.ndim == 2:
            hint = "; for a single image use x[None, None] to add the batch and channel axes"
        elif name == "x" and a.ndim == 3:
            hint = "; for a single multi-channel image use x[None] to add the batch axis"
        raise ValueError(f"{name} must have shape {layout} ({ndim}D), got shape {a.shape}{hint}")
    return numeric(name, a)


def _check_bias(bias, C_out: int) -> np.ndarray | None:
    """``None``, or a finite ``(C_out,)`` array."""
    if bias is None:
        return None
    bias = _check_array(bias, "bias", 1, "(C_out,)")
    if bias.shape[0] != C_out:
        raise ValueError(f"bias must have shape ({C_out},) to match weight, got {bias.shape}")
    return bias


def _check_input(x) -> np.ndarray:
    """``x`` as an ``(N, C, H, W)`` array with at least one pixel (``N`` may be 0)."""
    x = _check_array(x, "x", 4, "(N, C, H, W)")
    return nonempty("x", x, axes=(2, 3))


def pad2d(x: np.ndarray, padding, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes (H, W) of an array with a constant (zero padding by default).

    Parameters
    ----------
    x : ndarray of shape (..., H, W)
    padding : int, (P_h, P_w) or (top, bottom, left, right)
        An int pads every side by the same amount; a pair pads top and bottom by ``P_h`` and
        left and right by ``P_w``; four values allow asymmetric padding.
    value : float, default 0.0
        The constant written in the border (``-inf`` for max pooling).

    Returns
    -------
    ndarray of shape (..., H + top + bottom, W + left + right), same dtype as ``x``

    Raises
    ------
    ValueError
        If ``x`` has fewer than 2 dimensions or a padding is negative.

    Examples
    --------
    >>> pad2d(np.ones((1, 1, 2, 2)), 1)[0, 0]
    array([[0., 0., 0., 0.],
           [0., 1., 1., 0.],
           [0., 1., 1., 0.],
           [0., 0., 0., 0.]])
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions (..., H, W), got shape {x.shape}")
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        top, bottom, left, right = (int(p) for p in padding)
    else:
        (top, left) = (bottom, right) = pair("padding", padding, minimum=0)
    if min(top, bottom, left, right) < 0:
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    H, W = x.shape[-2:]
    out = np.full(x.shape[:-2] + (top + H + bottom, left + W + right), value, dtype=x.dtype)
    out[..., top : top + H, left : left + W] = x
    return out


def _window_view(
    x_pad: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, out_hw: tuple
) -> np.ndarray:
    """A read-only view of all kernel windows: shape ``(N, C, K_h, K_w, H_out, W_out)``.

    Element ``[n, c, m, k, i, j]`` is ``x_pad[n, c, i*S_h + m*D_h, j*S_w + k*D_w]``: moving one
    step along ``m`` jumps ``D_h`` rows, along ``i`` jumps ``S_h`` rows. No data is copied: the
    view only has different *strides* (bytes to skip per index) than ``x_pad``.
    """
    s_n, s_c, s_h, s_w = x_pad.strides
    shape = x_pad.shape[:2] + tuple(kernel) + tuple(out_hw)
    strides = (
        s_n,
        s_c,
        s_h * dilation[0],
        s_w * dilation[1],
        s_h * stride[0],
        s_w * stride[1],
    )
    return as_strided(x_pad, shape=shape, strides=strides, writeable=False)


def _prepare_conv(x, weight, bias, stride, padding, dilation, groups):
    """Validate the arguments of a convolution and return everything the loops need."""
    x = _check_input(x)
    weight = _check_array(weight, "weight", 4, "(C_out, C_in / groups, K_h, K_w)")
    nonempty("weight", weight, axes=(2, 3))
    groups = integer("groups", groups, minimum=1)
    N, C_in, H, W = x.shape
    C_out, C_per_group, K_h, K_w = weight.shape
    if C_in != C_per_group * groups:
        raise ValueError(
            f"channel mismatch: x has C_in={C_in} channels but weight expects "
            f"{C_per_group} x groups={groups} = {C_per_group * groups} (weight shape "
            f"{weight.shape} is (C_out, C_in / groups, K_h, K_w))"
        )
    if C_out % groups:
        raise ValueError(f"out channels ({C_out}) must be divisible by groups ({groups})")
    bias = _check_bias(bias, C_out)
    arrays = [x, weight] if bias is None else [x, weight, bias]
    dtype = float_dtype(*arrays)
    stride = pair("stride", stride, minimum=1)
    dilation = pair("dilation", dilation, minimum=1)
    kernel = (K_h, K_w)

    if isinstance(padding, str) and padding == "same":
        if stride != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions (stride>1)")
        # Total D(K-1) pixels per axis; an odd total puts the extra pixel at the bottom/right.
        total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        pads = (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
        out_hw = (H, W)
    else:
        if isinstance(padding, str) and padding == "valid":
            padding = 0
        elif isinstance(padding, str):
            raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        p_h, p_w = pair("padding", padding, minimum=0)
        pads = (p_h, p_h, p_w, p_w)
        out_hw = conv_output_size((H, W), kernel, stride, (p_h, p_w), dilation)
    return (
        x.astype(dtype, copy=False),
        weight.astype(dtype, copy=False),
        bias,
        stride,
        dilation,
        pads,
        out_hw,
        dtype,
    )


# ---------------------------------------------------------------------------------------------
# The three convolutions
# ---------------------------------------------------------------------------------------------
def conv2d_naive(x, weight, bias=None, stride=1, padding=0, dilation=1) -> np.ndarray:
    """2D convolution (cross-correlation) with explicit loops: the lecture formula, line by line.

    .. math::

        y_{n,o,i,j} = b_o + \\sum_{c=0}^{C_{in}-1} \\sum_{m=0}^{K_h-1} \\sum_{k=0}^{K_w-1}
            w_{o,c,m,k} \\; x^{pad}_{n,\\,c,\\,i S + m D,\\,j S + k D}

    Seven nested loops make this very slow (Python executes every multiplication); use it on
    small inputs to understand, and :func:`conv2d` to compute.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    weight : ndarray, shape (C_out, C_in, K_h, K_w)
    bias : ndarray, shape (C_out,), optional
    stride : int or (int, int), default 1
    padding : int, (int, int), "same" or "valid", default 0
        Zeros added on each side. ``"same"`` keeps H and W (stride 1 only).
    dilation : int or (int, int), default 1

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out)
        ``H_out = floor((H + 2P - D (K - 1) - 1) / S) + 1``. float32 inputs give float32;
        integer inputs give float64.

    Raises
    ------
    TypeError
        A non-array or complex input, or a size argument that is not an int (``stride=1.5``).
    ValueError
        Wrong number of dimensions, an empty image (``H = 0`` or ``W = 0``), channel mismatch,
        non-positive stride or dilation, negative padding, a kernel larger than the padded
        input, NaN or infinite values.

    Examples
    --------
    A 3x3 box filter sums each 3x3 neighbourhood of a 4x4 image:

    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d_naive(x, np.ones((1, 1, 3, 3)))
    array([[[[45., 54.],
             [81., 90.]]]])
    """
    x, weight, bias, (S_h, S_w), (D_h, D_w), pads, (H_out, W_out), dtype = _prepare_conv(
        x, weight, bias, stride, padding, dilation, groups=1
    )
    x_pad = pad2d(x, pads)
    N, C_in = x.shape[:2]
    C_out, _, K_h, K_w = weight.shape
    y = np.zeros((N, C_out, H_out, W_out), dtype=dtype)
    for n in range(N):  # every image of the batch
        for o in range(C_out):  # every filter (output channel)
            for i in range(H_out):  # every output row
                for j in range(W_out):  # every output column
                    total = 0.0 if bias is None else float(bias[o])
                    for c in range(C_in):  # sum over input channels ...
                        for m in range(K_h):  # ... and over the kernel's rows ...
                            for k in range(K_w):  # ... and columns
                                total += (
                                    weight[o, c, m, k]
                                    * x_pad[n, c, i * S_h + m * D_h, j * S_w + k * D_w]
                                )
                    y[n, o, i, j] = total
    return y


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """2D convolution (cross-correlation), vectorised: im2col + one matrix product.

    Same result as :func:`conv2d_naive` and :func:`torch.nn.functional.conv2d`, but the loops run
    inside NumPy:

    1. *im2col*: a strided view lists, for every output position, the ``C_in K_h K_w`` input
       values under the kernel, as a matrix of shape ``(C_in K_h K_w, H_out W_out)``
       (no copy until it is reshaped);
    2. the ``C_out`` filters, flattened to ``(C_out, C_in K_h K_w)``, multiply that matrix: one
       matrix product computes every dot product of the formula at once.

    With ``groups = g`` the channels are split into ``g`` groups convolved separately
    (``groups = C_in`` is the depthwise convolution of MobileNets).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    weight : ndarray, shape (C_out, C_in / groups, K_h, K_w)
    bias : ndarray, shape (C_out,), optional
    stride : int or (int, int), default 1
    padding : int, (int, int), "same" or "valid", default 0
        ``"same"`` (stride 1 only) pads ``D (K - 1)`` in total, the odd pixel at bottom/right,
        as PyTorch does.
    dilation : int or (int, int), default 1
    groups : int, default 1

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out)
        ``H_out = floor((H + 2P - D (K - 1) - 1) / S) + 1``; dtype of the inputs (float64 for
        integer inputs).

    Raises
    ------
    TypeError, ValueError
        As :func:`conv2d_naive`; ``groups`` must be a positive int dividing the channels.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2, 3, 7, 7)).astype(np.float32)
    >>> w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    >>> conv2d(x, w, stride=2, padding=1).shape
    (2, 4, 4, 4)
    >>> np.allclose(conv2d(x, w), conv2d_naive(x, w), atol=1e-5)
    True
    """
    x, weight, bias, stride, dilation, pads, out_hw, dtype = _prepare_conv(
        x, weight, bias, stride, padding, dilation, groups
    )
    N, C_in = x.shape[:2]
    C_out, C_per_group, K_h, K_w = weight.shape
    x_pad = pad2d(x, pads) if any(pads) else x
    windows = _window_view(x_pad, (K_h, K_w), stride, dilation, out_hw)
    # (N, C_in, K_h, K_w, H_out, W_out) -> (N, groups, C_in/groups * K_h * K_w, H_out * W_out)
    cols = windows.reshape(N, groups, C_per_group * K_h * K_w, out_hw[0] * out_hw[1])
    filters = weight.reshape(groups, C_out // groups, C_per_group * K_h * K_w)
    y = np.matmul(filters, cols)  # (N, groups, C_out / groups, H_out * W_out)
    y = y.reshape(N, C_out, *out_hw)
    if bias is not None:
        y += bias.astype(dtype, copy=False)[:, None, None]
    return y


def conv_transpose2d(
    x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1
) -> np.ndarray:
    """Transposed 2D convolution (learnable upsampling), as ``F.conv_transpose2d`` in PyTorch.

    Every input pixel *scatters* a copy of the kernel, scaled by its value, into the output:
    input pixel ``(i, j)`` adds ``x[n, c, i, j] * w[c, o, m, k]`` to output position
    ``(i S - P + m D, j S - P + k D)``. It is the transpose (adjoint) of the strided convolution
    with the same ``K, S, P, D``, and maps its output size back to its input size:

    .. math:: H_{out} = (H - 1) S - 2P + D (K - 1) + \\text{output\\_padding} + 1

    so ``K=3, S=2, P=1, output_padding=1`` doubles H and W (the U-Net decoder's up-step).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    weight : ndarray, shape (C_in, C_out, K_h, K_w)
        Note the order: input channels first, as in PyTorch.
    bias : ndarray, shape (C_out,), optional
    stride, padding, dilation : int or (int, int)
        Those of the convolution being transposed.
    output_padding : int or (int, int), default 0
        Extra rows/columns at the bottom/right; smaller than ``stride`` or ``dilation``.

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out)

    Raises
    ------
    ValueError
        Wrong dimensions, channel mismatch, invalid ``output_padding``, or a non-positive
        output size.

    Examples
    --------
    >>> x = np.ones((1, 1, 4, 4), dtype=np.float32)
    >>> w = np.ones((1, 2, 3, 3), dtype=np.float32)
    >>> conv_transpose2d(x, w, stride=2, padding=1, output_padding=1).shape
    (1, 2, 8, 8)
    """
    x = _check_input(x)
    weight = _check_array(weight, "weight", 4, "(C_in, C_out, K_h, K_w)")
    nonempty("weight", weight, axes=(2, 3))
    N, C_in, H, W = x.shape
    C_in_w, C_out, K_h, K_w = weight.shape
    if C_in != C_in_w:
        raise ValueError(
            f"channel mismatch: x has C_in={C_in} channels but weight has shape {weight.shape}, "
            "which is (C_in, C_out, K_h, K_w) for a transposed convolution"
        )
    bias = _check_bias(bias, C_out)
    arrays = [x, weight] if bias is None else [x, weight, bias]
    dtype = float_dtype(*arrays)
    S_h, S_w = pair("stride", stride, minimum=1)
    P_h, P_w = pair("padding", padding, minimum=0)
    D_h, D_w = pair("dilation", dilation, minimum=1)
    H_out, W_out = conv_transpose_output_size(
        (H, W), (K_h, K_w), (S_h, S_w), (P_h, P_w), output_padding, (D_h, D_w)
    )
    x = x.astype(dtype, copy=False)
    weight = weight.astype(dtype, copy=False)

    # 1. One matrix product gives every kernel copy: (C_out K_h K_w, C_in) @ (N, C_in, H W).
    cols = np.matmul(weight.reshape(C_in, -1).T, x.reshape(N, C_in, H * W))
    cols = cols.reshape(N, C_out, K_h, K_w, H, W)
    # 2. "col2im": add the copy for kernel offset (m, k) at rows m D + i S, columns k D + j S of
    #    the un-cropped output, then cut P from the top/left.
    full = np.zeros((N, C_out, H_out + 2 * P_h, W_out + 2 * P_w), dtype=dtype)
    for m in range(K_h):
        for k in range(K_w):
            rows = slice(m * D_h, m * D_h + (H - 1) * S_h + 1, S_h)
            columns = slice(k * D_w, k * D_w + (W - 1) * S_w + 1, S_w)
            full[:, :, rows, columns] += cols[:, :, m, k]
    y = full[:, :, P_h : P_h + H_out, P_w : P_w + W_out]
    y = np.ascontiguousarray(y)
    if bias is not None:
        y += bias.astype(dtype, copy=False)[:, None, None]
    return y
