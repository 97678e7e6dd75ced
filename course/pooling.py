"""Pooling from scratch in NumPy, with exactly the semantics of :mod:`torch.nn.functional`.

Pooling summarises each ``K_h x K_w`` window of every channel by one number: its maximum
(:func:`max_pool2d`) or its mean (:func:`avg_pool2d`). It has no learnable parameters, keeps the
number of channels, and makes the feature map smaller (with the default stride ``S = K``) and
robust to small shifts. Global pooling reduces each channel to one value; adaptive pooling
chooses the windows so that the output has a requested size whatever the input size.

Inputs are ``(N, C, H, W)`` arrays. The lecture's 4x4 example:

>>> x = np.array([[2, 8, 4, 1], [5, 3, 9, 2], [7, 1, 6, 4], [3, 2, 5, 8]], float)[None, None]
>>> max_pool2d(x, 2)[0, 0]
array([[8., 9.],
       [7., 8.]])
>>> avg_pool2d(x, 2)[0, 0]
array([[4.5 , 4.  ],
       [3.25, 5.75]])
"""

from __future__ import annotations

import numpy as np

from course._validate import float_dtype, pair
from course.arithmetic import pool_output_size
from course.conv import _check_input, _window_view, pad2d

__all__ = [
    "max_pool2d",
    "avg_pool2d",
    "adaptive_max_pool2d",
    "adaptive_avg_pool2d",
    "global_avg_pool2d",
    "global_max_pool2d",
]


def _pool_windows(x, kernel_size, stride, padding, dilation, ceil_mode, fill):
    """Pad ``x`` with ``fill`` and return the window view ``(N, C, K_h, K_w, H_out, W_out)``."""
    x = _check_input(x)
    x = x.astype(float_dtype(x), copy=False)
    kernel = pair("kernel_size", kernel_size, minimum=1)
    stride = kernel if stride is None else pair("stride", stride, minimum=1)
    padding = pair("padding", padding, minimum=0)
    dilation = pair("dilation", dilation, minimum=1)
    out_hw = pool_output_size(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    # Pad P at the top/left; at the bottom/right pad as far as the last window reaches (in ceil
    # mode a window may hang over the padded input: the overhang is filled with `fill` too).
    extra = [
        max((n_out - 1) * s + d * (k - 1) + 1 - size - p, 0)
        for n_out, s, d, k, size, p in zip(
            out_hw, stride, dilation, kernel, x.shape[2:], padding, strict=True
        )
    ]
    x_pad = pad2d(x, (padding[0], extra[0], padding[1], extra[1]), value=fill)
    return _window_view(x_pad, kernel, stride, dilation, out_hw), kernel, stride, padding


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> np.ndarray:
    """2D max pooling: the largest value of each window, per channel.

    .. math:: y_{n,c,i,j} = \\max_{0 \\le m < K_h,\\; 0 \\le k < K_w}
              x^{pad}_{n,\\,c,\\,i S_h + m D_h,\\,j S_w + k D_w}

    with ``-inf`` padding (a padded pixel never wins).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int), default 0
        At most half the kernel size.
    dilation : int or (int, int), default 1
    ceil_mode : bool, default False
        Round the output size up (see :func:`course.arithmetic.pool_output_size`).

    Returns
    -------
    ndarray, shape (N, C, H_out, W_out), the dtype of ``x`` (float64 for integer input)

    Raises
    ------
    ValueError
        Wrong number of dimensions, a window larger than the padded input, padding larger than
        half the kernel, non-positive stride, NaN or infinite values.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    >>> max_pool2d(x, 3, stride=2, padding=1).shape
    (1, 1, 2, 2)
    """
    windows, *_ = _pool_windows(x, kernel_size, stride, padding, dilation, ceil_mode, -np.inf)
    return windows.max(axis=(2, 3))


def _window_counts(n_out, size, kernel, stride, padding, count_include_pad):
    """How many pixels each 1D window averages over, following PyTorch's rule.

    A window starts at ``i S - P`` and is clipped to the padded input ``[-P, size + P)``; with
    ``count_include_pad=False`` it is clipped to the real input ``[0, size)`` instead.
    """
    start = np.arange(n_out) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool2d(
    x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
) -> np.ndarray:
    """2D average pooling: the mean of each window, per channel.

    .. math:: y_{n,c,i,j} = \\frac{1}{|w_{ij}|} \\sum_{(m, k) \\in w_{ij}}
              x^{pad}_{n,\\,c,\\,i S_h + m,\\,j S_w + k}

    where ``|w_ij|`` counts the window's pixels, padding zeros included if
    ``count_include_pad`` (PyTorch's default), and never the ceil-mode overhang.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int), default 0
    ceil_mode : bool, default False
    count_include_pad : bool, default True

    Returns
    -------
    ndarray, shape (N, C, H_out, W_out)

    Raises
    ------
    ValueError
        As :func:`max_pool2d`.

    Examples
    --------
    >>> x = np.ones((1, 1, 3, 3))
    >>> float(avg_pool2d(x, 3, stride=1, padding=1)[0, 0, 0, 0])  # 4 ones among 9 pixels
    0.4444444444444444
    >>> float(avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)[0, 0, 0, 0])
    1.0
    """
    windows, kernel, stride, padding = _pool_windows(
        x, kernel_size, stride, padding, 1, ceil_mode, 0.0
    )
    sums = windows.sum(axis=(2, 3))
    H, W = np.shape(x)[2:]
    counts_h = _window_counts(sums.shape[2], H, kernel[0], stride[0], padding[0], count_include_pad)
    counts_w = _window_counts(sums.shape[3], W, kernel[1], stride[1], padding[1], count_include_pad)
    return sums / np.outer(counts_h, counts_w).astype(sums.dtype)


def _adaptive_pool(x, output_size, reduce) -> np.ndarray:
    """Adaptive pooling along H then W (max and mean over a box are separable).

    Output index ``i`` of an axis of length ``L`` pooled to ``L_out`` covers input indices
    ``floor(i L / L_out)`` to ``ceil((i + 1) L / L_out)`` (exclusive), as in PyTorch.
    """
    x = _check_input(x)
    x = x.astype(float_dtype(x), copy=False)
    H, W = x.shape[2:]
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"output_size must be an int or an (h, w) pair, got {output_size!r}")
        sizes = [
            size if out is None else out for out, size in zip(output_size, (H, W), strict=True)
        ]
    else:
        sizes = [output_size, output_size]
    H_out, W_out = pair("output_size", tuple(sizes), minimum=1)

    def bounds(i, size, n_out):
        return (i * size) // n_out, -(-((i + 1) * size) // n_out)

    rows = [reduce(x[:, :, slice(*bounds(i, H, H_out)), :], axis=2) for i in range(H_out)]
    rows = np.stack(rows, axis=2)  # (N, C, H_out, W)
    cols = [reduce(rows[..., slice(*bounds(j, W, W_out))], axis=3) for j in range(W_out)]
    return np.stack(cols, axis=3)


def adaptive_max_pool2d(x, output_size) -> np.ndarray:
    """Max pooling to a fixed output size, whatever the input size.

    Output cell ``(i, j)`` takes the maximum over rows ``floor(i H / H_out)`` to
    ``ceil((i + 1) H / H_out) - 1`` and the analogous columns (windows may overlap by one pixel).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    output_size : int or (int or None, int or None)
        ``None`` keeps that axis' input size.

    Returns
    -------
    ndarray, shape (N, C, H_out, W_out)

    Examples
    --------
    >>> adaptive_max_pool2d(np.arange(25.0).reshape(1, 1, 5, 5), 2)[0, 0]
    array([[12., 14.],
           [22., 24.]])
    """
    return _adaptive_pool(x, output_size, np.max)


def adaptive_avg_pool2d(x, output_size) -> np.ndarray:
    """Average pooling to a fixed output size, whatever the input size.

    The windows are those of :func:`adaptive_max_pool2d`. ``output_size=1`` is global average
    pooling, used before the classifier of ResNet and friends.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    output_size : int or (int or None, int or None)

    Returns
    -------
    ndarray, shape (N, C, H_out, W_out)

    Examples
    --------
    >>> adaptive_avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), (1, 2))[0, 0]
    array([[6.5, 8.5]])
    """
    return _adaptive_pool(x, output_size, np.mean)


def global_avg_pool2d(x) -> np.ndarray:
    """Global average pooling: one value per channel, the mean over H and W.

    Same as ``adaptive_avg_pool2d(x, 1)``; the result keeps shape ``(N, C, 1, 1)``. It lets a
    network accept any image size, because the classifier after it always sees ``C`` numbers.

    Examples
    --------
    >>> global_avg_pool2d(np.arange(8.0).reshape(1, 2, 2, 2)).ravel()
    array([1.5, 5.5])
    """
    x = _check_input(x)
    return x.astype(float_dtype(x), copy=False).mean(axis=(2, 3), keepdims=True)


def global_max_pool2d(x) -> np.ndarray:
    """Global max pooling: the largest value of each channel, shape ``(N, C, 1, 1)``.

    Examples
    --------
    >>> global_max_pool2d(np.arange(8.0).reshape(1, 2, 2, 2)).ravel()
    array([3., 7.])
    """
    x = _check_input(x)
    return x.astype(float_dtype(x), copy=False).max(axis=(2, 3), keepdims=True)
