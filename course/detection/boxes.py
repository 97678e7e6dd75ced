"""Bounding boxes: formats, areas, the pairwise intersection over union, anchors.

The one convention of :mod:`course.detection`: a set of boxes is an ``(N, 4)`` float array in
**xyxy** format, ``(x1, y1, x2, y2)`` in **pixel coordinates**, with ``x`` the column and ``y``
the row (``x`` to the right, ``y`` down, as in an image and in :mod:`torchvision.ops`). Pixel
``(row i, column j)`` covers the square ``[j, j + 1] x [i, i + 1]``, so a box drawn around the
pixels of columns ``c0 .. c1 - 1`` and rows ``r0 .. r1 - 1`` is ``(c0, r0, c1, r1)``; its width
``x2 - x1`` is its number of columns and its area ``(x2 - x1)(y2 - y1)`` its number of pixels
(no ``+ 1``: the coordinates are continuous, as in torchvision and COCO).

Two other formats are common: **xywh** ``(x1, y1, w, h)`` (COCO's annotation files) and
**cxcywh** ``(cx, cy, w, h)`` (YOLO, DETR, CenterNet). :func:`box_convert` moves between them.
The intersection over union of two boxes ``A`` and ``B`` is

.. math::

    \\mathrm{IoU}(A, B) = \\frac{|A \\cap B|}{|A \\cup B|}
    = \\frac{|A \\cap B|}{|A| + |B| - |A \\cap B|},

where the intersection is the box ``(max x1, max y1, min x2, min y2)`` when it is not empty.
:func:`box_iou` computes it for all ``N x M`` pairs at once by broadcasting, like
:func:`torchvision.ops.box_iou`. References: Everingham et al., "The PASCAL Visual Object
Classes (VOC) challenge", IJCV 88 (2010), section 4.2; Lin et al., "Microsoft COCO: common
objects in context", ECCV 2014; anchors: Ren et al., "Faster R-CNN", NeurIPS 2015, section 3.1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course._validate import choice, float_dtype, integer, number, numeric, to_numpy

__all__ = ["FORMATS", "check_boxes", "box_convert", "box_area", "box_iou", "anchor_grid"]

#: The box formats of :func:`box_convert` (the names of :func:`torchvision.ops.box_convert`).
FORMATS = ("xyxy", "xywh", "cxcywh")


def check_boxes(boxes: Any, name: str = "boxes", fmt: str = "xyxy") -> np.ndarray:
    """``boxes`` as a float ``(N, 4)`` array of valid boxes, or a clear error.

    Accepts a NumPy array, a torch tensor or a nested list; an empty list gives shape (0, 4).

    Parameters
    ----------
    boxes : array_like or torch.Tensor of shape (N, 4)
    name : str, default "boxes"
        The argument's name, for the messages.
    fmt : {"xyxy", "xywh", "cxcywh"}, default "xyxy"
        Valid means ``x1 <= x2`` and ``y1 <= y2`` (xyxy) or ``w, h >= 0`` (the others).

    Returns
    -------
    ndarray of shape (N, 4)
        Floating point (float64 unless the input was float32), a copy.

    Raises
    ------
    TypeError
        If ``boxes`` is not an array of real numbers.
    ValueError
        If its shape is not ``(N, 4)``, it holds NaN or inf, or a box is inverted.

    Examples
    --------
    >>> check_boxes([[0, 0, 2, 3]])
    array([[0., 0., 2., 3.]])
    >>> check_boxes([[2, 0, 1, 3]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: boxes must be (x1, y1, x2, y2) with x1 <= x2 ...; box 0 is [2.0, 0.0, 1.0, 3.0]
    """
    fmt = choice("fmt", fmt, FORMATS)
    array = to_numpy(name, boxes)
    if array.size == 0 and array.ndim <= 2:
        array = array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4) (one box per row), got {array.shape}")
    numeric(name, array, bool_ok=False)
    array = array.astype(float_dtype(array), copy=True)
    if fmt == "xyxy":
        bad = (array[:, 2] < array[:, 0]) | (array[:, 3] < array[:, 1])
        rule = "(x1, y1, x2, y2) with x1 <= x2 and y1 <= y2"
    else:
        bad = (array[:, 2] < 0) | (array[:, 3] < 0)
        rule = f"{fmt} boxes with non-negative w and h"
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"{name} must be {rule}; box {k} is {array[k].tolist()}")
    return array


def box_convert(boxes: Any, in_fmt: str, out_fmt: str) -> np.ndarray:
    """Convert boxes between the xyxy, xywh and cxcywh formats.

    .. math::

        (x_1, y_1, x_2, y_2) \\;\\leftrightarrow\\; (x_1, y_1, w, h)
        \\;\\leftrightarrow\\; (c_x, c_y, w, h), \\qquad
        w = x_2 - x_1,\\; c_x = \\tfrac{x_1 + x_2}{2} \\;(\\text{same for } y).

    Parameters
    ----------
    boxes : array_like or torch.Tensor of shape (N, 4)
        Boxes in ``in_fmt``.
    in_fmt, out_fmt : {"xyxy", "xywh", "cxcywh"}

    Returns
    -------
    ndarray of shape (N, 4)
        A new array, in ``out_fmt``.

    Raises
    ------
    TypeError, ValueError
        As :func:`check_boxes`; an unknown format is a ValueError.

    Examples
    --------
    >>> box_convert([[10, 20, 14, 26]], "xyxy", "cxcywh")
    array([[12., 23.,  4.,  6.]])
    >>> box_convert([[12, 23, 4, 6]], "cxcywh", "xywh")
    array([[10., 20.,  4.,  6.]])
    """
    choice("out_fmt", out_fmt, FORMATS)
    b = check_boxes(boxes, fmt=choice("in_fmt", in_fmt, FORMATS))
    if in_fmt == "xywh":  # first to xyxy
        b[:, 2:] = b[:, :2] + b[:, 2:]
    elif in_fmt == "cxcywh":
        centre, half = b[:, :2].copy(), b[:, 2:] / 2
        b[:, :2], b[:, 2:] = centre - half, centre + half
    if out_fmt == "xywh":  # then from xyxy
        b[:, 2:] = b[:, 2:] - b[:, :2]
    elif out_fmt == "cxcywh":
        size = b[:, 2:] - b[:, :2]
        b[:, :2], b[:, 2:] = b[:, :2] + size / 2, size
    return b


def box_area(boxes: Any) -> np.ndarray:
    """The areas ``(x2 - x1)(y2 - y1)`` of xyxy boxes, in square pixels.

    Parameters
    ----------
    boxes : array_like or torch.Tensor of shape (N, 4), xyxy

    Returns
    -------
    ndarray of shape (N,)

    Raises
    ------
    TypeError, ValueError
        As :func:`check_boxes`.

    Examples
    --------
    >>> box_area([[0, 0, 2, 3], [1, 1, 1, 5]])  # the second box has no width
    array([6., 0.])
    """
    b = check_boxes(boxes)
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def box_iou(boxes1: Any, boxes2: Any) -> np.ndarray:
    """The intersection over union of every pair of boxes: an ``(N, M)`` matrix.

    Vectorised by broadcasting: the corners of the ``N x M`` intersections are
    ``max(x1)``, ``max(y1)``, ``min(x2)``, ``min(y2)`` of ``boxes1[:, None]`` and
    ``boxes2[None, :]``; an empty intersection has width or height clipped to 0.

    .. math:: \\mathrm{IoU}_{ij} = \\frac{|A_i \\cap B_j|}{|A_i| + |B_j| - |A_i \\cap B_j|}

    Parameters
    ----------
    boxes1 : array_like or torch.Tensor of shape (N, 4), xyxy
    boxes2 : array_like or torch.Tensor of shape (M, 4), xyxy

    Returns
    -------
    ndarray of shape (N, M)
        Values in [0, 1]. Two boxes whose union has no area (two zero-area boxes) have an IoU
        of 0 here, where :func:`torchvision.ops.box_iou` gives NaN (0/0).

    Raises
    ------
    TypeError, ValueError
        As :func:`check_boxes`, for each argument.

    Examples
    --------
    >>> a = [[0, 0, 2, 2]]
    >>> b = [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]]
    >>> box_iou(a, b)  # overlap 1 pixel of 4 + 4 - 1; identical; disjoint
    array([[0.14285714, 1.        , 0.        ]])
    """
    a, b = check_boxes(boxes1, "boxes1"), check_boxes(boxes2, "boxes2")
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])  # (N, M, 2)
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(bottom_right - top_left, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def anchor_grid(
    feature_shape: Any, stride: int, sizes: Any = (8.0,), aspect_ratios: Any = (1.0,)
) -> np.ndarray:
    """Anchor boxes: ``len(sizes) * len(aspect_ratios)`` boxes centred on every feature cell.

    A feature map of ``H x W`` cells, each ``stride`` pixels wide, gets at cell ``(i, j)``
    (centre ``((j + 0.5) s, (i + 0.5) s)`` in pixels) one box per size ``S`` and aspect ratio
    ``r = h / w``, with the area of an ``S x S`` square:

    .. math:: w = S / \\sqrt{r}, \\qquad h = S \\sqrt{r}.

    Faster R-CNN's region proposal network scores and refines such anchors (3 sizes x 3 ratios
    per position); RetinaNet and SSD classify them directly.

    Parameters
    ----------
    feature_shape : (int, int)
        ``(H, W)`` of the feature map.
    stride : int
        Pixels per feature cell (the network's downsampling factor).
    sizes : sequence of float, default (8.0,)
        Anchor sizes in pixels (square root of the area), positive.
    aspect_ratios : sequence of float, default (1.0,)
        Ratios ``h / w``, positive.

    Returns
    -------
    ndarray of shape (H * W * len(sizes) * len(aspect_ratios), 4), xyxy
        Ordered by row, column, size, then ratio.

    Raises
    ------
    TypeError, ValueError
        If a shape, stride, size or ratio is not a positive number of the right type.

    Examples
    --------
    >>> anchor_grid((1, 2), stride=4, sizes=(4.0,), aspect_ratios=(1.0, 4.0))
    array([[ 0.,  0.,  4.,  4.],
           [ 1., -2.,  3.,  6.],
           [ 4.,  0.,  8.,  4.],
           [ 5., -2.,  7.,  6.]])
    """
    if not isinstance(feature_shape, (tuple, list)) or len(feature_shape) != 2:
        raise TypeError(f"feature_shape must be a pair (H, W), got {feature_shape!r}")
    H, W = (integer("feature_shape", v, minimum=1) for v in feature_shape)
    stride = integer("stride", stride, minimum=1)
    sizes = [number("sizes", s, low=0, low_open=True) for s in np.atleast_1d(sizes)]
    ratios = [
        number("aspect_ratios", r, low=0, low_open=True) for r in np.atleast_1d(aspect_ratios)
    ]
    wh = np.array([(s / np.sqrt(r), s * np.sqrt(r)) for s in sizes for r in ratios])  # (A, 2)
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    centres = np.stack([(cols + 0.5) * stride, (rows + 0.5) * stride], axis=-1).reshape(-1, 1, 2)
    boxes = np.concatenate([centres - wh / 2, centres + wh / 2], axis=-1)  # (H*W, A, 4)
    return boxes.reshape(-1, 4)
