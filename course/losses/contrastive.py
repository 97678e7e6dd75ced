"""The contrastive loss of self-supervised learning (lecture 12): NT-Xent / InfoNCE."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from course._validate import number
from course.losses._common import (
    _check_reduction,
)


def _check_views(z1: Any, z2: Any) -> None:
    for name, z in (("z1", z1), ("z2", z2)):
        if not isinstance(z, torch.Tensor) or not z.is_floating_point():
            got = f"dtype {z.dtype}" if isinstance(z, torch.Tensor) else type(z).__name__
            raise TypeError(f"{name} must be a floating-point torch.Tensor, got {got}")
        if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 1:
            raise ValueError(f"{name} must have shape (N, D) with N, D >= 1, got {tuple(z.shape)}")
    if z1.shape != z2.shape:
        shapes = f"{tuple(z1.shape)} and {tuple(z2.shape)}"
        raise ValueError(f"z1 and z2 must have the same shape, got {shapes}")


def info_nce(
    z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1, reduction: str = "mean"
) -> torch.Tensor:
    """The NT-Xent (InfoNCE) contrastive loss of SimCLR (Chen et al., 2020).

    ``z1[i]`` and ``z2[i]`` embed two augmented views of the same image (a *positive pair*);
    the other ``2N - 2`` embeddings of the batch are its negatives. With the ``2N`` embeddings
    :math:`z` normalised to unit length and the cosine similarity
    :math:`s_{ij} = z_i^\\top z_j / \\tau`, the loss of anchor :math:`i` with positive :math:`p(i)`

    .. math::

        \\ell_i = -\\log \\frac{\\exp(s_{i,p(i)})}{\\sum_{k \\ne i} \\exp(s_{ik})}

    is a cross-entropy that asks each anchor to pick its positive among all the others.

    Parameters
    ----------
    z1, z2 : torch.Tensor of shape (N, D)
        Embeddings of the two views (float; any scale: they are normalised here).
    temperature : float, default 0.1
        :math:`\\tau > 0`; smaller values weigh the hardest negatives more.
    reduction : {"mean", "sum", "none"}
        Over the ``2N`` anchors (first the ``z1`` rows, then the ``z2`` rows).

    Returns
    -------
    torch.Tensor
        A scalar, or the ``(2N,)`` losses with ``reduction="none"``.

    Raises
    ------
    TypeError
        If ``z1`` or ``z2`` is not a floating-point tensor.
    ValueError
        If their shapes differ or are not ``(N, D)``, ``temperature <= 0`` or an unknown
        ``reduction``.

    Examples
    --------
    Views that agree give a low loss, views that are swapped between images a high one:

    >>> z = torch.eye(4)
    >>> round(info_nce(z, z).item(), 4), round(info_nce(z, z.roll(1, dims=0)).item(), 2)
    (0.0003, 10.0)
    """
    _check_views(z1, z2)
    tau = number("temperature", temperature, low=0, low_open=True)
    _check_reduction(reduction)
    z = F.normalize(torch.cat([z1, z2]), dim=1)  # (2N, D), unit length
    n = len(z1)
    logits = z @ z.T / tau  # (2N, 2N) cosine similarities / tau
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), -torch.inf)
    positives = (torch.arange(2 * n, device=z.device) + n) % (2 * n)  # i <-> i + N
    return F.cross_entropy(logits, positives, reduction=reduction)
