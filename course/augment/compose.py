"""Composition of transforms (lecture 08): pipelines, random application, torch batches.

* :class:`Compose` chains transforms, :math:`(t_k \\circ \\cdots \\circ t_1)(x, m)`, passing
  one random generator through the whole pipeline (one seed, one reproducible result);
* :class:`RandomApply` applies a transform with probability ``p``;
* :func:`augment_batch` runs a NumPy transform on every sample of a torch batch
  ``(N, C, *spatial)`` with masks ``(N, *spatial)`` or ``(N, 1, *spatial)``.

A transform is any callable ``t(image, mask, rng=...) -> (image, mask)``: the functions of
:mod:`course.augment`, with their parameters set by :func:`functools.partial`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course._validate import generator
from course.augment._common import Pair, Transform

__all__ = ["Compose", "RandomApply", "augment_batch"]


class Compose:
    """Apply transforms one after the other, sharing one random generator.

    ``Compose([t1, t2])(image, mask, rng)`` is ``t2(*t1(image, mask, rng), rng)``. Set a
    transform's parameters with :func:`functools.partial`.

    Parameters
    ----------
    transforms : sequence of callables ``t(image, mask, rng=...) -> (image, mask)``

    Raises
    ------
    TypeError
        An element that is not callable.

    Examples
    --------
    >>> from functools import partial
    >>> from course.augment import random_flip
    >>> flip_rows = partial(random_flip, axes=[0], p=1.0)
    >>> Compose([flip_rows, flip_rows])(np.arange(4).reshape(2, 2))[0]
    array([[0, 1],
           [2, 3]])
    """

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"every transform must be callable, got {t!r}")

    def __call__(self, image: np.ndarray, mask: np.ndarray | None = None, rng: Any = None) -> Pair:
        rng = generator(rng, "rng")
        for t in self.transforms:
            image, mask = t(image, mask, rng=rng)
        return image, mask

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


class RandomApply:
    """Apply ``transform`` with probability ``p``, otherwise pass image and mask through.

    Parameters
    ----------
    transform : callable ``t(image, mask, rng=...) -> (image, mask)``
    p : float in [0, 1], default 0.5

    Raises
    ------
    ValueError
        ``p`` outside [0, 1].
    TypeError
        ``transform`` not callable.

    Examples
    --------
    >>> from course.augment import adjust_brightness
    >>> never = RandomApply(adjust_brightness, p=0.0)
    >>> never(np.zeros((2, 2)), rng=0)[0]
    array([[0., 0.],
           [0., 0.]])
    """

    def __init__(self, transform: Transform, p: float = 0.5) -> None:
        if not callable(transform):
            raise TypeError(f"transform must be callable, got {transform!r}")
        if not 0 <= p <= 1:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.transform = transform
        self.p = float(p)

    def __call__(self, image: np.ndarray, mask: np.ndarray | None = None, rng: Any = None) -> Pair:
        rng = generator(rng, "rng")
        if rng.random() < self.p:
            return self.transform(image, mask, rng=rng)
        return image, mask

    def __repr__(self) -> str:
        return f"RandomApply({self.transform!r}, p={self.p})"


def augment_batch(images: Any, masks: Any, transform: Transform, rng: Any = None):
    """Run a NumPy transform on every sample of a batch of torch tensors.

    Each sample gets its own random draw (from one generator). A single channel is squeezed
    for the transform and put back; with several channels the transform receives
    ``(C, *spatial)`` and must be built with ``channel_axis=0``.

    Parameters
    ----------
    images : torch.Tensor, shape (N, C, *spatial)
    masks : torch.Tensor of shape (N, *spatial) or (N, 1, *spatial), or None
    transform : callable ``t(image, mask, rng=...) -> (image, mask)``
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    (images, masks) : tensors on the input's device, images in the input dtype, masks in theirs

    Raises
    ------
    TypeError
        Non-tensor input.
    ValueError
        Masks whose batch or spatial shape does not match; transforms giving samples of
        different shapes.

    Examples
    --------
    >>> import torch
    >>> from functools import partial
    >>> from course.augment import random_affine
    >>> images = torch.rand(4, 1, 16, 16)
    >>> masks = (images[:, 0] > 0.5).long()
    >>> out, out_masks = augment_batch(images, masks, partial(random_affine, degrees=10), rng=0)
    >>> out.shape, out_masks.shape, out_masks.dtype
    (torch.Size([4, 1, 16, 16]), torch.Size([4, 16, 16]), torch.int64)
    """
    import torch

    if not isinstance(images, torch.Tensor) or images.ndim < 4:
        raise TypeError("images must be a torch.Tensor of shape (N, C, *spatial)")
    rng = generator(rng, "rng")
    n, channels = images.shape[:2]
    spatial = tuple(images.shape[2:])
    mask_channel = False
    if masks is not None:
        if not isinstance(masks, torch.Tensor):
            raise TypeError(f"masks must be a torch.Tensor or None, got {type(masks).__name__}")
        mask_channel = masks.ndim == images.ndim and masks.shape[1] == 1
        mask_spatial = tuple(masks.shape[2:] if mask_channel else masks.shape[1:])
        if masks.shape[0] != n or mask_spatial != spatial:
            raise ValueError(
                f"masks must have shape (N, *spatial) = {(n, *spatial)} (or with a channel of "
                f"1), got {tuple(masks.shape)}"
            )
    out_images, out_masks = [], []
    for i in range(n):
        image = images[i].detach().cpu().numpy()
        image = image[0] if channels == 1 else image
        mask = None
        if masks is not None:
            mask = masks[i].detach().cpu().numpy()
            mask = mask[0] if mask_channel else mask
        image, mask = transform(image, mask, rng=rng)
        out_images.append(image[None] if channels == 1 else image)
        out_masks.append(None if mask is None else (mask[None] if mask_channel else mask))
    if len({a.shape for a in out_images}) > 1:
        raise ValueError("the transform gave samples of different shapes: they cannot be stacked")
    result = torch.from_numpy(np.stack(out_images)).to(images.device, images.dtype)
    if masks is None:
        return result, None
    return result, torch.from_numpy(np.stack(out_masks)).to(masks.device, masks.dtype)
