"""Sliding-window inference: a large image or volume predicted patch by patch, then blended.

A network trained on patches of size ``P`` (a U-Net on 64x64 crops) runs on windows of that
size that step by :math:`S = \\max(1, \\lfloor P (1 - \\text{overlap}) \\rfloor)` along each
axis, plus one window flush with the far edge, so that every pixel is covered. Where windows
overlap, their outputs are averaged with weights :math:`\\omega` (1, or a Gaussian centred on
the patch):

.. math:: \\hat y(u) = \\frac{\\sum_w \\omega(u - u_w)\\, f(x_w)(u - u_w)}
                             {\\sum_w \\omega(u - u_w)}

Images are ``(N, C, H, W)`` and volumes ``(N, C, D, H, W)``; the result is
``(N, C_out, *spatial)`` with the input's spatial size. :func:`sliding_window_inference` reads
as its steps: the windows (:func:`_window_regions`), their weights (:func:`_blend_weights`),
the denominator (:func:`_coverage`) and the numerator (:func:`_weighted_sum`). Reference:
Isensee et al., "nnU-Net: a self-configuring method for deep learning-based biomedical image
segmentation", Nature Methods 18 (2021), whose Gaussian blending this follows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course._validate import choice, integer, nonempty, number
from course.train._common import _check_model
from course.train.evaluation import _inference

__all__ = ["sliding_window_inference"]


def _model_device(model: nn.Module) -> torch.device:
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def _window_starts(size: int, patch: int, stride: int) -> list[int]:
    """Start indices of windows of length ``patch`` every ``stride``, the last one at the edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)  # one more window flush with the far edge
    return starts


def _blend_weights(patch: Sequence[int], blend: str, sigma_scale: float) -> torch.Tensor:
    """Weight of each patch pixel: 1 ("constant") or a Gaussian centred on the patch."""
    if blend == "constant":
        return torch.ones(tuple(patch))
    weight = torch.ones(())
    for p in patch:
        centre, sigma = (p - 1) / 2, sigma_scale * p
        g = torch.exp(-0.5 * ((torch.arange(p, dtype=torch.float64) - centre) / sigma) ** 2)
        weight = weight[..., None] * g
    weight = weight / weight.max()
    return weight.clamp_min(1e-3).float()  # corners keep a small weight: every pixel is covered


def _check_window_args(model, image, patch_size, overlap, batch_size, blend, sigma_scale):
    """The checked ``(patch, overlap, batch_size)`` of :func:`sliding_window_inference`."""
    _check_model(model)
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"image must be a torch.Tensor, got {type(image).__name__}")
    if image.ndim not in (4, 5):
        raise ValueError(
            f"image must have shape (N, C, H, W) or (N, C, D, H, W), got {tuple(image.shape)}"
        )
    nonempty("image", image)
    patch = _patch_sizes(patch_size, image)
    overlap = number("overlap", overlap, low=0, high=1, high_open=True)
    choice("blend", blend, ("gaussian", "constant"))
    batch_size = integer("batch_size", batch_size, minimum=1)
    number("sigma_scale", sigma_scale, low=0, low_open=True)
    return patch, overlap, batch_size


def _patch_sizes(patch_size, image: torch.Tensor) -> tuple[int, ...]:
    """``patch_size`` as one positive int per spatial axis of ``image`` (an int for all)."""
    n_spatial = image.ndim - 2
    many = isinstance(patch_size, (tuple, list, np.ndarray))
    accepts = f"an int or {n_spatial} ints"
    patch = tuple(
        integer("patch_size", p, accepts=accepts)
        for p in (patch_size if many else (patch_size,) * n_spatial)
    )
    if len(patch) != n_spatial or min(patch) < 1:
        raise ValueError(
            f"patch_size must be a positive int or {n_spatial} positive ints for an image of "
            f"shape {tuple(image.shape)}, got {patch_size!r}"
        )
    return patch


def _pad_to_patch(image: torch.Tensor, patch: tuple[int, ...]) -> torch.Tensor:
    """``image`` with zeros after the end of every spatial axis shorter than the patch."""
    pads: list[int] = []  # F.pad order: last axis first
    for size, p in zip(tuple(image.shape[2:]), patch, strict=True):
        pads = [0, max(p - size, 0)] + pads
    return F.pad(image, pads) if any(pads) else image


def _window_regions(full: tuple[int, ...], patch: tuple[int, ...], overlap: float) -> list:
    """The index region (a tuple of slices) of every window over an image of spatial size
    ``full``: the product of the per-axis starts, ``S = max(1, floor(P (1 - overlap)))`` apart.
    """
    strides = [max(1, int(p * (1 - overlap))) for p in patch]
    grids = [_window_starts(s, p, st) for s, p, st in zip(full, patch, strides, strict=True)]
    corners = [
        tuple(c) for c in np.stack(np.meshgrid(*grids, indexing="ij"), -1).reshape(-1, len(patch))
    ]
    return [
        tuple(slice(c, c + p) for c, p in zip(corner, patch, strict=True)) for corner in corners
    ]


def _coverage(regions: list, weight: torch.Tensor, full: tuple[int, ...], device) -> torch.Tensor:
    """The denominator of the blend: the sum of the window weights covering each pixel."""
    norm = torch.zeros(full, device=device)
    for region in regions:
        norm[region] += weight
    return norm


def _forward_patches(model, sample: torch.Tensor, regions: list, device, patch) -> torch.Tensor:
    """The model's float32 outputs for the patches ``regions`` of one ``(C, *spatial)`` sample."""
    batch = torch.stack([sample[(slice(None), *r)] for r in regions])
    out = model(batch.to(device)).float().to(sample.device)
    if tuple(out.shape[2:]) != patch:
        raise ValueError(
            f"the model maps patches of size {patch} to outputs of spatial size "
            f"{tuple(out.shape[2:])}: sliding windows need equal sizes"
        )
    return out


def _weighted_sum(model, padded, regions, weight, batch_size, device, patch) -> torch.Tensor:
    """The numerator of the blend: the weighted patch outputs summed over the windows."""
    output = None
    for n in range(padded.shape[0]):
        for i in range(0, len(regions), batch_size):
            chunk = regions[i : i + batch_size]
            out = _forward_patches(model, padded[n], chunk, device, patch)
            if output is None:
                output = torch.zeros(
                    (padded.shape[0], out.shape[1], *padded.shape[2:]), device=padded.device
                )
            for r, o in zip(chunk, out, strict=True):
                output[(n, slice(None), *r)] += o * weight
    return output


def sliding_window_inference(
    model: nn.Module,
    image: torch.Tensor,
    patch_size: int | Sequence[int],
    overlap: float = 0.25,
    batch_size: int = 4,
    blend: str = "gaussian",
    sigma_scale: float = 0.125,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Predict a large image or volume patch by patch and blend the overlapping predictions.

    Windows of size ``patch_size`` step by ``S = max(1, floor(P (1 - overlap)))`` along each
    axis, plus one window flush with the far edge, so every pixel is covered. The prediction is
    the weighted average of the patch outputs that cover each pixel,

    .. math:: \\hat y(u) = \\frac{\\sum_w \\omega(u - u_w)\\, f(x_w)(u - u_w)}
                                 {\\sum_w \\omega(u - u_w)}

    with weights ``omega`` equal to 1 (``"constant"``) or a Gaussian of standard deviation
    ``sigma_scale * P`` centred on the patch (``"gaussian"``, as in nnU-Net: patch borders,
    where the network sees the least context, count less). An image smaller than the patch
    along some axis is zero-padded up to the patch size and the result cropped back.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, C, *patch_size)`` to ``(B, C_out, *patch_size)`` (e.g. a :class:`UNet`).
    image : torch.Tensor, shape (N, C, H, W) or (N, C, D, H, W)
    patch_size : int or sequence of int
        One size per spatial axis (an int is used for all).
    overlap : float in [0, 1), default 0.25
        Fraction of a patch shared with the next one.
    batch_size : int, default 4
        Patches per forward pass.
    blend : {"gaussian", "constant"}, default "gaussian"
    sigma_scale : float, default 0.125
    device : torch.device or str, optional
        Where the model runs; defaults to the device of its parameters. The image and the
        result stay where ``image`` is, so a volume too large for the GPU can stay on the CPU.

    Returns
    -------
    torch.Tensor, shape (N, C_out, *spatial), float32, on ``image``'s device

    Raises
    ------
    TypeError
        If ``image`` is not a tensor, or a size or number argument has the wrong type
        (``patch_size=8.5``, ``batch_size=2.0``, ``overlap="0.5"``).
    ValueError
        Wrong ``image`` dimensions, an empty ``image`` (a batch of 0 images, or a spatial axis
        of length 0: there is nothing to predict, and the number of output channels is unknown
        without a patch to run), ``patch_size`` not matching the dimensions, ``overlap``
        outside [0, 1), unknown ``blend``, or a model whose output size differs from the
        patch size.

    Examples
    --------
    >>> conv = nn.Conv2d(1, 2, kernel_size=1)  # pointwise: patches give the same as the whole
    >>> x = torch.randn(1, 1, 50, 70)
    >>> y = sliding_window_inference(conv, x, patch_size=32, overlap=0.5)
    >>> y.shape, torch.allclose(y, conv(x), atol=1e-5)
    (torch.Size([1, 2, 50, 70]), True)
    """
    patch, overlap, batch_size = _check_window_args(
        model, image, patch_size, overlap, batch_size, blend, sigma_scale
    )
    device = torch.device(device) if device is not None else _model_device(model)
    padded = _pad_to_patch(image, patch)
    full = tuple(padded.shape[2:])
    regions = _window_regions(full, patch, overlap)
    weight = _blend_weights(patch, blend, sigma_scale).to(image.device)
    norm = _coverage(regions, weight, full, image.device)
    with _inference(model):
        output = _weighted_sum(model, padded, regions, weight, batch_size, device, patch)
    output = output / norm
    return output[(slice(None), slice(None), *(slice(0, s) for s in image.shape[2:]))]
