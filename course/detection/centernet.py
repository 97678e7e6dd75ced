"""A tiny CenterNet: objects as points, found as the peaks of a heatmap (Zhou et al., 2019).

An anchor-free, one-stage detector. The network maps an image ``(N, C, H, W)`` to five maps of
``H / s x W / s`` cells (output stride ``s = 2``):

* channel 0: the **heatmap** logit of "a lesion centre is in this cell";
* channels 1-2: the **offset** ``(dx, dy)`` of the centre inside its cell, in cells (the
  heatmap is coarser than the image; the offset gives back the sub-cell position);
* channels 3-4: the box **size** ``(w, h)``, in cells.

**Targets** (:func:`centernet_targets`): a box with centre ``(c_x, c_y)`` (pixels) has its centre
in cell :math:`(\\lfloor c_x/s \\rfloor, \\lfloor c_y/s \\rfloor)`; the target heatmap has a
Gaussian bump there, :math:`Y = \\exp(-d^2 / 2\\sigma^2)` at a distance of ``d`` cells, with
:math:`\\sigma` growing with the box (a third of its shorter side, at least half a cell), so
that a peak one cell off is penalised less than a peak far away. Offset and size are regressed
at the centre cell only.

**Loss** (:func:`centernet_loss`): the penalty-reduced focal loss of CornerNet (Law & Deng,
ECCV 2018) on the heatmap, :math:`p = \\sigma(\\text{logit})`, over all cells,

.. math::

    L_{heat} = -\\frac{1}{N_{c}} \\sum_{cells} \\begin{cases}
        (1 - p)^{\\alpha} \\log p & \\text{at a centre,} \\\\
        (1 - Y)^{\\beta}\\, p^{\\alpha} \\log(1 - p) & \\text{elsewhere,}
    \\end{cases}

with :math:`\\alpha = 2, \\beta = 4` and :math:`N_c` the number of centres: the focal factor
:math:`p^\\alpha` silences the thousands of easy background cells (Lin et al., "Focal loss for
dense object detection", ICCV 2017), :math:`(1 - Y)^\\beta` forgives the cells next to a
centre. Plus L1 losses on the offset (weight 1) and the size (weight 0.1) at the centres.

**Decoding** (:func:`decode_centernet`): the detections are the local maxima of the heatmap
(a cell equal to the maximum of its 3 x 3 neighbourhood, one max-pooling), above a threshold;
that replaces non-maximum suppression. Reference: Zhou, Wang & Krähenbühl, "Objects as
points", arXiv:1904.07850 (2019).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course._validate import describe, integer, number, pair
from course.detection.boxes import check_boxes

__all__ = [
    "STRIDE",
    "TinyCenterNet",
    "centernet_targets",
    "heatmap_focal_loss",
    "centernet_loss",
    "CenterNetLoss",
    "decode_centernet",
]

#: The output stride of :class:`TinyCenterNet`: one heatmap cell is 2 x 2 pixels.
STRIDE = 2


def _conv_block(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3 x 3 convolution (size kept, or halved by ``stride=2``), batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class TinyCenterNet(nn.Module):
    """A CenterNet-style detector small enough to train on a laptop CPU in seconds.

    ``down`` halves the resolution (the output stride 2); ``context`` widens the receptive field
    with dilated convolutions (dilation 2 and 4: 35 x 35 pixels in all, enough to see a lesion
    with the organ around it); ``head``, a 1 x 1 convolution, predicts the five maps of each
    cell.

    Parameters
    ----------
    in_channels : int, default 1
    width : int, default 16
        Channels of the hidden layers.
    size_prior : float, default 3.0
        The initial size prediction, in cells (the head's bias): a typical box, so that the size
        regression starts close.

    Examples
    --------
    >>> model = TinyCenterNet()
    >>> model(torch.zeros(2, 1, 64, 64)).shape  # heatmap, offset x/y, width, height
    torch.Size([2, 5, 32, 32])
    """

    def __init__(self, in_channels: int = 1, width: int = 16, size_prior: float = 3.0) -> None:
        super().__init__()
        in_channels = integer("in_channels", in_channels, minimum=1)
        width = integer("width", width, minimum=1)
        size_prior = number("size_prior", size_prior, low=0, low_open=True)
        self.down = _conv_block(in_channels, 8, stride=STRIDE)
        self.context = nn.Sequential(
            _conv_block(8, width),
            _conv_block(width, width, dilation=2),
            _conv_block(width, width, dilation=4),
            _conv_block(width, width),
        )
        self.head = nn.Conv2d(width, 5, kernel_size=1)
        with torch.no_grad():  # start from sensible outputs (Zhou et al.'s heatmap prior 0.1)
            self.head.bias.copy_(torch.tensor([-math.log(9.0), 0.5, 0.5, size_prior, size_prior]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.context(self.down(x)))


def _size(image_size: Any) -> tuple[int, int]:
    return pair("image_size", image_size, minimum=1)


def centernet_targets(boxes: Sequence, image_size: Any, stride: int = STRIDE) -> torch.Tensor:
    """The training targets of a CenterNet for a batch of images, from their boxes.

    Parameters
    ----------
    boxes : list of (K_i, 4) arrays, xyxy in pixels
        The boxes of each image (one class).
    image_size : int or (int, int)
        ``H`` and ``W`` of the images, divisible by ``stride``.
    stride : int, default 2
        Output stride of the network.

    Returns
    -------
    torch.Tensor of float32, shape (N, 6, H / stride, W / stride)
        Channel 0 the Gaussian heatmap (1 at each centre), 1-2 the offsets ``(dx, dy)``, 3-4
        the sizes ``(w, h)`` in cells, at the centre cells, and 5 the indicator of the centre
        cells. Two boxes with their centre in one cell: the later one wins.

    Raises
    ------
    TypeError, ValueError
        Invalid boxes, an image size not divisible by ``stride``, or a box centre outside the
        image.

    Examples
    --------
    >>> target = centernet_targets([np.array([[10.0, 20.0, 16.0, 24.0]])], 32)
    >>> target.shape, torch.nonzero(target[0, 5]).tolist()  # centre (13, 22): cell (11, 6)
    (torch.Size([1, 6, 16, 16]), [[11, 6]])
    >>> target[0, 1:5, 11, 6].tolist()  # offsets 0.5 and 0, size 3 x 2 cells
    [0.5, 0.0, 3.0, 2.0]
    """
    if not isinstance(boxes, Sequence):
        raise TypeError(
            f"boxes must be a list with one (K, 4) array per image, got {describe(boxes)}"
        )
    H, W = _size(image_size)
    stride = integer("stride", stride, minimum=1)
    if H % stride or W % stride:
        raise ValueError(f"image_size {(H, W)} must be divisible by the stride {stride}")
    h, w = H // stride, W // stride
    rows, cols = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    target = torch.zeros(len(boxes), 6, h, w)
    for n, image_boxes in enumerate(boxes):
        for x1, y1, x2, y2 in check_boxes(image_boxes, f"boxes[{n}]") / stride:
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            j, i = int(math.floor(cx)), int(math.floor(cy))
            if not (0 <= j < w and 0 <= i < h):
                raise ValueError(f"boxes[{n}] has a box centre outside the {H}x{W} image")
            sigma = max(0.5, min(x2 - x1, y2 - y1) / 3)
            bump = torch.exp(-((cols - j) ** 2 + (rows - i) ** 2) / (2 * sigma**2))
            target[n, 0] = torch.maximum(target[n, 0], bump)
            target[n, 1:, i, j] = torch.tensor([cx - j, cy - i, x2 - x1, y2 - y1, 1.0])
    return target


def heatmap_focal_loss(
    logits: torch.Tensor,
    heatmap: torch.Tensor,
    centres: torch.Tensor,
    alpha: float = 2.0,
    beta: float = 4.0,
) -> torch.Tensor:
    """The penalty-reduced focal loss of CornerNet/CenterNet, normalised by the centres.

    Parameters
    ----------
    logits : torch.Tensor of shape (N, h, w)
        Predicted heatmap logits.
    heatmap : torch.Tensor of shape (N, h, w)
        Target heatmap ``Y`` in [0, 1] (Gaussian bumps).
    centres : torch.Tensor of shape (N, h, w)
        True (or 1) at the object centres.
    alpha, beta : float, default 2 and 4
        Focusing exponent and the exponent of the penalty reduction.

    Returns
    -------
    torch.Tensor
        A scalar, the sum over cells divided by ``max(1, number of centres)``.

    Raises
    ------
    ValueError
        If the shapes differ or an exponent is negative.

    Examples
    --------
    >>> centres = torch.zeros(1, 3, 3)
    >>> centres[0, 1, 1] = 1
    >>> heat = centres.clone()
    >>> good = torch.where(centres > 0, 5.0, -5.0)  # confident and right: a small loss
    >>> loss_good = float(heatmap_focal_loss(good, heat, centres))
    >>> loss_bad = float(heatmap_focal_loss(-good, heat, centres))
    >>> loss_good < 1e-3 < loss_bad
    True
    """
    if not logits.shape == heatmap.shape == centres.shape:
        raise ValueError(
            "logits, heatmap and centres must have one shape, got "
            f"{tuple(logits.shape)}, {tuple(heatmap.shape)}, {tuple(centres.shape)}"
        )
    alpha, beta = number("alpha", alpha, low=0), number("beta", beta, low=0)
    is_centre = centres > 0
    p = torch.sigmoid(logits)
    positive = (1 - p) ** alpha * F.logsigmoid(logits)  # log p
    negative = (1 - heatmap) ** beta * p**alpha * F.logsigmoid(-logits)  # log(1 - p)
    total = torch.where(is_centre, positive, negative).sum()
    return -total / is_centre.sum().clamp(min=1)


def centernet_loss(
    output: torch.Tensor,
    target: torch.Tensor,
    offset_weight: float = 1.0,
    size_weight: float = 0.1,
) -> torch.Tensor:
    """CenterNet's loss: heatmap focal loss + L1 on offsets and sizes at the centres.

    .. math::

        L = L_{heat} + \\lambda_{off} \\frac{1}{N_c} \\sum_{centres} |\\hat o - o|_1
            + \\lambda_{size} \\frac{1}{N_c} \\sum_{centres} |\\hat s - s|_1

    Parameters
    ----------
    output : torch.Tensor of shape (N, 5, h, w)
        The network's output (:class:`TinyCenterNet`).
    target : torch.Tensor of shape (N, 6, h, w)
        From :func:`centernet_targets`.
    offset_weight, size_weight : float, default 1.0 and 0.1
        :math:`\\lambda_{off}` and :math:`\\lambda_{size}`, as in Zhou et al.

    Returns
    -------
    torch.Tensor
        A scalar.

    Raises
    ------
    ValueError
        If the shapes do not match ``(N, 5, h, w)`` and ``(N, 6, h, w)``.

    Examples
    --------
    >>> target = centernet_targets([np.array([[2.0, 2.0, 8.0, 6.0]])], 16)
    >>> output = torch.zeros(1, 5, 8, 8, requires_grad=True)
    >>> loss = centernet_loss(output, target)
    >>> loss.backward()
    >>> loss.ndim, output.grad.shape
    (0, torch.Size([1, 5, 8, 8]))
    """
    if output.ndim != 4 or output.shape[1] != 5 or target.ndim != 4 or target.shape[1] != 6:
        raise ValueError(
            "output must have shape (N, 5, h, w) and target (N, 6, h, w), got "
            f"{tuple(output.shape)} and {tuple(target.shape)}"
        )
    if output.shape[0] != target.shape[0] or output.shape[2:] != target.shape[2:]:
        raise ValueError(f"output {tuple(output.shape)} and target {tuple(target.shape)} differ")
    centres = target[:, 5]
    heat = heatmap_focal_loss(output[:, 0], target[:, 0], centres)
    weight = centres.unsqueeze(1)  # regression only where a centre is
    n_centres = centres.sum().clamp(min=1)
    offset = (weight * (output[:, 1:3] - target[:, 1:3]).abs()).sum() / n_centres
    size = (weight * (output[:, 3:5] - target[:, 3:5]).abs()).sum() / n_centres
    return heat + offset_weight * offset + size_weight * size


class CenterNetLoss(nn.Module):
    """:func:`centernet_loss` as a module, for ``course.train.fit(loss_fn=CenterNetLoss())``.

    Examples
    --------
    >>> loss_fn = CenterNetLoss()
    >>> target = centernet_targets([np.zeros((0, 4))], 8)  # an image without lesions
    >>> float(loss_fn(torch.full((1, 5, 4, 4), -10.0), target)) < 1e-6
    True
    """

    def __init__(self, offset_weight: float = 1.0, size_weight: float = 0.1) -> None:
        super().__init__()
        self.offset_weight = number("offset_weight", offset_weight, low=0)
        self.size_weight = number("size_weight", size_weight, low=0)

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return centernet_loss(output, target, self.offset_weight, self.size_weight)


def decode_centernet(
    output: torch.Tensor,
    stride: int = STRIDE,
    threshold: float = 0.05,
    max_detections: int = 50,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Detections from a CenterNet's output: heatmap peaks, then offsets and sizes.

    A cell is a peak if its heatmap probability equals the maximum of its 3 x 3 neighbourhood
    (``max_pool2d(kernel_size=3, stride=1, padding=1)``) and exceeds ``threshold``. Its box is
    centred at ``stride * (cell + offset)`` with size ``stride * (w, h)`` (negative sizes are
    set to 0); its score is the peak's probability.

    Parameters
    ----------
    output : torch.Tensor of shape (N, 5, h, w)
        The network's output (logits for the heatmap).
    stride : int, default 2
    threshold : float in [0, 1), default 0.05
        Lowest score kept (low, so that the precision-recall curve reaches high recall).
    max_detections : int, default 50
        The most detections per image (the best scores).

    Returns
    -------
    boxes : list of N float arrays of shape (K_i, 4)
        xyxy in pixels, by decreasing score.
    scores : list of N float arrays of shape (K_i,)

    Raises
    ------
    TypeError, ValueError
        A non-tensor output, a wrong shape, or an argument out of range.

    Examples
    --------
    >>> output = torch.full((1, 5, 8, 8), -10.0)
    >>> output[0, :, 3, 2] = torch.tensor([4.0, 0.5, 0.5, 3.0, 2.0])  # one peak, cell (3, 2)
    >>> boxes, scores = decode_centernet(output)
    >>> boxes[0], scores[0].round(3)  # centre (5, 7) in pixels, 6 x 4 pixels
    (array([[2., 5., 8., 9.]]), array([0.982]))
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"output must be a torch.Tensor, got {describe(output)}")
    if output.ndim != 4 or output.shape[1] != 5:
        raise ValueError(f"output must have shape (N, 5, h, w), got {tuple(output.shape)}")
    stride = integer("stride", stride, minimum=1)
    threshold = number("threshold", threshold, low=0, high=1, high_open=True)
    max_detections = integer("max_detections", max_detections, minimum=1)
    output = output.detach().float().cpu()
    heat = torch.sigmoid(output[:, :1])
    peaks = (heat == F.max_pool2d(heat, 3, stride=1, padding=1)) & (heat > threshold)
    all_boxes, all_scores = [], []
    for n in range(len(output)):
        rows, cols = torch.nonzero(peaks[n, 0], as_tuple=True)
        scores = heat[n, 0, rows, cols]
        best = torch.argsort(scores, descending=True, stable=True)[:max_detections]
        rows, cols, scores = rows[best], cols[best], scores[best]
        dx, dy, w, h = output[n, 1:, rows, cols]
        cx, cy = (cols + dx) * stride, (rows + dy) * stride
        w, h = w.clamp(min=0) * stride, h.clamp(min=0) * stride
        boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=1)
        all_boxes.append(boxes.double().numpy().reshape(-1, 4))
        all_scores.append(scores.double().numpy())
    return all_boxes, all_scores
