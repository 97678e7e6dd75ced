"""Box and mixing augmentations (lecture 08): random erasing, MixUp and CutMix.

* :func:`random_erasing` (Zhong et al., 2020) overwrites a random box of one image;
* :func:`mixup` (Zhang et al., 2018) blends every sample of a batch with another one,
  :math:`\\tilde x_i = \\lambda x_i + (1 - \\lambda) x_{\\pi(i)}`,
  :math:`\\tilde y_i = \\lambda y_i + (1 - \\lambda) y_{\\pi(i)}`,
  :math:`\\lambda \\sim \\mathrm{Beta}(\\alpha, \\alpha)`;
* :func:`cutmix` (Yun et al., 2019) pastes a box of sample :math:`\\pi(i)` into sample ``i``
  and mixes the labels by the area pasted.

:func:`random_erasing` takes one image ``(H, W)`` or ``(D, H, W)`` (plus an optional
``channel_axis``) and returns its mask untouched; :func:`mixup` and :func:`cutmix` take a
batch ``(N, ...)`` (NumPy or torch, returned in the same type) with class indices ``(N,)`` or
one-hot/soft labels ``(N, K)``, and return ``(N, K)`` float labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course._validate import generator, is_tensor
from course.augment._common import Pair, _as_float, _draw, _inputs, _spatial_shape

__all__ = ["random_erasing", "mixup", "cutmix"]


def _random_box(shape, fractions, rng) -> tuple[slice, ...]:
    """A box with sides ``round(f_k n_k)`` (at least 1) at a uniformly random position."""
    sides = [min(n, max(1, int(round(f * n)))) for f, n in zip(fractions, shape, strict=True)]
    starts = [int(rng.integers(0, n - s + 1)) for s, n in zip(sides, shape, strict=True)]
    return tuple(slice(a, a + s) for a, s in zip(starts, sides, strict=True))


def _clipped_box(shape, fraction: float, rng) -> tuple[slice, ...]:
    """A box with sides ``fraction * n_k`` centred on a uniformly drawn pixel, clipped to the
    image (Yun et al. 2019, Algorithm A1); it may be empty.
    """
    box = []
    for n in shape:
        centre, half = int(rng.integers(0, n)), fraction * n / 2
        box.append(slice(int(np.clip(centre - half, 0, n)), int(np.clip(centre + half, 0, n))))
    return tuple(box)


def random_erasing(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    rng: Any = None,
    size: Any = (0.1, 0.4),
    value: float | str = 0.0,
    channel_axis: int | None = None,
) -> Pair:
    """Random erasing (Zhong et al., 2020): overwrite a random box of the image.

    The box's side along every spatial axis is a fraction of that axis drawn from ``size``;
    its position is uniform among the positions where it fits. The network must then use
    the rest of the image (robustness to occlusion). The mask is unchanged: the anatomy is
    still there, only hidden.

    This is a simpler sampling than the paper's, the same in 2D and 3D: Zhong et al. draw the
    box's area uniformly (``s_l``-``s_h`` of the image) and its aspect ratio separately, and
    erase with a probability ``p``. Here the area is a product of side fractions and every
    call erases (wrap it in :class:`RandomApply` for ``p``); torchvision's
    ``v2.RandomErasing(scale, ratio, p)`` follows the paper, for 2D images.

    Parameters
    ----------
    image, mask, rng, channel_axis
        As :func:`adjust_brightness`.
    size : float or (low, high), default (0.1, 0.4)
        Side fractions in (0, 1], drawn per axis.
    value : float or "random", default 0.0
        The fill value, or "random" for uniform noise between the image's minimum and maximum.

    Returns
    -------
    (image, mask)

    Raises
    ------
    ValueError
        Fractions outside (0, 1], an unknown ``value`` string.

    Examples
    --------
    >>> erased, _ = random_erasing(np.ones((10, 10)), size=0.3, rng=0)
    >>> int((erased == 0).sum())  # a 3 x 3 box
    9
    """
    image, mask, rng, channel_axis = _inputs(image, mask, rng, channel_axis)
    if isinstance(value, str) and value != "random":
        raise ValueError(f"value must be a number or 'random', got {value!r}")
    shape = _spatial_shape(image, channel_axis)
    fractions = [
        _draw(size, rng, "size", (lambda v: 0 < v <= 1, "fractions in (0, 1]")) for _ in shape
    ]
    box = _random_box(shape, fractions, rng)
    out = _as_float(image)
    low, high = out.min(), out.max()
    if channel_axis is not None:
        box = box[:channel_axis] + (slice(None),) + box[channel_axis:]
    region = out[box]
    out[box] = rng.uniform(low, high, region.shape) if value == "random" else value
    return out, mask


# ---------------------------------------------------------------------------------------------
# MixUp and CutMix: batches of images with classification labels
# ---------------------------------------------------------------------------------------------
def _soft_labels(labels: Any, num_classes: int | None, n: int):
    """Labels as an (N, K) float array or tensor (one-hot for integer class indices)."""
    if is_tensor(labels):
        import torch

        if labels.ndim == 1 and not labels.is_floating_point():
            if num_classes is None:
                raise ValueError("integer labels need num_classes to be one-hot encoded")
            labels = torch.nn.functional.one_hot(labels.long(), num_classes).float()
        soft = labels.float() if not labels.is_floating_point() else labels
    else:
        labels = np.asarray(labels)
        if labels.ndim == 1 and labels.dtype.kind in "iu":
            if num_classes is None:
                raise ValueError("integer labels need num_classes to be one-hot encoded")
            if labels.min() < 0 or labels.max() >= num_classes:
                raise ValueError(f"labels must be in [0, num_classes={num_classes})")
            labels = np.eye(num_classes)[labels]
        soft = labels.astype(float) if labels.dtype.kind != "f" else labels
    if soft.ndim != 2 or soft.shape[0] != n:
        raise ValueError(
            f"labels must be class indices of shape ({n},) or one-hot/soft labels of shape "
            f"({n}, K), got shape {tuple(soft.shape)}"
        )
    return soft


def _mixing_inputs(images, labels, rng, alpha, num_classes):
    if not (is_tensor(images) or isinstance(images, np.ndarray)):
        raise TypeError(f"images must be a NumPy array or torch tensor, got {type(images)}")
    if images.ndim < 2:
        raise ValueError(f"images must be a batch (N, ...), got shape {tuple(images.shape)}")
    if not alpha > 0:
        raise ValueError(f"alpha must be positive (Beta(alpha, alpha)), got {alpha}")
    rng = generator(rng, "rng")
    soft = _soft_labels(labels, num_classes, images.shape[0])
    return rng, soft, rng.permutation(images.shape[0])


def _take(x: Any, order: np.ndarray) -> Any:
    """``x[order]`` along the batch axis, for an array or a tensor."""
    if is_tensor(x):
        import torch

        return x[torch.as_tensor(order, device=x.device)]
    return x[order]


def mixup(
    images: Any,
    labels: Any,
    rng: Any = None,
    alpha: float = 0.4,
    num_classes: int | None = None,
) -> tuple[Any, Any]:
    """MixUp (Zhang et al., 2018): blend every sample with another one of the batch.

    With :math:`\\lambda \\sim \\mathrm{Beta}(\\alpha, \\alpha)` (one draw per batch) and a
    random permutation :math:`\\pi` of the batch:

    .. math:: \\tilde x_i = \\lambda x_i + (1 - \\lambda) x_{\\pi(i)}, \\qquad
              \\tilde y_i = \\lambda y_i + (1 - \\lambda) y_{\\pi(i)}

    so the mixed labels still sum to 1. Train with a soft-label cross-entropy
    (``F.cross_entropy`` accepts probabilities as targets).

    Parameters
    ----------
    images : ndarray or torch.Tensor, shape (N, ...)
    labels : shape (N,) integer class indices (with ``num_classes``) or (N, K) one-hot/soft
    rng : numpy.random.Generator or int, optional
    alpha : float > 0, default 0.4
        Small ``alpha`` keeps :math:`\\lambda` near 0 or 1 (mild mixing).
    num_classes : int, optional
        Needed for integer labels.

    Returns
    -------
    (images, labels)
        The mixed batch (same type as the input) and (N, K) float labels.

    Raises
    ------
    ValueError
        ``alpha <= 0``, labels of the wrong shape, integer labels without ``num_classes``.

    Examples
    --------
    >>> images = np.stack([np.zeros((4, 4)), np.ones((4, 4))])
    >>> mixed, soft = mixup(images, np.array([0, 1]), rng=0, num_classes=2)
    >>> soft.sum(axis=1)
    array([1., 1.])
    >>> bool(np.allclose(mixed[:, 0, 0], soft[:, 1]))  # pixel value = weight of image 1
    True
    """
    rng, soft, order = _mixing_inputs(images, labels, rng, alpha, num_classes)
    lam = float(rng.beta(alpha, alpha))
    mixed = lam * images + (1 - lam) * _take(images, order)
    return mixed, lam * soft + (1 - lam) * _take(soft, order)


def cutmix(
    images: Any,
    labels: Any,
    rng: Any = None,
    alpha: float = 1.0,
    num_classes: int | None = None,
    spatial_dims: int = 2,
) -> tuple[Any, Any]:
    """CutMix (Yun et al., 2019): paste a box from another sample of the batch.

    Draw :math:`\\lambda \\sim \\mathrm{Beta}(\\alpha, \\alpha)` and a box whose sides are the
    fraction :math:`(1 - \\lambda)^{1/d}` of the ``d`` spatial axes, centred on a uniformly
    drawn pixel and clipped at the image border (Yun et al., Algorithm A1; torchvision's
    ``v2.CutMix`` does the same), so it covers at most :math:`1 - \\lambda` of the image;
    inside the box sample ``i`` takes the pixels of sample :math:`\\pi(i)`. The labels are
    mixed by the area actually pasted:

    .. math:: \\tilde y_i = \\lambda' y_i + (1 - \\lambda') y_{\\pi(i)}, \\qquad
              \\lambda' = 1 - \\frac{|\\text{box}|}{|\\text{image}|}

    Parameters
    ----------
    images : ndarray or torch.Tensor, shape (N, ..., *spatial)
        The last ``spatial_dims`` axes are spatial, e.g. (N, C, H, W).
    labels, rng, num_classes
        As :func:`mixup`.
    alpha : float > 0, default 1.0
        ``alpha = 1`` draws :math:`\\lambda` uniformly.
    spatial_dims : int, default 2
        2 for images, 3 for volumes (N, C, D, H, W).

    Returns
    -------
    (images, labels)

    Raises
    ------
    ValueError
        As :func:`mixup`; ``spatial_dims`` not in {2, 3} or more than the image has.

    Examples
    --------
    >>> images = np.stack([np.zeros((1, 8, 8)), np.ones((1, 8, 8))])  # (N, C, H, W)
    >>> mixed, soft = cutmix(images, np.array([0, 1]), rng=1, num_classes=2)
    >>> bool(np.allclose(mixed.mean(axis=(1, 2, 3)), soft[:, 1]))  # area = label weight
    True
    """
    if spatial_dims not in (2, 3) or getattr(images, "ndim", 0) < spatial_dims + 1:
        raise ValueError(
            f"spatial_dims must be 2 or 3 and images must be (N, ..., *spatial), got "
            f"spatial_dims={spatial_dims} and shape {tuple(getattr(images, 'shape', ()))}"
        )
    rng, soft, order = _mixing_inputs(images, labels, rng, alpha, num_classes)
    lam = float(rng.beta(alpha, alpha))
    shape = tuple(images.shape[-spatial_dims:])
    side = (1 - lam) ** (1 / spatial_dims)
    box = (Ellipsis, *_clipped_box(shape, side, rng))
    pasted = float(np.prod([s.stop - s.start for s in box[1:]]) / np.prod(shape))
    mixed = images.clone() if is_tensor(images) else images.copy()
    mixed[box] = _take(images, order)[box]
    lam_area = 1.0 - pasted  # the label weight follows the area actually pasted
    return mixed, lam_area * soft + (1 - lam_area) * _take(soft, order)
